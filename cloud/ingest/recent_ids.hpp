#pragma once
// Ids (of devices) remembered with the moment they were last noted, for `ttl`: what the
// ingest need not do again for a device within a while. The handler keeps two
// (handler.hpp): devices the registry said are known, and devices whose last_seen it
// wrote lately.
//
//     recent_ids known(std::chrono::seconds(5));
//     if (!known.fresh(id, now)) { if (!ask_registry(id)) refuse; known.remember(id, now); }
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tether::cloud::ingest {

class recent_ids {
public:
    using clock = std::chrono::steady_clock;
    explicit recent_ids(clock::duration ttl) : ttl_(ttl) {}

    // True when `id` was remembered less than ttl before `now`.
    [[nodiscard]] bool fresh(std::string_view id, clock::time_point now) const;
    // `id` is known as of `now`. Expired entries are dropped now and then, so memory follows
    // the devices seen within about ttl, not every device ever seen.
    void remember(std::string_view id, clock::time_point now);
    void forget(std::string_view id);
    void clear() noexcept { since_.clear(); }
    [[nodiscard]] std::size_t size() const noexcept { return since_.size(); }

private:
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    void drop_expired(clock::time_point now);

    clock::duration ttl_;
    std::unordered_map<std::string, clock::time_point, hash, std::equal_to<>> since_;
    std::size_t purge_at_ = 1024;  // the size at which expired entries are next dropped
};

}  // namespace tether::cloud::ingest
