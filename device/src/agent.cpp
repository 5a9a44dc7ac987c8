// The device's state and background work: provisioning with retries, the connection with
// the device's identity, its master subscriptions, throttle and release (PROTOCOL.md §2),
// and provisioning again when the broker refuses the certificate as revoked.

#include "agent.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "client_options.hpp"
#include "tether/device/identity_files.hpp"
#include "tether/device/serial_number.hpp"

namespace tether::device::detail {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A timestamp (ms since the epoch) no older than `limit`. Far future stamps are refused
// too: a clock that far ahead is not one to obey.
bool is_fresh(const json& stamp, std::chrono::milliseconds limit) {
    if (!stamp.is_number()) return false;
    const double t = stamp.get<double>();
    if (!std::isfinite(t)) return false;
    const double age = static_cast<double>(now_ms()) - t;
    return age <= static_cast<double>(limit.count()) && age >= -static_cast<double>(limit.count());
}

// The broker refused the device's own certificate in a way that a new one mends: revoked
// (the cloud revoked or released it) or expired. OpenSSL reports the broker's TLS alert
// with these reasons: in the handshake with TLS 1.2, at the first read with TLS 1.3 (the
// client's handshake is over before the broker has checked its certificate). A network
// failure never carries them.
bool is_identity_refused(const std::error_code& ec) {
    if (ec.category() != asio::error::get_ssl_category()) return false;
    const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    return reason == SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED || reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED;
}

bool needs_provisioning(const configuration& c) {
    return c.mqtt.cert.is_auto || c.mqtt.key.is_auto || c.mqtt.client_id.is_auto;
}

constexpr std::chrono::milliseconds throttle_first{1'000}, throttle_max{30'000};
constexpr std::chrono::minutes throttle_window{1};  // pacing lasts this long after the last throttle

}  // namespace

agent::agent(asio::any_io_executor executor, std::filesystem::path dir, device_options options)
    : executor_(std::move(executor)), dir_(std::move(dir)), options_(std::move(options)) {}

agent::~agent() { detach(); }

void agent::detach() {
    stopped_ = true;
    ++run_;
    detached_ = true;
    wake_all();
    options_.on_provision = nullptr;
    options_.on_connection = nullptr;
    // The connections close now, as the device goes; a task waiting on one of them is
    // woken with client_stopped. A client destroyed here may still report `disconnected`:
    // not to this agent any more.
    if (client_) client_->on_connection_event(nullptr);
    client_.reset();
    release_folder_if_idle();  // else when the start() under way (a provisioning) ends
}

// Each wait has a timer of its own: expires_after() on a shared one cancels every wait on
// it, so a provisioning backoff would end a stay-away, and the other way round.
asio::awaitable<void> agent::pause(asio::steady_timer& t) {
    if (stopped_) co_return;  // stop() has woken the waits already
    waits_.push_back(&t);
    struct listed {
        std::vector<asio::steady_timer*>& waits;
        asio::steady_timer* t;
        ~listed() { std::erase(waits, t); }
    } guard{waits_, &t};
    (void)co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
}

void agent::wake_all() noexcept {
    for (asio::steady_timer* t : waits_) t->cancel();
}

void agent::release_folder_if_idle() noexcept {
    if (stopped_ && starting_ == 0) lock_.release();
}

// A copy is called: the owner may destroy the device from inside its callback.
void agent::report(const provision_report& r) const {
    if (const auto callback = options_.on_provision) callback(r);
}

asio::awaitable<std::error_code> agent::provision_with_retry(unsigned attempts, unsigned run) {
    // A kit without a serial number: one made now and saved, the same for every attempt
    // and every later provisioning.
    if (!config_.device.serial_number || config_.device.serial_number->empty()) {
        try {
            (void)ensure_serial_number(dir_);
        } catch (const std::system_error& e) {
            co_return e.code();
        }
        config_ = load_configuration(dir_);
    }
    std::chrono::milliseconds delay = options_.retry_initial;
    std::mt19937_64 rng(std::random_device{}());
    for (unsigned attempt = 1;; ++attempt) {
        const auto result = co_await provision(executor_, config_, options_.provisioning);
        report(result);
        if (halted(run)) co_return make_error_code(errc::stopped);
        if (!result.ec) {
            ++provisioned_count_;
            co_return std::error_code{};
        }
        // Nothing to retry with: the configuration must change first.
        if (result.ec == errc::no_claim_identity || result.ec == errc::no_serial_number) co_return result.ec;
        if (attempts != 0 && attempt >= attempts) co_return result.ec;
        const auto half = std::max<std::int64_t>(delay.count() / 2, 0);
        std::uniform_int_distribution<std::int64_t> pick(half, std::max<std::int64_t>(delay.count() - 1, half));
        asio::steady_timer backoff(executor_, std::chrono::milliseconds(pick(rng)));
        co_await pause(backoff);
        if (halted(run)) co_return make_error_code(errc::stopped);
        delay = std::min(delay * 2, options_.retry_max);
    }
}

