#pragma once
// A point: what is known of the values that fell into one interval. Plain data, so that
// storage can save it and several workers' points for the same interval can be merged.

#include <cstdint>

namespace tether::cloud::metrics {

struct point {
    std::uint64_t count = 0;  // 0: no value yet; sum, min and max mean nothing then
    double sum = 0;
    double min = 0;
    double max = 0;

    [[nodiscard]] bool empty() const noexcept { return count == 0; }

    // One value more.
    void add(double value) noexcept;

    // The values of `other` too: counts and sums add, min and max widen. Merging is
    // associative and commutative (up to floating-point rounding of the sum), and an
    // empty point changes nothing, so workers may merge in any order.
    void merge(const point& other) noexcept;

    friend bool operator==(const point&, const point&) = default;
};

}  // namespace tether::cloud::metrics
