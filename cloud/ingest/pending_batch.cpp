#include "ingest/pending_batch.hpp"

#include <algorithm>
#include <utility>

#include "metrics/series.hpp"

namespace tether::cloud::ingest {

void pending_batch::add_value(const metrics::series_key& key, double value, std::int64_t time_ms) {
    metrics::point one;
    one.add(value);
    auto [at, fresh] = series_.try_emplace(key);
    series_rows& mine = at->second;
    if (fresh) {
        mine.current = rows_.currents.size();
        rows_.currents.push_back({key, value, time_ms});
    } else if (storage::current_update& c = rows_.currents[mine.current]; time_ms >= c.time_ms) {
        c.value = value;
        c.time_ms = time_ms;
    }
    for (std::size_t span = 0; span < metrics::span_shapes.size(); ++span) {
        const std::int64_t interval = metrics::floor_div(time_ms, metrics::span_shapes[span].resolution_ms);
        const auto same = std::find_if(mine.points.begin(), mine.points.end(), [&](std::size_t i) {
            return rows_.points[i].span == span && rows_.points[i].interval == interval;
        });
        if (same != mine.points.end()) {
            rows_.points[*same].value.merge(one);
        } else {
            mine.points.push_back(rows_.points.size());
            rows_.points.push_back({key, span, interval, one});
        }
    }
}

void pending_batch::add_store(storage::store_write w) { rows_.store.push_back(std::move(w)); }

void pending_batch::add_seen(storage::device_seen s) {
    auto& seen = rows_.seen;
    const auto same = std::find_if(seen.begin(), seen.end(),
                                   [&](const storage::device_seen& x) { return x.device_id == s.device_id; });
    if (same == seen.end()) {
        seen.push_back(std::move(s));
    } else if (s.time_ms >= same->time_ms) {
        *same = std::move(s);
    }
}

storage::batch pending_batch::take() {
    storage::batch out = std::move(rows_);
    rows_ = storage::batch{};
    series_.clear();
    return out;
}

}  // namespace tether::cloud::ingest
