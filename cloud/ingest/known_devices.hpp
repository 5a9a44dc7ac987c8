#pragma once
// Which device ids the registry said are known and unrevoked, remembered for a while, so
// that the ingest does not ask the database once per message. Looking a device up is a
// read transaction of its own (on SQLite two fcntl locks and a B-tree descent), which cost
// as much as a fifth of the service's CPU per write with 10,000 devices writing twice a
// second (docs/CLOUD.md).
//
// Only "known" is remembered, never "unknown": a device provisioned a moment ago is
// recognised at its first message. A revocation made through another process (the CLI,
// the web process, another worker) therefore reaches the ingest within `ttl`. The broker
// stops the device itself at once: revoking rewrites its CRL and closes the device's
// connection (docs/CLOUD.md, "Revocation and release"), so what may still arrive within
// `ttl` is what the device sent before. A revocation this handler sees (the broker's log
// line of the device's disconnection) forgets the device at once.
//
//     known_devices cache(std::chrono::seconds(5));
//     if (!cache.fresh(id, now)) { if (!ask_registry(id)) refuse; cache.remember(id, now); }
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tether::cloud::ingest {

class known_devices {
public:
    using clock = std::chrono::steady_clock;
    explicit known_devices(clock::duration ttl) : ttl_(ttl) {}

    // True when `id` was remembered less than ttl before `now`.
    [[nodiscard]] bool fresh(std::string_view id, clock::time_point now) const;
    // `id` is known as of `now`. Expired entries are dropped now and then, so memory follows
    // the devices seen within about ttl, not every device ever seen.
    void remember(std::string_view id, clock::time_point now);
    void forget(std::string_view id);
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
