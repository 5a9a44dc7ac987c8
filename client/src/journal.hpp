#pragma once
// The durable outbox's journal: an append-only file in options::persistence that holds
// every unacknowledged QoS 1/2 message and every inbound QoS 2 packet id awaiting PUBREL,
// so that a client restarted with the same id and directory sends them again, in order.
// Plain POSIX file I/O; the engine calls it on its own thread (no locks inside).
// docs/PERSISTENCE.md describes the format and what each durability level costs.
//
//   journal j;
//   journal_recovery rec;
//   if (auto ec = j.open("/var/lib/dev", "myDevice", durability::process_crash, rec)) ...;
//   for (auto& m : rec.outbound) ...  // send again, in order, before anything new
//   std::uint64_t seq;
//   if (auto ec = j.append_publish(core::qos::at_least_once, false, "t", payload, seq)) ...;  // refuse
//   (void)j.bind_id(seq, packet_id);   // when it enters the window
//   (void)j.remove(seq);               // PUBACK / PUBCOMP
//   (void)j.flush();                   // before the next write to the socket
//
// Every function that writes returns the error of the disk (a std::system_category code:
// ENOSPC, EROFS, EACCES, EIO, EFBIG, ...) and then has changed nothing: a record is either
// wholly in the file and in the state, or in neither. If a failed write cannot be cut off
// again, the journal turns `broken` and refuses all later writes (sticky).
//
// One exception, for speed: bind_id and remove (mark_acked) may hold their record back to
// join a run of them (consecutive seqs, and ids), which goes as one record at flush() or
// before any other record (new messages' records may go before it: it names older ones).
// The state has it at once, and room for it stays free in the mapped window behind
// whatever is written meanwhile, so the run's write is a copy that cannot fail. The
// engine flushes before each write to the socket and at the end of each batch of packets
// read. So the journal is never behind what the server has been sent, and a crash before
// the flush loses only a bind whose PUBLISH never left (the message gets a new id) or news
// of an acknowledgement (the message is sent again: at QoS 2 past PUBREC, as its PUBREL).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "journal_state.hpp"
#include "tether/client/options.hpp"
#include "tether/core/packet.hpp"

namespace tether::client::detail {

// The levels of options::persistence: process_crash (a record is handed to the OS, one
// write, before the call returns) and power_loss (as well, sync() makes everything
// written so far survive power loss: one fdatasync, which the engine shares per batch).
using durability = tether::client::durability;

struct recovered_message {
    std::uint64_t seq = 0;
    std::uint16_t packet_id = 0;  // 0: never entered the window
    core::qos qos = core::qos::at_least_once;
    bool retain = false;
    bool released = false;        // past PUBREC: a PUBREL is due (persistent session)
    std::string topic;
    std::vector<std::uint8_t> payload;
};

struct journal_recovery {
    std::vector<recovered_message> outbound;  // unacknowledged, oldest first
    std::vector<std::uint16_t> inbound;       // QoS 2 ids delivered and awaiting PUBREL
    std::size_t records = 0;                  // intact records read
    // A damaged tail (a record cut short by power loss, or failing its checksum) and
    // everything after it: its size, and whether it was cut short (else corrupt). Those
    // bytes are kept in DIR/journal.cut for inspection and removed from the journal.
    std::uint64_t bytes_cut = 0;
    bool tail_short = false;
};

// Whether records may be written into a shared mapping of a journal on the file system
// `statfs_type` (statfs's f_type): only where fallocate's reservation holds for writes
// through the mapping (ext2/3/4, XFS, tmpfs). On copy-on-write or network file systems
// (btrfs, ZFS, NFS, ...) a page written through a mapping may need new space at write-back
// and a full disk is then a SIGBUS, not an error: those journals use pwritev only.
[[nodiscard]] bool mapping_is_safe_on(long statfs_type) noexcept;

class journal {
public:
    journal();
    ~journal();
    journal(const journal&) = delete;
    journal& operator=(const journal&) = delete;

    // Opens (creating it, the directory and the folders above it if missing) the journal in `dir` for
    // `client_id`, and fills `rec` with what it holds. A compaction that a crash
    // interrupted is discarded (the old file is still whole). Errors:
    //   journal_errc::other_client   the directory holds another client id's journal
    //   journal_errc::newer_format   written by a newer tether
    //   journal_errc::not_a_journal, corrupt_header
    //   journal_errc::in_use         another journal object or process has it open
    //   journal_errc::invalid_argument  a client id longer than 65,535 bytes; already open
    //   system errors: EACCES, EROFS (read-only directory), ENOSPC, ENOTDIR, EIO, ...
    // A damaged tail is not an error: rec says how much was cut.
    [[nodiscard]] std::error_code open(const std::string& dir, std::string_view client_id, durability d,
                                       journal_recovery& rec);

