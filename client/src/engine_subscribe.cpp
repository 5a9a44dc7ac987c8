// The subscribe and unsubscribe flows: the subscription table says what the server must
// hold; these functions send it, and wait for SUBACK and UNSUBACK.

#include "engine.hpp"
#include "tether/core/encode.hpp"
#include "tether/core/topic.hpp"

namespace tether::client::detail {

void engine::send_wanted_subscriptions() {
    // Sent when the next connection is up, after its resends (subscribe_after_resends_).
    if (state_ != state::connected || link_failed_ || subscribe_after_resends_) return;
    std::vector<std::string> filters = subscriptions_.take_wanted();
    if (filters.empty()) return;
    std::vector<core::subscribe_topic> topics;
    topics.reserve(filters.size());
    for (const auto& f : filters) topics.push_back({f, subscriptions_.wanted_qos(f)});
    const std::uint32_t entry = flights_.acquire();
    flight& f = flights_.at(entry);
    f.bytes.resize(core::subscribe_size(topics));
    const auto r = session_.subscribe(topics, f.bytes, now());
    if (r.err != core::error::none) {
        // Every packet id in use (the filters were checked when subscribed): they go on the
        // next connection.
        flights_.release(entry);
        for (const auto& name : filters) {
            if (server_filter* s = subscriptions_.find(name)) s->st = server_filter::state::wanted;
        }
        return;
    }
    append(f.bytes);
    subscriptions_.sent_in(filters, r.packet_id);
    f.filters = std::move(filters);
    flights_.bind(entry, r.packet_id);
}

void engine::on_suback(const std::vector<std::string>& filters, std::span<const std::uint8_t> codes,
                       std::uint16_t packet_id) {
    subscriptions_.on_suback(filters, codes, packet_id, ex_);
    send_wanted_subscriptions();  // filters that a lower grant or a refusal left unserved
}

asio::awaitable<subscribe_result> engine::subscribe(std::vector<subscription> subs, wait how) {
    if (subs.empty()) co_return subscribe_result{make_error_code(errc::invalid_argument), {}};
    for (const auto& s : subs) {
        if (core::validate_topic_filter(s.filter) != core::error::none || s.max_qos > core::qos::exactly_once) {
            co_return subscribe_result{make_error_code(errc::invalid_argument), {}};
        }
    }
    // Before connect() is fine: handlers must be in place when a persistent session's
    // stored messages arrive right after CONNACK. The SUBSCRIBE goes on connecting.
    if (stopping_) co_return subscribe_result{make_error_code(errc::not_connected), {}};

    const auto waits = subscriptions_.add(subs, ex_);
    send_wanted_subscriptions();
    subscribe_result result;
    if (how == wait::none) co_return result;
    // wait::sent is treated as wait::ack for SUBSCRIBE: the codes are what a caller wants.
    for (const auto& w : waits) {
        if (!w) continue;
        const std::error_code ec = co_await w->wait();
        if (ec && !result.ec) result.ec = ec;
    }
    // A master's SUBACK may hand a filter over to a SUBSCRIBE of its own (refused, or
    // granted less): then its SUBACK is the answer. Each round waits for one more SUBACK.
    for (std::size_t i = 0; i < subs.size() && !result.ec;) {
        const std::shared_ptr<signal> next = subscriptions_.unsettled(subs[i]);
        if (!next) {
            ++i;
            continue;
        }
        const std::error_code ec = co_await next->wait();
        if (ec) result.ec = ec;
    }
    for (const auto& s : subs) {
        const std::uint8_t code = subscriptions_.served_code(s);
        if (code == core::suback_failure && !result.ec) result.ec = make_error_code(errc::subscription_refused);
        result.granted.push_back(code);
    }
    co_return result;
}

std::error_code engine::send_unsubscribe(const std::vector<std::string>& filters, std::shared_ptr<signal> acked) {
    std::vector<std::string_view> views(filters.begin(), filters.end());
    const std::uint32_t entry = flights_.acquire();
    flight& f = flights_.at(entry);
    f.bytes.resize(core::unsubscribe_size(views));
    const auto r = session_.unsubscribe(views, f.bytes, now());
    if (r.err != core::error::none) {
        flights_.release(entry);
        return make_error_code(r.err == core::error::packet_ids_exhausted ? errc::queue_full : errc::invalid_argument);
    }
    append(f.bytes);
    f.acked = std::move(acked);
    flights_.bind(entry, r.packet_id);
    return {};
}

void engine::send_new_subscriptions() {
    if (state_ != state::connected || link_failed_) return;
    subscribe_after_resends_ = false;
    send_wanted_subscriptions();
    send_pending_unsubscribes();
}

void engine::send_pending_unsubscribes() {
    auto pending = std::move(pending_unsubscribes_);
    pending_unsubscribes_.clear();
    for (auto& u : pending) {
        if (const auto ec = send_unsubscribe(u.filters, u.acked); ec && u.acked) u.acked->set(ec);
    }
}

asio::awaitable<std::error_code> engine::unsubscribe(std::vector<std::string> filters, wait how) {
    if (filters.empty()) co_return make_error_code(errc::invalid_argument);
    for (const auto& f : filters) {
        if (core::validate_topic_filter(f) != core::error::none) co_return make_error_code(errc::invalid_argument);
    }
    if (stopping_) co_return make_error_code(errc::not_connected);
    subscriptions_.remove(filters, ex_);
    // Filters that a removed master served get their own SUBSCRIBE first, so that no
    // message falls between the two.
    send_wanted_subscriptions();

    std::shared_ptr<signal> acked;
    if (how != wait::none) acked = std::make_shared<signal>(ex_);
    const bool connected = state_ == state::connected && !link_failed_;
    if (connected && !subscribe_after_resends_) {
        // Sent whether or not this process subscribed them: what matters is the server's
        // state, which a persistent session carries from earlier processes.
        if (const auto ec = send_unsubscribe(filters, acked)) co_return ec;
    } else if (!connected && opts_.clean_session) {
        // Offline with a clean session: the server holds nothing of ours any more.
        co_return std::error_code{};
    } else {
        // A persistent session keeps its subscriptions at the server while we are away:
        // the UNSUBSCRIBE goes as soon as the next connection is up (or this one, once
        // the session's resends are out).
        pending_unsubscribes_.push_back({std::move(filters), acked});
    }
    if (!acked) co_return std::error_code{};
    co_return co_await acked->wait();
}

}  // namespace tether::client::detail
