#include "ingest/handler.hpp"

#include <exception>

#include "ingest/body.hpp"
#include "ingest/presence.hpp"
#include "ingest/store_request.hpp"
#include "ingest/topics.hpp"
#include "metrics/metric_request.hpp"
#include "provisioning/broker_config.hpp"
#include "provisioning/topics.hpp"

namespace tether::cloud::ingest {

static_assert(provisioning::default_max_inflight_messages >= default_batch_limit,
              "init's broker would cap each batch below the batch limit");

namespace {

std::int64_t ms_since_epoch(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
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

bool handler::known(std::string_view device_id, std::chrono::steady_clock::time_point now) {
    if (known_.fresh(device_id, now)) return true;
    const auto thing = registry_.find_thing(device_id);  // throws when storage fails
    if (!thing || thing->revoked) return false;
    known_.remember(device_id, now);
    return true;
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
    case outcome::queued: break;  // counted when its batch commits or fails (flush)
    }
    return h;
}

result<void> handler::apply(const storage::batch& b) {
    ++counters_.transactions;
    auto r = db_.apply(b);
    // The last_seen rows of a failed batch are not written: every device's next message
    // writes its own again.
    if (!r) seen_written_.clear();
    if (r && observer_) observer_(b);
    return r;
}

result<void> handler::commit(storage::batch& b) {
    if (seen_) {
        b.seen.push_back(std::move(*seen_));
        seen_.reset();
    }
    return apply(b);
}

handled handler::write(message_rows m) {
    // A lone message is merged too: a metric/set may name one series twice.
    pending_batch alone;
    pending_batch& to = done_ ? pending_ : alone;
    for (const metrics::feed& f : m.feeds) to.add_value(f.key, f.value, m.time_ms);
    if (m.store) to.add_store(std::move(*m.store));
    if (seen_) {
        to.add_seen(std::move(*seen_));
        seen_.reset();
    }
    if (!done_) {
        if (auto r = apply(alone.take()); !r) return {outcome::storage_failed, std::nullopt, r.err().message};
        return {outcome::stored};
    }
    pending_done_.push_back(std::move(*done_));
    done_.reset();
    return {outcome::queued};
}

result<void> handler::flush() {
    if (pending_done_.empty()) return {};
    // Taken out first: a `done` or the observer may hand the handler a new message.
    const storage::batch b = pending_.take();
    std::vector<commit_done> done = std::move(pending_done_);
    pending_done_.clear();
    auto r = apply(b);
    if (r) {
        counters_.stored += done.size();
    } else {
        counters_.storage_failed += done.size();
        if (log_) log_("storage failed: " + std::to_string(done.size()) + " writes not stored: " + r.err().message);
    }
    for (auto& d : done) d(static_cast<bool>(r));
    return r;
}

handled handler::handle(std::string_view topic, std::string_view payload, const clock_now& now,
                        commit_done done) {
    const auto t = parse_service_topic(topic);
    const bool is_write = t && (t->kind == service_kind::store_set || t->kind == service_kind::metric_set);
    if (!is_write) return handle(topic, payload, now);  // flushes first
    done_ = std::move(done);
    handled h = handle(topic, payload, now);
    done_.reset();  // not queued: dropped uncalled
    if (pending_done_.size() >= batch_limit_) (void)flush();  // failures: told to each `done`, logged
    return h;
}

handled handler::handle(std::string_view topic, std::string_view payload, const clock_now& now) {
    if (!done_ && !pending_done_.empty()) {
        // Whatever comes next sees every write before it (read-your-writes); a failure is
        // told to each write's `done` and logged.
        (void)flush();
    }
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
        if (!known(t->device_id, now.steady)) {
            if (unknown_.note(t->device_id, now.steady) && log_) {
                log_("refused messages from unknown device '" + std::string(t->device_id) + "' (" +
                     std::to_string(unknown_.count()) + " refused so far)");
            }
            // No reply either: an unknown id gets nothing from the cloud.
            return count({outcome::unknown_device});
        }
        // Every message of a known device moves its last_seen, to last_seen_resolution:
        // inside the batch a write commits, else (a read, a refused body) in a transaction
        // of its own afterwards.
        if (!seen_written_.fresh(t->device_id, now.steady)) {
            seen_ = storage::device_seen{std::string(t->device_id), now_ms};
            seen_written_.remember(t->device_id, now.steady);
        }
        handled h = handle_device(*t, payload, now_ms);
        // A queued write took its last-seen with it; else it is committed now.
        if (seen_) {
            storage::batch b;
            if (auto r = commit(b); !r && log_) log_("storage failed: last seen: " + r.err().message);
        }
        return count(std::move(h));
    } catch (const std::exception& e) {
        // The registry throws when its storage fails; so may the JSON library on a value it
        // cannot convert. Nothing was committed or queued.
        if (seen_) seen_written_.forget(t->device_id);
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
        const metrics::store_item item{.key = w.value().key,
                                       .value = scalar_of(w.value().value),
                                       .type = w.value().type,
                                       .device_id = t.device_id,
                                       .updated = static_cast<double>(now_ms)};
        return write({schema_->route(item), std::move(w.value()), now_ms});
    }
    case service_kind::metric_set: {
        auto req = metrics::parse_metric_set(body.value(), t.device_id);
        if (!req) return {outcome::malformed, std::nullopt, req.err().message};
        for (std::size_t i = 0; i < req.value().dimensions.size(); ++i) {
            if (auto e = foreign_device(req.value().dimensions[i], t.device_id, "dimensions[" + std::to_string(i) + "]")) {
                return {outcome::malformed, std::nullopt, *e};
            }
        }
        return write({metrics::route_metric_set(*schema_, req.value()), std::nullopt, now_ms});
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
    // The registry is asked afresh about a device whose client id connected or went: a
    // revocation (from any process) closes the device's connection by connecting under
    // its client id (docs/CLOUD.md), a line of the first kind below.
    known_.forget(p->client_id);
    // A device's user name is its certificate's CN, which is its id: a connection whose
    // client id is not its own CN (a claim, another program) says nothing about a device.
    if (p->online && p->user_name != p->client_id) return count({outcome::not_ours});
    try {
        if (!known(p->client_id, now.steady)) return count({outcome::not_ours});
        storage::batch b;
        b.devices.push_back({std::string(p->client_id), p->online, ms_since_epoch(now.wall)});
        if (auto r = commit(b); !r) return count({outcome::storage_failed, std::nullopt, r.err().message});
        return count({outcome::presence});
    } catch (const std::exception& e) {
        return count({outcome::storage_failed, std::nullopt, e.what()});
    }
}

}  // namespace tether::cloud::ingest
