// The refused-publish flow (refusal_probe.hpp): after the server closed a connection with
// publishes unacknowledged, the next connection sends the oldest alone; a message the
// server keeps closing the link over fails with errc::publish_refused and is never sent
// again, and the rest go on.

#include <asio/error.hpp>

#include "engine.hpp"
#include "tether/core/encode.hpp"

namespace tether::client::detail {

void engine::after_link_ended(std::error_code ec) {
    held_resends_.clear();  // the session resends them on the next connection
    // A strike only when the probe was written, and alone: the SUBSCRIBE/UNSUBSCRIBE packets
    // of the connection wait for its acknowledgement, new publishes for the end of probing.
    // (A close for another reason, such as a session taken over by a second client with
    // the same id, still counts: MQTT 3.1.1 does not say why a server closed.)
    // And only when the server had read everything written before it (the barrier's PINGRESP
    // came): a link cut while the server was still behind (a flapping network, a server slow
    // to resume a large session) says nothing about the probe.
    const bool probe_written = probe_end_ != 0 && written_ >= probe_end_;
    const bool probe_reached = probe_barrier_ != 0 && pings_answered_ >= probe_barrier_;
    probe_end_ = 0;
    if (!got_connack_) return;
    const bool server_closed = ec == make_error_code(errc::connection_lost) || ec == asio::error::connection_reset ||
                               ec == asio::error::broken_pipe;
    const bool probe_in_flight =
        probe_written && probe_reached && probe_.probe() != 0 && flights_.find(probe_.probe()) != nullptr;
    const std::uint16_t refused = probe_.connection_ended(server_closed, session_.publishes_in_flight(), probe_in_flight);
    if (refused != 0) fail_refused(refused);
}

void engine::write_probe_barrier() {
    std::array<std::uint8_t, 2> packet{};
    if (session_.ping(packet, now()).err != core::error::none) return;  // no barrier: no strike either
    append(packet);
    probe_barrier_ = ++pings_written_;
    arm_ticker();  // its answer is awaited within the response timeout, as any PINGREQ's
}

void engine::on_publish_acknowledged(std::uint16_t packet_id) {
    if (!probe_.acknowledged(packet_id)) return;
    // The probe went through: what waited behind it goes now, in order [MQTT-4.6.0-1].
    auto held = std::move(held_resends_);
    held_resends_.clear();
    for (const std::uint16_t id : held) {
        flight* f = flights_.find(id);
        if (f == nullptr) continue;
        core::mark_dup(f->bytes);  // [MQTT-3.3.1-1]
        append(f->bytes);
        if (f->sent && !f->sent->done()) watch_sent(f->sent, id);
    }
    if (subscribe_after_resends_) send_new_subscriptions();
}

void engine::fail_refused(std::uint16_t packet_id) {
    if (flight* f = flights_.find(packet_id)) {
        const auto ec = make_error_code(errc::publish_refused);
        if (f->acked) f->acked->set(ec);
        if (f->sent) f->sent->set(ec);
        journal_forget(f->seq);  // reported failed: never sent again, not even after a restart
        ++stats_.messages_refused;
        flights_.erase(packet_id);
    }
    (void)session_.abandon_outbound(packet_id);
}

}  // namespace tether::client::detail
