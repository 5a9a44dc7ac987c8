#include "journal.hpp"

#include <filesystem>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "journal_crc32c.hpp"
#include "journal_error.hpp"
#include "journal_format.hpp"
#include "journal_reader.hpp"

namespace tether::client::detail {

namespace jf = journal_format;

namespace {

std::error_code last_error() noexcept { return {errno, std::system_category()}; }

// The window of the journal mapped for writing, and the largest record copied into it:
// larger ones are one pwritev each, which costs little beside their size.
constexpr std::size_t window_size = std::size_t{1} << 20;
constexpr std::size_t largest_mapped = window_size / 4;

// Writes all of `iov` at `offset`, through short writes and EINTR.
std::error_code write_all(int fd, std::uint64_t offset, iovec* iov, int count) noexcept {
    while (count > 0) {
        const ssize_t n = ::pwritev(fd, iov, count, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_error();
        }
        if (n == 0) return std::make_error_code(std::errc::no_space_on_device);
        offset += static_cast<std::uint64_t>(n);
        auto left = static_cast<std::size_t>(n);
        while (count > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            ++iov;
            --count;
        }
        if (count > 0) {
            iov->iov_base = static_cast<std::uint8_t*>(iov->iov_base) + left;
            iov->iov_len -= left;
        }
    }
    return {};
}

std::error_code sync_dir(const std::string& dir) noexcept {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return last_error();
    std::error_code ec;
    if (::fsync(fd) != 0) ec = last_error();
    ::close(fd);
    return ec;
}

// Writes a whole small file (the header of a new journal, a damaged tail kept aside).
std::error_code write_file(const std::string& path, std::span<const std::uint8_t> bytes, bool sync) noexcept {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return last_error();
    iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
    std::error_code ec = write_all(fd, 0, &iov, 1);
    if (!ec && sync && ::fdatasync(fd) != 0) ec = last_error();
    ::close(fd);
    if (ec) ::unlink(path.c_str());
    return ec;
}

void* close_descriptor(void* fd) {
    ::close(static_cast<int>(reinterpret_cast<std::intptr_t>(fd)));
    return nullptr;
}

// Closes `fd` on a short-lived thread of its own (a raw, detached pthread: no allocation
// on the heap, and every signal blocked there so that none lands on it); inline if no
// thread can be made.
void close_in_background(int fd) noexcept {
    pthread_attr_t attr;
    if (::pthread_attr_init(&attr) != 0) {
        ::close(fd);
        return;
    }
    (void)::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    (void)::pthread_attr_setstacksize(&attr, 64 * 1024);
    sigset_t all, before;
    ::sigfillset(&all);
    (void)::pthread_sigmask(SIG_SETMASK, &all, &before);
    pthread_t thread;
    const int made = ::pthread_create(&thread, &attr, close_descriptor, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
    (void)::pthread_sigmask(SIG_SETMASK, &before, nullptr);
    ::pthread_attr_destroy(&attr);
    if (made != 0) ::close(fd);
}

}  // namespace

journal::journal() { buf_.reserve(256); }

journal::~journal() { close(); }

void journal::close() noexcept {
    if (fd_ >= 0 && !broken_) (void)flush();
    stop_compaction();
    unmap();
    if (fd_ >= 0) {
        // The space reserved beyond the last record goes: a journal closed in order is its
        // records and nothing more. (After a crash the reader skips that zero tail.)
        if (!broken_ && cap_ > end_) (void)::ftruncate(fd_, static_cast<off_t>(end_));
        ::close(fd_);  // also drops the lock
    }
    fd_ = -1;
}

std::error_code journal::open(const std::string& dir, std::string_view client_id, durability d,
                              journal_recovery& rec) {
    if (fd_ >= 0 || client_id.size() > jf::max_topic) return make_error_code(journal_errc::invalid_argument);
    rec = {};
    dir_ = dir;
    path_ = dir + "/journal";
    tmp_path_ = dir + "/journal.tmp";
    durability_ = d;
    const bool sync = d == durability::power_loss;

    // The folders above it are made as needed (with the process's umask); the journal's own
    // is private to the user.
    if (const auto parent = std::filesystem::path(dir).parent_path(); !parent.empty()) {
        std::error_code made;
        std::filesystem::create_directories(parent, made);
        if (made) return made;
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return last_error();
    // A compaction that a crash interrupted: the journal itself is still whole.
    if (::unlink(tmp_path_.c_str()) != 0 && errno != ENOENT) return last_error();

    int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        // A new journal appears whole or not at all: its header goes to the temporary
        // file, which is renamed into place.
        std::vector<std::uint8_t> header;
        write_journal_header(client_id, header);
        if (auto ec = write_file(tmp_path_, header, sync)) return ec;
        if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
            const std::error_code ec = last_error();
            ::unlink(tmp_path_.c_str());
            return ec;
        }
        if (sync) {
            if (auto ec = sync_dir(dir)) return ec;
        }
        fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    }
    if (fd < 0) return last_error();
    // One writer per directory: two clients appending to one file would corrupt it.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const std::error_code ec =
            errno == EWOULDBLOCK ? make_error_code(journal_errc::in_use) : last_error();
        ::close(fd);
        return ec;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const std::error_code ec = last_error();
        ::close(fd);
        return ec;
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    void* map = size == 0 ? nullptr : ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        const std::error_code ec = last_error();
        ::close(fd);
        return ec;
    }
    const std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(map), size);
    state_ = journal_state{};
    const journal_read r = read_journal(bytes, client_id, state_);
    std::error_code ec = r.error;
    if (!ec) {
        rec.records = r.records;
        rec.outbound.reserve(state_.live_count());
        state_.for_each([&](const journal_entry& e) {
            const std::uint8_t* p = bytes.data() + e.offset + jf::record_head;
            const std::size_t topic_len = jf::get16(p + 9);
            const std::uint8_t* topic = p + jf::publish_fixed;
            recovered_message& m = rec.outbound.emplace_back();
            m.seq = e.seq;
            m.packet_id = e.packet_id;
            m.qos = static_cast<core::qos>(e.qos);
            m.retain = e.retain;
            m.released = e.released;
            m.topic.assign(reinterpret_cast<const char*>(topic), topic_len);
            m.payload.assign(topic + topic_len, bytes.data() + e.offset + e.size);
        });
        state_.for_each_inbound([&](std::uint16_t id) { rec.inbound.push_back(id); });
        if (r.stopped == journal_read::stop::zero_tail) {
            // Space reserved beyond the last record by a run that did not close: not damage.
            if (::ftruncate(fd, static_cast<off_t>(r.valid_end)) != 0) ec = last_error();
        } else if (r.valid_end < size) {
            // Kept aside for inspection, then cut: later records must not land behind it.
            rec.bytes_cut = size - r.valid_end;
            rec.tail_short = r.stopped == journal_read::stop::short_record;
            ec = write_file(dir + "/journal.cut", bytes.subspan(r.valid_end), sync);
            if (!ec && ::ftruncate(fd, static_cast<off_t>(r.valid_end)) != 0) ec = last_error();
            if (!ec && sync && ::fdatasync(fd) != 0) ec = last_error();
        }
    }
    if (map != nullptr) ::munmap(map, size);
    if (ec) {
        ::close(fd);
        state_ = journal_state{};
        rec.outbound.clear();
        rec.inbound.clear();
        return ec;
    }
    fd_ = fd;
    end_ = r.valid_end;
    cap_ = r.valid_end;
    unreserved_end_ = 0;
    struct statfs fs {};
    no_map_ = ::fstatfs(fd, &fs) != 0 || !mapping_is_safe_on(static_cast<long>(fs.f_type));
    broken_ = false;
    dirty_ = false;
    held_count_ = 0;
    runs_ = r.version >= jf::first_version_with_runs;  // a version 1 file gets version 1 records
    header_.clear();
    write_journal_header(client_id, header_);
    return {};
}

