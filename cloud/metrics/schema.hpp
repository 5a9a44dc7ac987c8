#pragma once
// The metrics of a device schema (PROTOCOL.md §6): loaded from the parsed JSON5, checked
// field by field, then asked, for each Store write or metric/set, which series receive
// which value.
//
// A loaded schema is immutable. To replace it while running, load the new one and swap a
// std::shared_ptr<const schema>: each caller keeps the old one alive for as long as it
// routes with it, and nothing in a schema refers to another schema or to series state.
//
// What a Store metric may hold (anything else is a load error that names its path):
//   namespace   non-empty string (at most 256 bytes)
//   fields      non-empty array of 'value' | 'updated' | {Name: 'value' | 'updated'}:
//               the metric's name and which field of the item it takes
//   where       optional expression (where.hpp); without it every Store write feeds it
//   dimensions  optional array of objects {Name: 'deviceId' | 'key' | 'type', ...}; each
//               object is one series per distinct value of its fields; {} is the
//               fleet-wide series; omitted or [] means [{}]
//   buffer      optional {count: whole number 1..1,000,000, elapsed: seconds > 0 and at
//               most 31,536,000}, at least one of them
// Values: a number is taken as it is, a boolean as 1 or 0; a string or null value feeds
// nothing. `updated` is the write's time in ms.
//
// metric/set metrics are not declared: any name may be set. Their namespace is that of
// the first Store metric with the same name, else default_namespace ("Embedthis/Device",
// the namespace of the seed's example), so that metric/get finds a metric whichever way
// it was fed.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "metrics/buffer_policy.hpp"
#include "metrics/result.hpp"
#include "metrics/series_key.hpp"
#include "metrics/store_item.hpp"
#include "metrics/where.hpp"

namespace tether::cloud::metrics {

inline constexpr std::string_view default_namespace = "Embedthis/Device";
inline constexpr std::size_t max_metrics = 1000;           // Store.metrics entries
inline constexpr std::size_t max_fields = 64;              // fields of one metric
inline constexpr std::size_t max_dimension_sets = 16;      // entries of one `dimensions`
inline constexpr std::size_t max_dimensions = 8;           // names in one dimension set
inline constexpr std::size_t max_name_length = 256;        // namespace, metric and dimension names and values

struct metric_field {
    std::string metric;   // the metric's name
    item_field source;    // item_field::value or item_field::updated
};

struct dimension_set {
    std::vector<std::pair<std::string, item_field>> names;  // sorted by name; empty: fleet-wide
};

struct metric_definition {
    std::string namespace_name;
    std::vector<metric_field> fields;
    std::optional<where_expression> where;
    std::vector<dimension_set> dimensions;  // never empty after loading
    buffer_policy buffer;
};

// One value for one series, and how to buffer it there.
struct feed {
    series_key key;
    double value = 0;
    buffer_policy buffer;
    friend bool operator==(const feed&, const feed&) = default;
};

// Reads a `buffer` object ({count, elapsed}, see above), as in a schema or a metric/set
// body. Errors name `path`: "<path>: expected an object, found ...", "<path>.count:
// expected a whole number from 1 to 1000000", "<path>.elapsed: expected a number of
// seconds above 0 and at most 31536000", "<path>: needs count or elapsed",
// "<path>: unknown member 'x'".
[[nodiscard]] result<buffer_policy> load_buffer_policy(const nlohmann::json& j, std::string_view path);

class schema {
public:
    // Loads the metrics of a device schema: `device_schema` is the whole parsed schema; its
    // `Store.metrics` (if any) is read. A schema with no Store, or a Store with no
    // metrics, loads and routes Store writes nowhere.
    // Errors name the path: "Store: expected an object", "Store.metrics[2].fields[0]:
    // expected 'value', 'updated' or {Name: 'value'}", "Store.metrics[0].where: 1:5: ...",
    // "Store.metrics[1]: unknown member 'dimension'", and the limits above.
    [[nodiscard]] static result<schema> load(const nlohmann::json& device_schema);

    // Which series a Store write feeds, and with what value: for each metric whose `where`
    // matches, each of its fields with a usable value, each dimension set. A dimension
    // whose field is empty or longer than max_name_length skips that series (a series
    // with a blank device name would mix devices). Allocates only the result.
    //
    //   schema.route(store_item{.key = "cpu", .value = scalar::make_number(55),
    //                           .type = "number", .device_id = "d1", .updated = 1e12})
    //   // -> {{{"Embedthis/Device", "CPU", {{"Device", "d1"}}}, 55, {5, 10000}}}
    [[nodiscard]] std::vector<feed> route(const store_item& item) const;

    // The namespace metric/set and metric/get use for `metric` (see above).
    [[nodiscard]] std::string_view namespace_for(std::string_view metric) const noexcept;

    [[nodiscard]] const std::vector<metric_definition>& metrics() const noexcept { return metrics_; }

private:
    std::vector<metric_definition> metrics_;
};

}  // namespace tether::cloud::metrics
