// `tether pub --persist DIR`: lines that a `pub -l` read and journaled while the broker was
// away survive a SIGKILL, and a later run with the same -i and DIR (and no input) delivers
// them; --persist without -i is refused.

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/broker.hpp"
#include "../support/process.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;

const std::string tether = TETHER_BINARY;

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tether-pub-persist-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

// The bytes of records in a journal: an open journal reserves zeroed space after its last
// record (docs/PERSISTENCE.md), so the file is longer than what it holds. Every record in
// the test below ends with a line's last character, never a zero byte.
std::uintmax_t written_size(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const auto last = bytes.find_last_not_of('\0');
    return last == std::string::npos ? 0 : last + 1;
}

TEST(TetherPubPersist, LinesJournaledBeforeAKillAreDeliveredByTheNextRun) {
    mosquitto_broker b({.persistence = true});
    const std::string port = std::to_string(b.port());
    temp_dir dir;
    const auto journal_dir = dir.path / "outbox";
    const auto input = dir.path / "lines";
    std::ofstream(input).close();
    // The collector's session, kept by the broker (saved when it stops) for what comes later.
    ASSERT_EQ(run({tether, "sub", "-p", port, "-c", "-i", "collector", "-q", "1", "-t", "plines", "-E"}).status, 0);

    // stdin that stays open (tail -f), so that lines can be given after the broker is gone;
    // tail ends with the pub (--pid: the shell's pid, which exec hands to tether).
    const std::string shell = "exec \"" + tether + "\" pub -p " + port +
                              " -i plpub -q 1 -t plines -l -d --persist \"" + journal_dir.string() +
                              "\" < <(exec tail -n +1 -f --pid=$$ \"" + input.string() + "\")";
    process pub({"/bin/bash", "-c", shell});
    for (int i = 0; i < 1000 && pub.err().find("connected") == std::string::npos; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_NE(pub.err().find("connected"), std::string::npos) << pub.err();

    b.stop(SIGTERM);  // saves the collector's session
    constexpr int count = 200;
    std::uintmax_t expected = 8 + 2 + 2 + 2 + 5 + 4;  // the journal's header, client id "plpub"
    {
        std::ofstream out(input, std::ios::app);
        for (int i = 0; i < count; ++i) {
            const std::string line = "line-" + std::to_string(i);
            out << line << "\n";
            expected += 9 + 8 + 1 + 2 + 6 + line.size();  // a publish record, topic "plines"
        }
    }
    // Every line read and journaled (the broker is away: nothing is acknowledged, so the
    // file holds exactly these records), then the process dies without a word.
    for (int i = 0; i < 3000 && written_size(journal_dir / "journal") < expected; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(written_size(journal_dir / "journal"), expected) << pub.err();
    pub.kill(SIGKILL);
    (void)pub.wait(10s);

    b.start();
    const auto again = run({tether, "pub", "-p", port, "-i", "plpub", "-q", "1", "-t", "plines", "-l", "--persist",
                            journal_dir.string()});
    ASSERT_EQ(again.status, 0) << again.err;
    const auto got = run({tether, "sub", "-p", port, "-c", "-i", "collector", "-q", "1", "-t", "plines", "-C",
                          std::to_string(count), "-W", "60"},
                         "", 90s);
    EXPECT_EQ(got.status, 0) << got.err;
    std::set<std::string> lines;
    std::istringstream in(got.out);
    for (std::string line; std::getline(in, line);) lines.insert(line);
    EXPECT_EQ(lines.size(), static_cast<std::size_t>(count));
    EXPECT_TRUE(lines.contains("line-0") && lines.contains("line-199"));
}

TEST(TetherPubPersist, NeedsAClientId) {
    temp_dir dir;
    const auto r = run({tether, "pub", "-t", "a", "-m", "x", "-q", "1", "--persist", dir.path.string()});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("--persist needs a client id (-i)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tether::test
