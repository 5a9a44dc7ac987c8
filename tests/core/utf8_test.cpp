// UTF-8 as MQTT requires it [MQTT-1.5.3]: well-formed per RFC 3629, no U+0000.

#include <gtest/gtest.h>

#include <string>

#include "tether/core/utf8.hpp"

namespace tether::core {
namespace {

TEST(Utf8, WellFormed) {
    for (const char* ok : {"", "abc", "\x7F",
                           "\xC2\x80",          // U+0080, smallest two-byte form
                           "\xDF\xBF",          // U+07FF
                           "\xE0\xA0\x80",      // U+0800, smallest three-byte form
                           "\xED\x9F\xBF",      // U+D7FF, just below the surrogates
                           "\xEE\x80\x80",      // U+E000, just above them
                           "\xEF\xBB\xBF",      // U+FEFF is kept, not skipped [MQTT-1.5.3-3]
                           "\xEF\xBF\xBF",      // U+FFFF
                           "\xF0\x90\x80\x80",  // U+10000, smallest four-byte form
                           "\xF4\x8F\xBF\xBF",  // U+10FFFF, the largest
                           "\xF0\x9F\x98\x80"}) {
        EXPECT_TRUE(is_valid_mqtt_utf8(ok)) << ok;
    }
}

TEST(Utf8, IllFormed) {
    for (const char* bad : {"\x80",              // a lone continuation byte
                            "\xC0\x80",          // overlong U+0000
                            "\xC1\xBF",          // overlong U+007F
                            "\xE0\x9F\xBF",      // overlong U+07FF
                            "\xF0\x8F\xBF\xBF",  // overlong U+FFFF
                            "\xED\xA0\x80",      // U+D800, a surrogate [MQTT-1.5.3-1]
                            "\xED\xBF\xBF",      // U+DFFF
                            "\xF4\x90\x80\x80",  // U+110000, past the last code point
                            "\xF8\x88\x80\x80\x80", "\xFE", "\xFF",
                            "\xC2",              // truncated
                            "\xE2\x82",          // truncated
                            "\xF0\x9F\x98",      // truncated
                            "\xC2\x41",          // continuation byte missing
                            "a\xE2\x82"}) {
        EXPECT_FALSE(is_valid_mqtt_utf8(bad)) << testing::PrintToString(std::string(bad));
    }
}

TEST(Utf8, NulIsRefused) {
    EXPECT_FALSE(is_valid_mqtt_utf8(std::string_view("\0", 1)));  // [MQTT-1.5.3-2]
    EXPECT_FALSE(is_valid_mqtt_utf8(std::string_view("ab\0c", 4)));
}

}  // namespace
}  // namespace tether::core
