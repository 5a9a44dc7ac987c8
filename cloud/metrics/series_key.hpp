#pragma once
// The name of a series: namespace, metric and dimension values. Dimensions are kept
// sorted by name, so that {Device, Site} and {Site, Device} name the same series; no
// dimensions is the fleet-wide series.

#include <compare>
#include <string>
#include <utility>
#include <vector>

namespace tether::cloud::metrics {

using dimension_values = std::vector<std::pair<std::string, std::string>>;  // sorted by name, names unique

struct series_key {
    std::string namespace_name;
    std::string metric;
    dimension_values dimensions;

    friend auto operator<=>(const series_key&, const series_key&) = default;
    friend bool operator==(const series_key&, const series_key&) = default;
};

}  // namespace tether::cloud::metrics
