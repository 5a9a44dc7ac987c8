#include "metrics/schema.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "metrics/json_check.hpp"
#include "metrics/where_lexer.hpp"

namespace tether::cloud::metrics {

namespace {

using nlohmann::json;
using detail::check_name;
using detail::expected;
using detail::index_path;
using detail::member_path;

constexpr std::int64_t max_buffer_count = 1'000'000;
constexpr double max_buffer_elapsed_s = 31'536'000;  // a year

std::string shown(std::string_view name) {
    return name.size() > 40 ? std::string(name.substr(0, 40)) + "..." : std::string(name);
}

error unknown_member(std::string_view path, std::string_view name) {
    return error{std::string(path) + ": unknown member '" + shown(name) + "'"};
}

// One entry of `fields`: 'value', or {CPU: 'value'}.
result<metric_field> load_field(const json& j, const std::string& path) {
    const char* what = "'value', 'updated' or {Name: 'value'}";
    auto source_of = [](const json& name, item_field& out) {
        return name.is_string() && field_from_name(name.get_ref<const std::string&>(), out) &&
               (out == item_field::value || out == item_field::updated);
    };
    metric_field f{};
    if (j.is_string()) {
        if (!source_of(j, f.source)) return error{path + ": expected " + what + ", found '" + shown(j.get_ref<const std::string&>()) + "'"};
        f.metric = j.get<std::string>();
        return f;
    }
    if (!j.is_object() || j.size() != 1) {
        return error{path + ": expected " + what + (j.is_object() ? ", found an object with " + std::to_string(j.size()) + " members" : ", found " + detail::json_type_name(j))};
    }
    const auto it = j.begin();
    if (it.key().empty()) return error{path + ": the metric name must not be empty"};
    if (it.key().size() > max_name_length) return error{path + ": metric name longer than " + std::to_string(max_name_length) + " bytes"};
    const std::string at = member_path(path, it.key());
    if (!source_of(it.value(), f.source)) {
        return it.value().is_string() ? error{at + ": expected 'value' or 'updated', found '" + shown(it.value().get_ref<const std::string&>()) + "'"}
                                      : expected(at, "'value' or 'updated'", it.value());
    }
    f.metric = it.key();
    return f;
}

result<dimension_set> load_dimension_set(const json& j, const std::string& path) {
    if (!j.is_object()) return expected(path, "an object such as {Device: 'deviceId'}", j);
    if (j.size() > max_dimensions) return error{path + ": more than " + std::to_string(max_dimensions) + " dimensions"};
    dimension_set d;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key().empty()) return error{path + ": a dimension name must not be empty"};
        if (it.key().size() > max_name_length) return error{path + ": dimension name longer than " + std::to_string(max_name_length) + " bytes"};
        const std::string at = member_path(path, it.key());
        item_field f{};
        if (!it.value().is_string()) return expected(at, "'deviceId', 'key' or 'type'", it.value());
        const auto& name = it.value().get_ref<const std::string&>();
        if (!field_from_name(name, f) || f == item_field::value || f == item_field::updated) {
            return error{at + ": expected 'deviceId', 'key' or 'type', found '" + shown(name) + "'"};
        }
        d.names.emplace_back(it.key(), f);
    }
    std::sort(d.names.begin(), d.names.end());  // nlohmann's objects are sorted already; be sure
    return d;
}

result<metric_definition> load_metric(const json& j, const std::string& path) {
    if (!j.is_object()) return expected(path, "an object", j);
    metric_definition m;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& k = it.key();
        if (k != "namespace" && k != "fields" && k != "where" && k != "dimensions" && k != "buffer") return unknown_member(path, k);
    }

    const auto ns = j.find("namespace");
    if (ns == j.end()) return error{path + ": needs a namespace"};
    if (auto e = check_name(*ns, member_path(path, "namespace"), max_name_length)) return *e;
    m.namespace_name = ns->get<std::string>();

    const auto fields = j.find("fields");
    const std::string fields_path = member_path(path, "fields");
    if (fields == j.end()) return error{path + ": needs fields"};
    if (!fields->is_array()) return expected(fields_path, "an array", *fields);
    if (fields->empty()) return error{fields_path + ": must not be empty"};
    if (fields->size() > max_fields) return error{fields_path + ": more than " + std::to_string(max_fields) + " fields"};
    for (std::size_t i = 0; i < fields->size(); ++i) {
        auto f = load_field((*fields)[i], index_path(fields_path, i));
        if (!f) return f.err();
        m.fields.push_back(std::move(f).value());
    }

    if (const auto w = j.find("where"); w != j.end()) {
        const std::string where_path = member_path(path, "where");
        if (!w->is_string()) return expected(where_path, "a string", *w);
        auto compiled = where_expression::compile(w->get_ref<const std::string&>(), where_path);
        if (!compiled) return compiled.err();
        m.where = std::move(compiled).value();
    }

    if (const auto d = j.find("dimensions"); d != j.end()) {
        const std::string dims_path = member_path(path, "dimensions");
        if (!d->is_array()) return expected(dims_path, "an array", *d);
        if (d->size() > max_dimension_sets) return error{dims_path + ": more than " + std::to_string(max_dimension_sets) + " entries"};
        for (std::size_t i = 0; i < d->size(); ++i) {
            auto set = load_dimension_set((*d)[i], index_path(dims_path, i));
            if (!set) return set.err();
            m.dimensions.push_back(std::move(set).value());
        }
    }
    if (m.dimensions.empty()) m.dimensions.emplace_back();  // fleet-wide

    if (const auto b = j.find("buffer"); b != j.end()) {
        auto policy = load_buffer_policy(*b, member_path(path, "buffer"));
        if (!policy) return policy.err();
        m.buffer = policy.value();
    }
    return m;
}

