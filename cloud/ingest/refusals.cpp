#include "ingest/refusals.hpp"

#include <algorithm>

namespace tether::cloud::ingest {

bool refusal_log::note(std::string_view device_id, std::chrono::steady_clock::time_point now) {
    ++count_;
    if (const auto it = last_logged_.find(device_id); it != last_logged_.end()) {
        if (now - it->second < interval_) return false;
        it->second = now;
        return true;
    }
    if (last_logged_.size() >= max_remembered) {
        const auto oldest = std::min_element(last_logged_.begin(), last_logged_.end(),
                                             [](const auto& a, const auto& b) { return a.second < b.second; });
        last_logged_.erase(oldest);
    }
    last_logged_.emplace(std::string(device_id), now);
    return true;
}

}  // namespace tether::cloud::ingest