std::error_code journal::checked() const noexcept {
    if (fd_ < 0 || broken_) return make_error_code(journal_errc::broken);
    return {};
}

std::error_code journal::flushed() {
    if (auto ec = checked()) return ec;
    return flush();
}

std::error_code journal::flush() {
    if (held_count_ == 0) return {};
    if (auto ec = checked()) return ec;
    const std::uint32_t count = std::exchange(held_count_, 0);
    if (auto ec = write_run(fd_, end_, held_type_, held_seq_, held_id_, count)) {
        // Its room was reserved: this does not happen. Should it, the state has news the
        // file lacks, and records written after it could contradict the file (a PUBREC of
        // a message bound only in the state): no more are written.
        broken_ = true;
        return ec;
    }
    // The messages of the run that the compaction under way copied already (all of them
    // below copy_next_: a run starts after the last step, which flushed) get it in the copy.
    if (tmp_fd_ >= 0 && held_seq_ < copy_next_) {
        const auto copied = static_cast<std::uint32_t>(std::min<std::uint64_t>(count, copy_next_ - held_seq_));
        if (auto ec = write_run(tmp_fd_, tmp_end_, held_type_, held_seq_, held_id_, copied)) {
            copy_error_ = ec;
            stop_compaction();
        }
    }
    return {};
}

