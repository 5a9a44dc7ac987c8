#pragma once
// UTF-8 as MQTT 3.1.1 requires it of every string field [MQTT-1.5.3].

#include <string_view>

namespace tether::core {

// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates
// U+D800..U+DFFF, nothing past U+10FFFF) [MQTT-1.5.3-1] and has no U+0000 [MQTT-1.5.3-2].
// U+FEFF is kept as it is, never skipped [MQTT-1.5.3-3].
[[nodiscard]] bool is_valid_mqtt_utf8(std::string_view text) noexcept;

}  // namespace tether::core
