#include "ingest/recent_ids.hpp"

#include <algorithm>
#include <iterator>

namespace tether::cloud::ingest {

bool recent_ids::fresh(std::string_view id, clock::time_point now) const {
    const auto it = since_.find(id);
    return it != since_.end() && now - it->second < ttl_;
}

void recent_ids::remember(std::string_view id, clock::time_point now) {
    if (const auto it = since_.find(id); it != since_.end()) {
        it->second = now;
        return;
    }
    if (since_.size() >= purge_at_) {
        drop_expired(now);
        // Amortised: the next purge waits until the map has doubled again.
        purge_at_ = std::max<std::size_t>(1024, 2 * since_.size());
    }
    since_.emplace(std::string(id), now);
}

void recent_ids::forget(std::string_view id) {
    if (const auto it = since_.find(id); it != since_.end()) since_.erase(it);
}

void recent_ids::drop_expired(clock::time_point now) {
    std::erase_if(since_, [&](const auto& entry) { return now - entry.second >= ttl_; });
}

}  // namespace tether::cloud::ingest
