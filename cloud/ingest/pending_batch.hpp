#pragma once
// The rows of the writes one group commit gathers (handler.hpp), merged as they come: the
// values a batch brings to one series become one point update per span and interval and
// one current value, so that a burst of N values of a series costs one upsert per span,
// not N.
//
// Why merging and not holding values longer (the `buffer` of a metric): a value is
// acknowledged only once it is committed, and a connection's PUBACKs go in order
// [MQTT-4.6.0-2], so a value held in memory for a buffer's `elapsed` seconds would hold
// every later acknowledgement of that device's connection. A batch commits within
// milliseconds, which meets any buffer's bounds (they are upper bounds on how long and how
// many values wait), and merging within it gives the saving a buffer is for.
//
// The statistics are those of storing each value alone: points merge in memory as the
// database merges them (count and sum add, min and max widen; sums up to rounding), and
// the current value is the one with the latest time, on a tie the later one, as storage
// keeps it (storage/metric_points.hpp).
//
//     pending_batch p;
//     p.add_value(cpu_of_d1, 55, now_ms);
//     p.add_value(cpu_of_d1, 57, now_ms + 5);  // merged: still one point per span
//     storage::batch b = p.take();             // b.points.size() == span_shapes.size()

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "metrics/series_key.hpp"
#include "storage/database.hpp"

namespace tether::cloud::ingest {

class pending_batch {
public:
    // The value `value` of series `key`, come at `time_ms`: merged into the batch's point of
    // each span's interval, and its current value if not older than the one it holds.
    // A value that is not finite is kept as it is: storage refuses the batch then, naming it
    // (the parsers refuse such values first).
    void add_value(const metrics::series_key& key, double value, std::int64_t time_ms);
    // A Store write, kept as it is (storage orders writes of one key by time).
    void add_store(storage::store_write w);
    // A device's last-seen time: one row per device and batch, the latest given.
    void add_seen(storage::device_seen s);

    [[nodiscard]] bool empty() const noexcept { return rows_.empty(); }
    [[nodiscard]] const storage::batch& rows() const noexcept { return rows_; }
    // The rows, leaving this batch empty.
    [[nodiscard]] storage::batch take();

private:
    // Where a series' rows are in rows_: its current value, and its point updates.
    struct series_rows {
        std::size_t current = 0;
        std::vector<std::size_t> points;
    };
    storage::batch rows_;
    std::map<metrics::series_key, series_rows> series_;
};

}  // namespace tether::cloud::ingest