    // Journals a message and gives its sequence number. Errors: invalid_argument (QoS 0,
    // topic over 65,535 bytes), message_too_large (payload over 268,435,455 bytes), broken,
    // system errors (ENOSPC, EFBIG, EIO...). Nothing is journaled on error.
    [[nodiscard]] std::error_code append_publish(core::qos q, bool retain, std::string_view topic,
                                                 std::span<const std::uint8_t> payload, std::uint64_t& seq);
    // The message got a packet id (it entered the window, perhaps again after a reconnect).
    // An id still bound to another message in the journal is stale (that message went back
    // to the queue after a restart, or its removal failed to be written): it passes to this
    // one, and the other is left without an id, to be sent from the queue.
    // Errors: unknown_message, invalid_argument (id 0), broken, system.
    [[nodiscard]] std::error_code bind_id(std::uint64_t seq, std::uint16_t packet_id);
    // PUBREC came for this QoS 2 message (named by its seq, not its packet id, which a stale
    // record of another message may still carry). Errors: unknown_message (not a bound QoS 2
    // message), broken, system.
    [[nodiscard]] std::error_code mark_pubrec(std::uint64_t seq);
    // PUBACK / PUBCOMP came: the message is gone. Errors: unknown_message, broken, system.
    [[nodiscard]] std::error_code mark_acked(std::uint16_t packet_id);
    // A message gone without an acknowledgement (dropped from a full queue, failed).
    // Errors: unknown_message, broken, system.
    [[nodiscard]] std::error_code remove(std::uint64_t seq);
    // An inbound QoS 2 PUBLISH was delivered / its PUBREL came. Errors: invalid_argument
    // (id 0), broken, system.
    [[nodiscard]] std::error_code hold_inbound(std::uint16_t packet_id);
    [[nodiscard]] std::error_code release_inbound(std::uint16_t packet_id);
    // Releases every held inbound id: the server has no session, so it will send none of
    // their PUBRELs and may use those ids for new messages. Errors: broken, system.
    [[nodiscard]] std::error_code release_all_inbound();

    // Writes the run of bind_id or remove records held back (above), if any. Cannot fail
    // for a run (its room was reserved when it started); returns broken after a failure
    // of the journal. Every other function that writes flushes first.
    [[nodiscard]] std::error_code flush();

    // With durability::power_loss, makes every record written so far survive power loss
    // (one fdatasync for all of them); otherwise does nothing. Errors: EIO, broken.
    [[nodiscard]] std::error_code sync();

    // True when dead records dominate the file (compacting would at least halve it) and it
    // is over the floor.
    [[nodiscard]] bool compaction_due() const noexcept;
    // The size below which the file is never compacted (default 4 MiB). A compaction costs
    // the engine milliseconds whatever it copies (a new file, a rename, the old file's
    // blocks freed), so small files are left alone; tests lower it to compact often.
    void set_compaction_floor(std::uint64_t bytes) noexcept { compaction_floor_ = bytes; }
    // One step of a compaction: copies about `budget` bytes of live records to
    // DIR/journal.tmp (starting it if none is under way); the last step writes the held
    // inbound ids and renames the copy over the journal. `done` says whether it finished.
    // Writes in between go on as usual. A crash at any point leaves a whole journal.
    // Errors: system errors of the copy (ENOSPC...), after which the copy is abandoned and
    // the journal goes on as before; broken.
    [[nodiscard]] std::error_code compact_step(std::size_t budget, bool& done);
    // All steps at once.
    [[nodiscard]] std::error_code compact();
    [[nodiscard]] bool compacting() const noexcept { return tmp_fd_ >= 0; }

    [[nodiscard]] std::uint64_t file_size() const noexcept { return end_; }
    [[nodiscard]] std::size_t live_count() const noexcept { return state_.live_count(); }
    [[nodiscard]] std::size_t inbound_count() const noexcept { return state_.inbound_count(); }
    [[nodiscard]] bool inbound_held(std::uint16_t id) const noexcept { return state_.inbound_held(id); }

