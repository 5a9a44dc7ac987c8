#pragma once
// What a `buffer` asks (PROTOCOL.md §6, and the `buffer` of a metric/set body): at most
// `count` values, or `elapsed` of time, may wait before they are stored, so that a device
// reporting every second need not cost a stored point per value.
//
// The cloud meets both bounds without holding values: a value is acknowledged only after
// it is committed, so it is never held longer than its group-commit batch (milliseconds),
// and the values of one series in a batch are merged into one point update per span
// (ingest/pending_batch.hpp), which is the saving a buffer is for. A policy is therefore
// read and checked (schema.hpp: load_buffer_policy) but changes no statistic.

#include <cstdint>

namespace tether::cloud::metrics {

struct buffer_policy {
    std::uint32_t count = 0;       // at most this many values wait; 0: no limit by count
    std::int64_t elapsed_ms = 0;   // no value waits longer than this; 0: no limit by time
    // Neither limit: every value may be stored at once.
    friend bool operator==(const buffer_policy&, const buffer_policy&) = default;
};

}  // namespace tether::cloud::metrics
