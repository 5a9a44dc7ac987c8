#pragma once
// Helpers shared by the core tests: byte vectors, and a session driver that records
// events as owned values so they can be compared after the views have expired.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tether/core/core.hpp"

namespace tether::test {

using byte_vector = std::vector<std::uint8_t>;

inline core::bytes as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline byte_vector concat(std::initializer_list<byte_vector> parts) {
    byte_vector out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// An event with everything it points at copied out.
struct recorded {
    core::event_type type = core::event_type::none;
    core::error err = core::error::none;
    std::uint16_t packet_id = 0;
    bool session_present = false;
    core::connack_code code = core::connack_code::accepted;
    std::string topic;
    std::string payload;
    core::qos qos = core::qos::at_most_once;
    bool retain = false;
    bool dup = false;
    byte_vector return_codes;
    byte_vector reply;

    bool operator==(const recorded&) const = default;
};

inline recorded record(const core::event& e) {
    recorded r;
    r.type = e.type;
    r.err = e.err;
    r.packet_id = e.packet_id;
    r.session_present = e.connack.session_present;
    r.code = e.connack.code;
    r.topic = std::string(e.message.topic);
    r.payload.assign(e.message.payload.begin(), e.message.payload.end());
    r.qos = e.message.qos;
    r.retain = e.message.retain;
    r.dup = e.message.dup;
    r.return_codes.assign(e.return_codes.begin(), e.return_codes.end());
    r.reply.assign(e.reply.begin(), e.reply.end());
    return r;
}

// Polls until the session has nothing more to say (bounded, so a bug cannot hang a test;
// a sticky error is recorded once).
inline std::vector<recorded> drain(core::session& s, core::millis now) {
    std::vector<recorded> out;
    for (int i = 0; i < 10'000; ++i) {
        const core::event e = s.poll(now);
        if (e.type == core::event_type::none) break;
        out.push_back(record(e));
        if (e.type == core::event_type::error) break;
    }
    return out;
}

// Feeds `input` in pieces that end at each of `cuts`, draining events after each piece.
inline std::vector<recorded> feed_in_pieces(core::session& s, std::span<const std::uint8_t> input,
                                            const std::vector<std::size_t>& cuts, core::millis now) {
    std::vector<recorded> events;
    std::size_t at = 0;
    auto pieces = cuts;
    pieces.push_back(input.size());
    for (const std::size_t end : pieces) {
        while (at < end) {
            const std::size_t took = s.feed(input.subspan(at, end - at));
            at += took;
            auto more = drain(s, now);
            events.insert(events.end(), more.begin(), more.end());
            if (!events.empty() && events.back().type == core::event_type::error) return events;
            if (took == 0) return events;  // buffer full and nothing consumed: stop
        }
    }
    auto more = drain(s, now);
    events.insert(events.end(), more.begin(), more.end());
    return events;
}

}  // namespace tether::test
