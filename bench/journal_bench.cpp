// Appends per second to the durable outbox's journal (client/src/journal.hpp) at each
// durability level: each message is journaled, bound to a packet id and acknowledged, as
// a QoS 1 publish is; compaction runs whenever it is due, as the engine would run it.
//
//   journal_bench [DIR] [MESSAGES] [PAYLOAD]   # DIR defaults to /tmp (its file system matters)
//
// Prints one line per level: messages, seconds, messages per second, fdatasyncs.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "journal.hpp"

using namespace tether::client::detail;

namespace {

int run(const std::string& base, const char* name, durability d, int messages, std::size_t payload_size,
        int batch) {
    const std::string dir = base + "/journal_bench." + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    journal j;
    journal_recovery rec;
    if (auto ec = j.open(dir, "bench", d, rec)) {
        std::fprintf(stderr, "journal_bench: %s: %s\n", dir.c_str(), ec.message().c_str());
        return 1;
    }
    const std::vector<std::uint8_t> payload(payload_size, 'x');
    int syncs = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < messages; ++i) {
        std::uint64_t seq = 0;
        const auto id = static_cast<std::uint16_t>(i % 1000 + 1);
        std::error_code ec = j.append_publish(tether::core::qos::at_least_once, false, "sensors/device-1/t", payload, seq);
        // Acceptance of a batch waits for one sync (group commit).
        if (!ec && (i + 1) % batch == 0 && d == durability::power_loss) ec = j.sync(), ++syncs;
        if (!ec) ec = j.bind_id(seq, id);
        if (!ec) ec = j.mark_acked(id);
        if (!ec && j.compaction_due()) ec = j.compact();
        if (ec) {
            std::fprintf(stderr, "journal_bench: %s\n", ec.message().c_str());
            return 1;
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-28s %8d messages  %7.3f s  %10.0f msg/s  %6d fdatasync\n", name, messages, seconds,
                messages / seconds, syncs);
    std::filesystem::remove_all(dir);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : "/tmp";
    const int messages = argc > 2 ? std::atoi(argv[2]) : 200'000;
    const std::size_t payload = argc > 3 ? static_cast<std::size_t>(std::atoi(argv[3])) : 64;
    std::printf("journal_bench: %s, %zu B payloads, publish + bind + ack per message\n", dir.c_str(), payload);
    int rc = run(dir, "process_crash", durability::process_crash, messages, payload, 1);
    rc |= run(dir, "power_loss, 1000 per sync", durability::power_loss, messages, payload, 1000);
    rc |= run(dir, "power_loss, 100 per sync", durability::power_loss, messages / 4, payload, 100);
    rc |= run(dir, "power_loss, 1 per sync", durability::power_loss, messages / 100, payload, 1);
    return rc;
}
