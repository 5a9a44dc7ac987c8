#pragma once
// Limits login attempts, per remote address and over all addresses, so that guessing the
// administrator's password is slow from one machine and from many, and so that a flood of
// attempts cannot keep the CPU busy with scrypt (0.1 s and 32 MiB each). Token buckets:
// each address holds up to `per_address_burst` attempts and gains one back every
// `per_address_refill`; all addresses together share `overall_burst`, refilled every
// `overall_refill`. An attempt takes a token from both or is refused.
//
//     rate_limiter limiter({});
//     if (auto wait = limiter.take("10.0.0.7", now)) return too_many(*wait);  // 429, Retry-After
//
// Thread-safe (one mutex). Time is passed in. Addresses are forgotten once their bucket is
// full again, so the table holds only recent attempters (at most `max_addresses`; when it is
// full, an unknown address counts against the overall bucket alone).

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tether::cloud::web {

struct rate_limits {
    double per_address_burst = 5;
    std::chrono::milliseconds per_address_refill{12'000};  // 5 a minute after the burst
    double overall_burst = 30;
    std::chrono::milliseconds overall_refill{1'000};
    std::size_t max_addresses = 10'000;
};

class rate_limiter {
public:
    using clock = std::chrono::steady_clock;

    explicit rate_limiter(rate_limits limits);

    // Takes one attempt for `address`. nullopt: allowed. Otherwise refused, and how long
    // until the next attempt would be allowed (at least one second, for Retry-After).
    [[nodiscard]] std::optional<std::chrono::seconds> take(std::string_view address, clock::time_point now);

private:
    struct bucket {
        double tokens = 0;
        clock::time_point updated{};
    };
    void refill(bucket& b, double burst, std::chrono::milliseconds every, clock::time_point now) const;

    rate_limits limits_;
    std::mutex mutex_;
    bucket overall_;
    std::unordered_map<std::string, bucket> addresses_;
};

}  // namespace tether::cloud::web
