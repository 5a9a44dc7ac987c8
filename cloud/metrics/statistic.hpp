#pragma once
// The statistics metric/get answers (PROTOCOL.md §1).

#include <cstdint>
#include <optional>
#include <string_view>

#include "metrics/point.hpp"

namespace tether::cloud::metrics {

enum class statistic : std::uint8_t { avg, min, max, sum, count, current };

// "avg" -> statistic::avg, ...; std::nullopt for any other text (names are case-sensitive).
[[nodiscard]] std::optional<statistic> statistic_from_name(std::string_view name) noexcept;
[[nodiscard]] std::string_view statistic_name(statistic s) noexcept;

// avg, min, max, sum or count of the values in `p`. count and sum of no values are 0;
// avg, min and max of no values are std::nullopt (the reply's null). statistic::current
// is not a property of a point: std::nullopt.
[[nodiscard]] std::optional<double> statistic_of(const point& p, statistic s) noexcept;

}  // namespace tether::cloud::metrics
