// libFuzzer: any bytes into the JSON5 reader. Nothing may crash, hang or throw anything but
// parse_error; an error must point inside the text; a value must print as JSON; and where
// the bytes are plain JSON, the reader must agree with nlohmann::json's own parser.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tether/json5/json5.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // Depth is bounded by the input's size here, so lift the limit and let the parser's
    // own stack take whatever nesting the fuzzer builds.
    const tether::json5::limits bounds{.max_depth = size + 1};
    nlohmann::json value;
    bool parsed = false;
    try {
        value = tether::json5::parse(text, "fuzz", bounds);
        parsed = true;
    } catch (const tether::json5::parse_error& e) {
        const std::string expected_prefix =
            "fuzz:" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": ";
        if (e.line == 0 || e.column == 0 || e.line > size + 1 || e.column > size + 1) std::abort();
        if (std::string_view(e.what()).substr(0, expected_prefix.size()) != expected_prefix) std::abort();
        if (e.message.empty()) std::abort();
    }
    if (parsed) {
        // Strings are UTF-8 by construction, so dump() must not throw (it would on bad UTF-8).
        const std::string printed = value.dump();
        // What dump() prints is JSON, and JSON is JSON5: reading it back gives the same
        // value, except that NaN and Infinity print as null.
        const auto again = tether::json5::parse(printed, "printed", bounds);
        if (again.dump() != printed) std::abort();
    }
    // The oracle: for valid JSON, both parsers give the same value. nlohmann's lexer takes
    // a NUL byte for the end of the input ("3\0x" is 3 to it), so texts with one are left out.
    if (text.find('\0') != std::string_view::npos) return 0;
    const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!json.is_discarded()) {
        if (!parsed) std::abort();
        if (json != value) std::abort();
    }
    return 0;
}
