#pragma once
// The parts of database::apply, one per kind of row, each in the file of its rows. They
// run inside apply's transaction, check each item just before writing it, and throw
// failure naming the item (apply then rolls the whole batch back).

#include <algorithm>
#include <numeric>
#include <vector>

#include "storage/connection.hpp"
#include "storage/devices.hpp"
#include "storage/metric_points.hpp"
#include "storage/store.hpp"

namespace tether::cloud::storage::detail {

void write_devices(connection& c, const std::vector<device_event>& events);
void write_seen(connection& c, const std::vector<device_seen>& seen);
void write_store(connection& c, const std::vector<store_write>& writes);
void write_currents(connection& c, const std::vector<current_update>& currents);
void write_points(connection& c, const std::vector<point_update>& points);

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
