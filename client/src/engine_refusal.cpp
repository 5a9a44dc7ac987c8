// The refused-publish flow (refusal_probe.hpp): after the server closed a connection with
// publishes unacknowledged, the next connection sends the oldest alone; a message the
// server keeps closing the link over fails with errc::publish_refused and is never sent
// again, and the rest go on.

#include <asio/error.hpp>
#include <cstdint>
#include <utility>

#include "engine.hpp"
#include "tether/core/encode.hpp"

namespace tether::client::detail {

void engine::after_link_ended(std::error_code ec) {
    held_resends_.clear();  // the session resends them on the next connection
    settling_probe_ = 0;    // not written: no strike, and the run of strikes ends
    // A strike only when the probe was written, and alone: the SUBSCRIBE/UNSUBSCRIBE packets
    // of the connection wait for its acknowledgement, new publishes for the end of probing.
    // (A close for another reason, such as a session taken over by a second client with
    // the same id, still counts: MQTT 3.1.1 does not say why a server closed.)
    // And only when the server had read everything written before it (the PINGREQ ahead of
    // it was answered) and closed before answering the PINGREQ behind it: a link cut while
    // the server was still behind (a flapping network, a broker slow to resume a session)
    // says nothing about the probe, nor does one after the server read the probe and went on.
    // And only when the close came at once after the first PINGRESP: a server refusing the
    // probe closes as it reads it, right behind that PINGRESP. mosquitto, busy, was seen to
    // answer the first PINGREQ and then hold back its PUBREC for a resent QoS 2 PUBLISH
    // (and all after it) longer than links cut every 40-160 ms lived, three links running.
    const bool probe_written = probe_end_ != 0 && written_ >= probe_end_;
    const bool probe_reached = probe_barrier_ != 0 && pings_answered_ >= probe_barrier_;
    const bool server_went_on = probe_tail_ != 0 && pings_answered_ >= probe_tail_;
    const bool closed_at_once = probe_reached && link_failed_at_ - barrier_answered_at_ <= refusal_probe::close_within_ms;
    probe_end_ = 0;
    if (!got_connack_) return;
    const bool server_closed = ec == make_error_code(errc::connection_lost) || ec == asio::error::connection_reset ||
                               ec == asio::error::broken_pipe;
    const bool probe_in_flight =
        probe_written && probe_reached && !server_went_on && closed_at_once && probe_.probe() != 0 &&
        flights_.find(probe_.probe()) != nullptr;
    const std::uint16_t refused = probe_.connection_ended(server_closed, session_.publishes_in_flight(), probe_in_flight);
    if (refused != 0) fail_refused(refused);
}

void engine::write_probe(std::uint16_t packet_id) {
    if (flights_.find(packet_id) == nullptr) return;
    probe_barrier_ = write_probe_ping();
    (void)resend(packet_id);
    probe_end_ = appended_;
    probe_tail_ = write_probe_ping();
}

// Milliseconds until the settling probe goes (0: due), across the clock's wrap every 49.7 days.
core::millis engine::settle_left() const {
    const auto left = static_cast<std::int32_t>(settled_at_ - now());
    return left > 0 ? static_cast<core::millis>(left) : 0;
}

void engine::write_settled_probe() {
    if (settling_probe_ == 0 || settle_left() != 0 || state_ != state::connected || link_failed_) return;
    write_probe(std::exchange(settling_probe_, 0));
}

// A PINGREQ beside the probe; returns its number on this connection (0: not written, and
// then no strike either).
std::uint32_t engine::write_probe_ping() {
    std::array<std::uint8_t, 2> packet{};
    if (session_.ping(packet, now()).err != core::error::none) return 0;
    append(packet);
    arm_ticker();  // its answer is awaited within the response timeout, as any PINGREQ's
    return ++pings_written_;
}

void engine::on_publish_acknowledged(std::uint16_t packet_id) {
    if (!probe_.acknowledged(packet_id)) return;
    // The probe went through: what waited behind it goes now, in order [MQTT-4.6.0-1].
    auto held = std::move(held_resends_);
    held_resends_.clear();
    for (const std::uint16_t id : held) (void)resend(id);
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
