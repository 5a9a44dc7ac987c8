#pragma once
// Buffers: aggregate values before they are stored (PROTOCOL.md §6 `buffer`, and the
// `buffer` of a metric/set body), so that a device reporting every second costs one
// stored point per `count` values or `elapsed` seconds.
//
// Rule: a value is added to the pending point first; the pending point is then emitted
// when it holds `count` values, or when the value came `elapsed` seconds or more after
// the pending point's first value. A pending point whose time has passed with no new
// value is emitted by flush_due(), which a caller's timer calls.

#include <cstdint>
#include <optional>

#include "metrics/point.hpp"

namespace tether::cloud::metrics {

struct buffer_policy {
    std::uint32_t count = 0;       // emit at this many values; 0: no limit by count
    std::int64_t elapsed_ms = 0;   // emit once this much time is covered; 0: no limit by time
    // Neither limit: every value is emitted at once.
    friend bool operator==(const buffer_policy&, const buffer_policy&) = default;
};

// What a buffer hands on: the aggregate, its latest value (for `current`) and the time
// to store it at (that of its latest value).
struct emitted {
    point value;
    double last = 0;
    std::int64_t time_ms = 0;
};

// Plain data: storage may save and restore the members of a buffer that holds values.
struct buffer {
    point pending;
    std::int64_t first_ms = 0;  // time of the first pending value
    std::int64_t last_ms = 0;   // time of the latest pending value
    double last = 0;            // the latest pending value

    // Adds `value` at `time_ms` and returns what is to be stored now, if anything. A
    // value that is not finite is ignored (nothing changes, nothing is emitted).
    [[nodiscard]] std::optional<emitted> add(const buffer_policy& policy, double value, std::int64_t time_ms) noexcept;

    // The pending point when `elapsed` has passed since its first value by `now_ms`;
    // nothing when the buffer is empty, the policy has no time limit, or time remains.
    [[nodiscard]] std::optional<emitted> flush_due(const buffer_policy& policy, std::int64_t now_ms) noexcept;

    // The pending point whatever the policy (at shutdown, or when the schema changes).
    [[nodiscard]] std::optional<emitted> flush() noexcept;

    // When flush_due() will next have something to emit; std::nullopt when never.
    [[nodiscard]] std::optional<std::int64_t> due_ms(const buffer_policy& policy) const noexcept;
};

}  // namespace tether::cloud::metrics