// Registers the connection-event callback. A plain function, as are the two below that
// make handlers capturing `this`: the lambdas stay out of the coroutines' frames. The
// handlers run only while the client lives, and the client is this agent's.
void agent::watch(client::client& c) {
    c.on_connection_event([this](const client::connection_event& e) {
        if (const auto callback = options_.on_connection) callback(e);
        // Reconnecting with a certificate the cloud revoked: get a new one.
        if (e.state != client::connection_state::connected && is_identity_refused(e.reason) && !reprovisioning_ &&
            !stopped_) {
            asio::co_spawn(executor_, reprovision(shared_from_this()), asio::detached);
        }
    });
}

// The master subscriptions (PROTOCOL.md §2): one SUBSCRIBE each; every filter under them
// (replies, throttle, release, the application's) is then served locally.
std::vector<client::subscription> agent::master_subscriptions() const {
    std::vector<client::subscription> subs;
    subs.emplace_back("ioto/device/" + id_ + "/#", client::qos::at_least_once);
    subs.emplace_back("ioto/account/all/#", client::qos::at_least_once);
    return subs;
}

// Throttle and release. Not in the masters' subscribe() call: the client delivers a
// message to one filter per call, and there the handler-less master would take it.
std::vector<client::subscription> agent::control_subscriptions() {
    const std::string device_topics = "ioto/device/" + id_;
    std::vector<client::subscription> subs;
    subs.emplace_back(device_topics + "/mqtt/throttle", client::qos::at_least_once,
                      [this](const client::message& m) { on_throttle(m); });
    subs.emplace_back(device_topics + "/provision/release", client::qos::at_least_once,
                      [this](const client::message& m) { on_release(m); });
    return subs;
}

std::vector<std::string> agent::own_filters(const std::string& id) {
    const std::string device_topics = "ioto/device/" + id;
    return {device_topics + "/#", "ioto/account/all/#", device_topics + "/mqtt/throttle",
            device_topics + "/provision/release"};
}

asio::awaitable<std::error_code> agent::connect_own_identity(connect_outcome& outcome, unsigned run) {
    outcome = {};
    id_ = config_.mqtt.client_id.value;
    if (id_.empty()) id_ = config_.device.id.value;
    auto opts = detail::client_options(config_, id_, config_.mqtt.cert.value, config_.mqtt.key.value);
    // The durable outbox of this identity (not the claim connection's): Store writes and
    // metrics accepted while offline survive a restart. A journal belongs to one client id,
    // so a device provisioned again starts a journal of its own beside the old one.
    if (!config_.mqtt.persist.empty()) {
        opts.persistence.directory = (config_.mqtt.persist / id_).string();
        opts.persistence.level =
            config_.mqtt.persist_power_loss ? client::durability::power_loss : client::durability::process_crash;
    }
    opts.reconnect = options_.reconnect;
    opts.keep_alive_s = options_.keep_alive_s;
    // One client for the agent's life (a throttle's stay-away, a new identity after a
    // release or a revocation): the application's reference from device::mqtt() and its
    // subscriptions stay, and nothing piles up. The client is idle here (never connected,
    // its first connect() failed, or disconnected by stay_away() or reprovision()).
    if (!client_) {
        client_ = std::make_unique<client::client>(executor_, opts);
        watch(*client_);
    } else if (const auto ec = client_->set_options(std::move(opts))) {
        // already_connected: connected by another start, or by the application through mqtt().
        co_return ec;
    }
    // Held for the calls below: detach() may let go of client_ meanwhile (each wait is
    // followed by a look at halted() before `c` is used again).
    client::client& c = *client_;
    // The client sends this agent's filters again on connecting, unless they are another
    // id's (or went only partly through): those go now, before the connection (offline with
    // a clean session, only from the client's table).
    if (!own_filters_id_.empty() && (own_filters_id_ != id_ || !own_filters_complete_)) {
        auto stale = own_filters(own_filters_id_);
        own_filters_id_.clear();
        own_filters_complete_ = false;
        (void)co_await c.unsubscribe(std::move(stale), client::wait::none);
        if (halted(run)) co_return make_error_code(errc::stopped);
    }
    if (const auto ec = co_await c.connect()) {
        outcome.identity_refused = is_identity_refused(ec);
        // A broker restarting, a link down. Not: a refusal that retrying cannot fix, a client
        // that another start or the application connected (already_connected) or stopped
        // on purpose (client_stopped: disconnect(), a reprovisioning taking over).
        outcome.may_retry = !outcome.identity_refused && !client::is_permanent(ec) &&
                            ec != client::errc::already_connected && ec != client::errc::client_stopped;
        co_return ec;
    }
    if (halted(run)) co_return make_error_code(errc::stopped);
    if (own_filters_complete_) co_return std::error_code{};
    own_filters_id_ = id_;
    auto masters = master_subscriptions();
    if (const auto s = co_await c.subscribe(std::move(masters), client::wait::ack); s.ec) co_return s.ec;
    if (halted(run)) co_return make_error_code(errc::stopped);
    auto control = control_subscriptions();
    const auto s = co_await c.subscribe(std::move(control), client::wait::ack);
    own_filters_complete_ = !s.ec;
    co_return s.ec;
}

