// The durable outbox's journal: round trips, every damaged tail, headers it must refuse,
// compaction (whole, in steps with writes between, interrupted), a full and a read-only
// disk, and no allocation per message.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/magic.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "journal.hpp"
#include "journal_crc32c.hpp"
#include "journal_error.hpp"
#include "journal_format.hpp"
#include "journal_reader.hpp"

namespace fs = std::filesystem;
using namespace tether::client::detail;
using tether::core::qos;

// Counts operator new while `counting` is set (the no-allocation test).
static std::atomic<bool> counting{false};
static std::atomic<long> allocations{0};
void* operator new(std::size_t n) {
    if (counting) ++allocations;
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

// Counts fallocate calls (the full-disk cost test): the journal, linked statically into
// this program, calls this one, which does what the C library's does.
static std::atomic<long> fallocates{0};
extern "C" int fallocate(int fd, int mode, off_t offset, off_t len) {
    ++fallocates;
    return static_cast<int>(::syscall(SYS_fallocate, fd, mode, offset, len));
}

namespace {

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string t = (fs::temp_directory_path() / "journal_test.XXXXXX").string();
        path = ::mkdtemp(t.data());
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    [[nodiscard]] std::string str() const { return path.string(); }
};

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

std::vector<std::uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::vector<std::uint8_t>& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::uint64_t append(journal& j, std::string_view topic, std::string_view payload, qos q = qos::at_least_once,
                     bool retain = false) {
    std::uint64_t seq = 0;
    const std::error_code ec = j.append_publish(q, retain, topic, bytes_of(payload), seq);
    EXPECT_FALSE(ec) << ec.message();
    return seq;
}

// What a recovery says, in a form tests compare whole.
std::string describe(const journal_recovery& r) {
    std::string s;
    for (const recovered_message& m : r.outbound) {
        s += std::to_string(m.seq) + " id" + std::to_string(m.packet_id) + " q" +
             std::to_string(static_cast<int>(m.qos)) + (m.retain ? " r" : "") + (m.released ? " rel" : "") + " " +
             m.topic + "=" + std::string(m.payload.begin(), m.payload.end()) + "\n";
    }
    for (std::uint16_t id : r.inbound) s += "in" + std::to_string(id) + "\n";
    return s;
}

// A tmpfs of `size` at `dir`, unmounted at the end; skips the test where mounting is refused.
struct tmpfs {
    std::string dir;
    bool mounted = false;
    tmpfs(const std::string& d, const char* size) : dir(d) {
        mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, size) == 0;
    }
    ~tmpfs() {
        if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
    }
};

}  // namespace

TEST(JournalCrc, CheckValueAndContinuation) {
    const auto digits = bytes_of("123456789");
    EXPECT_EQ(crc32c(digits), 0xE306'9283u);
    const std::span<const std::uint8_t> all(digits);
    EXPECT_EQ(crc32c(all.subspan(4), crc32c(all.first(4))), 0xE306'9283u);
}

// Whichever way crc32c computes (the SSE 4.2 instruction where there is one, tables
// otherwise), it agrees with the definition, bit by bit, at every length and alignment.
TEST(JournalCrc, MatchesTheBitwiseDefinitionAtEveryLengthAndAlignment) {
    auto reference = [](const std::uint8_t* p, std::size_t n) {
        std::uint32_t c = 0xFFFF'FFFFu;
        for (std::size_t i = 0; i < n; ++i) {
            c ^= p[i];
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F6'3B78u : c >> 1;
        }
        return ~c;
    };
    std::vector<std::uint8_t> data(300);
    std::uint32_t x = 12345;
    for (auto& b : data) b = static_cast<std::uint8_t>((x = x * 1'103'515'245u + 12'345u) >> 24);
    for (std::size_t start = 0; start < 8; ++start) {
        for (std::size_t n = 0; n + start <= 200; ++n) {
            EXPECT_EQ(crc32c({data.data() + start, n}), reference(data.data() + start, n)) << start << " " << n;
        }
    }
}

TEST(Journal, RoundTripKeepsOrderFlagsAndState) {
    temp_dir d;
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "dev1", durability::process_crash, rec));
        EXPECT_TRUE(rec.outbound.empty());
        const auto a = append(j, "a/1", "one");
        const auto b = append(j, "b/2", "two", qos::exactly_once, true);
        const auto c = append(j, "c/3", "", qos::exactly_once);
        const auto e = append(j, "e/5", "five");
        EXPECT_LT(a, b);
        ASSERT_FALSE(j.bind_id(a, 10));
        ASSERT_FALSE(j.bind_id(b, 11));
        ASSERT_FALSE(j.bind_id(c, 12));
        ASSERT_FALSE(j.mark_pubrec(b));
        ASSERT_FALSE(j.mark_acked(10));
        ASSERT_FALSE(j.remove(e));
        ASSERT_FALSE(j.hold_inbound(7));
        ASSERT_FALSE(j.hold_inbound(9));
        ASSERT_FALSE(j.release_inbound(9));
        EXPECT_EQ(j.live_count(), 2u);
        ASSERT_FALSE(j.sync());
    }
    journal j;
    journal_recovery rec;
    ASSERT_FALSE(j.open(d.str(), "dev1", durability::power_loss, rec));
    EXPECT_EQ(describe(rec), "2 id11 q2 r rel b/2=two\n3 id12 q2 c/3=\nin7\n");
    EXPECT_EQ(rec.bytes_cut, 0u);
    EXPECT_EQ(rec.records, 11u);  // the binds of a, b and c (seqs and ids in a row) are one record
    // Sequence numbers go on from the last one, and ids freed by acknowledgement are free.
    EXPECT_EQ(append(j, "f", "6"), 5u);
    EXPECT_FALSE(j.bind_id(5, 10));
    EXPECT_FALSE(j.sync());
}

// What the journal file in `d` holds right now, as a process killed at this point would
// leave it: "seq:id" of each live message, oldest first.
std::string on_disk(const temp_dir& d) {
    const auto b = read_file(d.path / "journal");
    journal_state state;
    const journal_read r = read_journal(b, "dev", state);
    EXPECT_FALSE(r.error);
    EXPECT_NE(r.stopped, journal_read::stop::bad_record);
    std::string s;
    state.for_each([&](const journal_entry& e) { s += std::to_string(e.seq) + ":" + std::to_string(e.packet_id) + " "; });
    return s;
}