bool journal::hold_back(std::uint8_t type, std::uint64_t seq, std::uint16_t id) {
    if (!runs_) return false;
    const bool bind = type == static_cast<std::uint8_t>(jf::record::bind_id);
    if (held_count_ != 0 && held_type_ == type && seq == held_seq_ + held_count_ &&
        (bind ? held_count_ < 0xFFFF && std::uint32_t{held_id_} + held_count_ == id : held_count_ < 0xFFFF'FFFF)) {
        ++held_count_;
        return true;
    }
    if (flush()) return false;
    // The run's record goes where the next record would: room for its largest form now,
    // in the window (a copy that cannot fail later), or no run.
    if (!map_for(end_, jf::record_head + jf::run_body)) return false;
    held_type_ = type;
    held_seq_ = seq;
    held_id_ = id;
    held_count_ = 1;
    return true;
}

std::error_code journal::write_run(int fd, std::uint64_t& end, std::uint8_t type, std::uint64_t seq,
                                   std::uint16_t id, std::uint32_t count) {
    const bool bind = type == static_cast<std::uint8_t>(jf::record::bind_id);
    if (count == 1) return write_small(fd, end, type, seq, id, true, bind);
    buf_.resize(jf::record_head + jf::run_body);
    std::uint8_t* body = buf_.data() + jf::record_head;
    jf::put64(body, seq);
    if (bind) {
        jf::put16(body + 8, id);
        jf::put16(body + 10, static_cast<std::uint16_t>(count));
    } else {
        jf::put32(body + 8, count);
    }
    const auto run = bind ? jf::record::bind_run : jf::record::remove_run;
    return commit(fd, end, static_cast<std::uint8_t>(run), jf::run_body, {});
}

std::error_code journal::commit(int fd, std::uint64_t& end, std::uint8_t type, std::size_t fixed,
                                std::span<const std::uint8_t> tail) {
    std::uint8_t* head = buf_.data();
    head[0] = type;
    jf::put32(head + 1, static_cast<std::uint32_t>(fixed + tail.size()));
    std::uint32_t crc = crc32c({head, 5});
    crc = crc32c({head + jf::record_head, fixed}, crc);
    crc = crc32c(tail, crc);
    jf::put32(head + 5, crc);
    const std::size_t first = jf::record_head + fixed;
    const std::size_t total = first + tail.size();
    if (fd == tmp_fd_ && fd != fd_) {
        // The copy is not the journal until renamed: written once per compaction step.
        const std::size_t at = stage_.size();
        stage_.resize(at + total);
        std::memcpy(stage_.data() + at, head, first);
        if (!tail.empty()) std::memcpy(stage_.data() + at + first, tail.data(), tail.size());
        end += total;
        return {};
    }
    if (map_for(end, total)) {
        // Into the file's own pages: in the kernel once copied, as a write would be, so a
        // process that dies after this line has the record in the journal.
        std::uint8_t* to = map_ + (end - map_at_);
        std::memcpy(to, head, first);
        if (!tail.empty()) std::memcpy(to + first, tail.data(), tail.size());
        end += total;
        dirty_ = true;
        return {};
    }
    iovec iov[2] = {{head, first}, {const_cast<std::uint8_t*>(tail.data()), tail.size()}};
    const std::error_code ec = write_all(fd, end, iov, tail.empty() ? 1 : 2);
    if (ec) {
        // Nothing half accepted: the part that reached the file is cut off again (with the
        // space reserved beyond it, and so the window over it). Should that fail too, later
        // records would sit behind garbage, so no more are written.
        unmap();
        while (::ftruncate(fd, static_cast<off_t>(end)) != 0) {
            if (errno != EINTR) {
                broken_ = true;
                break;
            }
        }
        cap_ = end;
        return ec;
    }
    end += total;
    cap_ = std::max(cap_, end);
    dirty_ = true;
    return {};
}

bool mapping_is_safe_on(long statfs_type) noexcept {
    switch (static_cast<unsigned long>(statfs_type) & 0xFFFFFFFFu) {
    case EXT4_SUPER_MAGIC:  // also ext2 and ext3
    case XFS_SUPER_MAGIC:
    case TMPFS_MAGIC:
        return true;
    default:
        return false;
    }
}

bool journal::map_for(std::uint64_t end, std::size_t n) noexcept {
    if (no_map_ || n > largest_mapped) return false;
    if (in_window(end, n)) return true;
    unmap();
    static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t at = end / page * page;
    const std::size_t len = window_size;
    if (at + len > cap_) {
        // This window was refused already: a full disk stays full for many records, and
        // each would pay a failed fallocate to learn it. Asked again once records pass
        // the refused window's end (pwritev wrote them: there was room after all).
        if (end + n <= unreserved_end_) return false;
        // Reserved, not only sized: a page of a sparse file would find the disk full when
        // first touched, and say so with SIGBUS. fallocate says ENOSPC instead, and the
        // record then goes by pwritev, which refuses it cleanly if it does not fit.
        int r;
        while ((r = ::fallocate(fd_, 0, static_cast<off_t>(cap_), static_cast<off_t>(at + len - cap_))) != 0 &&
               errno == EINTR) {
        }
        if (r != 0) {
            if (errno == EOPNOTSUPP || errno == ENOSYS) no_map_ = true;
            unreserved_end_ = at + len;
            // A failed reservation may have extended the file part of the way.
            struct stat st {};
            if (::fstat(fd_, &st) == 0) cap_ = std::max(cap_, static_cast<std::uint64_t>(st.st_size));
            return false;
        }
        cap_ = at + len;
    }
    void* m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, static_cast<off_t>(at));
    if (m == MAP_FAILED) {
        no_map_ = true;
        return false;
    }
    map_ = static_cast<std::uint8_t*>(m);
    map_at_ = at;
    map_len_ = len;
    return true;
}

