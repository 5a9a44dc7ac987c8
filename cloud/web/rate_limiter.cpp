#include "web/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace tether::cloud::web {

rate_limiter::rate_limiter(rate_limits limits) : limits_(limits) { overall_.tokens = limits_.overall_burst; }

void rate_limiter::refill(bucket& b, double burst, std::chrono::milliseconds every, clock::time_point now) const {
    if (now > b.updated) {
        const double gained = std::chrono::duration<double, std::milli>(now - b.updated).count() /
                              static_cast<double>(every.count());
        b.tokens = std::min(burst, b.tokens + gained);
    }
    b.updated = std::max(b.updated, now);
}

namespace {
std::chrono::seconds until_one(double tokens, std::chrono::milliseconds every) {
    const double ms = (1.0 - tokens) * static_cast<double>(every.count());
    return std::chrono::seconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(ms / 1000.0))));
}
}  // namespace

std::optional<std::chrono::seconds> rate_limiter::take(std::string_view address, clock::time_point now) {
    std::lock_guard lock(mutex_);
    refill(overall_, limits_.overall_burst, limits_.overall_refill, now);
    // Forget addresses whose bucket is full again: they are no different from new ones.
    if (addresses_.size() >= limits_.max_addresses) {
        for (auto it = addresses_.begin(); it != addresses_.end();) {
            refill(it->second, limits_.per_address_burst, limits_.per_address_refill, now);
            it = it->second.tokens >= limits_.per_address_burst ? addresses_.erase(it) : std::next(it);
        }
    }
    bucket* mine = nullptr;
    if (auto it = addresses_.find(std::string(address)); it != addresses_.end()) {
        mine = &it->second;
        refill(*mine, limits_.per_address_burst, limits_.per_address_refill, now);
    } else if (addresses_.size() < limits_.max_addresses) {
        mine = &addresses_.emplace(std::string(address), bucket{limits_.per_address_burst, now}).first->second;
    }
    if (mine != nullptr && mine->tokens < 1) return until_one(mine->tokens, limits_.per_address_refill);
    if (overall_.tokens < 1) return until_one(overall_.tokens, limits_.overall_refill);
    overall_.tokens -= 1;
    if (mine != nullptr) mine->tokens -= 1;
    return std::nullopt;
}

}  // namespace tether::cloud::web