// Messages entering the window in a row (seqs and packet ids consecutive) and a run of
// acknowledgements are one record each, written at flush() (the engine's next socket
// write, or the end of a batch of packets read) or before any other record; a crash before
// that leaves the messages unbound or unacknowledged, never lost. Ids do not run past
// 65,535: the run ends there.
TEST(Journal, RunsOfBindsAndRemovalsAreOneRecordEachWrittenAtTheFlush) {
    temp_dir d;
    journal_recovery rec;
    {
        journal j;
        ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
        for (int i = 0; i < 8; ++i) append(j, "t", "x");
        const std::uint64_t start = j.file_size();
        for (std::uint64_t seq = 1; seq <= 6; ++seq) ASSERT_FALSE(j.bind_id(seq, static_cast<std::uint16_t>(65'529 + seq)));
        EXPECT_EQ(j.file_size(), start);  // held back
        EXPECT_EQ(on_disk(d), "1:0 2:0 3:0 4:0 5:0 6:0 7:0 8:0 ");
        ASSERT_FALSE(j.bind_id(7, 1));  // after 65,535: a new run, and the first is written
        constexpr std::size_t run = journal_format::record_head + journal_format::run_body;
        EXPECT_EQ(j.file_size(), start + run);
        EXPECT_EQ(on_disk(d), "1:65530 2:65531 3:65532 4:65533 5:65534 6:65535 7:0 8:0 ");
        ASSERT_FALSE(j.flush());
        EXPECT_EQ(j.file_size(), start + run + journal_format::record_head + 10);  // a run of one: a bind_id record
        ASSERT_FALSE(j.flush());                                                    // nothing held: nothing written
        EXPECT_EQ(j.file_size(), start + run + journal_format::record_head + 10);
        for (std::uint64_t seq = 2; seq <= 5; ++seq) ASSERT_FALSE(j.remove(seq));
        ASSERT_FALSE(j.mark_acked(65'530));  // seq 1, not the next: the run of 2-5 is written
        EXPECT_EQ(on_disk(d), "1:65530 6:65535 7:1 8:0 ");
        append(j, "t", "y");  // a new message goes before the run, which names older ones only
        EXPECT_EQ(on_disk(d), "1:65530 6:65535 7:1 8:0 9:0 ");
        EXPECT_EQ(j.live_count(), 4u);
        ASSERT_FALSE(j.remove(9));
        EXPECT_EQ(on_disk(d), "6:65535 7:1 8:0 9:0 ");
        ASSERT_FALSE(j.bind_id(8, 2));
        ASSERT_FALSE(j.hold_inbound(3));  // any record other than a new message writes the run first
        EXPECT_EQ(on_disk(d), "6:65535 7:1 8:2 ");
    }  // closing writes what is held too
    journal j;
    ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
    EXPECT_EQ(rec.records, 9u + 3 + 3 + 1);  // 9 publishes, 3 bind records, 3 removal records, 1 inbound id
    EXPECT_EQ(describe(rec), "6 id65535 q1 t=x\n7 id1 q1 t=x\n8 id2 q1 t=x\nin3\n");
}

// A run record applies to all its messages or to none: one naming a message that is not
// live (or a run in a version 1 file, which has none) is damage, and the messages before
// it stay as they were.
TEST(Journal, ARunRecordThatDoesNotFitTheStateIsDamageAndChangesNothing) {
    auto header = [](std::uint16_t version) {
        std::vector<std::uint8_t> b;
        write_journal_header("dev", b);
        journal_format::put16(b.data() + 8, version);
        journal_format::put32(b.data() + b.size() - 4, crc32c({b.data(), b.size() - 4}));
        return b;
    };
    auto add_record = [](std::vector<std::uint8_t>& b, journal_format::record type, std::vector<std::uint8_t> body) {
        const std::size_t at = b.size();
        b.resize(at + journal_format::record_head);
        b[at] = static_cast<std::uint8_t>(type);
        journal_format::put32(b.data() + at + 1, static_cast<std::uint32_t>(body.size()));
        b.insert(b.end(), body.begin(), body.end());
        std::uint32_t crc = crc32c({b.data() + at, 5});
        crc = crc32c({b.data() + at + journal_format::record_head, body.size()}, crc);
        journal_format::put32(b.data() + at + 5, crc);
    };
    auto run_body = [](std::uint64_t seq, std::uint16_t id, std::uint16_t count) {
        std::vector<std::uint8_t> body(journal_format::run_body);
        journal_format::put64(body.data(), seq);
        journal_format::put16(body.data() + 8, id);
        journal_format::put16(body.data() + 10, count);
        return body;
    };
    auto remove_body = [](std::uint64_t seq, std::uint32_t count) {
        std::vector<std::uint8_t> body(journal_format::run_body);
        journal_format::put64(body.data(), seq);
        journal_format::put32(body.data() + 8, count);
        return body;
    };
    // "seq:id" of each live message and how reading ended, for a file of three messages
    // followed by `last`.
    auto read = [&](std::uint16_t version, journal_format::record type, std::vector<std::uint8_t> body) {
        auto b = header(version);
        for (std::uint8_t seq = 1; seq <= 3; ++seq) {
            std::vector<std::uint8_t> publish = {seq, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 't'};
            add_record(b, journal_format::record::publish, publish);
        }
        const std::size_t before = b.size();
        add_record(b, type, std::move(body));
        journal_state state;
        const journal_read r = read_journal(b, "dev", state);
        std::string s = r.valid_end == before ? "stopped " : "read ";
        state.for_each([&](const journal_entry& e) { s += std::to_string(e.seq) + ":" + std::to_string(e.packet_id) + " "; });
        return s;
    };
    using rt = journal_format::record;
    EXPECT_EQ(read(2, rt::bind_run, run_body(2, 100, 2)), "read 1:0 2:100 3:101 ");
    EXPECT_EQ(read(2, rt::remove_run, remove_body(1, 3)), "read ");
    EXPECT_EQ(read(2, rt::remove_run, remove_body(2, 2)), "read 1:0 ");
    EXPECT_EQ(read(1, rt::bind_run, run_body(2, 100, 2)), "stopped 1:0 2:0 3:0 ");  // no runs in version 1
    EXPECT_EQ(read(1, rt::remove_run, remove_body(1, 3)), "stopped 1:0 2:0 3:0 ");
    EXPECT_EQ(read(2, rt::bind_run, run_body(2, 100, 3)), "stopped 1:0 2:0 3:0 ");  // seq 4 is not there
    EXPECT_EQ(read(2, rt::remove_run, remove_body(2, 3)), "stopped 1:0 2:0 3:0 ");
    EXPECT_EQ(read(2, rt::remove_run, remove_body(1, 0xFFFF'FFFF)), "stopped 1:0 2:0 3:0 ");
    EXPECT_EQ(read(2, rt::remove_run, remove_body(1, 1)), "stopped 1:0 2:0 3:0 ");  // a run of one is a remove record
    EXPECT_EQ(read(2, rt::bind_run, run_body(2, 0, 2)), "stopped 1:0 2:0 3:0 ");    // id 0
    EXPECT_EQ(read(2, rt::bind_run, run_body(2, 65'535, 2)), "stopped 1:0 2:0 3:0 ");  // past 65,535
    EXPECT_EQ(read(2, rt::bind_run, {1, 0, 0, 0, 0, 0, 0, 0, 1, 0}), "stopped 1:0 2:0 3:0 ");  // short body
}

// A journal of version 1 (a tether before runs) is read, and written with version 1 records
// only, so that the tether that wrote it can still read it; its first compaction rewrites
// it as the current version, and runs follow.
TEST(Journal, AVersion1JournalGetsVersion1RecordsUntilItsCompaction) {
    temp_dir d;
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
    }
    auto b = read_file(d.path / "journal");
    journal_format::put16(b.data() + 8, 1);
    journal_format::put32(b.data() + b.size() - 4, crc32c({b.data(), b.size() - 4}));
    write_file(d.path / "journal", b);
    // The types of the records of the file, in order, and its version.
    auto types = [&] {
        const auto f = read_file(d.path / "journal");
        std::string s = "v" + std::to_string(journal_format::get16(f.data() + 8)) + ":";
        std::size_t at = 8 + 2 + 2 + 2 + 3 + 4;
        while (at + journal_format::record_head <= f.size() && f[at] != 0) {
            s += " " + std::to_string(f[at]);
            at += journal_format::record_head + journal_format::get32(f.data() + at + 1);
        }
        return s;
    };
    journal j;
    journal_recovery rec;
    ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
    for (std::uint64_t seq = 1; seq <= 3; ++seq) {
        append(j, "t", "x");
    }
    for (std::uint64_t seq = 1; seq <= 3; ++seq) ASSERT_FALSE(j.bind_id(seq, static_cast<std::uint16_t>(seq)));
    for (std::uint64_t seq = 1; seq <= 2; ++seq) ASSERT_FALSE(j.remove(seq));
    EXPECT_EQ(types(), "v1: 1 1 1 2 2 2 4 4");
    ASSERT_FALSE(j.compact());
    EXPECT_EQ(types(), "v2: 1 2");
    for (int i = 0; i < 3; ++i) append(j, "t", "x");
    for (std::uint64_t seq = 4; seq <= 6; ++seq) ASSERT_FALSE(j.bind_id(seq, static_cast<std::uint16_t>(seq)));
    ASSERT_FALSE(j.flush());
    EXPECT_EQ(types(), "v2: 1 2 1 1 1 8");
}

TEST(Journal, RefusesWhatTheStateForbids) {
    temp_dir d;
    journal j;
    journal_recovery rec;
    ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
    std::uint64_t seq = 0;
    EXPECT_EQ(j.append_publish(qos::at_most_once, false, "t", {}, seq), make_error_code(journal_errc::invalid_argument));
    EXPECT_EQ(j.append_publish(qos::at_least_once, false, std::string(65'536, 't'), {}, seq),
              make_error_code(journal_errc::invalid_argument));
    const auto a = append(j, "t", "x");
    EXPECT_EQ(j.bind_id(a, 0), make_error_code(journal_errc::invalid_argument));
    EXPECT_EQ(j.bind_id(a + 1, 1), make_error_code(journal_errc::unknown_message));
    ASSERT_FALSE(j.bind_id(a, 1));
    EXPECT_EQ(j.mark_pubrec(1), make_error_code(journal_errc::unknown_message));  // QoS 1 has no PUBREC
    EXPECT_EQ(j.mark_acked(2), make_error_code(journal_errc::unknown_message));
    EXPECT_EQ(j.hold_inbound(0), make_error_code(journal_errc::invalid_argument));
    ASSERT_FALSE(j.mark_acked(1));
    EXPECT_EQ(j.remove(a), make_error_code(journal_errc::unknown_message));
    journal other;
    EXPECT_EQ(other.open(d.str(), "dev", durability::process_crash, rec), make_error_code(journal_errc::in_use));
}

// (a) of the review after the durable outbox: PUBREC was marked by packet id, and a bind
// to an id that a stale record of another message still held was refused. After a restart
// into a smaller window, message A goes to the queue still bound to id 5 in the journal;
// B is sent with id 5 and gets PUBREC. Before the fix, B's bind failed and the PUBREC
// (looked up by id) marked A: a restart then sent A as PUBREL only, and A was lost.
TEST(Journal, APubrecMarksTheMessageItNamesNotAStaleHolderOfItsId) {
    temp_dir d;
    std::uint64_t a = 0, b = 0;
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
        a = append(j, "a", "A", qos::exactly_once);
        b = append(j, "b", "B", qos::exactly_once);
        ASSERT_FALSE(j.bind_id(a, 5));
    }
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
        ASSERT_EQ(describe(rec), "1 id5 q2 a=A\n2 id0 q2 b=B\n");
        // A waits in the queue; B goes first with id 5, and its PUBREC comes.
        ASSERT_FALSE(j.bind_id(b, 5));
        ASSERT_FALSE(j.mark_pubrec(b));
    }
    journal j;
    journal_recovery rec;
    ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
    // A is a PUBLISH still to send; B is past PUBREC under id 5.
    EXPECT_EQ(describe(rec), "1 id0 q2 a=A\n2 id5 q2 rel b=B\n");
    EXPECT_EQ(rec.bytes_cut, 0u);
}

// What a child wrote before it was SIGKILLed with the journal open (write_then_get_killed).
struct killed_run {
    bool wrote = false;     // it got through every record
    std::uint64_t end = 0;  // the journal's end as it saw it: its last record's end
    int status = 0;
};

constexpr int small_count = 12'000;
constexpr int large_every = 1'500;                 // one large record per this many small ones
constexpr std::size_t large_size = 300 * 1024;     // over 256 KiB: never mapped, one pwritev
std::uint8_t large_byte(int i, std::size_t k) { return static_cast<std::uint8_t>(k * 7 + static_cast<std::size_t>(i)); }

// A child writes small QoS 2 messages (each bound to packet id i, every second removed,
// every third i held as an inbound id) with a large message after every large_every-th
// small one but at an offset (so the last records are small), several 1 MiB windows in
// all; then it is killed without closing. With `mapping` false every record is a pwritev.
killed_run write_then_get_killed(const temp_dir& d, bool mapping) {
    killed_run run;
    int ready[2];
    if (::pipe(ready) != 0) return run;
    const pid_t child = ::fork();
    if (child < 0) return run;
    if (child == 0) {
        journal j;
        journal_recovery rec;
        if (j.open(d.str(), "dev", durability::process_crash, rec)) ::_exit(2);
        if (!mapping) j.write_without_mapping_for_test();
        std::vector<std::uint8_t> small(64), large(large_size);
        for (int i = 1; i <= small_count; ++i) {
            std::uint64_t seq = 0;
            std::fill(small.begin(), small.end(), static_cast<std::uint8_t>('a' + i % 26));
            if (j.append_publish(qos::exactly_once, false, "k/t", small, seq)) ::_exit(3);
            if (j.bind_id(seq, static_cast<std::uint16_t>(i))) ::_exit(4);
            if (i % 2 == 0 && j.remove(seq)) ::_exit(5);
            if (i % 3 == 0 && j.hold_inbound(static_cast<std::uint16_t>(i))) ::_exit(6);
            if (i % large_every == 700) {
                for (std::size_t k = 0; k < large.size(); ++k) large[k] = large_byte(i, k);
                if (j.append_publish(qos::at_least_once, true, "k/large", large, seq)) ::_exit(7);
            }
        }
        // The run of removals held back goes, as the engine's next socket write would make it.
        if (j.flush()) ::_exit(9);
        const std::uint64_t end = j.file_size();
        if (::write(ready[1], &end, sizeof end) != sizeof end) ::_exit(8);
        for (;;) ::pause();  // killed here, the journal open
    }
    ::close(ready[1]);
    run.wrote = ::read(ready[0], &run.end, sizeof run.end) == sizeof run.end;
    ::close(ready[0]);
    ::kill(child, SIGKILL);
    ::waitpid(child, &run.status, 0);
    return run;
}

// Every record write_then_get_killed wrote is read back, in order, with its contents.
void expect_every_record_of_the_killed_child(const journal_recovery& rec) {
    EXPECT_EQ(rec.bytes_cut, 0u);
    constexpr int larges = small_count / large_every;
    ASSERT_EQ(rec.outbound.size(), static_cast<std::size_t>(small_count / 2 + larges));
    std::size_t at = 0;
    std::uint64_t seq = 0;
    for (int i = 1; i <= small_count; ++i) {
        ++seq;
        if (i % 2 == 1) {
            const recovered_message& m = rec.outbound[at++];
            EXPECT_EQ(m.seq, seq);
            EXPECT_EQ(m.packet_id, i);
            EXPECT_EQ(m.topic, "k/t");
            EXPECT_EQ(m.payload, std::vector<std::uint8_t>(64, static_cast<std::uint8_t>('a' + i % 26))) << i;
        }
        if (i % large_every == 700) {
            ++seq;
            const recovered_message& m = rec.outbound[at++];
            EXPECT_EQ(m.seq, seq);
            EXPECT_EQ(m.topic, "k/large");
            EXPECT_TRUE(m.retain);
            ASSERT_EQ(m.payload.size(), large_size);
            std::size_t wrong = 0;
            for (std::size_t k = 0; k < large_size; ++k) wrong += m.payload[k] != large_byte(i, k) ? 1 : 0;
            EXPECT_EQ(wrong, 0u) << "bytes of the large message after small one " << i;
        }
    }
    EXPECT_EQ(rec.inbound.size(), static_cast<std::size_t>(small_count / 3));
}

// A child killed after write_then_get_killed: the journal it left is opened again, every
// record it wrote is back, nothing is cut, and the file is exactly its records. With the
// mapping the last records went through a window reserved beyond them (zeros, no damage);
// without it nothing was ever reserved.
void expect_the_killed_childs_journal_whole(bool mapping) {
    temp_dir d;
    const killed_run run = write_then_get_killed(d, mapping);
    ASSERT_TRUE(run.wrote) << "the child stopped early: " << run.status;
    EXPECT_GT(run.end, std::uint64_t{3} << 20);  // several windows' worth
    if (mapping) {
        EXPECT_GT(fs::file_size(d.path / "journal"), run.end);
    } else {
        EXPECT_EQ(fs::file_size(d.path / "journal"), run.end);
    }
    journal j;
    journal_recovery rec;
    ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
    EXPECT_FALSE(fs::exists(d.path / "journal.cut"));
    expect_every_record_of_the_killed_child(rec);
    EXPECT_EQ(j.file_size(), run.end);
    EXPECT_EQ(j.file_size(), fs::file_size(d.path / "journal"));  // the zeros are cut off
}

// Records are copied into the file's mapped pages: a process killed without closing the
// journal leaves every record it wrote. About 4 MiB of records, so the 1 MiB window moves
// several times, with records over 256 KiB (one pwritev each, through the same pages)
// between mapped ones.
TEST(Journal, EveryRecordSurvivesTheProcessKilledWithoutClosing) { expect_the_killed_childs_journal_whole(true); }

// Where the mapping is not safe (btrfs, ZFS, NFS) every record is one pwritev: the same
// records survive the kill.
TEST(Journal, WithoutTheMappingEveryRecordIsAWriteAndSurvivesTheProcessKilled) {
    expect_the_killed_childs_journal_whole(false);
}

// How many of the page-cache pages of `path` in [0, size) are dirty (not yet written to
// the disk): each is found through a mapping of our own (the same pages), its frame in
// /proc/self/pagemap and its flags in /proc/kpageflags. Nothing where the kernel does not
// tell (frames are shown only with CAP_SYS_ADMIN).
std::optional<std::size_t> dirty_pages(const fs::path& path, std::size_t size) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    const int pagemap = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    const int flags = ::open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
    void* m = fd < 0 ? MAP_FAILED : ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    std::optional<std::size_t> dirty;
    if (m != MAP_FAILED && pagemap >= 0 && flags >= 0) {
        dirty = 0;
        constexpr std::uint64_t frame_mask = (std::uint64_t{1} << 55) - 1;  // pagemap bits 0-54
        constexpr int kpf_dirty = 4;                                          // linux/kernel-page-flags.h
        for (std::size_t at = 0; at < size; at += page) {
            const auto* p = static_cast<const volatile std::uint8_t*>(m) + at;
            (void)*p;  // faulted in: mapped to its page-cache page
            const auto vpage = reinterpret_cast<std::uintptr_t>(p) / page;
            std::uint64_t entry = 0, bits = 0;
            if (::pread(pagemap, &entry, 8, static_cast<off_t>(vpage * 8)) != 8 || (entry & frame_mask) == 0 ||
                ::pread(flags, &bits, 8, static_cast<off_t>((entry & frame_mask) * 8)) != 8) {
                dirty.reset();
                break;
            }
            *dirty += (bits >> kpf_dirty) & 1;
        }
    }
    if (m != MAP_FAILED) ::munmap(m, size);
    for (const int f : {fd, pagemap, flags}) {
        if (f >= 0) ::close(f);
    }
    return dirty;
}

// At power_loss, sync() makes records copied through the mapping durable: after it, no
// page of the journal is dirty in the page cache — the windows written and left behind
// included. (fdatasync writes pages dirtied through a shared mapping like written ones.)
TEST(Journal, AtPowerLossSyncLeavesNoPageOfTheMappedRecordsUnwritten) {
    temp_dir d;
    struct statfs sf {};
    ASSERT_EQ(::statfs(d.str().c_str(), &sf), 0);
    if (!mapping_is_safe_on(static_cast<long>(sf.f_type)) || sf.f_type == TMPFS_MAGIC) {
        GTEST_SKIP() << "the temporary directory is not on a disk file system that maps the journal";
    }
    journal j;
    journal_recovery rec;
    ASSERT_FALSE(j.open(d.str(), "dev", durability::power_loss, rec));
    const std::vector<std::uint8_t> payload(200, 'p');
    for (int i = 1; i <= 12'000; ++i) {
        std::uint64_t seq = 0;
        ASSERT_FALSE(j.append_publish(qos::at_least_once, false, "p/t", payload, seq));
        ASSERT_FALSE(j.bind_id(seq, static_cast<std::uint16_t>(i)));
    }
    ASSERT_GT(j.file_size(), std::uint64_t{2} << 20);  // windows left behind, and the current one
    ASSERT_GT(fs::file_size(d.path / "journal"), j.file_size());  // written through a window
    const auto before = dirty_pages(d.path / "journal", j.file_size());
    if (!before) GTEST_SKIP() << "the kernel does not show page flags here (needs CAP_SYS_ADMIN)";
    ASSERT_FALSE(j.sync());
    const auto after = dirty_pages(d.path / "journal", j.file_size());
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(*after, 0u) << "pages dirty after sync(); " << *before << " were before it";
}

// Zeros to the end are space reserved and never written; zeros followed by anything are
// damage, cut and kept aside as such.
// Records go through a shared mapping only where the reservation made by fallocate holds
// for writes through it; elsewhere a full disk would be a SIGBUS in the middle of a copy.
TEST(Journal, RecordsAreMappedOnlyOnFileSystemsThatKeepTheirReservation) {
    EXPECT_TRUE(mapping_is_safe_on(EXT4_SUPER_MAGIC));
    EXPECT_TRUE(mapping_is_safe_on(XFS_SUPER_MAGIC));
    EXPECT_TRUE(mapping_is_safe_on(TMPFS_MAGIC));
    EXPECT_FALSE(mapping_is_safe_on(BTRFS_SUPER_MAGIC));
    EXPECT_FALSE(mapping_is_safe_on(NFS_SUPER_MAGIC));
    EXPECT_FALSE(mapping_is_safe_on(0x2FC12FC1));  // ZFS
    EXPECT_FALSE(mapping_is_safe_on(0));
    // statfs reports f_type sign-extended on some ABIs: the low 32 bits decide.
    EXPECT_TRUE(mapping_is_safe_on(static_cast<long>(static_cast<std::int32_t>(XFS_SUPER_MAGIC))));
}

TEST(Journal, ZerosToTheEndAreNoDamageButZerosBeforeDataAre) {
    temp_dir src;
    std::vector<std::uint8_t> good;
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(src.str(), "dev", durability::process_crash, rec));
        append(j, "t", "x");
    }
    good = read_file(src.path / "journal");
    for (const bool data_after : {false, true}) {
        SCOPED_TRACE(data_after ? "zeros, then a byte" : "zeros to the end");
        temp_dir d;
        auto b = good;
        b.resize(b.size() + 10'000, 0);
        if (data_after) b.back() = 1;
        write_file(d.path / "journal", b);
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
        EXPECT_EQ(describe(rec), "1 id0 q1 t=x\n");
        EXPECT_EQ(rec.bytes_cut, data_after ? 10'000u : 0u);
        EXPECT_EQ(fs::exists(d.path / "journal.cut"), data_after);
        EXPECT_EQ(fs::file_size(d.path / "journal"), good.size());
    }
}

// Two messages; the file's size before and after the second, and its bytes.
struct two_messages {
    std::size_t before = 0, after = 0;
    std::vector<std::uint8_t> bytes;
};

two_messages write_two(const temp_dir& d) {
    two_messages t;
    {
        journal j;
        journal_recovery rec;
        EXPECT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
        const auto a = append(j, "first", "1");
        EXPECT_FALSE(j.bind_id(a, 1));
        EXPECT_FALSE(j.flush());  // as the engine does before the PUBLISH goes out
        t.before = j.file_size();
        append(j, "second/topic", "payload 2", qos::exactly_once);
        t.after = j.file_size();
    }
    // Closed: the space reserved beyond the records is given back.
    t.bytes = read_file(d.path / "journal");
    EXPECT_EQ(t.bytes.size(), t.after);
    return t;
}

TEST(Journal, RecoversEveryIntactRecordAfterATruncationAtEveryByte) {
    temp_dir src;
    const two_messages t = write_two(src);
    for (std::size_t cut = t.before; cut < t.after; ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        temp_dir d;
        write_file(d.path / "journal", {t.bytes.begin(), t.bytes.begin() + static_cast<std::ptrdiff_t>(cut)});
        {
            journal j;
            journal_recovery rec;
            ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
            EXPECT_EQ(describe(rec), "1 id1 q1 first=1\n");
            EXPECT_EQ(rec.bytes_cut, cut - t.before);
            EXPECT_EQ(rec.tail_short, cut > t.before);
            if (cut > t.before) {
                EXPECT_EQ(read_file(d.path / "journal.cut"),
                          std::vector<std::uint8_t>(t.bytes.begin() + static_cast<std::ptrdiff_t>(t.before),
                                                    t.bytes.begin() + static_cast<std::ptrdiff_t>(cut)));
            }
            // The damaged tail is gone: what comes next is read back.
            append(j, "third", "3");
        }
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
        EXPECT_EQ(describe(rec), "1 id1 q1 first=1\n2 id0 q1 third=3\n");
        EXPECT_EQ(rec.bytes_cut, 0u);
    }
}

TEST(Journal, StopsAtACorruptionOfAnyByteOfARecord) {
    temp_dir src;
    const two_messages t = write_two(src);
    for (std::size_t at = t.before; at < t.after; ++at) {
        for (std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
            SCOPED_TRACE("byte " + std::to_string(at) + " ^ " + std::to_string(flip));
            temp_dir d;
            std::vector<std::uint8_t> b = t.bytes;
            b[at] ^= flip;
            write_file(d.path / "journal", b);
            journal j;
            journal_recovery rec;
            ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
            EXPECT_EQ(describe(rec), "1 id1 q1 first=1\n");
            EXPECT_EQ(rec.bytes_cut, t.after - t.before);
            EXPECT_EQ(read_file(d.path / "journal").size(), t.before);
        }
    }
}

TEST(Journal, StopsAtARecordThatContradictsTheState) {
    temp_dir d;
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
        append(j, "t", "x");
    }
    // A well-formed record (valid checksum) removing a message that does not exist.
    std::vector<std::uint8_t> rec_bytes(journal_format::record_head + 8);
    rec_bytes[0] = static_cast<std::uint8_t>(journal_format::record::remove);
    journal_format::put32(rec_bytes.data() + 1, 8);
    journal_format::put64(rec_bytes.data() + journal_format::record_head, 99);
    std::uint32_t crc = crc32c({rec_bytes.data(), 5});
    crc = crc32c({rec_bytes.data() + journal_format::record_head, 8}, crc);
    journal_format::put32(rec_bytes.data() + 5, crc);
    auto b = read_file(d.path / "journal");
    b.insert(b.end(), rec_bytes.begin(), rec_bytes.end());
    write_file(d.path / "journal", b);
    journal j;
    journal_recovery rec;
    ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
    EXPECT_EQ(describe(rec), "1 id0 q1 t=x\n");
    EXPECT_EQ(rec.bytes_cut, rec_bytes.size());
    EXPECT_FALSE(rec.tail_short);
}

TEST(Journal, RefusesAnotherClientsDirectory) {
    temp_dir d;
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "alice", durability::process_crash, rec));
        append(j, "t", "x");
    }
    const auto before = read_file(d.path / "journal");
    journal j;
    journal_recovery rec;
    const std::error_code ec = j.open(d.str(), "bob", durability::process_crash, rec);
    EXPECT_EQ(ec, make_error_code(journal_errc::other_client));
    EXPECT_NE(ec.message().find("another client id"), std::string::npos);
    EXPECT_TRUE(rec.outbound.empty());
    EXPECT_EQ(read_file(d.path / "journal"), before);  // untouched
    EXPECT_EQ(j.append_publish(qos::at_least_once, false, "t", {}, rec.records), make_error_code(journal_errc::broken));
}

TEST(Journal, RefusesANewerFormatAndDamagedHeaders) {
    temp_dir d;
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
    }
    const auto good = read_file(d.path / "journal");
    const std::size_t crc_at = good.size() - 4;
    auto open_with = [&](std::vector<std::uint8_t> b) {
        write_file(d.path / "journal", b);
        journal j;
        journal_recovery rec;
        return j.open(d.str(), "dev", durability::process_crash, rec);
    };
    auto newer = good;
    journal_format::put16(newer.data() + 8, journal_format::version + 1);
    journal_format::put32(newer.data() + crc_at, crc32c({newer.data(), crc_at}));
    EXPECT_EQ(open_with(newer), make_error_code(journal_errc::newer_format));
    for (std::size_t at = 8; at < good.size(); ++at) {
        auto b = good;
        b[at] ^= 0x04;
        EXPECT_EQ(open_with(b), make_error_code(journal_errc::corrupt_header)) << "byte " << at;
    }
    auto bad_magic = good;
    bad_magic[0] = 'X';
    EXPECT_EQ(open_with(bad_magic), make_error_code(journal_errc::not_a_journal));
    EXPECT_EQ(open_with({good.begin(), good.begin() + 10}), make_error_code(journal_errc::corrupt_header));
    EXPECT_EQ(open_with(good), std::error_code{});
}

// Many messages, most acknowledged; returns what the journal recovers now.
std::string fill_and_ack(journal& j, int n) {
    for (int i = 1; i <= n; ++i) {
        const auto q = i % 3 == 0 ? qos::exactly_once : qos::at_least_once;
        const auto seq = append(j, "t/" + std::to_string(i), std::string(100, 'p'), q);
        EXPECT_FALSE(j.bind_id(seq, static_cast<std::uint16_t>(i)));
        if (q == qos::exactly_once) {
            EXPECT_FALSE(j.mark_pubrec(static_cast<std::uint16_t>(i)));
        }
        if (i % 7 != 0) {
            EXPECT_FALSE(j.mark_acked(static_cast<std::uint16_t>(i)));
        }
        if (i % 50 == 0) {
            EXPECT_FALSE(j.hold_inbound(static_cast<std::uint16_t>(i)));
        }
    }
    EXPECT_FALSE(j.release_inbound(100));
    return "";
}

std::string reopen(const temp_dir& d) {
    journal j;
    journal_recovery rec;
    EXPECT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
    EXPECT_EQ(rec.bytes_cut, 0u);
    return describe(rec);
}

TEST(Journal, CompactionKeepsExactlyTheLiveRecords) {
    temp_dir d, reference;
    std::string expected;
    {
        journal r;
        journal_recovery rec;
        ASSERT_FALSE(r.open(reference.str(), "dev", durability::process_crash, rec));
        fill_and_ack(r, 2000);
    }
    expected = reopen(reference);
    ASSERT_FALSE(expected.empty());
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "dev", durability::power_loss, rec));
        fill_and_ack(j, 2000);
        EXPECT_FALSE(j.compaction_due());  // 280 KB: under the floor of 4 MiB
        j.set_compaction_floor(64 * 1024);
        EXPECT_TRUE(j.compaction_due());
        const auto before = j.file_size();
        ASSERT_FALSE(j.compact());
        EXPECT_FALSE(j.compacting());
        EXPECT_FALSE(j.compaction_due());
        // Exactly the live records: each live message's publish and bind records, a pubrec
        // for those released, and one record per held inbound id.
        std::uint64_t size = 8 + 2 + 2 + 2 + 3 + 4;  // the header, for "dev"
        for (int i = 7; i <= 2000; i += 7) {
            size += journal_format::record_head + journal_format::publish_fixed + 2 + std::to_string(i).size() + 100;
            size += journal_format::record_head + 10;
            if (i % 3 == 0) size += journal_format::record_head + 8;
        }
        size += 39 * (journal_format::record_head + 2);  // 50..2000 in steps of 50, without 100
        EXPECT_EQ(j.file_size(), size);
        EXPECT_LT(j.file_size() * 4, before);
        EXPECT_EQ(read_file(d.path / "journal").size(), size);
        EXPECT_FALSE(fs::exists(d.path / "journal.tmp"));
        append(j, "after", "compaction");
    }
    expected.insert(expected.find("in50\n"), "2001 id0 q1 after=compaction\n");
    EXPECT_EQ(reopen(d), expected);
}

// The same operations on two journals, one of them compacted in steps between them (`ops`
// is told which): what each recovers afterwards.
struct both_recovered {
    std::string compacted, reference;
};
template <class Ops>
both_recovered with_and_without_compaction(Ops ops) {
    temp_dir d, reference;
    {
        journal r;
        journal_recovery rec;
        EXPECT_FALSE(r.open(reference.str(), "dev", durability::process_crash, rec));
        ops(r, false);
    }
    {
        journal j;
        journal_recovery rec;
        EXPECT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
        ops(j, true);
        EXPECT_FALSE(j.compacting());
        EXPECT_FALSE(fs::exists(d.path / "journal.tmp"));
    }
    return {reopen(d), reopen(reference)};
}

TEST(Journal, CompactionInStepsWithWritesBetween) {
    auto ops = [](journal& j, bool compact) {
        fill_and_ack(j, 300);
        bool done = false;
        if (compact) {
            EXPECT_FALSE(j.compact_step(500, done));
            EXPECT_FALSE(done);
        }
        EXPECT_FALSE(j.mark_acked(7));     // copied already
        EXPECT_FALSE(j.mark_acked(294));   // not yet copied
        EXPECT_FALSE(j.mark_pubrec(21));   // PUBREC again for a copied message
        const auto s = append(j, "new", "n", qos::exactly_once);
        EXPECT_FALSE(j.bind_id(s, 7));     // an id freed during the compaction
        EXPECT_FALSE(j.mark_pubrec(s));
        EXPECT_FALSE(j.bind_id(14, 400));  // a copied message sent again under another id
        EXPECT_FALSE(j.hold_inbound(5));
        EXPECT_FALSE(j.release_inbound(50));
        if (compact) {
            EXPECT_FALSE(j.compact_step(500, done));
            EXPECT_FALSE(done);
        }
        EXPECT_FALSE(j.mark_acked(400));
        EXPECT_FALSE(j.bind_id(21, 401));  // released, then sent again as a PUBLISH
        EXPECT_FALSE(j.mark_acked(280));   // far ahead of the copy
        while (compact && !done) EXPECT_FALSE(j.compact_step(500, done));
        append(j, "last", "l");
    };
    const both_recovered r = with_and_without_compaction(ops);
    EXPECT_NE(r.compacted.find("301 id7 q2 rel new=n\n"), std::string::npos);
    EXPECT_EQ(r.compacted, r.reference);
}

// Runs of binds and removals across the point the compaction under way has copied up to:
// the part before it reaches the copy too, the part after it only the journal (the copy
// takes those messages later, as they are then).
TEST(Journal, ARunAcrossTheCompactionsCopyPointReachesTheCopy) {
    auto ops = [](journal& j, bool compact) {
        for (int i = 0; i < 100; ++i) append(j, "r/t", std::string(20, 'p'));
        for (std::uint64_t seq = 1; seq <= 100; ++seq) EXPECT_FALSE(j.bind_id(seq, static_cast<std::uint16_t>(seq)));
        bool done = false;
        if (compact) {
            // 40 publish records of 43 bytes: the copy stops after seq 40.
            EXPECT_FALSE(j.compact_step(40 * 43, done));
            EXPECT_FALSE(done);
        }
        for (std::uint64_t seq = 30; seq <= 60; ++seq) EXPECT_FALSE(j.remove(seq));
        for (std::uint64_t seq = 20; seq <= 29; ++seq) EXPECT_FALSE(j.bind_id(seq, static_cast<std::uint16_t>(seq + 200)));
        for (std::uint64_t seq = 61; seq <= 70; ++seq) EXPECT_FALSE(j.bind_id(seq, static_cast<std::uint16_t>(seq + 200)));
        EXPECT_FALSE(j.flush());
        while (compact && !done) EXPECT_FALSE(j.compact_step(40 * 43, done));
        append(j, "last", "l");
    };
    const both_recovered r = with_and_without_compaction(ops);
    EXPECT_NE(r.reference.find("29 id229 q1"), std::string::npos);
    EXPECT_EQ(r.reference.find("\n30 id"), std::string::npos);
    EXPECT_EQ(r.compacted, r.reference);
}

TEST(Journal, ACrashBetweenCompactionStepsLosesNothing) {
    temp_dir d;
    std::string expected;
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
        fill_and_ack(j, 500);
        bool done = false;
        ASSERT_FALSE(j.compact_step(1000, done));
        ASSERT_FALSE(done);
        ASSERT_FALSE(j.mark_acked(14));
        j.abandon_compaction_for_test();
        EXPECT_TRUE(fs::exists(d.path / "journal.tmp"));
    }
    journal j;
    journal_recovery rec;
    ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
    EXPECT_FALSE(fs::exists(d.path / "journal.tmp"));
    EXPECT_EQ(rec.outbound.size(), 500u / 7 - 1);
    EXPECT_EQ(rec.outbound.front().topic, "t/7");
    EXPECT_EQ(rec.outbound[1].topic, "t/21");
    EXPECT_EQ(rec.inbound.size(), 9u);
}

