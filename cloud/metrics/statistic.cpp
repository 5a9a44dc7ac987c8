#include "metrics/statistic.hpp"

namespace tether::cloud::metrics {

std::optional<statistic> statistic_from_name(std::string_view name) noexcept {
    if (name == "avg") return statistic::avg;
    if (name == "min") return statistic::min;
    if (name == "max") return statistic::max;
    if (name == "sum") return statistic::sum;
    if (name == "count") return statistic::count;
    if (name == "current") return statistic::current;
    return std::nullopt;
}

std::string_view statistic_name(statistic s) noexcept {
    switch (s) {
    case statistic::avg: return "avg";
    case statistic::min: return "min";
    case statistic::max: return "max";
    case statistic::sum: return "sum";
    case statistic::count: return "count";
    case statistic::current: return "current";
    }
    return "?";
}

std::optional<double> statistic_of(const point& p, statistic s) noexcept {
    switch (s) {
    case statistic::count: return static_cast<double>(p.count);
    case statistic::sum: return p.sum;
    case statistic::avg: return p.empty() ? std::nullopt : std::optional<double>(p.sum / static_cast<double>(p.count));
    case statistic::min: return p.empty() ? std::nullopt : std::optional<double>(p.min);
    case statistic::max: return p.empty() ? std::nullopt : std::optional<double>(p.max);
    case statistic::current: return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace tether::cloud::metrics