void journal::unmap() noexcept {
    if (map_ != nullptr) ::munmap(map_, map_len_);
    map_ = nullptr;
    map_len_ = 0;
}

std::error_code journal::write_small(int fd, std::uint64_t& end, std::uint8_t type, std::uint64_t seq,
                                     std::uint16_t id, bool with_seq, bool with_id) {
    buf_.resize(jf::record_head + 10);
    std::size_t n = 0;
    if (with_seq) jf::put64(buf_.data() + jf::record_head, seq), n += 8;
    if (with_id) jf::put16(buf_.data() + jf::record_head + n, id), n += 2;
    return commit(fd, end, type, n, {});
}

void journal::mirror(std::uint8_t type, std::uint64_t seq, std::uint16_t id, bool with_seq, bool with_id) noexcept {
    // Messages the compaction has copied already get their news in the copy too.
    if (tmp_fd_ < 0 || seq >= copy_next_) return;
    if (auto ec = write_small(tmp_fd_, tmp_end_, type, seq, id, with_seq, with_id)) {
        copy_error_ = ec;
        stop_compaction();
    }
}

std::error_code journal::append_publish(core::qos q, bool retain, std::string_view topic,
                                        std::span<const std::uint8_t> payload, std::uint64_t& seq) {
    if (auto ec = checked()) return ec;
    if ((q != core::qos::at_least_once && q != core::qos::exactly_once) || topic.size() > jf::max_topic) {
        return make_error_code(journal_errc::invalid_argument);
    }
    if (payload.size() > jf::max_payload) return make_error_code(journal_errc::message_too_large);
    const std::size_t fixed = jf::publish_fixed + topic.size();
    // A new message may go before the run held back (which names older ones only), so that
    // messages published one by one, each bound as it goes out, make one run of binds —
    // as long as the run's room stays free behind it in the window; else the run goes
    // first (before buf_ is filled: the run is written from it).
    const std::size_t total = jf::record_head + fixed + payload.size();
    if (held_count_ != 0 && (total > largest_mapped || !in_window(end_, total + jf::record_head + jf::run_body))) {
        if (auto ec = flush()) return ec;
    }
    buf_.resize(jf::record_head + fixed);  // within the capacity once warmed up
    std::uint8_t* body = buf_.data() + jf::record_head;
    const std::uint64_t next = state_.last_seq() + 1;
    jf::put64(body, next);
    body[8] = static_cast<std::uint8_t>(static_cast<unsigned>(q) | (retain ? 4u : 0u));
    jf::put16(body + 9, static_cast<std::uint16_t>(topic.size()));
    std::memcpy(body + jf::publish_fixed, topic.data(), topic.size());
    const std::uint64_t offset = end_;
    if (auto ec = commit(fd_, end_, static_cast<std::uint8_t>(jf::record::publish), fixed, payload)) return ec;
    journal_entry e;
    e.seq = next;
    e.offset = offset;
    e.size = static_cast<std::uint32_t>(end_ - offset);
    e.qos = static_cast<std::uint8_t>(q);
    e.retain = retain;
    (void)state_.add(e);  // next is above every seq: always added
    seq = next;
    return {};
}

