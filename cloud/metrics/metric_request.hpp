#pragma once
// The metric/set and metric/get bodies a device sends (PROTOCOL.md §1) and the value the
// cloud replies with (§2), as pure functions: the ingest hands in the parsed JSON body and
// the sending device's id, and publishes what comes back.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/buffer_policy.hpp"
#include "metrics/result.hpp"
#include "metrics/schema.hpp"
#include "metrics/series.hpp"
#include "metrics/series_key.hpp"
#include "metrics/statistic.hpp"

namespace tether::cloud::metrics {

inline constexpr std::int64_t default_period_s = 300;
inline constexpr std::int64_t max_period_s = 10LL * 366 * 86400;  // ten years

// {"metric":"Temp","value":21.5,"dimensions":[{"Device":"d1"}],"buffer":{"elapsed":10}}
struct metric_set_request {
    std::string metric;
    double value = 0;
    std::vector<dimension_values> dimensions;  // one series each; an empty entry is fleet-wide
    std::optional<buffer_policy> buffer;
};

// Reads a metric/set body sent by `device_id`.
//   metric      non-empty string, at most max_name_length bytes (required)
//   value       a finite number (required)
//   dimensions  array of at most max_dimension_sets objects of at most max_dimensions
//               members {Name: "string value"}; default [{"Device": device_id}]; [{}] is
//               the fleet-wide series; [] counts as [{}]
//   buffer      as load_buffer_policy() (optional)
// Errors name the member: "metric: expected a string, found a number", "value: expected a
// finite number, found a string", "dimensions[0].Device: expected a string, found null",
// "body: expected an object, found an array", "body: unknown member 'unit'".
// The value is not checked against the device: whether a device may set another device's
// series is the caller's decision.
[[nodiscard]] result<metric_set_request> parse_metric_set(const nlohmann::json& body, std::string_view device_id);

// The feeds of a metric/set: one per dimension set, in the namespace the schema gives the
// metric, buffered as the body asks (unbuffered without `buffer`).
[[nodiscard]] std::vector<feed> route_metric_set(const schema& s, const metric_set_request& request);

// {"metric":"CPU","dimensions":{"Device":"d1"},"period":300,"statistic":"avg"}
struct metric_get_request {
    std::string metric;
    dimension_values dimensions;
    std::int64_t period_s = default_period_s;
    statistic stat = statistic::avg;
};

// Reads a metric/get body sent by `device_id`.
//   metric      non-empty string, at most max_name_length bytes (required)
//   dimensions  object {Name: "string value"}, at most max_dimensions members; default
//               {"Device": device_id}; {} is the fleet-wide series
//   period      whole seconds from 1 to max_period_s (default 300)
//   statistic   "avg", "min", "max", "sum", "count" or "current" (required)
// Errors: "statistic: expected one of avg, min, max, sum, count, current, found 'mean'",
// "period: expected whole seconds from 1 to 316224000", and as parse_metric_set().
[[nodiscard]] result<metric_get_request> parse_metric_get(const nlohmann::json& body, std::string_view device_id);

// The series a metric/get asks about.
[[nodiscard]] series_key key_of(const schema& s, const metric_get_request& request);

// The reply body: the statistic of `data` (nullptr: no such series) as a JSON number, or
// null when there is no value. Whole values within ±2^53 are written as integers (so a
// count reads 12, not 12.0).
[[nodiscard]] nlohmann::json answer_metric_get(const metric_get_request& request, const series* data, std::int64_t now_ms);

// A number, or null, as the reply writes it.
[[nodiscard]] nlohmann::json reply_value(std::optional<double> value);

// The reply to a failed request: {"error":"<message>"}.
[[nodiscard]] nlohmann::json error_reply(std::string_view message);

}  // namespace tether::cloud::metrics
