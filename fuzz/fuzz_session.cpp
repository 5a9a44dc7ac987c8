// libFuzzer: a connected session fed arbitrary server bytes in arbitrary pieces, with the
// clock moving and the client publishing in between. Checks the session's invariants:
// never more in flight than slots or window, never packet id 0, replies well-formed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "tether/core/session.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace tether::core;
    static_session<4, 4, 256> s({.window = 3, .response_timeout_ms = 500, .max_packet_size = 256});
    std::array<std::uint8_t, 300> tx{};
    millis now = 0;
    // The first byte picks the connection: clean or persistent, keep-alive on or off.
    const std::uint8_t mode = size > 0 ? data[0] : 0;
    if (size > 0) ++data, --size;
    if (s.connect({.client_id = "f", .keep_alive_s = static_cast<std::uint16_t>(mode & 1 ? 1 : 0),
                   .clean_session = (mode & 2) != 0},
                  tx, now)
            .err != error::none) {
        std::abort();
    }

    std::size_t at = 0;
    while (at < size) {
        // A control byte: how many input bytes come next, and what the client does.
        const std::uint8_t control = data[at++];
        const std::size_t chunk = control & 0x1F;
        const std::size_t n = chunk < size - at ? chunk : size - at;
        at += s.feed({data + at, n});
        for (int i = 0; i < 64; ++i) {
            const event e = s.poll(now);
            if (e.type == event_type::none) break;
            if (e.reply.size() > 4) std::abort();
            if (e.type == event_type::message && e.message.qos != qos::at_most_once && e.message.packet_id == 0) std::abort();
            if (e.type == event_type::error) {
                if (s.sticky_error() != e.err || s.is_connected()) std::abort();
                break;
            }
        }
        switch (control >> 5) {
        case 1: (void)s.publish({.topic = "t", .qos = qos::at_least_once}, tx, now); break;
        case 2: (void)s.publish({.topic = "t", .qos = qos::exactly_once}, tx, now); break;
        case 3: {
            const subscribe_topic t[] = {{"a/+", qos::exactly_once}};
            (void)s.subscribe(t, tx, now);
            break;
        }
        case 4: now += 700; break;
        case 5:
            s.connection_lost();
            (void)s.connect({.client_id = "f", .clean_session = (control & 1) != 0}, tx, now);
            break;
        default: break;
        }
        if (s.in_flight() > 4 || s.publishes_in_flight() > 3) std::abort();
        if (s.sticky_error() != error::none && s.is_connected()) std::abort();
    }
    return 0;
}