std::error_code journal::bind_id(std::uint64_t seq, std::uint16_t packet_id) {
    if (auto ec = checked()) return ec;
    if (packet_id == 0) return make_error_code(journal_errc::invalid_argument);
    if (state_.find(seq) == nullptr) return make_error_code(journal_errc::unknown_message);
    const auto type = static_cast<std::uint8_t>(jf::record::bind_id);
    if (!hold_back(type, seq, packet_id)) {
        if (auto ec = flushed()) return ec;
        if (auto ec = write_small(fd_, end_, type, seq, packet_id, true, true)) return ec;
        mirror(type, seq, packet_id, true, true);
    }
    (void)state_.bind(seq, packet_id);
    return {};
}

std::error_code journal::mark_pubrec(std::uint64_t seq) {
    if (auto ec = flushed()) return ec;
    const journal_entry* e = state_.find(seq);
    if (e == nullptr || e->qos != 2 || e->packet_id == 0) return make_error_code(journal_errc::unknown_message);
    const auto type = static_cast<std::uint8_t>(jf::record::pubrec);
    if (auto ec = write_small(fd_, end_, type, seq, 0, true, false)) return ec;
    (void)state_.release(seq);
    mirror(type, seq, 0, true, false);
    return {};
}

std::error_code journal::mark_acked(std::uint16_t packet_id) {
    if (auto ec = checked()) return ec;
    const journal_entry* e = state_.find_id(packet_id);
    if (e == nullptr) return make_error_code(journal_errc::unknown_message);
    return remove(e->seq);
}

std::error_code journal::remove(std::uint64_t seq) {
    if (auto ec = checked()) return ec;
    if (state_.find(seq) == nullptr) return make_error_code(journal_errc::unknown_message);
    const auto type = static_cast<std::uint8_t>(jf::record::remove);
    if (!hold_back(type, seq, 0)) {
        if (auto ec = flushed()) return ec;
        if (auto ec = write_small(fd_, end_, type, seq, 0, true, false)) return ec;
        mirror(type, seq, 0, true, false);
    }
    (void)state_.remove(seq);
    return {};
}

std::error_code journal::hold_inbound(std::uint16_t packet_id) {
    if (auto ec = flushed()) return ec;
    if (packet_id == 0) return make_error_code(journal_errc::invalid_argument);
    // The copy under way gets the inbound ids when it finishes, from the state.
    if (auto ec = write_small(fd_, end_, static_cast<std::uint8_t>(jf::record::inbound_hold), 0, packet_id, false,
                              true)) {
        return ec;
    }
    (void)state_.hold_inbound(packet_id);
    return {};
}

std::error_code journal::release_inbound(std::uint16_t packet_id) {
    if (auto ec = flushed()) return ec;
    if (packet_id == 0) return make_error_code(journal_errc::invalid_argument);
    if (auto ec = write_small(fd_, end_, static_cast<std::uint8_t>(jf::record::inbound_release), 0, packet_id,
                              false, true)) {
        return ec;
    }
    (void)state_.release_inbound(packet_id);
    return {};
}