TEST(Journal, AFullDiskRefusesTheMessageAndKeepsEveryAcceptedOne) {
    temp_dir d;
    tmpfs disk(d.str(), "size=64k");
    if (!disk.mounted) GTEST_SKIP() << "mounting a tmpfs is not permitted here: " << std::strerror(errno);
    int accepted = 0;
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str(), "dev", durability::power_loss, rec));
        const std::vector<std::uint8_t> payload(1000, 'x');
        std::error_code ec;
        for (int i = 0; i < 1000 && !ec; ++i) {
            std::uint64_t seq = 0;
            ec = j.append_publish(qos::at_least_once, false, "t", payload, seq);
            if (!ec) ++accepted;
        }
        EXPECT_EQ(ec, std::errc::no_space_on_device) << ec.message();
        EXPECT_NE(ec.message().find("space"), std::string::npos);
        EXPECT_GT(accepted, 10);
        EXPECT_EQ(j.live_count(), static_cast<std::size_t>(accepted));
        EXPECT_EQ(j.file_size(), fs::file_size(d.path / "journal"));  // the partial record was cut off
        EXPECT_FALSE(j.sync());
    }
    journal j;
    journal_recovery rec;
    const std::error_code ec = j.open(d.str(), "dev", durability::power_loss, rec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(rec.bytes_cut, 0u);
    EXPECT_EQ(rec.outbound.size(), static_cast<std::size_t>(accepted));
}

