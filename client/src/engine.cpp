// The engine's coordinator: construction, and the loop that turns the session's events
// into the flows, each in a file of its own:
//   engine_connect.cpp    connect, reconnect with backoff and endpoints, CONNECT, CONNACK
//   engine_io.cpp         reading, writing, the keep-alive ticker (completion handlers)
//   engine_ack.cpp        acknowledging received messages, at once or when a handler accepts
//   engine_publish.cpp    publish, the offline queue, the window, waiters
//   engine_subscribe.cpp  subscribe, unsubscribe (subscription_table.hpp)
//   engine_refusal.cpp    publishes the server refuses by closing the link (refusal_probe.hpp)
//   engine_request.cpp    ping, request/response
//   engine_stop.cpp       disconnect, stop, failing what waits
//   engine_journal.cpp    the durable outbox: the journal, what it puts back at connect()
#include "engine.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <random>

#include "shared_filter.hpp"
#include "tether/core/encode.hpp"
#include "tether/core/topic.hpp"

namespace tether::client::detail {

namespace {

// Received QoS 2 ids awaiting PUBREL: a short list while few are, grown before it fills,
// up to a bitmap of every id (8 KiB) — the server decides how many there are, and a
// table that fills would cut the link and get the same backlog again, for ever.
constexpr std::size_t inbound_qos2_initial = 16;
constexpr std::size_t inbound_qos2_largest_list = 512;
constexpr std::size_t extra_slots = 16;  // SUBSCRIBE and UNSUBSCRIBE beside the window

core::session_config session_config(const options& o) {
    // Half the keep-alive by default: PINGREQ goes after a keep-alive of silence, so a dead
    // link is found within 1.5 keep-alives. With keep-alive off, explicit pings get 10 s.
    auto response = o.response_timeout;
    if (response.count() == 0) {
        response = o.keep_alive_s != 0 ? std::chrono::milliseconds(std::chrono::seconds(o.keep_alive_s)) / 2
                                       : std::chrono::milliseconds(10'000);
    }
    // The largest packet: a payload of max_message_size with the largest topic and header.
    const std::size_t limit = std::min<std::size_t>(o.max_message_size + 65'542, core::max_remaining_length + 5);
    return {.window = o.window,
            .response_timeout_ms = static_cast<core::millis>(response.count()),
            // One limit for TCP + TLS + CONNACK, as documented: the engine's connect deadline,
            // which ends the attempt with errc::timeout. The core's own CONNACK timer is only
            // a backstop a second later, so that the two never race.
            .connack_timeout_ms = static_cast<core::millis>(std::max<std::int64_t>(o.connect_timeout.count(), 1) + 1'000),
            .max_packet_size = static_cast<std::uint32_t>(limit)};
}

// Runs an asynchronous handler on its own copy of the message.
asio::awaitable<void> run_async_handler(async_message_handler handler, std::string topic,
                                        std::vector<std::uint8_t> payload, core::qos q, bool retain, bool dup,
                                        std::weak_ptr<engine> source, std::uint64_t delivery, std::uint16_t packet_id) {
    payload.push_back(0);  // the NUL after the payload
    const message m{.topic = topic,
                    .payload = {payload.data(), payload.size() - 1},
                    .qos = q,
                    .retain = retain,
                    .dup = dup,
                    .source = std::move(source),
                    .delivery = delivery,
                    .packet_id = packet_id};
    co_await handler(m);
}
}  // namespace

engine::engine(asio::any_io_executor ex, options opts)
    : ex_(std::move(ex)),
      opts_(std::move(opts)),
      epoch_(std::chrono::steady_clock::now()),
      random_(std::random_device{}() * 0x1'0000'0001ull),
      out_slots_(std::size_t{opts_.window} + extra_slots),
      inbound_qos2_(inbound_qos2_initial),
      rx_(initial_rx + 1),
      session_(out_slots_, inbound_qos2_, std::span(rx_).first(initial_rx), session_config(opts_)),
      ticker_(ex_),
      pause_(ex_),
      flights_(0) {}  // grows with use, up to the window

core::millis engine::now() const {
    return static_cast<core::millis>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - epoch_).count());
}

void engine::emit(connection_state s, std::error_code reason, bool session_present, unsigned attempt,
                  std::chrono::milliseconds retry_in) {
    if (on_event_) on_event_(connection_event{s, reason, session_present, attempt, retry_in, current_endpoint()});
}

void engine::grow_inbound_qos2() {
    const std::size_t size = inbound_qos2_.size() * 2 <= inbound_qos2_largest_list
                                 ? inbound_qos2_.size() * 2
                                 : core::session::inbound_qos2_bitmap_size;
    std::vector<std::uint16_t> larger(size);
    if (session_.rebind_inbound_qos2(larger)) inbound_qos2_ = std::move(larger);
}

void engine::process_events() {
    for (;;) {
        // Room for one more QoS 2 message before the next packet is read.
        if (session_.inbound_qos2_count() == session_.inbound_qos2_capacity()) grow_inbound_qos2();
        const core::event e = session_.poll(now());
        if (e.type == core::event_type::none) break;
        // A PUBREC again for a QoS 2 id held goes after the acknowledgements still pending
        // of messages that came before (engine_ack.cpp), not now.
        if (!e.reply.empty() && e.type != core::event_type::message) {
            if (!answer_in_order(e.reply)) {
                append(e.reply);
            } else if (link_failed_) {
                return;
            }
        }
        switch (e.type) {
        case core::event_type::connack:
            on_connack(e);
            break;
        case core::event_type::message:
            if (!deliver(e)) return;  // engine_ack.cpp
            break;
        case core::event_type::puback:
        case core::event_type::pubcomp:
        case core::event_type::unsuback:
            if (flight* f = flights_.find(e.packet_id)) {
                // Delivered, but not as asked: the waiter hears it (the message went out at
                // least once; publishing it again would only duplicate it).
                if (f->acked) f->acked->set(e.err != core::error::none ? make_error_code(e.err) : std::error_code{});
                journal_forget(f->seq);
                flights_.erase(e.packet_id);
            }
            if (e.type != core::event_type::unsuback) on_publish_acknowledged(e.packet_id);
            // An UNSUBACK frees a packet id: a SUBSCRIBE that found none free goes now.
            if (e.type == core::event_type::unsuback) send_wanted_subscriptions();
            break;
        case core::event_type::suback:
            if (flight* f = flights_.find(e.packet_id)) {
                on_suback(f->filters, e.return_codes, e.packet_id);
                flights_.erase(e.packet_id);
            }
            break;
        case core::event_type::pingresp:
            if (++pings_answered_ == probe_barrier_) barrier_answered_at_ = now();
            for (auto& p : ping_waiters_) p->set();
            ping_waiters_.clear();
            break;
        case core::event_type::resend_publish:
        case core::event_type::resend_subscribe:
        case core::event_type::resend_unsubscribe:
            // A PUBLISH again: the server had no session, so a message past PUBREC is no
            // longer in its hands (cleared before a hold, which a stop may outlast).
            if (e.type == core::event_type::resend_publish) {
                if (flight* f = flights_.find(e.packet_id)) f->released = false;
            }
            if (e.type == core::event_type::resend_publish && probe_.hold(e.packet_id)) {
                held_resends_.push_back(e.packet_id);  // after the probe's acknowledgement
                break;
            }
            if (e.type == core::event_type::resend_publish && probe_.probing() && e.packet_id == probe_.probe()) {
                if (!probe_.must_settle()) {
                    write_probe(e.packet_id);
                } else {  // after a strike: only once this link has lasted without it
                    settling_probe_ = e.packet_id;
                    settled_at_ = now() + refusal_probe::settle_ms;
                    arm_ticker();  // which writes it then (engine_io.cpp)
                }
            } else {
                (void)resend(e.packet_id);
            }
            break;
        case core::event_type::error:
            fail_connection(e.err == core::error::connection_refused ? link_error_ : make_error_code(e.err));
            return;
        case core::event_type::send:
            if (e.reply.size() == 2 && e.reply[0] == 0xC0) ++pings_written_;  // the keep-alive's PINGREQ
            [[fallthrough]];
        case core::event_type::resend_pubrel:
            // A PUBREL answers a PUBREC: the server took that QoS 2 message.
            if (e.reply.size() == 4 && e.reply[0] == 0x62) {
                if (flight* f = flights_.find(e.packet_id)) f->released = true;
                if (e.type == core::event_type::send) {
                    journal_pubrec(e.packet_id);
                    on_publish_acknowledged(e.packet_id);
                }
            }
            // A PUBCOMP answers a PUBREL: that received QoS 2 id is released.
            if (e.reply.size() == 4 && e.reply[0] == 0x70) journal_release_inbound(e.packet_id);
            break;
        default:
            break;
        }
    }
    // Connected, every resend of this connection emitted (they follow CONNACK at once),
    // and none was a PUBLISH to probe with (only PUBRELs, or nothing): nothing to probe.
    if (probe_.probing() && probe_.probe() == 0 && state_ == state::connected && !link_failed_) probe_.reset();
    // Every resend of this connection is out: now what the subscription table wants, and
    // UNSUBSCRIBEs made offline (engine_connect.cpp) — unless a probe is out, which goes
    // alone so that a close can be laid at its door (on_publish_acknowledged sends them).
    if (subscribe_after_resends_ && !probe_.probing()) send_new_subscriptions();
    drain_queue();
    check_drained();
    journal_flush();  // the acknowledgements of this batch, and the messages it let into the window
}

bool engine::resend(std::uint16_t packet_id) {
    flight* f = flights_.find(packet_id);
    if (f == nullptr) return false;
    if (f->is_publish) core::mark_dup(f->bytes);  // [MQTT-3.3.1-1]
    append(f->bytes);
    if (f->sent && !f->sent->done()) watch_sent(f->sent, packet_id);
    return true;
}

void engine::dispatch(const core::event& e) {
    const core::publish_packet& p = e.message;
    // Write a NUL after the payload for the handlers, and put back the byte it covers
    // (the start of the next packet, or the spare byte at the end of rx_).
    auto* end = const_cast<std::uint8_t*>(p.payload.data() + p.payload.size());
    const std::uint8_t saved = *end;
    *end = 0;
    const message m{.topic = p.topic,
                    .payload = p.payload,
                    .qos = p.qos,
                    .retain = p.retain,
                    .dup = p.dup,
                    .source = delivering_ != 0 ? weak_from_this() : std::weak_ptr<engine>{},
                    .delivery = delivering_,
                    .packet_id = p.packet_id};
    ++stats_.messages_received;
    // The handlers are found first and then called: a handler may subscribe or unsubscribe,
    // which changes the table, and every handler subscribed when the message came gets it.
    // The list is the engine's, reused (nothing allocated per message), and taken out while
    // in use in case a handler causes a dispatch of its own.
    std::vector<matched_handler> matched = std::move(matched_);
    matched.clear();
    std::uint64_t delivered_group = 0;  // one subscribe() call's filters are side by side
    for (const local_subscription& l : subscriptions_.locals()) {
        if (l.group == delivered_group || !core::topic_matches(matched_filter(l.filter), p.topic)) continue;
        delivered_group = l.group;
        matched.push_back({l.handler, l.async_handler});
    }
    for (const matched_handler& h : matched) {
        if (h.handler && *h.handler) (*h.handler)(m);
        if (h.async_handler && *h.async_handler) {
            asio::co_spawn(ex_,
                           run_async_handler(*h.async_handler, std::string(p.topic),
                                             std::vector<std::uint8_t>(p.payload.begin(), p.payload.end()), p.qos,
                                             p.retain, p.dup, m.source, m.delivery, p.packet_id),
                           asio::detached);
        }
    }
    matched.clear();  // the handlers go now, not at the next message
    matched_ = std::move(matched);
    *end = saved;
}

}  // namespace tether::client::detail
