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

// The random numbers for the jitter: SplitMix64, eight bytes of state (a std::mt19937_64
// is 2.5 KiB, which a client holding thousands of connections pays for each of them).
class jitter_random {
public:
    explicit jitter_random(std::uint64_t seed) noexcept : state_(seed) {}
    std::uint64_t operator()() noexcept {
        std::uint64_t z = (state_ += 0x9E37'79B9'7F4A'7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58'476D'1CE4'E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D0'49BB'1331'11EBull;
        return z ^ (z >> 31);
    }

private:
    std::uint64_t state_;
};

}  // namespace tether::client::detail
