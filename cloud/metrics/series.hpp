#pragma once
// One series: the values of one (namespace, metric, dimension values), kept as spans of
// rising resolution so that any period can be answered from few points.
//
//   span   resolution   covers (nominal)   slots
//   0      5 s          1 minute           13
//   1      30 s         5 minutes          11
//   2      5 minutes    1 hour             13
//   3      1 hour       1 day              25
//   4      1 day        1 week              8
//   5      30 days      390 days (a year)  14
//
// The 1-minute span is there for what a person watches live: a device reporting every few
// seconds shows as a line, not as one point per 30 s. Spans are stored by index
// (storage/schema.cpp moves the stored ones when this table changes).
//
// Points are aligned to the epoch: a 30 s point covers [k*30 s, (k+1)*30 s). Each span
// keeps one slot more than its nominal cover needs, for the point in progress, so that a
// period as long as the cover is answered whole wherever `now` falls.
//
// Which points answer a query: the points of the chosen span that overlap the closed
// interval [now - period, now], whole. A period that is not a multiple of the resolution,
// or a `now` between point boundaries, therefore takes in up to one resolution more on
// either side: a 45 s period at 12:00:12 reads the 5 s points 11:59:25 to 12:00:10, which
// hold values from 11:59:25 to 12:00:14 (no value after `now` if time only rises).
// The span is the one with the finest resolution whose nominal cover is at least the
// period; a period longer than a year is answered from the 30-day span, with what it holds.
//
// Roll-off: a slot holds one point; a value whose point is newer than the slot's replaces
// it, one whose point is older than the slot's is dropped for that span (it may still land
// in a coarser one). The result depends only on the set of values added, not their order.
//
// Time is always passed in (ms since the epoch); nothing here reads a clock.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "metrics/point.hpp"
#include "metrics/statistic.hpp"

namespace tether::cloud::metrics {

struct span_shape {
    std::int64_t resolution_ms;
    std::int64_t nominal_points;  // the cover is resolution_ms * nominal_points
    [[nodiscard]] constexpr std::size_t slots() const noexcept { return static_cast<std::size_t>(nominal_points) + 1; }
    [[nodiscard]] constexpr std::int64_t cover_ms() const noexcept { return resolution_ms * nominal_points; }
};

inline constexpr std::array<span_shape, 6> span_shapes{{
    {5'000, 12},
    {30'000, 10},
    {300'000, 12},
    {3'600'000, 24},
    {86'400'000, 7},
    {2'592'000'000, 13},
}};

// A point and the interval it belongs to: interval k of a span covers
// [k * resolution, (k + 1) * resolution). An empty slot has the smallest int64 as interval.
struct slot {
    std::int64_t interval = INT64_MIN;
    point value;
    friend bool operator==(const slot&, const slot&) = default;
};

struct span {
    std::vector<slot> slots;  // span_shapes[i].slots() of them; interval k lives in slot k mod size
    friend bool operator==(const span&, const span&) = default;
};

// Plain data with behaviour: storage may read and write the members directly, and should
// check well_formed() on what it loads.
struct series {
    std::array<span, span_shapes.size()> spans;
    bool has_current = false;
    double current = 0;            // the value with the latest time (ties: the last added)
    std::int64_t current_ms = 0;

    series();

    // Adds one value at `time_ms`. Returns false, changing nothing, when `value` is not
    // finite (NaN or infinite values would poison every sum).
    bool add(double value, std::int64_t time_ms) noexcept;

    // Adds an aggregate (a buffer's output) as if its values had all come at `time_ms`;
    // `last` is the most recent of them, for `current`. Returns false, changing nothing,
    // when `p` is empty or holds or `last` is a non-finite number.
    bool add(const point& p, double last, std::int64_t time_ms) noexcept;

    // The statistic over `period_ms` ending at `now_ms` (see above for which points).
    // statistic::current ignores the period: the value with the latest time, whatever it
    // is. std::nullopt: no value (avg, min, max over no points; current with no value
    // ever) or period_ms < 1. count and sum over no points are 0.
    [[nodiscard]] std::optional<double> query(statistic s, std::int64_t period_ms, std::int64_t now_ms) const noexcept;

    // The merged points of the span query() would use for `period_ms` at `now_ms`.
    [[nodiscard]] point window(std::int64_t period_ms, std::int64_t now_ms) const noexcept;

    // Takes in what another worker kept for the same series: per slot, the newer interval
    // wins and equal intervals merge; `current` is the one with the later time (on a tie,
    // this one's). Merging is commutative up to that tie and the rounding of sums.
    void merge(const series& other) noexcept;

    // True when every span has the slot count of its shape and every non-empty slot sits
    // where its interval belongs: what storage must check before trusting loaded data.
    [[nodiscard]] bool well_formed() const noexcept;

    // The index into span_shapes that answers `period_ms`.
    [[nodiscard]] static std::size_t span_for(std::int64_t period_ms) noexcept;

    friend bool operator==(const series&, const series&) = default;
};

// floor(a / b) for b > 0, also for negative a.
[[nodiscard]] constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    const std::int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

}  // namespace tether::cloud::metrics
