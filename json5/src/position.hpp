#pragma once
// Byte offsets into line and column numbers, computed only when an error is reported so
// that the parser's hot loops never count lines.

#include <cstddef>
#include <string_view>

namespace tether::json5::detail {

struct position {
    std::size_t line = 1;
    std::size_t column = 1;
};

// The 1-based line and column of byte `offset` (at most text.size()). Lines end at LF, CR,
// CR LF (one break), U+2028 and U+2029; columns count code points, i.e. every byte that is
// not a UTF-8 continuation byte.
[[nodiscard]] position locate(std::string_view text, std::size_t offset) noexcept;

}  // namespace tether::json5::detail