    // For tests: stops a compaction as a crash would, leaving DIR/journal.tmp behind.
    void abandon_compaction_for_test() noexcept;
    // For tests: writes every later record with pwritev, as on a file system where
    // mapping_is_safe_on says no (btrfs, ZFS, NFS: none can be mounted in a test).
    void write_without_mapping_for_test() noexcept {
        (void)flush();
        unmap();
        no_map_ = true;
    }

private:
    // Writes the record whose body's first `fixed` bytes the caller put in buf_ after the
    // head, followed by `tail`, at `end` of `fd`: into the mapped window when it is the
    // journal and the record fits one, else with one pwritev (a partial one is cut off
    // again); to the compaction's copy (tmp_fd_) by staging it in stage_.
    [[nodiscard]] std::error_code commit(int fd, std::uint64_t& end, std::uint8_t type, std::size_t fixed,
                                         std::span<const std::uint8_t> tail);
    // A record of a seq and/or a packet id to the journal, and to the copy under way when
    // the message was copied already (`mirror`).
    [[nodiscard]] std::error_code write_small(int fd, std::uint64_t& end, std::uint8_t type, std::uint64_t seq,
                                              std::uint16_t id, bool with_seq, bool with_id);
    [[nodiscard]] std::error_code checked() const noexcept;
    // checked(), then the run held back written (flush).
    [[nodiscard]] std::error_code flushed();
    // Holds back a bind_id (with an id) or remove record of `seq`: joins the run held back
    // when it continues it, else starts one after writing that run. False when a run cannot
    // be held here (a version 1 file, no mapped room): the caller writes the record now.
    [[nodiscard]] bool hold_back(std::uint8_t type, std::uint64_t seq, std::uint16_t id);
    // A run's record to `fd` at `end`: the version 1 record when it is one message long.
    [[nodiscard]] std::error_code write_run(int fd, std::uint64_t& end, std::uint8_t type, std::uint64_t seq,
                                            std::uint16_t id, std::uint32_t count);
    void mirror(std::uint8_t type, std::uint64_t seq, std::uint16_t id, bool with_seq, bool with_id) noexcept;
    // True when [end, end + n) lies in the mapped window of the journal, moving the window
    // there (and reserving the disk space under it) if needed; false: use pwritev.
    [[nodiscard]] bool map_for(std::uint64_t end, std::size_t n) noexcept;
    // True when [end, end + n) lies in the window mapped now.
    [[nodiscard]] bool in_window(std::uint64_t end, std::size_t n) const noexcept {
        return map_ != nullptr && end >= map_at_ && end + n <= map_at_ + map_len_;
    }
    void unmap() noexcept;
    // Writes what the compaction staged to its copy. Errors: system.
    [[nodiscard]] std::error_code flush_stage();
    [[nodiscard]] std::error_code copy_entry(const journal_entry& e, std::span<const std::uint8_t> span,
                                             std::uint64_t span_at);
    [[nodiscard]] std::error_code finish_compaction();
    void stop_compaction() noexcept;
    void close() noexcept;

    std::string dir_, path_, tmp_path_;
    durability durability_ = durability::process_crash;
    int fd_ = -1;
    std::uint64_t end_ = 0;
    bool broken_ = false;
    bool dirty_ = false;  // written since the last fdatasync
    // The run held back (hold_back): remove or bind_id records of held_count_ consecutive
    // seqs from held_seq_ (and ids from held_id_). While it is held, [end_, end_ + its
    // largest size) lies in the mapped window: a record that would leave no such room
    // behind it writes the run first.
    std::uint8_t held_type_ = 0;
    std::uint64_t held_seq_ = 0;
    std::uint16_t held_id_ = 0;
    std::uint32_t held_count_ = 0;
    bool runs_ = false;  // the file is of a version with run records (else: version 1 records only)
    std::error_code copy_error_;  // why the compaction under way was abandoned
    journal_state state_;
    std::vector<std::uint8_t> buf_;  // the record being written; keeps its capacity
    std::vector<std::uint8_t> header_;
    // The window of the journal mapped for writing (docs/PERSISTENCE.md, Writing): records
    // are copied into the file's pages, no system call per record. The file is reserved
    // (fallocate) to cap_, past end_: the tail beyond end_ is zeros.
    std::uint8_t* map_ = nullptr;
    std::uint64_t map_at_ = 0;  // the file offset of map_[0]
    std::size_t map_len_ = 0;
    std::uint64_t cap_ = 0;     // the file's size
    bool no_map_ = false;       // the file system cannot reserve space (or not for mapped writes): pwritev only
    // The end of the last window fallocate refused (ENOSPC): records before it go by
    // pwritev without asking again, so that a full disk costs one failed fallocate per
    // window, not one per record.
    std::uint64_t unreserved_end_ = 0;
    std::uint64_t compaction_floor_ = std::uint64_t{4} << 20;
    // The compaction under way: its file, its end, and the first seq not yet copied.
    // What is staged counts in tmp_end_ already; it reaches the file at each step's end.
    int tmp_fd_ = -1;
    std::uint64_t tmp_end_ = 0;
    std::uint64_t copy_next_ = 0;
    std::vector<std::uint8_t> stage_;    // records for the copy, written once per step
    std::vector<std::uint8_t> scratch_;  // live records read from the journal in one pread
};

}  // namespace tether::client::detail