// A full disk stays full for many records: each publish still gets its clear ENOSPC, but
// the reservation of the window is asked for once, not again for every record (the cost
// was one failed fallocate per record; time only, never correctness).
TEST(Journal, AFullDiskCostsOneFailedReservationPerWindowNotOnePerRecord) {
    temp_dir d;
    tmpfs disk(d.str(), "size=64k");
    if (!disk.mounted) GTEST_SKIP() << "mounting a tmpfs is not permitted here: " << std::strerror(errno);
    journal j;
    journal_recovery rec;
    ASSERT_FALSE(j.open(d.str(), "dev", durability::process_crash, rec));
    const std::vector<std::uint8_t> payload(1000, 'x');
    fallocates = 0;
    std::error_code ec;
    std::size_t accepted = 0;
    for (int i = 0; i < 1000 && !ec; ++i) {
        std::uint64_t seq = 0;
        ec = j.append_publish(qos::at_least_once, false, "t", payload, seq);
        if (!ec) ++accepted;
    }
    ASSERT_EQ(ec, std::errc::no_space_on_device) << ec.message();
    for (int i = 0; i < 50; ++i) {
        std::uint64_t seq = 0;
        EXPECT_EQ(j.append_publish(qos::at_least_once, false, "t", payload, seq), std::errc::no_space_on_device);
    }
    EXPECT_GT(accepted, 10u);
    // 64 KiB of records lie in one 1 MiB window: one refused reservation in all.
    EXPECT_EQ(fallocates.load(), 1) << "for " << accepted << " records accepted and 51 refused";
    EXPECT_EQ(j.live_count(), accepted);
}

