// Replies to Store and metric reads (PROTOCOL.md §2): JSON values, null, {"error"}.

#include <gtest/gtest.h>

#include "tether/device/error.hpp"
#include "tether/device/store_reply.hpp"

namespace tether::device {
namespace {

TEST(StoreReply, ValuesOfEachType) {
    EXPECT_EQ(*convert_store_value<std::string>(parse_store_reply(R"("Acme Rocket")")).value, "Acme Rocket");
    EXPECT_EQ(*convert_store_value<double>(parse_store_reply("21.5")).value, 21.5);
    EXPECT_EQ(*convert_store_value<std::int64_t>(parse_store_reply("55")).value, 55);
    EXPECT_EQ(*convert_store_value<std::int64_t>(parse_store_reply("55.0")).value, 55);
    EXPECT_EQ(*convert_store_value<bool>(parse_store_reply("true")).value, true);
    // The string "null" and an empty string are values, unlike Ioto's bare text.
    EXPECT_EQ(*convert_store_value<std::string>(parse_store_reply(R"("null")")).value, "null");
    EXPECT_EQ(*convert_store_value<std::string>(parse_store_reply(R"("")")).value, "");
}

TEST(StoreReply, NullIsNotFound) {
    const auto r = convert_store_value<std::string>(parse_store_reply("null"));
    EXPECT_EQ(r.ec, make_error_code(errc::not_found));
    EXPECT_FALSE(r.value);
}

TEST(StoreReply, WrongTypeIsAnError) {
    EXPECT_EQ(convert_store_value<double>(parse_store_reply(R"("55")")).ec, make_error_code(errc::wrong_type));
    EXPECT_EQ(convert_store_value<std::string>(parse_store_reply("55")).ec, make_error_code(errc::wrong_type));
    EXPECT_EQ(convert_store_value<bool>(parse_store_reply("1")).ec, make_error_code(errc::wrong_type));
    EXPECT_EQ(convert_store_value<std::int64_t>(parse_store_reply("1.5")).ec, make_error_code(errc::wrong_type));
    EXPECT_EQ(convert_store_value<std::int64_t>(parse_store_reply("1e300")).ec, make_error_code(errc::wrong_type));
    EXPECT_EQ(convert_store_value<std::int64_t>(parse_store_reply("18446744073709551615")).ec,
              make_error_code(errc::wrong_type));
}

TEST(StoreReply, ErrorsAndGarbage) {
    const auto e = parse_store_reply(R"({"error":"no such device"})");
    EXPECT_EQ(e.ec, make_error_code(errc::cloud_error));
    EXPECT_EQ(e.error_message, "no such device");
    EXPECT_EQ(parse_store_reply("Acme Rocket").ec, make_error_code(errc::bad_reply));
    EXPECT_EQ(parse_store_reply("").ec, make_error_code(errc::bad_reply));
    EXPECT_EQ(parse_store_reply(std::string(max_reply_size + 1, ' ')).ec, make_error_code(errc::bad_reply));
    EXPECT_EQ(parse_store_reply(std::string(100000, '[')).ec, make_error_code(errc::bad_reply));
    // An object that is a value, not an error.
    EXPECT_FALSE(parse_store_reply(R"({"error":"x","more":1})").ec);
}

TEST(StoreReply, WholeNumbersAreWrittenAsIntegers) {
    EXPECT_EQ(json_number(60).dump(), "60");
    EXPECT_EQ(json_number(-3).dump(), "-3");
    EXPECT_EQ(json_number(21.5).dump(), "21.5");
    EXPECT_EQ(json_number(9007199254740991.0).dump(), "9007199254740991");
    EXPECT_EQ(json_number(1e300).dump(), nlohmann::json(1e300).dump()) << "past 2^53 it stays a double";
}

}  // namespace
}  // namespace tether::device
