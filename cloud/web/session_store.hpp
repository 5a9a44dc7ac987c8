#pragma once
// The Device Manager's login sessions: an unguessable id (256 random bits, as hex) per
// login, kept only in memory (a restart logs everyone out), ending after `idle` without use
// or `lifetime` after the login, whichever comes first, or at logout.
//
//     session_store sessions({.idle = 30min, .lifetime = 12h});
//     std::string id = sessions.create("admin", now);   // goes into the cookie
//     if (auto user = sessions.check(id, now)) ...        // touched: idle restarts
//     sessions.end(id);
//
// Thread-safe (one mutex): the HTTP server's threads share one store. Time is passed in.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tether::cloud::web {

struct session_limits {
    std::chrono::seconds idle{30 * 60};
    std::chrono::seconds lifetime{12 * 3600};
    std::size_t max_sessions = 1000;  // the oldest is ended to make room for a new login
};

class session_store {
public:
    using clock = std::chrono::steady_clock;

    explicit session_store(session_limits limits = {}) : limits_(limits) {}

    // A new session for `user`: 64 lowercase hex digits from OpenSSL's generator. Throws
    // std::runtime_error when the generator fails (a login then fails; nothing weaker is used).
    [[nodiscard]] std::string create(std::string_view user, clock::time_point now);

    // The user of a live session, and its idle time restarted; nullopt for an unknown,
    // ended or expired id (an expired one is removed). Ids of the wrong length are refused
    // before any lookup.
    [[nodiscard]] std::optional<std::string> check(std::string_view id, clock::time_point now);

    // Ends a session; nothing happens for an unknown id.
    void end(std::string_view id);

    [[nodiscard]] std::size_t size() const;

private:
    struct entry {
        std::string user;
        clock::time_point created;
        clock::time_point last_used;
    };
    void drop_expired(clock::time_point now);  // with mutex_ held

    session_limits limits_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, entry> sessions_;
};

}  // namespace tether::cloud::web
