#include "web/api.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "metrics/series.hpp"
#include "metrics/statistic.hpp"
#include "storage/change_feed.hpp"
#include "storage/fleet_reads.hpp"
#include "storage/store.hpp"
#include "web/certificate_expiry.hpp"
#include "web/json_body.hpp"

namespace tether::cloud::web {

namespace {

using nlohmann::json;

json optional_ms(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }

json dimensions_json(const metrics::dimension_values& d) {
    json out = json::object();
    for (const auto& [name, value] : d) out[name] = value;
    return out;
}

std::string_view field_name(metrics::item_field f) {
    switch (f) {
        case metrics::item_field::key: return "key";
        case metrics::item_field::value: return "value";
        case metrics::item_field::type: return "type";
        case metrics::item_field::device_id: return "deviceId";
        case metrics::item_field::updated: return "updated";
    }
    return "value";
}

constexpr std::int64_t max_period_s = 400LL * 24 * 3600;
constexpr std::size_t max_dimensions_text = 2048;

}  // namespace

reply error_reply(int status, std::string message) { return {status, json{{"error", std::move(message)}}}; }

reply devices_reply(const storage::database& db, std::int64_t now_ms) {
    auto things = storage::read_things(db);
    if (!things) return error_reply(500, "database: " + things.err().message);
    auto seen = db.devices();
    if (!seen) return error_reply(500, "database: " + seen.err().message);
    auto writes = storage::read_last_writes(db);
    if (!writes) return error_reply(500, "database: " + writes.err().message);

    struct row {
        std::optional<std::int64_t> last_seen, expires, provisioned;
        std::optional<bool> online;
        bool revoked = false;
    };
    std::map<std::string, row, std::less<>> rows;
    for (const auto& t : things.value()) {
        auto& r = rows[t.name];
        r.revoked = t.revoked;
        r.provisioned = t.provisioned_ms;
        r.expires = certificate_expiry_ms(t.certificate_pem);
    }
    for (const auto& d : seen.value()) {
        auto& r = rows[d.device_id];
        r.online = d.online;
        r.last_seen = d.last_seen_ms;
    }
    for (const auto& [id, ms] : writes.value()) {
        const auto it = rows.find(id);
        if (it == rows.end()) continue;  // Store rows of a thing since removed: not a device to list
        if (!it->second.last_seen || *it->second.last_seen < ms) it->second.last_seen = ms;
    }
    json list = json::array();
    for (const auto& [id, r] : rows) {
        const bool online = !r.revoked && (r.online ? *r.online
                                                    : r.last_seen && now_ms - *r.last_seen <= online_by_activity_ms);
        list.push_back({{"id", id},
                        {"online", online},
                        {"lastSeen", optional_ms(r.last_seen)},
                        {"certificateExpires", optional_ms(r.expires)},
                        {"provisioned", optional_ms(r.provisioned)},
                        {"revoked", r.revoked}});
    }
    return {200, json{{"devices", std::move(list)}}};
}

reply store_reply(const storage::database& db, std::string_view device_id, std::int64_t now_ms) {
    if (device_id.empty() || device_id.size() > storage::max_device_id_bytes) {
        return error_reply(400, "device: expected an id of 1 to 128 bytes");
    }
    auto items = storage::read_device_store(db, device_id, now_ms);
    if (!items) return error_reply(500, "database: " + items.err().message);
    json list = json::array();
    for (auto& i : items.value()) {
        list.push_back({{"key", i.key},
                        {"value", std::move(i.value)},
                        {"type", i.type},
                        {"updated", i.updated_ms},
                        {"expires", optional_ms(i.expires_ms)}});
    }
    return {200, json{{"device", std::string(device_id)}, {"items", std::move(list)}}};
}

reply schema_reply(const metrics::schema& schema) {
    json list = json::array();
    std::set<std::pair<std::string, std::string>> listed;
    for (const auto& m : schema.metrics()) {
        for (const auto& f : m.fields) {
            if (!listed.emplace(m.namespace_name, f.metric).second) continue;
            json dims = json::array();
            for (const auto& set : m.dimensions) {
                json one = json::object();
                for (const auto& [name, source] : set.names) one[name] = field_name(source);
                dims.push_back(std::move(one));
            }
            list.push_back({{"namespace", m.namespace_name}, {"metric", f.metric}, {"dimensions", std::move(dims)}});
        }
    }
    return {200, json{{"metrics", std::move(list)}}};
}

reply metrics_reply(const storage::database& db, const metrics::schema& schema,
                    const std::map<std::string, std::string, std::less<>>& query, std::int64_t now_ms) {
    const auto get = [&](std::string_view name) -> std::string_view {
        const auto it = query.find(name);
        return it == query.end() ? std::string_view() : std::string_view(it->second);
    };
    metrics::series_key key;
    key.metric = std::string(get("metric"));
    if (key.metric.empty() || key.metric.size() > metrics::max_name_length) {
        return error_reply(400, "metric: expected a name of 1 to 256 bytes");
    }
    const std::string_view ns = get("namespace");
    if (ns.size() > metrics::max_name_length) return error_reply(400, "namespace: longer than 256 bytes");
    key.namespace_name = ns.empty() ? std::string(schema.namespace_for(key.metric)) : std::string(ns);

    if (const std::string_view text = get("dimensions"); !text.empty()) {
        if (text.size() > max_dimensions_text) return error_reply(400, "dimensions: longer than 2048 bytes");
        // A flat object of strings: nesting is bounded before parsing, then refused.
        auto parsed = parse_json_body(text, 2);
        if (!parsed || !parsed.value().is_object()) return error_reply(400, "dimensions: expected a JSON object");
        const json& d = parsed.value();
        if (d.size() > metrics::max_dimensions) return error_reply(400, "dimensions: more than 8 names");
        for (const auto& [name, value] : d.items()) {
            if (!value.is_string()) return error_reply(400, "dimensions." + name.substr(0, 64) + ": expected a string");
            const auto& v = value.get_ref<const std::string&>();
            if (name.empty() || name.size() > metrics::max_name_length || v.size() > metrics::max_name_length) {
                return error_reply(400, "dimensions: names and values must be 1 to 256 bytes");
            }
            key.dimensions.emplace_back(name, v);
        }
        std::sort(key.dimensions.begin(), key.dimensions.end());  // json objects iterate sorted already
    }

    const std::string_view stat_text = get("statistic").empty() ? std::string_view("avg") : get("statistic");
    const auto stat = metrics::statistic_from_name(stat_text);
    if (!stat) return error_reply(400, "statistic: expected avg, min, max, sum, count or current");

    std::int64_t period_s = 3600;
    if (const std::string_view p = get("period"); !p.empty()) {
        const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), period_s);
        if (ec != std::errc() || end != p.data() + p.size() || period_s < 1 || period_s > max_period_s) {
            return error_reply(400, "period: expected whole seconds from 1 to 34560000");
        }
    }
    const std::int64_t period_ms = period_s * 1000;

    auto loaded = db.load_series(key);
    if (!loaded) return error_reply(500, "database: " + loaded.err().message);
    const std::size_t span = metrics::series::span_for(period_ms);
    const auto& shape = metrics::span_shapes[span];

    json points = json::array();
    json value = nullptr, current = nullptr;
    if (const auto& s = loaded.value()) {
        if (s->has_current) current = s->current;
        if (const auto v = s->query(*stat, period_ms, now_ms)) value = *v;
        if (*stat != metrics::statistic::current) {
            const auto& slots = s->spans[span].slots;
            const std::int64_t first = metrics::floor_div(now_ms - period_ms, shape.resolution_ms);
            const std::int64_t last = metrics::floor_div(now_ms, shape.resolution_ms);
            for (std::int64_t k = first; k <= last; ++k) {
                const auto& slot = slots[static_cast<std::size_t>(
                    ((k % static_cast<std::int64_t>(slots.size())) + static_cast<std::int64_t>(slots.size())) %
                    static_cast<std::int64_t>(slots.size()))];
                const metrics::point p = slot.interval == k ? slot.value : metrics::point{};
                const auto v = metrics::statistic_of(p, *stat);
                points.push_back({{"t", k * shape.resolution_ms}, {"v", v ? json(*v) : json(nullptr)}});
            }
        }
    }
    return {200, json{{"namespace", key.namespace_name},
                      {"metric", key.metric},
                      {"dimensions", dimensions_json(key.dimensions)},
                      {"statistic", std::string(metrics::statistic_name(*stat))},
                      {"period", period_s},
                      {"resolution", shape.resolution_ms},
                      {"points", std::move(points)},
                      {"value", std::move(value)},
                      {"current", std::move(current)}}};
}

std::vector<change> changes_of(const storage::batch& committed) {
    std::vector<change> out;
    for (auto& c : storage::live_changes(committed)) out.push_back({std::move(c.device_id), std::move(c.json)});
    return out;
}

}  // namespace tether::cloud::web