TEST(Journal, AReadOnlyDirectoryGivesAClearError) {
    temp_dir d;
    tmpfs disk(d.str(), "size=256k");
    if (!disk.mounted) GTEST_SKIP() << "mounting a tmpfs is not permitted here: " << std::strerror(errno);
    {
        journal j;
        journal_recovery rec;
        ASSERT_FALSE(j.open(d.str() + "/a", "dev", durability::process_crash, rec));
        append(j, "t", "x");
    }
    fs::create_directory(d.path / "empty");
    ASSERT_EQ(::mount(nullptr, d.str().c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0) << std::strerror(errno);
    for (const char* sub : {"/a", "/empty", "/missing"}) {
        journal j;
        journal_recovery rec;
        const std::error_code ec = j.open(d.str() + sub, "dev", durability::process_crash, rec);
        EXPECT_EQ(ec, std::errc::read_only_file_system) << sub << ": " << ec.message();
        EXPECT_NE(ec.message().find("Read-only"), std::string::npos);
    }
}

TEST(Journal, NoAllocationPerMessageInSteadyState) {
    temp_dir d;
    journal j;
    journal_recovery rec;
    ASSERT_FALSE(j.open(d.str(), "dev", durability::power_loss, rec));
    j.set_compaction_floor(64 * 1024);  // compactions in the counted rounds too
    const std::vector<std::uint8_t> payload(64, 'x');
    auto round = [&](int n) {
        for (int i = 0; i < n; ++i) {
            std::uint64_t seq = 0;
            const auto id = static_cast<std::uint16_t>(i % 1000 + 1);
            ASSERT_FALSE(j.append_publish(qos::exactly_once, false, "sensors/t1", payload, seq));
            ASSERT_FALSE(j.bind_id(seq, id));
            ASSERT_FALSE(j.mark_pubrec(seq));
            ASSERT_FALSE(j.hold_inbound(id));
            ASSERT_FALSE(j.release_inbound(id));
            ASSERT_FALSE(j.mark_acked(id));
            if (i % 100 == 0) {
                ASSERT_FALSE(j.sync());
            }
            if (j.compaction_due()) {
                ASSERT_FALSE(j.compact());
            }
        }
    };
    round(5000);  // warm up: the ring and the packet-id index reach their size
    allocations = 0;
    counting = true;
    round(5000);
    counting = false;
    EXPECT_EQ(allocations.load(), 0);
}