std::optional<double> numeric(const scalar& s) noexcept {
    if (s.type == scalar::kind::number && std::isfinite(s.number)) return s.number;
    if (s.type == scalar::kind::boolean) return s.boolean ? 1.0 : 0.0;
    return std::nullopt;
}

}  // namespace

result<buffer_policy> load_buffer_policy(const json& j, std::string_view path_view) {
    const std::string path(path_view);
    if (!j.is_object()) return expected(path, "an object such as {count: 5, elapsed: 10}", j);
    buffer_policy p;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() != "count" && it.key() != "elapsed") return unknown_member(path, it.key());
    }
    if (const auto c = j.find("count"); c != j.end()) {
        const auto n = detail::whole_number(*c, 1, max_buffer_count);
        if (!n) return error{member_path(path, "count") + ": expected a whole number from 1 to " + std::to_string(max_buffer_count)};
        p.count = static_cast<std::uint32_t>(*n);
    }
    if (const auto e = j.find("elapsed"); e != j.end()) {
        const double s = e->is_number() ? e->get<double>() : 0;
        const double ms = std::round(s * 1000);
        if (!e->is_number() || !std::isfinite(s) || s > max_buffer_elapsed_s || ms < 1) {
            return error{member_path(path, "elapsed") + ": expected a number of seconds above 0 and at most 31536000"};
        }
        p.elapsed_ms = static_cast<std::int64_t>(ms);
    }
    if (p.count == 0 && p.elapsed_ms == 0) return error{path + ": needs count or elapsed"};
    return p;
}

result<schema> schema::load(const json& device_schema) {
    schema out;
    if (!device_schema.is_object()) return expected("schema", "an object", device_schema);
    const auto store = device_schema.find("Store");
    if (store == device_schema.end()) return out;
    if (!store->is_object()) return expected("Store", "an object", *store);
    const auto metrics = store->find("metrics");
    if (metrics == store->end()) return out;
    if (!metrics->is_array()) return expected("Store.metrics", "an array", *metrics);
    if (metrics->size() > max_metrics) return error{"Store.metrics: more than " + std::to_string(max_metrics) + " metrics"};
    for (std::size_t i = 0; i < metrics->size(); ++i) {
        auto m = load_metric((*metrics)[i], index_path("Store.metrics", i));
        if (!m) return m.err();
        out.metrics_.push_back(std::move(m).value());
    }
    return out;
}

std::vector<feed> schema::route(const store_item& item) const {
    std::vector<feed> out;
    for (const metric_definition& m : metrics_) {
        if (m.where && !m.where->matches(item)) continue;
        for (const metric_field& f : m.fields) {
            const auto value = numeric(item.field(f.source));
            if (!value) continue;
            for (const dimension_set& d : m.dimensions) {
                dimension_values dims;
                bool usable = true;
                for (const auto& [name, source] : d.names) {
                    const scalar v = item.field(source);  // key, type or deviceId: a string
                    if (v.type != scalar::kind::string || v.string.empty() || v.string.size() > max_name_length) {
                        usable = false;
                        break;
                    }
                    dims.emplace_back(name, std::string(v.string));
                }
                if (!usable) continue;
                out.push_back(feed{series_key{m.namespace_name, f.metric, std::move(dims)}, *value, m.buffer});
            }
        }
    }
    return out;
}

std::string_view schema::namespace_for(std::string_view metric) const noexcept {
    for (const metric_definition& m : metrics_) {
        for (const metric_field& f : m.fields) {
            if (f.metric == metric) return m.namespace_name;
        }
    }
    return default_namespace;
}

}  // namespace tether::cloud::metrics