asio::awaitable<std::error_code> agent::replace_identity(unsigned run) {
    // A refusal in a TLS 1.2 handshake is an unauthenticated alert that anyone on the path
    // can forge: it may cost a provisioning round now and then, never more often.
    const auto ceiling = std::max<std::chrono::milliseconds>(options_.reconnect.max_delay, 1ms);
    const bool released = std::exchange(released_, false);
    if (!released && last_replacement_ && std::chrono::steady_clock::now() < *last_replacement_ + ceiling) {
        asio::steady_timer pacing(executor_, *last_replacement_ + ceiling);
        co_await pause(pacing);
        if (halted(run)) co_return make_error_code(errc::stopped);
    }
    last_replacement_ = std::chrono::steady_clock::now();
    // As before the first provisioning (the endpoint of ioto.json5, the identity 'auto'),
    // while provision.json5 and the files it names stay until a new identity is saved.
    config_ = load_unprovisioned_configuration(dir_);
    co_return co_await provision_with_retry(1, run);
}

asio::awaitable<std::error_code> agent::start(std::shared_ptr<agent> self, bool replace, bool until_connected) {
    (void)self;  // held by the frame: this agent lives while start() runs
    // One start() at a time in a run: a second one (the application's, while a background
    // task replaces a refused identity and the client is idle between rounds) would loop
    // beside the first, provisioning back to back. A start() of a stopped run may still be
    // winding down.
    if (start_run_ == run_) co_return make_error_code(client::errc::already_connected);
    // The application's start() while the device is started without being connected: the
    // stay-away brings it back when the cloud's close ends. Connecting now would defy the
    // cloud.
    if (!until_connected && !stopped_ && closed_by_cloud_) co_return make_error_code(client::errc::already_connected);
    stopped_ = detached_;
    const unsigned run = run_;
    // The folder stays locked while this runs, even if the device is stopped meanwhile: an
    // attempt waiting for a provisioning reply still saves what the cloud issued.
    struct under_way {
        agent& a;
        unsigned run;
        under_way(agent& x, unsigned r) : a(x), run(r) {
            ++a.starting_;
            a.start_run_ = run;
        }
        ~under_way() {
            --a.starting_;
            if (a.start_run_ == run) a.start_run_.reset();
            a.release_folder_if_idle();
        }
        under_way(const under_way&) = delete;
        under_way& operator=(const under_way&) = delete;
    } guard(*this, run);
    // A refused identity is replaced, not forgotten: it stays on disk until a new one is
    // saved over it. Whether or not that worked, the device then connects with what is on
    // disk: after a forged refusal the old identity simply works again.
    std::chrono::milliseconds backoff = std::max<std::chrono::milliseconds>(options_.reconnect.initial_delay, 1ms);
    for (unsigned failed = 0;;) {
        if (halted(run)) co_return make_error_code(errc::stopped);
        config_ = load_configuration(dir_);
        // Before anything is written in the folder: a serial number, an identity.
        if (const auto ec = lock_.take(dir_)) co_return ec;
        if (std::exchange(replace, false) && config_.provision.provisioned) {
            const auto ec = co_await replace_identity(run);
            if (halted(run)) co_return make_error_code(errc::stopped);
            // Nothing to retry with, or no more attempts: the configuration must change first.
            if (ec == errc::no_claim_identity || ec == errc::no_serial_number) co_return ec;
            if (ec && options_.provision_attempts != 0 && ++failed >= options_.provision_attempts) co_return ec;
            config_ = load_configuration(dir_);
        } else if (needs_provisioning(config_)) {
            if (const auto ec = co_await provision_with_retry(options_.provision_attempts, run)) co_return ec;
            if (halted(run)) co_return make_error_code(errc::stopped);
            config_ = load_configuration(dir_);
        }
        connect_outcome outcome;
        const auto ec = co_await connect_own_identity(outcome, run);
        if (halted(run)) co_return make_error_code(errc::stopped);
        // Only connect() failing as a later attempt may mend: once connected, a subscribe
        // that failed goes again with the client's own reconnection.
        if (ec && outcome.may_retry && until_connected) {
            asio::steady_timer again(executor_, backoff);
            co_await pause(again);
            backoff = std::min(backoff * 2, std::max(options_.reconnect.max_delay, backoff));
            continue;
        }
        if (!outcome.identity_refused || !config_.provision.provisioned) co_return ec;
        replace = true;
    }
}

