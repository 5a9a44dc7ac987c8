#pragma once
// What an outbound packet id of the session waits for (session.cpp, session_restore.cpp).

#include <cstdint>

namespace tether::core::detail {

// The order of the first three is the QoS 2 flow.
enum slot_state : std::uint8_t {
    awaiting_puback = 1,
    awaiting_pubrec,
    awaiting_pubcomp,  // PUBREL sent
    awaiting_suback,
    awaiting_unsuback,
};

constexpr bool is_publish_state(std::uint8_t s) noexcept { return s <= awaiting_pubcomp; }

}  // namespace tether::core::detail
