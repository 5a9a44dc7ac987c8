#pragma once
// An application message as a subscription handler sees it.

#include <cstdint>
#include <span>
#include <string_view>

#include "tether/core/packet.hpp"

namespace tether::client {

// Topic and payload are valid for the handler call only (a copy is made for asynchronous
// handlers). The payload is followed by a NUL byte, so a text payload can be used as a C
// string: text().data() is NUL-terminated.
struct message {
    std::string_view topic{};
    std::span<const std::uint8_t> payload{};
    core::qos qos = core::qos::at_most_once;
    bool retain = false;
    bool dup = false;

    [[nodiscard]] std::string_view text() const noexcept {
        return {reinterpret_cast<const char*>(payload.data()), payload.size()};
    }
};

}  // namespace tether::client
