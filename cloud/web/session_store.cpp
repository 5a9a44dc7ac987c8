#include "web/session_store.hpp"

#include <algorithm>

#include "provisioning/random.hpp"

namespace tether::cloud::web {

namespace {
constexpr std::size_t id_bytes = 32;  // 256 bits
}

std::string session_store::create(std::string_view user, clock::time_point now) {
    std::string id = provisioning::random_hex(id_bytes);
    std::lock_guard lock(mutex_);
    drop_expired(now);
    if (sessions_.size() >= limits_.max_sessions && !sessions_.empty()) {
        const auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
            return a.second.created < b.second.created;
        });
        sessions_.erase(oldest);
    }
    sessions_[id] = entry{std::string(user), now, now};
    return id;
}

std::optional<std::string> session_store::check(std::string_view id, clock::time_point now) {
    if (id.size() != id_bytes * 2) return std::nullopt;
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(std::string(id));
    if (it == sessions_.end()) return std::nullopt;
    if (now - it->second.last_used >= limits_.idle || now - it->second.created >= limits_.lifetime) {
        sessions_.erase(it);
        return std::nullopt;
    }
    it->second.last_used = now;
    return it->second.user;
}

void session_store::end(std::string_view id) {
    std::lock_guard lock(mutex_);
    sessions_.erase(std::string(id));
}

std::size_t session_store::size() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

void session_store::drop_expired(clock::time_point now) {
    std::erase_if(sessions_, [&](const auto& kv) {
        return now - kv.second.last_used >= limits_.idle || now - kv.second.created >= limits_.lifetime;
    });
}

}  // namespace tether::cloud::web