std::error_code journal::release_all_inbound() {
    if (auto ec = checked()) return ec;
    std::vector<std::uint16_t> held;  // rare (a connection without the server's session): may allocate
    held.reserve(state_.inbound_count());
    state_.for_each_inbound([&](std::uint16_t id) { held.push_back(id); });
    for (const std::uint16_t id : held) {
        if (auto ec = release_inbound(id)) return ec;
    }
    return {};
}

std::error_code journal::sync() {
    if (auto ec = flushed()) return ec;
    if (durability_ != durability::power_loss || !dirty_) return {};
    if (::fdatasync(fd_) != 0) {
        // After a failed fdatasync the kernel may have dropped the dirty pages: what was
        // written can no longer be trusted to be on the disk.
        broken_ = true;
        return last_error();
    }
    dirty_ = false;
    return {};
}

bool journal::compaction_due() const noexcept {
    return end_ > compaction_floor_ && end_ > 2 * (header_.size() + state_.live_bytes());
}

std::error_code journal::flush_stage() {
    if (stage_.empty()) return {};
    const std::uint64_t at = tmp_end_ - stage_.size();
    iovec iov{stage_.data(), stage_.size()};
    const std::error_code ec = write_all(tmp_fd_, at, &iov, 1);
    stage_.clear();
    return ec;
}

std::error_code journal::copy_entry(const journal_entry& e, std::span<const std::uint8_t> span,
                                    std::uint64_t span_at) {
    // The publish record is copied as it is (its checksum stays valid): from the span read
    // for this step when it lies there, a large one in chunks straight to the copy (it is
    // never held in memory whole), else read on its own.
    constexpr std::size_t large = 64 * 1024;
    const bool in_span = e.offset >= span_at && e.offset + e.size <= span_at + span.size();
    if (!in_span && e.size > large) {
        if (auto ec = flush_stage()) return ec;
        std::uint8_t chunk[4096];
        std::uint64_t done = 0;
        while (done < e.size) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof chunk, e.size - done));
            const ssize_t got = ::pread(fd_, chunk, n, static_cast<off_t>(e.offset + done));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return got < 0 ? last_error() : make_error_code(journal_errc::broken);
            iovec iov{chunk, static_cast<std::size_t>(got)};
            if (auto ec = write_all(tmp_fd_, tmp_end_ + done, &iov, 1)) return ec;
            done += static_cast<std::uint64_t>(got);
        }
    } else {
        const std::size_t at = stage_.size();
        stage_.resize(at + e.size);
        std::uint8_t* to = stage_.data() + at;
        if (in_span) {
            std::memcpy(to, span.data() + (e.offset - span_at), e.size);
        } else {
            std::size_t done = 0;
            while (done < e.size) {
                const ssize_t got = ::pread(fd_, to + done, e.size - done, static_cast<off_t>(e.offset + done));
                if (got < 0 && errno == EINTR) continue;
                if (got <= 0) return got < 0 ? last_error() : make_error_code(journal_errc::broken);
                done += static_cast<std::size_t>(got);
            }
        }
    }
    journal_entry* live = state_.find(e.seq);
    live->new_offset = tmp_end_;
    tmp_end_ += e.size;
    if (e.packet_id != 0) {
        if (auto ec = write_small(tmp_fd_, tmp_end_, static_cast<std::uint8_t>(jf::record::bind_id), e.seq,
                                  e.packet_id, true, true)) {
            return ec;
        }
    }
    if (e.released) {
        if (auto ec = write_small(tmp_fd_, tmp_end_, static_cast<std::uint8_t>(jf::record::pubrec), e.seq, 0, true,
                                  false)) {
            return ec;
        }
    }
    return {};
}