asio::awaitable<void> agent::reprovision(std::shared_ptr<agent> self) {
    if (reprovisioning_ || stopped_) co_return;
    const unsigned run = run_;
    reprovisioning_ = true;
    if (client_) (void)co_await client_->disconnect(1s);
    if (halted(run)) {
        reprovisioning_ = false;
        co_return;
    }
    id_.clear();
    (void)co_await start(self, true, true);
    reprovisioning_ = false;
}

asio::awaitable<void> agent::stop(std::shared_ptr<agent> self, std::chrono::milliseconds limit) {
    stopped_ = true;
    ++run_;
    closed_by_cloud_ = false;  // the stay-away ends with the run: a device started again obeys the next close
    wake_all();
    if (client_) (void)co_await client_->disconnect(limit);
    release_folder_if_idle();  // unless start() was called again meanwhile (stopped_ false)
    (void)self;
}

void agent::on_release(const client::message& m) {
    const json stamp = json::parse(m.text(), nullptr, false);
    if (!is_fresh(stamp, 10s)) return;  // a stale or malformed release is ignored (PROTOCOL.md §2)
    // Not from inside the handler: reprovisioning disconnects the client that runs it.
    released_ = true;
    asio::co_spawn(executor_, reprovision(shared_from_this()), asio::detached);
}

void agent::on_throttle(const client::message& m) {
    const json body = json::parse(m.text(), nullptr, false);
    if (!body.is_object() || !body.contains("timestamp") || !is_fresh(body["timestamp"], 30s)) return;
    if (body.contains("close") && body["close"].is_boolean() && body["close"].get<bool>()) {
        if (closed_by_cloud_) return;  // staying away already
        closed_by_cloud_ = true;
        asio::co_spawn(executor_, stay_away(shared_from_this(), options_.stay_away), asio::detached);
        return;
    }
    throttle_interval_ = throttle_interval_.count() == 0 ? throttle_first : std::min(throttle_interval_ * 2, throttle_max);
    throttle_until_ = std::chrono::steady_clock::now() + throttle_window;
}

asio::awaitable<void> agent::stay_away(std::shared_ptr<agent> self, std::chrono::milliseconds how_long) {
    const unsigned run = run_;
    if (client_) (void)co_await client_->disconnect(1s);
    if (halted(run)) co_return;
    asio::steady_timer away(executor_, how_long);
    co_await pause(away);
    if (halted(run)) co_return;  // stop() ended the stay-away (and its close)
    closed_by_cloud_ = false;
    (void)co_await start(self, false, true);
}

// Spaces publishes by the throttle interval while the throttle lasts.
asio::awaitable<void> agent::pace(std::shared_ptr<agent> self) {
    const auto now = std::chrono::steady_clock::now();
    if (throttle_interval_.count() == 0) co_return;
    if (now >= throttle_until_) {
        throttle_interval_ = {};
        co_return;
    }
    if (next_publish_ > now) {
        asio::steady_timer t(executor_, next_publish_);
        next_publish_ += throttle_interval_;
        (void)co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    } else {
        next_publish_ = now + throttle_interval_;
    }
    (void)self;
}

asio::awaitable<store_result<json>> agent::read(std::shared_ptr<agent> self, std::string topic, std::string body,
                                                std::optional<std::chrono::milliseconds> timeout) {
    store_result<json> r;
    if (!client_ || id_.empty()) {
        r.ec = errc::not_provisioned;
        co_return r;
    }
    const auto reply = co_await client_->request("ioto/service/" + id_ + "/" + topic, body,
                                                 "ioto/device/" + id_ + "/" + topic,
                                                 timeout.value_or(options_.request_timeout));
    if (reply.ec) {
        r.ec = reply.ec;
        co_return r;
    }
    (void)self;
    co_return parse_store_reply(reply.payload);
}

}  // namespace tether::device::detail
