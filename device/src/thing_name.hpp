#pragma once
// A thing name from the cloud becomes the MQTT client id, the CN and part of every topic,
// so it must be usable as all three.

#include <string_view>

namespace tether::device::detail {

// 1 to 128 bytes of [A-Za-z0-9_.:-]: no topic separators or wildcards, no control bytes.
[[nodiscard]] inline bool is_valid_thing_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 128) return false;
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '.' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace tether::device::detail
