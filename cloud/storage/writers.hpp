#pragma once
// The parts of database::apply, one per kind of row, each in the file of its rows. They
// check each item and add the statements that write it to `out`, or throw failure naming
// the item; apply then runs all of them at once inside its transaction
// (connection::execute_all: one round trip on PostgreSQL) and rolls the whole batch back
// when one fails.

#include <algorithm>
#include <numeric>
#include <vector>

#include "storage/connection.hpp"
#include "storage/devices.hpp"
#include "storage/metric_points.hpp"
#include "storage/store.hpp"

namespace tether::cloud::storage::detail {

void write_devices(const connection& c, const std::vector<device_event>& events, std::vector<statement>& out);
void write_seen(const connection& c, const std::vector<device_seen>& seen, std::vector<statement>& out);
void write_store(const connection& c, const std::vector<store_write>& writes, std::vector<statement>& out);
void write_currents(const connection& c, const std::vector<current_update>& currents, std::vector<statement>& out);
void write_points(const connection& c, const std::vector<point_update>& points, std::vector<statement>& out);

// Indexes 0..n-1 of `items`, stably sorted by `key(item)`: PostgreSQL locks rows in the
// order they are written, so two batches touching the same rows must write them in the
// same order or deadlock. Stable, so that writes of one row keep their order.
template <class T, class Key>
[[nodiscard]] std::vector<std::size_t> lock_order(const std::vector<T>& items, Key key) {
    std::vector<std::size_t> order(items.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return key(items[a]) < key(items[b]); });
    return order;
}

}  // namespace tether::cloud::storage::detail