std::error_code journal::compact_step(std::size_t budget, bool& done) {
    done = false;
    if (auto ec = flushed()) return ec;
    if (copy_error_) return std::exchange(copy_error_, {});
    if (tmp_fd_ < 0) {
        tmp_fd_ = ::open(tmp_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (tmp_fd_ < 0) return last_error();
        (void)::flock(tmp_fd_, LOCK_EX | LOCK_NB);  // it becomes the journal: locked from the start
        copy_next_ = 1;
        stage_.assign(header_.begin(), header_.end());
        tmp_end_ = header_.size();
    }
    // The live records of this step are read in one pread when they lie close together
    // (dead records between them cost a little reading, not a system call each).
    std::uint64_t lo = 0, hi = 0, planned = 0;
    state_.for_each_from(copy_next_, [&](const journal_entry& e) {
        if (planned >= budget) return false;
        if (planned == 0) lo = e.offset;
        hi = e.offset + e.size;
        planned += e.size;
        return true;
    });
    std::span<const std::uint8_t> span;
    constexpr std::uint64_t largest_span = 256 * 1024;
    if (planned != 0 && hi - lo <= std::min<std::uint64_t>(4 * budget, largest_span)) {
        scratch_.resize(static_cast<std::size_t>(hi - lo));
        std::size_t got_all = 0;
        while (got_all < scratch_.size()) {
            const ssize_t got = ::pread(fd_, scratch_.data() + got_all, scratch_.size() - got_all,
                                        static_cast<off_t>(lo + got_all));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;  // each record is then read on its own, and says what is wrong
            got_all += static_cast<std::size_t>(got);
        }
        span = {scratch_.data(), got_all};
    }
    std::size_t copied = 0;
    std::error_code ec;
    state_.for_each_from(copy_next_, [&](const journal_entry& e) {
        if (copied >= budget) return false;
        const journal_entry copy = e;  // copy_entry's writes may not move it, but be plain
        ec = copy_entry(copy, span, lo);
        if (ec) return false;
        copy_next_ = copy.seq + 1;
        copied += copy.size;
        return true;
    });
    if (!ec) ec = flush_stage();
    if (ec) {
        stop_compaction();
        return ec;
    }
    if (copied >= budget && state_.last_seq() >= copy_next_) return {};
    ec = finish_compaction();
    if (!ec) done = true;
    return ec;
}

std::error_code journal::finish_compaction() {
    std::error_code ec;
    state_.for_each_inbound([&](std::uint16_t id) {
        if (!ec) {
            ec = write_small(tmp_fd_, tmp_end_, static_cast<std::uint8_t>(jf::record::inbound_hold), 0, id, false,
                             true);
        }
    });
    if (!ec) ec = flush_stage();
    // Power loss must not find the new name on a file whose contents are not on disk yet.
    if (!ec && durability_ == durability::power_loss && ::fdatasync(tmp_fd_) != 0) ec = last_error();
    if (!ec && ::rename(tmp_path_.c_str(), path_.c_str()) != 0) ec = last_error();
    if (ec) {
        stop_compaction();
        return ec;
    }
    unmap();
    // The old file's blocks are freed when it is closed, and on a file system mounted with
    // `discard` that waits for the disk (ext4 sends the TRIM and waits: tens of milliseconds
    // measured here, per compaction). Nothing else uses that descriptor: it is closed on a
    // thread of its own, not the engine's.
    close_in_background(fd_);
    fd_ = std::exchange(tmp_fd_, -1);
    end_ = tmp_end_;
    cap_ = tmp_end_;
    unreserved_end_ = 0;  // offsets of another file
    state_.for_each([](journal_entry& e) { e.offset = e.new_offset; });
    state_.squeeze();
    dirty_ = false;
    runs_ = true;  // the copy has the header of this version
    if (durability_ == durability::power_loss) return sync_dir(dir_);
    return {};
}

std::error_code journal::compact() {
    bool done = false;
    while (!done) {
        if (auto ec = compact_step(std::size_t{1} << 20, done)) return ec;
    }
    return {};
}

void journal::stop_compaction() noexcept {
    if (tmp_fd_ < 0) return;
    stage_.clear();
    ::close(tmp_fd_);
    tmp_fd_ = -1;
    ::unlink(tmp_path_.c_str());
}

void journal::abandon_compaction_for_test() noexcept {
    if (tmp_fd_ < 0) return;
    (void)flush();
    (void)flush_stage();  // as far as the copy had got
    ::close(tmp_fd_);
    tmp_fd_ = -1;
}

}  // namespace tether::client::detail
