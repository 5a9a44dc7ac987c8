#include "storage/metric_points.hpp"

#include <cmath>
#include <tuple>

#include <nlohmann/json.hpp>

#include "storage/database.hpp"
#include "storage/writers.hpp"

namespace tether::cloud::storage {

std::vector<point_update> point_updates(const metrics::series_key& key, const metrics::point& value,
                                        std::int64_t time_ms) {
    std::vector<point_update> out;
    out.reserve(metrics::span_shapes.size());
    for (std::size_t s = 0; s < metrics::span_shapes.size(); ++s) {
        out.push_back({key, s, metrics::floor_div(time_ms, metrics::span_shapes[s].resolution_ms), value});
    }
    return out;
}

result<std::string> series_key_text(const metrics::series_key& key) {
    nlohmann::json dimensions = nlohmann::json::array();
    for (std::size_t i = 0; i < key.dimensions.size(); ++i) {
        if (i > 0 && !(key.dimensions[i - 1].first < key.dimensions[i].first)) {
            return error{"series key: dimensions must be sorted by name, each name once"};
        }
        dimensions.push_back({key.dimensions[i].first, key.dimensions[i].second});
    }
    std::string text;
    try {
        text = nlohmann::json::array({key.namespace_name, key.metric, std::move(dimensions)}).dump();
    } catch (const nlohmann::json::exception&) {
        return error{"series key: not valid UTF-8"};
    }
    if (text.size() > max_series_key_bytes) {
        return error{"series key: longer than " + std::to_string(max_series_key_bytes) + " bytes"};
    }
    return text;
}

result<void> check_point_update(const point_update& u) {
    if (auto k = series_key_text(u.key); !k) return k.err();
    if (u.span >= metrics::span_shapes.size()) return error{"metric point: span " + std::to_string(u.span) + " out of range"};
    const metrics::point& p = u.value;
    if (p.empty()) return error{"metric point: empty (count 0)"};
    if (!std::isfinite(p.sum) || !std::isfinite(p.min) || !std::isfinite(p.max)) {
        return error{"metric point: sum, min and max must be finite"};
    }
    if (p.min > p.max) return error{"metric point: min above max"};
    if (p.count > static_cast<std::uint64_t>(INT64_MAX)) return error{"metric point: count too large"};
    return {};
}

namespace {

std::string key_or_throw(const metrics::series_key& key) {
    auto text = series_key_text(key);
    if (!text) throw failure(text.err().message);
    return std::move(text).value();
}

// The series row a point or current value belongs to, made if missing.
statement ensure_series(const metrics::series_key& key, const std::string& text) {
    return {"INSERT INTO metric_series (series_key, namespace_name, metric, has_current, current_value, current_ms) "
            "VALUES ($1, $2, $3, 0, 0, 0) ON CONFLICT (series_key) DO NOTHING",
            {text, key.namespace_name, key.metric}};
}

}  // namespace

void detail::write_currents(const connection&, const std::vector<current_update>& currents,
                            std::vector<statement>& out) {
    std::vector<std::string> keys;
    keys.reserve(currents.size());
    for (const current_update& u : currents) {
        keys.push_back(key_or_throw(u.key));
        if (!std::isfinite(u.value)) throw failure("metric current value: not finite");
    }
    // The later time wins; on a tie the later write, as metrics::series::add does.
    for (const std::size_t i : lock_order(keys, [](const std::string& k) { return k; })) {
        const current_update& u = currents[i];
        out.push_back(
            {"INSERT INTO metric_series (series_key, namespace_name, metric, has_current, current_value, current_ms) "
            "VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (series_key) DO UPDATE SET "
            "current_value = CASE WHEN metric_series.has_current = 0 OR excluded.current_ms >= metric_series.current_ms "
            "THEN excluded.current_value ELSE metric_series.current_value END, "
            "current_ms = CASE WHEN metric_series.has_current = 0 OR excluded.current_ms >= metric_series.current_ms "
            "THEN excluded.current_ms ELSE metric_series.current_ms END, has_current = 1",
            {keys[i], u.key.namespace_name, u.key.metric, u.value, u.time_ms}});
    }
}

void detail::write_points(const connection& c, const std::vector<point_update>& points, std::vector<statement>& out) {
    std::vector<std::string> keys;
    keys.reserve(points.size());
    for (const point_update& u : points) {
        if (auto ok = check_point_update(u); !ok) throw failure(ok.err().message);
        keys.push_back(key_or_throw(u.key));
    }
    // The merge happens in the database, in one statement per point: whatever another
    // writer committed meanwhile is merged into, never overwritten.
    const std::string sql =
        "INSERT INTO metric_points (series_key, span, interval_index, point_count, point_sum, point_min, point_max) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (series_key, span, interval_index) DO UPDATE SET "
        "point_count = metric_points.point_count + excluded.point_count, "
        "point_sum = metric_points.point_sum + excluded.point_sum, "
        "point_min = " + std::string(c.least()) + "(metric_points.point_min, excluded.point_min), "
        "point_max = " + std::string(c.greatest()) + "(metric_points.point_max, excluded.point_max)";
    const auto order = lock_order(points, [&](const point_update& u) {
        return std::tuple(keys[static_cast<std::size_t>(&u - points.data())], u.span, u.interval);
    });
    const std::string* previous = nullptr;
    for (const std::size_t i : order) {
        const point_update& u = points[i];
        if (previous == nullptr || *previous != keys[i]) out.push_back(ensure_series(u.key, keys[i]));
        previous = &keys[i];
        out.push_back({sql, {keys[i], static_cast<std::int64_t>(u.span), u.interval,
                             static_cast<std::int64_t>(u.value.count), u.value.sum, u.value.min, u.value.max}});
    }
}

result<std::vector<metrics::slot>> database::read_points(const metrics::series_key& key, std::size_t span,
                                                         std::int64_t from_interval, std::int64_t to_interval) const {
    auto text = series_key_text(key);
    if (!text) return text.err();
    if (span >= metrics::span_shapes.size()) return error{"metric points: span " + std::to_string(span) + " out of range"};
    try {
        const rows found = with_connection([&](connection& c) {
            return c.execute(
                "SELECT interval_index, point_count, point_sum, point_min, point_max FROM metric_points "
                "WHERE series_key = $1 AND span = $2 AND interval_index >= $3 AND interval_index <= $4 "
                "ORDER BY interval_index",
                {text.value(), static_cast<std::int64_t>(span), from_interval, to_interval});
        });
        std::vector<metrics::slot> out;
        out.reserve(found.size());
        for (const row& r : found) {
            const std::int64_t count = r.integer(1);
            if (count < 0) return error{"metric points: a stored count is negative"};
            out.push_back({r.integer(0), {static_cast<std::uint64_t>(count), r.real(2), r.real(3), r.real(4)}});
        }
        return out;
    } catch (const failure& e) {
        return error{e.what()};
    }
}

result<std::optional<metrics::series>> database::load_series(const metrics::series_key& key) const {
    auto text = series_key_text(key);
    if (!text) return text.err();
    try {
        return with_connection([&](connection& c) -> result<std::optional<metrics::series>> {
            const rows head = c.execute(
                "SELECT has_current, current_value, current_ms FROM metric_series WHERE series_key = $1", {text.value()});
            if (head.empty()) return std::optional<metrics::series>();
            metrics::series s;
            s.has_current = head[0].integer(0) != 0;
            s.current = head[0].real(1);
            s.current_ms = head[0].integer(2);
            for (std::size_t span = 0; span < metrics::span_shapes.size(); ++span) {
                const auto slots = static_cast<std::int64_t>(metrics::span_shapes[span].slots());
                // The newest `slots` intervals: what a series' ring would still hold.
                const rows found = c.execute(
                    "SELECT interval_index, point_count, point_sum, point_min, point_max FROM metric_points "
                    "WHERE series_key = $1 AND span = $2 ORDER BY interval_index DESC LIMIT $3",
                    {text.value(), static_cast<std::int64_t>(span), slots});
                if (found.empty()) continue;
                const std::int64_t newest = found[0].integer(0);
                for (const row& r : found) {
                    const std::int64_t interval = r.integer(0);
                    const std::int64_t count = r.integer(1);
                    if (interval <= newest - slots) break;
                    if (count < 0) return error{"metric points: a stored count is negative"};
                    const auto index = static_cast<std::size_t>(interval - slots * metrics::floor_div(interval, slots));
                    s.spans[span].slots[index] = {interval, {static_cast<std::uint64_t>(count), r.real(2), r.real(3), r.real(4)}};
                }
            }
            if (!s.well_formed()) return error{"metric points: the stored series is not well formed"};
            return std::optional<metrics::series>(std::move(s));
        });
    } catch (const failure& e) {
        return error{e.what()};
    }
}

result<std::size_t> database::prune_points() {
    try {
        std::size_t removed = 0;
        in_transaction([&](connection& c) {
            for (std::size_t span = 0; span < metrics::span_shapes.size(); ++span) {
                const auto slots = static_cast<std::int64_t>(metrics::span_shapes[span].slots());
                removed += c.execute(
                               "DELETE FROM metric_points WHERE span = $1 AND interval_index <= "
                               "(SELECT MAX(p.interval_index) FROM metric_points p WHERE p.series_key = "
                               "metric_points.series_key AND p.span = $1) - $2 RETURNING 1",
                               {static_cast<std::int64_t>(span), slots})
                               .size();
            }
        });
        return removed;
    } catch (const failure& e) {
        return error{e.what()};
    }
}

}  // namespace tether::cloud::storage
