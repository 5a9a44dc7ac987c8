#pragma once
// Metric points as storage keeps them: per series and span, one row per interval, into
// which every writer merges (count and sum add, min and max widen) inside the database,
// so that two workers feeding the same series never lose each other's values.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/point.hpp"
#include "metrics/series.hpp"
#include "metrics/series_key.hpp"
#include "storage/result.hpp"

namespace tether::cloud::storage {

inline constexpr std::size_t max_series_key_bytes = 4096;  // the key as text (series_key_text)

// Values to merge into interval `interval` of span `span` (an index into
// metrics::span_shapes) of a series.
struct point_update {
    metrics::series_key key;
    std::size_t span = 0;
    std::int64_t interval = 0;
    metrics::point value;
};

// The latest value of a series; kept when its time is not older than the stored one's.
struct current_update {
    metrics::series_key key;
    double value = 0;
    std::int64_t time_ms = 0;
};

// The updates that put `value` (values that came at `time_ms`) into every span of `key`,
// as metrics::series::add does.
[[nodiscard]] std::vector<point_update> point_updates(const metrics::series_key& key, const metrics::point& value,
                                                      std::int64_t time_ms);

// The key as stored: canonical JSON, [namespace, metric, [[name, value], ...]]. Errors:
// dimensions not sorted by name or with a name twice, longer than max_series_key_bytes.
[[nodiscard]] result<std::string> series_key_text(const metrics::series_key& key);

// Why `u` may not be merged: a bad key, a span out of range, an empty point, a sum, min or
// max that is not finite, min > max.
[[nodiscard]] result<void> check_point_update(const point_update& u);

}  // namespace tether::cloud::storage
