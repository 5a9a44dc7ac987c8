#include "tether/core/utf8.hpp"

#include <cstdint>

namespace tether::core {

bool is_valid_mqtt_utf8(std::string_view text) noexcept {
    const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
    const auto* end = p + text.size();
    while (p != end) {
        std::uint32_t c = *p++;
        if (c < 0x80) {
            if (c == 0) return false;  // [MQTT-1.5.3-2]
            continue;
        }
        // Lead byte: how many continuation bytes follow, and the smallest code point that
        // needs this many (anything below is an overlong form, which RFC 3629 forbids).
        unsigned more;
        std::uint32_t smallest;
        if ((c & 0xE0) == 0xC0) {
            more = 1, smallest = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            more = 2, smallest = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            more = 3, smallest = 0x10000, c &= 0x07;
        } else {
            return false;  // a stray continuation byte, or 0xF8..0xFF
        }
        if (static_cast<std::size_t>(end - p) < more) return false;
        for (; more != 0; --more) {
            const std::uint8_t b = *p++;
            if ((b & 0xC0) != 0x80) return false;
            c = (c << 6) | (b & 0x3F);
        }
        // Surrogates are not characters in UTF-8 [MQTT-1.5.3-1].
        if (c < smallest || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    }
    return true;
}

}  // namespace tether::core
