#pragma once
// Finds a message that the broker refuses by closing the connection, instead of resending
// it for ever. MQTT 3.1.1 gives a server no way to refuse a PUBLISH but to close the link:
// NATS 2.9 does so for every QoS 2 PUBLISH, AWS IoT for a topic the policy forbids. A
// client that simply reconnects and resends loops for ever, and the message behind it never
// goes either.
//
// After the server closed a connection with publishes unacknowledged, the next connection
// probes: only the oldest unacknowledged publish is sent, alone, between two PINGREQs, and
// the others wait until it is acknowledged. When the server closes the link `strikes`
// times in a row at once after answering the first PINGREQ (it had read everything before
// the probe) and before answering the second or acknowledging the probe, the probe is
// refused: the engine fails it (errc::publish_refused) and the next oldest becomes the
// probe. After the first such close, each further probe waits until its link has stayed up
// `settle_ms` without it: a refusing server keeps a link up as long as the probe is not
// sent and closes it as soon as it is, while a link that merely flaps is cut whenever it
// is cut, probe or not. A link cut while its probe waits ends the run of strikes.
// A link that merely flapped costs one round trip at a window of one (and, after a strike,
// up to settle_ms more); a cut passes for a refusal only if, `strikes` times running, it
// falls inside those few milliseconds, and all but the first time after the link had
// lasted `settle_ms` without one.

#include <cstddef>
#include <cstdint>

namespace tether::client::detail {

class refusal_probe {
public:
    static constexpr unsigned strikes = 3;  // in a row: a probing connection that ends otherwise starts again
    // A close counts only this soon after the PINGRESP ahead of the probe: a server refusing
    // it closes as it reads it (NATS, AWS IoT), right behind that PINGRESP.
    static constexpr std::uint32_t close_within_ms = 25;
    // How long a link must last before a probe after a strike goes. Random cuts 40-160 ms
    // apart (scripts/soak_cuts.sh) once failed a message by landing at its probe three times
    // running; cuts that must also spare a link this long, twice, are far rarer.
    static constexpr std::uint32_t settle_ms = 500;

    [[nodiscard]] bool probing() const noexcept { return probing_; }
    [[nodiscard]] std::uint16_t probe() const noexcept { return probe_; }  // 0: none chosen yet
    // The probe waits `settle_ms` into its connection: the previous one struck.
    [[nodiscard]] bool must_settle() const noexcept { return probing_ && strikes_ != 0; }

    // A connection that had been accepted (CONNACK) ended. `server_closed`: the server
    // closed it (end of stream, reset), not a timeout of ours; `publishes_in_flight`: QoS
    // 1/2 publishes unacknowledged; `probe_in_flight`: the probe, if any, still is.
    // Returns the packet id of a publish the server refuses, or 0.
    [[nodiscard]] std::uint16_t connection_ended(bool server_closed, std::size_t publishes_in_flight,
                                                 bool probe_in_flight) noexcept {
        if (!probing_) {
            probing_ = server_closed && publishes_in_flight != 0;
            probe_ = 0;
            strikes_ = 0;
            return 0;
        }
        if (probe_ == 0) return 0;
        if (!server_closed || !probe_in_flight) {
            strikes_ = 0;  // in a row only: this connection ended for another reason
            return 0;
        }
        if (++strikes_ < strikes) return 0;
        const std::uint16_t refused = probe_;
        probe_ = 0;  // the next oldest is the next probe
        strikes_ = 0;
        return refused;
    }

    // A publish about to be resent after CONNACK, oldest first: true when it must wait for
    // the probe (which is the first one while probing).
    [[nodiscard]] bool hold(std::uint16_t packet_id) noexcept {
        if (!probing_) return false;
        if (probe_ == 0) probe_ = packet_id;
        return packet_id != probe_;
    }

    // The server acknowledged a publish (PUBACK, PUBREC, PUBCOMP). True when that ends the
    // probing: what waited may go.
    [[nodiscard]] bool acknowledged(std::uint16_t packet_id) noexcept {
        if (!probing_ || packet_id != probe_) return false;
        reset();
        return true;
    }

    // Nothing left to probe with (no publish unacknowledged).
    void reset() noexcept {
        probing_ = false;
        probe_ = 0;
        strikes_ = 0;
    }

private:
    bool probing_ = false;
    std::uint16_t probe_ = 0;
    unsigned strikes_ = 0;
};

}  // namespace tether::client::detail
