#pragma once
// Reconnect delays: exponential backoff with full jitter, so that a fleet of devices
// cut off together does not come back together.

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "tether/client/options.hpp"

namespace tether::client::detail {

// The ceiling for attempt n (1-based): initial_delay * 2^(n-1), at most max_delay.
[[nodiscard]] inline std::chrono::milliseconds backoff_ceiling(const reconnect_policy& p, unsigned attempt) {
    const auto max = p.max_delay.count();
    auto ceiling = std::max<std::int64_t>(p.initial_delay.count(), 1);
    for (unsigned i = 1; i < attempt && ceiling < max; ++i) ceiling *= 2;
    return std::chrono::milliseconds(std::min<std::int64_t>(ceiling, max));
}

// A delay drawn uniformly from [0, ceiling] using `random` (any 64-bit random number).
[[nodiscard]] inline std::chrono::milliseconds backoff_delay(const reconnect_policy& p, unsigned attempt,
                                                             std::uint64_t random) {
    const auto ceiling = static_cast<std::uint64_t>(backoff_ceiling(p, attempt).count());
    return std::chrono::milliseconds(static_cast<std::int64_t>(random % (ceiling + 1)));
}

}  // namespace tether::client::detail
