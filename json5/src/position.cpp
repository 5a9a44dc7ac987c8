#include "position.hpp"

namespace tether::json5::detail {

position locate(std::string_view text, std::size_t offset) noexcept {
    position p;
    if (offset > text.size()) offset = text.size();
    for (std::size_t i = 0; i < offset; ++i) {
        const auto b = static_cast<unsigned char>(text[i]);
        const bool separator = b == 0xE2 && i + 2 < text.size() && text[i + 1] == '\x80' &&
                               (text[i + 2] == '\xA8' || text[i + 2] == '\xA9');  // U+2028, U+2029
        if (b == '\n' || (b == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n')) || separator) {
            ++p.line;
            p.column = 1;
            if (separator) i += 2;
        } else if (b == '\r') {
            // The CR of CR LF: the LF that follows ends the line.
        } else if ((b & 0xC0u) != 0x80u) {
            ++p.column;
        }
    }
    return p;
}

}  // namespace tether::json5::detail
