#include "ingest/handler.hpp"

#include <exception>

#include "ingest/body.hpp"
#include "ingest/presence.hpp"
#include "ingest/store_request.hpp"
#include "ingest/topics.hpp"
#include "metrics/metric_request.hpp"
#include "provisioning/topics.hpp"

namespace tether::cloud::ingest {
namespace {

std::int64_t ms_since_epoch(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Each value stored as it comes (see handle()): its own point, and the current value.
void add_feeds(storage::batch& b, const std::vector<metrics::feed>& feeds, std::int64_t now_ms) {
    for (const metrics::feed& f : feeds) {
        metrics::point p;
        p.add(f.value);
        b.currents.push_back({f.key, f.value, now_ms});
        for (auto& u : storage::point_updates(f.key, p, now_ms)) b.points.push_back(std::move(u));
    }
}

metrics::scalar scalar_of(const nlohmann::json& v) {
    if (v.is_number()) return metrics::scalar::make_number(v.get<double>());
    if (v.is_boolean()) return metrics::scalar::make_bool(v.get<bool>());
    if (v.is_string()) return metrics::scalar::make_string(v.get_ref<const std::string&>());
    return metrics::scalar::make_null();
}

outgoing error_to(const service_topic& t, std::string_view message) {
    return {reply_topic(t), metrics::error_reply(message).dump()};
}

// A device may name itself in a Device dimension, or leave it out (the fleet-wide series,
// or dimensions of its own choosing), never another device: that one's series are its own.
std::optional<std::string> foreign_device(const metrics::dimension_values& dims, std::string_view device_id,
                                          const std::string& path) {
    for (const auto& [name, value] : dims) {
        if (name == "Device" && value != device_id) return path + ".Device: a device may name only itself";
    }
    return std::nullopt;
}

}  // namespace

handler::handler(storage::database& db, provisioning::registry& registry,
                 provisioning::provisioning_service& provisioning, std::shared_ptr<const metrics::schema> schema,
                 log_function log)
    : db_(db), registry_(registry), provisioning_(provisioning), schema_(std::move(schema)), log_(std::move(log)) {
    if (!schema_) schema_ = std::make_shared<const metrics::schema>();
}

bool handler::known(std::string_view device_id) {
    const auto thing = registry_.find_thing(device_id);  // throws when storage fails
    return thing && !thing->revoked;
}

handled handler::count(handled h) {
    switch (h.what) {
    case outcome::stored: ++counters_.stored; break;
    case outcome::answered: ++counters_.answered; break;
    case outcome::provisioning: ++counters_.provisioning; break;
    case outcome::unknown_device: ++counters_.unknown_device; break;
    case outcome::malformed: ++counters_.malformed; break;
    case outcome::not_ours: ++counters_.not_ours; break;
    case outcome::presence: ++counters_.presence; break;
    case outcome::storage_failed:
        ++counters_.storage_failed;
        if (log_) log_("storage failed: " + h.problem);
        break;
    }
    return h;
}

result<void> handler::commit(storage::batch& b) {
    if (seen_) {
        b.seen.push_back(std::move(*seen_));
        seen_.reset();
    }
    auto r = db_.apply(b);
    if (r && observer_) observer_(b);
    return r;
}

handled handler::handle(std::string_view topic, std::string_view payload, const clock_now& now) {
    if (topic == presence_topic) return handle_presence(payload, now);
    if (provisioning::parse_request_topic(topic)) {
        // handle() turns every failure, the registry's included, into a rejected reply.
        auto r = provisioning_.handle(topic, payload, now.wall);
        if (!r) return count({outcome::not_ours});
        return count({outcome::provisioning, outgoing{std::move(r->topic), std::move(r->payload)}});
    }
    const auto t = parse_service_topic(topic);
    if (!t) return count({outcome::not_ours});
    const bool is_read = t->kind == service_kind::store_get || t->kind == service_kind::metric_get;
    const std::int64_t now_ms = ms_since_epoch(now.wall);
    try {
        if (!known(t->device_id)) {
            if (unknown_.note(t->device_id, now.steady) && log_) {
                log_("refused messages from unknown device '" + std::string(t->device_id) + "' (" +
                     std::to_string(unknown_.count()) + " refused so far)");
            }
            // No reply either: an unknown id gets nothing from the cloud.
            return count({outcome::unknown_device});
        }
        // Every message of a known device moves its last_seen: inside the batch a write
        // commits, else (a read, a refused body) in a transaction of its own afterwards.
        seen_ = storage::device_seen{std::string(t->device_id), now_ms};
        handled h = handle_device(*t, payload, now_ms);
        if (seen_) {
            storage::batch b;
            if (auto r = commit(b); !r && log_) log_("storage failed: last seen: " + r.err().message);
        }
        return count(std::move(h));
    } catch (const std::exception& e) {
        // The registry throws when its storage fails; so may the JSON library on a value it
        // cannot convert. Nothing was committed.
        seen_.reset();
        return count({outcome::storage_failed, is_read ? std::optional(error_to(*t, "storage failed")) : std::nullopt,
                      e.what()});
    }
}

handled handler::handle_device(const service_topic& t, std::string_view payload, std::int64_t now_ms) {
    const bool is_read = t.kind == service_kind::store_get || t.kind == service_kind::metric_get;
    auto body = parse_body(payload);
    if (!body) {
        return {outcome::malformed, is_read ? std::optional(error_to(t, body.err().message)) : std::nullopt,
                body.err().message};
    }
    switch (t.kind) {
    case service_kind::store_set: {
        auto w = parse_store_set(body.value(), t.device_id, now_ms);
        if (!w) return {outcome::malformed, std::nullopt, w.err().message};
        storage::batch b;
        const metrics::store_item item{.key = w.value().key,
                                       .value = scalar_of(w.value().value),
                                       .type = w.value().type,
                                       .device_id = t.device_id,
                                       .updated = static_cast<double>(now_ms)};
        add_feeds(b, schema_->route(item), now_ms);
        b.store.push_back(std::move(w.value()));
        if (auto r = commit(b); !r) return {outcome::storage_failed, std::nullopt, r.err().message};
        return {outcome::stored};
    }
    case service_kind::metric_set: {
        auto req = metrics::parse_metric_set(body.value(), t.device_id);
        if (!req) return {outcome::malformed, std::nullopt, req.err().message};
        for (std::size_t i = 0; i < req.value().dimensions.size(); ++i) {
            if (auto e = foreign_device(req.value().dimensions[i], t.device_id, "dimensions[" + std::to_string(i) + "]")) {
                return {outcome::malformed, std::nullopt, *e};
            }
        }
        storage::batch b;
        add_feeds(b, metrics::route_metric_set(*schema_, req.value()), now_ms);
        if (auto r = commit(b); !r) return {outcome::storage_failed, std::nullopt, r.err().message};
        return {outcome::stored};
    }
    case service_kind::store_get: {
        auto key = parse_store_get(body.value());
        if (!key) return {outcome::malformed, error_to(t, key.err().message), key.err().message};
        auto v = db_.read_store(t.device_id, key.value(), now_ms);
        if (!v) return {outcome::storage_failed, error_to(t, "storage failed"), v.err().message};
        const nlohmann::json value = v.value() ? v.value()->value : nlohmann::json(nullptr);
        return {outcome::answered, outgoing{reply_topic(t), value.dump()}};
    }
    case service_kind::metric_get: {
        auto req = metrics::parse_metric_get(body.value(), t.device_id);
        if (!req) return {outcome::malformed, error_to(t, req.err().message), req.err().message};
        if (auto e = foreign_device(req.value().dimensions, t.device_id, "dimensions")) {
            return {outcome::malformed, error_to(t, *e), *e};
        }
        auto s = db_.load_series(metrics::key_of(*schema_, req.value()));
        if (!s) return {outcome::storage_failed, error_to(t, "storage failed"), s.err().message};
        const metrics::series* data = s.value() ? &*s.value() : nullptr;
        return {outcome::answered, outgoing{reply_topic(t), metrics::answer_metric_get(req.value(), data, now_ms).dump()}};
    }
    }
    return {outcome::not_ours};
}

handled handler::handle_presence(std::string_view payload, const clock_now& now) {
    const auto p = parse_presence(payload);
    if (!p || (p->time_s && *p->time_s < presence_since_s_)) return count({outcome::not_ours});
    // A device's user name is its certificate's CN, which is its id: a connection whose
    // client id is not its own CN (a claim, another program) says nothing about a device.
    if (p->online && p->user_name != p->client_id) return count({outcome::not_ours});
    try {
        if (!known(p->client_id)) return count({outcome::not_ours});
        storage::batch b;
        b.devices.push_back({std::string(p->client_id), p->online, ms_since_epoch(now.wall)});
        if (auto r = commit(b); !r) return count({outcome::storage_failed, std::nullopt, r.err().message});
        return count({outcome::presence});
    } catch (const std::exception& e) {
        return count({outcome::storage_failed, std::nullopt, e.what()});
    }
}

}  // namespace tether::cloud::ingest
