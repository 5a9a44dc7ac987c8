#include "metrics/metric_request.hpp"

#include <algorithm>
#include <cmath>

#include "metrics/json_check.hpp"

namespace tether::cloud::metrics {

namespace {

using nlohmann::json;
using detail::check_name;
using detail::expected;
using detail::index_path;
using detail::member_path;

std::string shown(std::string_view s) {
    return s.size() > 40 ? std::string(s.substr(0, 40)) + "..." : std::string(s);
}

std::optional<error> check_members(const json& body, std::initializer_list<std::string_view> allowed) {
    for (auto it = body.begin(); it != body.end(); ++it) {
        if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
            return error{"body: unknown member '" + shown(it.key()) + "'"};
        }
    }
    return std::nullopt;
}

result<dimension_values> load_values(const json& j, const std::string& path) {
    if (!j.is_object()) return expected(path, "an object such as {\"Device\": \"d1\"}", j);
    if (j.size() > max_dimensions) return error{path + ": more than " + std::to_string(max_dimensions) + " dimensions"};
    dimension_values out;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key().empty()) return error{path + ": a dimension name must not be empty"};
        if (it.key().size() > max_name_length) return error{path + ": dimension name longer than " + std::to_string(max_name_length) + " bytes"};
        if (auto e = check_name(it.value(), member_path(path, it.key()), max_name_length)) return *e;
        out.emplace_back(it.key(), it.value().get<std::string>());
    }
    std::sort(out.begin(), out.end());
    return out;
}

result<std::string> load_metric_name(const json& body) {
    const auto m = body.find("metric");
    if (m == body.end()) return error{"body: needs metric"};
    if (auto e = check_name(*m, "metric", max_name_length)) return *e;
    return m->get<std::string>();
}

}  // namespace

result<metric_set_request> parse_metric_set(const json& body, std::string_view device_id) {
    if (!body.is_object()) return expected("body", "an object", body);
    if (auto e = check_members(body, {"metric", "value", "dimensions", "buffer"})) return *e;
    metric_set_request r;
    auto name = load_metric_name(body);
    if (!name) return name.err();
    r.metric = std::move(name).value();

    const auto v = body.find("value");
    if (v == body.end()) return error{"body: needs value"};
    if (!v->is_number() || !std::isfinite(v->get<double>())) return expected("value", "a finite number", *v);
    r.value = v->get<double>();

    if (const auto d = body.find("dimensions"); d != body.end()) {
        if (!d->is_array()) return expected("dimensions", "an array", *d);
        if (d->size() > max_dimension_sets) return error{"dimensions: more than " + std::to_string(max_dimension_sets) + " entries"};
        for (std::size_t i = 0; i < d->size(); ++i) {
            auto set = load_values((*d)[i], index_path("dimensions", i));
            if (!set) return set.err();
            r.dimensions.push_back(std::move(set).value());
        }
        if (r.dimensions.empty()) r.dimensions.emplace_back();
    } else {
        r.dimensions.push_back({{"Device", std::string(device_id)}});
    }

    if (const auto b = body.find("buffer"); b != body.end()) {
        auto policy = load_buffer_policy(*b, "buffer");
        if (!policy) return policy.err();
        r.buffer = policy.value();
    }
    return r;
}

std::vector<feed> route_metric_set(const schema& s, const metric_set_request& request) {
    std::vector<feed> out;
    const std::string ns(s.namespace_for(request.metric));
    for (const auto& dims : request.dimensions) {
        out.push_back(feed{series_key{ns, request.metric, dims}, request.value, request.buffer.value_or(buffer_policy{})});
    }
    return out;
}

result<metric_get_request> parse_metric_get(const json& body, std::string_view device_id) {
    if (!body.is_object()) return expected("body", "an object", body);
    if (auto e = check_members(body, {"metric", "dimensions", "period", "statistic"})) return *e;
    metric_get_request r;
    auto name = load_metric_name(body);
    if (!name) return name.err();
    r.metric = std::move(name).value();

    if (const auto d = body.find("dimensions"); d != body.end()) {
        auto dims = load_values(*d, "dimensions");
        if (!dims) return dims.err();
        r.dimensions = std::move(dims).value();
    } else {
        r.dimensions = {{"Device", std::string(device_id)}};
    }

    if (const auto p = body.find("period"); p != body.end()) {
        const auto seconds = detail::whole_number(*p, 1, max_period_s);
        if (!seconds) return error{"period: expected whole seconds from 1 to " + std::to_string(max_period_s)};
        r.period_s = *seconds;
    }

    const auto st = body.find("statistic");
    if (st == body.end()) return error{"body: needs statistic"};
    if (!st->is_string()) return expected("statistic", "one of avg, min, max, sum, count, current", *st);
    const auto parsed = statistic_from_name(st->get_ref<const std::string&>());
    if (!parsed) {
        return error{"statistic: expected one of avg, min, max, sum, count, current, found '" +
                     shown(st->get_ref<const std::string&>()) + "'"};
    }
    r.stat = *parsed;
    return r;
}

series_key key_of(const schema& s, const metric_get_request& request) {
    return series_key{std::string(s.namespace_for(request.metric)), request.metric, request.dimensions};
}

json reply_value(std::optional<double> value) {
    if (!value || !std::isfinite(*value)) return nullptr;
    constexpr double exact = 9007199254740992.0;  // 2^53: every whole double below it is an exact int64
    if (*value == std::floor(*value) && std::fabs(*value) <= exact) return static_cast<std::int64_t>(*value);
    return *value;
}

json answer_metric_get(const metric_get_request& request, const series* data, std::int64_t now_ms) {
    if (data == nullptr) return nullptr;
    return reply_value(data->query(request.stat, request.period_s * 1000, now_ms));
}

json error_reply(std::string_view message) { return json{{"error", std::string(message)}}; }

}  // namespace tether::cloud::metrics
