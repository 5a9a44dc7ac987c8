#pragma once
// Hears the live changes other processes commit to a PostgreSQL database (change_feed.hpp):
// a connection of its own LISTENs on the change channel, and a thread of its own hands each
// notification's changes to `on_changes`.
//
// A listener that was away misses what was committed meanwhile: PostgreSQL keeps no
// notification for a session that is gone. So when the connection is lost the listener
// connects again (backing off from 0.2 s to 5 s) and then calls `on_gap`: whoever shows
// the changes must read the state again (the Device Manager ends its event streams; each
// page reconnects and reloads). TCP keep-alives find a server that vanished without a word.
//
//     change_listener l(url, [&](std::vector<live_change> c) { ... }, [&] { ... });
//     if (auto r = l.start(); !r) { std::cerr << r.err().message; }
//     ...
//     l.stop();
//
// The callbacks run on the listener's thread, one at a time; they must not throw.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "storage/change_feed.hpp"
#include "storage/result.hpp"

struct pg_conn;

namespace tether::cloud::storage {

class change_listener {
public:
    using changes_function = std::function<void(std::vector<live_change> changes)>;
    using gap_function = std::function<void()>;

    // `url`: a libpq connection URI (postgresql://...).
    change_listener(std::string url, changes_function on_changes, gap_function on_gap);
    ~change_listener();  // stop()s
    change_listener(const change_listener&) = delete;
    change_listener& operator=(const change_listener&) = delete;

    // Connects and LISTENs, then listens on a thread of its own. Errors: the server refusing
    // the connection or the LISTEN (libpq's message, never the password), started twice.
    [[nodiscard]] result<void> start();
    // Ends the thread and the connection. Idempotent.
    void stop();

    // Connections lost so far (each followed by on_gap once connected again), and
    // notifications that were not a list of changes (dropped).
    [[nodiscard]] std::uint64_t reconnections() const noexcept { return reconnections_; }
    [[nodiscard]] std::uint64_t malformed() const noexcept { return malformed_; }

private:
    // Connects and LISTENs; null with `problem` set when either fails.
    pg_conn* connect(std::string& problem) const;
    void run();
    // Waits until the connection has input or `limit` passes; false when stop() was called.
    bool wait_readable(int fd, std::chrono::milliseconds limit);
    void deliver();

    std::string url_;
    changes_function on_changes_;
    gap_function on_gap_;
    pg_conn* conn_ = nullptr;
    int wake_ = -1;  // an eventfd: stop() makes it readable
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::uint64_t> reconnections_{0};
    std::atomic<std::uint64_t> malformed_{0};
};

}  // namespace tether::cloud::storage
