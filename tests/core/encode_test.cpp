// Byte-exact encodings of every packet a client sends, a comment per field, held against
// the tables of MQTT 3.1.1 chapter 3.

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "test_util.hpp"
#include "tether/core/encode.hpp"

namespace tether::core {
namespace {

using test::as_bytes;
using test::byte_vector;

// Encodes with the size-first discipline: measure, allocate exactly, write, and check the
// two sizes agree and a one-byte-short buffer is refused.
template <class Encode>
byte_vector encode(Encode&& fn) {
    const encode_result measured = fn(std::span<std::uint8_t>{});
    EXPECT_EQ(measured.err, error::buffer_too_small);
    byte_vector out(measured.size);
    const encode_result r = fn(std::span<std::uint8_t>(out));
    EXPECT_EQ(r.err, error::none);
    EXPECT_EQ(r.size, measured.size);
    if (!out.empty()) {
        byte_vector short_buf(out.size() - 1);
        const encode_result s = fn(std::span<std::uint8_t>(short_buf));
        EXPECT_EQ(s.err, error::buffer_too_small);
        EXPECT_EQ(s.size, out.size());
    }
    return out;
}

TEST(EncodeConnect, MinimalWithCleanSession) {
    const connect_options o{.client_id = "tether", .keep_alive_s = 60, .clean_session = true};
    const byte_vector expected{
        0x10, 18,                        // CONNECT, remaining length 18
        0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name [MQTT-3.1.2-1]
        0x04,                            // protocol level 4 [MQTT-3.1.2-2]
        0x02,                            // flags: clean session
        0x00, 0x3C,                      // keep-alive 60 s
        0x00, 0x06, 't', 'e', 't', 'h', 'e', 'r',  // client id
    };
    EXPECT_EQ(encode([&](auto out) { return encode_connect(o, out); }), expected);
    EXPECT_EQ(connect_size(o), expected.size());
}

TEST(EncodeConnect, EmptyClientIdNeedsCleanSession) {
    const connect_options o{.client_id = "", .keep_alive_s = 0, .clean_session = true};
    const byte_vector expected{
        0x10, 12,                        // CONNECT, remaining length 12
        0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name
        0x04,                            // level
        0x02,                            // clean session
        0x00, 0x00,                      // keep-alive off
        0x00, 0x00,                      // zero-length client id [MQTT-3.1.3-6]
    };
    EXPECT_EQ(encode([&](auto out) { return encode_connect(o, out); }), expected);

    std::array<std::uint8_t, 64> buf{};
    EXPECT_EQ(encode_connect({.client_id = "", .clean_session = false}, buf).err,
              error::empty_client_id_requires_clean_session);  // [MQTT-3.1.3-7]
}

TEST(EncodeConnect, EveryFieldPresent) {
    const will_message will{.topic = "w/t", .payload = as_bytes("bye"), .qos = qos::at_least_once, .retain = true};
    const connect_options o{.client_id = "c1",
                            .keep_alive_s = 10,
                            .clean_session = false,
                            .will = &will,
                            .user_name = "u",
                            .password = as_bytes("p")};
    const byte_vector expected{
        0x10, 30,                        // CONNECT, remaining length 30
        0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name
        0x04,                            // level
        0xEC,                            // user name 0x80, password 0x40, will retain 0x20,
                                         // will QoS 1 0x08, will 0x04, clean session 0
        0x00, 0x0A,                      // keep-alive 10 s
        0x00, 0x02, 'c', '1',            // client id
        0x00, 0x03, 'w', '/', 't',       // will topic
        0x00, 0x03, 'b', 'y', 'e',       // will message
        0x00, 0x01, 'u',                 // user name
        0x00, 0x01, 'p',                 // password
    };
    EXPECT_EQ(encode([&](auto out) { return encode_connect(o, out); }), expected);
}

TEST(EncodeConnect, WillQos2WithoutRetainAndUserWithoutPassword) {
    const will_message will{.topic = "x", .payload = {}, .qos = qos::exactly_once, .retain = false};
    const connect_options o{.client_id = "a", .keep_alive_s = 0x1234, .will = &will, .user_name = ""};
    const byte_vector expected{
        0x10, 20,                        // CONNECT, remaining length 20
        0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name
        0x04,                            // level
        0x96,                            // user name 0x80, will QoS 2 0x10, will 0x04, clean 0x02
        0x12, 0x34,                      // keep-alive 0x1234 s, most significant byte first
        0x00, 0x01, 'a',                 // client id
        0x00, 0x01, 'x',                 // will topic
        0x00, 0x00,                      // empty will message
        0x00, 0x00,                      // empty user name: present, zero length
    };
    EXPECT_EQ(encode([&](auto out) { return encode_connect(o, out); }), expected);
}

TEST(EncodeConnect, RefusesWhatTheSpecificationForbids) {
    std::array<std::uint8_t, 128> buf{};
    EXPECT_EQ(encode_connect({.client_id = "a", .password = as_bytes("p")}, buf).err,
              error::password_without_user_name);  // [MQTT-3.1.2-22]
    const will_message wild{.topic = "a/#"};
    EXPECT_EQ(encode_connect({.client_id = "a", .will = &wild}, buf).err, error::invalid_topic_name);
    const will_message bad_qos{.topic = "a", .qos = static_cast<qos>(3)};
    EXPECT_EQ(encode_connect({.client_id = "a", .will = &bad_qos}, buf).err, error::invalid_qos);
    EXPECT_EQ(encode_connect({.client_id = std::string_view("a\0b", 3)}, buf).err, error::invalid_string);
    EXPECT_EQ(encode_connect({.client_id = "\xC0\x80"}, buf).err, error::invalid_string);  // overlong NUL
    EXPECT_EQ(encode_connect({.client_id = "a", .user_name = "\xFF"}, buf).err, error::invalid_string);
    const std::string long_id(65'536, 'x');
    EXPECT_EQ(encode_connect({.client_id = long_id}, buf).err, error::invalid_string);
    EXPECT_EQ(connect_size({.client_id = long_id}), 0u);
}

TEST(EncodePublish, Qos0) {
    const byte_vector expected{
        0x30, 7,                    // PUBLISH, QoS 0, remaining length 7
        0x00, 0x03, 'a', '/', 'b',  // topic name
                                    // no packet id at QoS 0 [MQTT-2.3.1-5]
        'h', 'i',                   // payload
    };
    EXPECT_EQ(encode([](auto out) {
                  return encode_publish({.topic = "a/b", .payload = as_bytes("hi")}, out);
              }),
              expected);
}

TEST(EncodePublish, Qos1RetainWithPacketId) {
    const byte_vector expected{
        0x33, 9,                    // PUBLISH, QoS 1 (0x02), RETAIN (0x01)
        0x00, 0x03, 'a', '/', 'b',  // topic name
        0x00, 0x0A,                 // packet id 10
        'h', 'i',                   // payload
    };
    EXPECT_EQ(encode([](auto out) {
                  return encode_publish({.topic = "a/b", .payload = as_bytes("hi"), .qos = qos::at_least_once,
                                         .retain = true, .packet_id = 10},
                                        out);
              }),
              expected);
}

TEST(EncodePublish, Qos2DupEmptyPayload) {
    const byte_vector expected{
        0x3C, 5,         // PUBLISH, DUP (0x08), QoS 2 (0x04)
        0x00, 0x01, 't', // topic name
        0x12, 0x34,      // packet id 0x1234
                         // empty payload [MQTT-3.3.3]
    };
    EXPECT_EQ(encode([](auto out) {
                  return encode_publish({.topic = "t", .qos = qos::exactly_once, .dup = true, .packet_id = 0x1234},
                                        out);
              }),
              expected);
}

TEST(EncodePublish, RemainingLengthAtEveryBoundary) {
    // [MQTT-2.2.3] table 2.4: 1 to 4 bytes, seven bits each, least significant first.
    struct row {
        std::size_t remaining;
        byte_vector header;
    };
    const row rows[] = {
        {5, {0x30, 0x05}},
        {127, {0x30, 0x7F}},
        {128, {0x30, 0x80, 0x01}},
        {16'383, {0x30, 0xFF, 0x7F}},
        {16'384, {0x30, 0x80, 0x80, 0x01}},
        {2'097'151, {0x30, 0xFF, 0xFF, 0x7F}},
        {2'097'152, {0x30, 0x80, 0x80, 0x80, 0x01}},
    };
    for (const row& r : rows) {
        const byte_vector payload(r.remaining - 5, 0xAB);  // topic "a/b" takes 5 bytes
        const byte_vector out = encode([&](auto o) {
            return encode_publish({.topic = "a/b", .payload = payload}, o);
        });
        ASSERT_EQ(out.size(), r.header.size() + r.remaining) << r.remaining;
        EXPECT_EQ(byte_vector(out.begin(), out.begin() + static_cast<long>(r.header.size())), r.header) << r.remaining;
    }
}

TEST(EncodePublish, LargestAndTooLarge) {
    // Measured only (an empty output span): the payload bytes are never read.
    static const std::uint8_t one = 0;
    const auto fake_payload = [](std::size_t n) { return bytes{&one, n}; };
    const std::size_t max_payload = max_remaining_length - 5;
    EXPECT_EQ(publish_size({.topic = "a/b", .payload = fake_payload(max_payload)}), 1 + 4 + max_remaining_length);
    EXPECT_EQ(encode_publish({.topic = "a/b", .payload = fake_payload(max_payload + 1)}, {}).err,
              error::packet_too_large);
}

TEST(EncodePublish, RefusesBadArguments) {
    std::array<std::uint8_t, 64> buf{};
    EXPECT_EQ(encode_publish({.topic = "a/+"}, buf).err, error::invalid_topic_name);  // [MQTT-3.3.2-2]
    EXPECT_EQ(encode_publish({.topic = ""}, buf).err, error::invalid_topic_name);     // [MQTT-4.7.3-1]
    EXPECT_EQ(encode_publish({.topic = "a", .qos = qos::at_least_once}, buf).err, error::invalid_packet_id);
    EXPECT_EQ(encode_publish({.topic = "a", .qos = static_cast<qos>(3), .packet_id = 1}, buf).err,
              error::invalid_qos);
    EXPECT_EQ(encode_publish({.topic = "a", .dup = true}, buf).err, error::invalid_flags);  // [MQTT-3.3.1-2]
}

TEST(EncodePublish, SizeBeforeThePacketIdIsKnown) {
    // The session gives QoS 1/2 packets their id; the caller measures before that.
    EXPECT_EQ(publish_size({.topic = "a/b", .payload = as_bytes("hi"), .qos = qos::exactly_once}), 11u);
    EXPECT_EQ(publish_size({.topic = "a/b", .payload = as_bytes("hi")}), 9u);
    EXPECT_EQ(publish_size({.topic = "a/+"}), 7u);  // measured, not checked: encode_publish checks
    EXPECT_EQ(encode_publish({.topic = "a/+"}, {}).err, error::invalid_topic_name);
}

TEST(EncodePublish, MarkDupSetsOnlyTheDupBitOfQos1And2) {
    byte_vector q1{0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x01};
    mark_dup(q1);
    EXPECT_EQ(q1[0], 0x3A);
    byte_vector q0{0x30, 0x03, 0x00, 0x01, 't'};
    mark_dup(q0);  // QoS 0 never carries DUP [MQTT-3.3.1-2]
    EXPECT_EQ(q0[0], 0x30);
}

TEST(EncodeAck, AllFourWithTheirFlags) {
    const byte_vector puback{0x40, 0x02, 0x00, 0x01};   // PUBACK, packet id 1
    const byte_vector pubrec{0x50, 0x02, 0xFF, 0xFF};   // PUBREC, packet id 65535
    const byte_vector pubrel{0x62, 0x02, 0x01, 0x00};   // PUBREL flags 0010 [MQTT-3.6.1-1], id 256
    const byte_vector pubcomp{0x70, 0x02, 0x00, 0x07};  // PUBCOMP, packet id 7
    EXPECT_EQ(encode([](auto o) { return encode_puback(1, o); }), puback);
    EXPECT_EQ(encode([](auto o) { return encode_pubrec(65535, o); }), pubrec);
    EXPECT_EQ(encode([](auto o) { return encode_pubrel(256, o); }), pubrel);
    EXPECT_EQ(encode([](auto o) { return encode_pubcomp(7, o); }), pubcomp);
    std::array<std::uint8_t, 4> buf{};
    EXPECT_EQ(encode_puback(0, buf).err, error::invalid_packet_id);
    EXPECT_EQ(encode_ack(packet_type::suback, 1, buf).err, error::unexpected_packet_type);
}

TEST(EncodeSubscribe, SeveralFilters) {
    const subscribe_topic topics[] = {{"a/+", qos::at_least_once}, {"b/#", qos::exactly_once}, {"c", qos::at_most_once}};
    const byte_vector expected{
        0x82, 18,                        // SUBSCRIBE, flags 0010 [MQTT-3.8.1-1]
        0x00, 0x01,                      // packet id 1
        0x00, 0x03, 'a', '/', '+', 0x01, // filter, requested QoS 1
        0x00, 0x03, 'b', '/', '#', 0x02, // filter, requested QoS 2
        0x00, 0x01, 'c', 0x00,           // filter, requested QoS 0
    };
    EXPECT_EQ(encode([&](auto o) { return encode_subscribe(1, topics, o); }), expected);
    EXPECT_EQ(subscribe_size(topics), expected.size());
}

TEST(EncodeSubscribe, RefusesBadArguments) {
    std::array<std::uint8_t, 64> buf{};
    const subscribe_topic ok[] = {{"a"}};
    const subscribe_topic bad_filter[] = {{"a/#/b"}};
    const subscribe_topic bad_qos[] = {{"a", static_cast<qos>(3)}};
    EXPECT_EQ(encode_subscribe(0, ok, buf).err, error::invalid_packet_id);
    EXPECT_EQ(encode_subscribe(1, {}, buf).err, error::no_topic_filters);  // [MQTT-3.8.3-3]
    EXPECT_EQ(encode_subscribe(1, bad_filter, buf).err, error::invalid_topic_filter);
    EXPECT_EQ(encode_subscribe(1, bad_qos, buf).err, error::invalid_qos);
}

TEST(EncodeUnsubscribe, SeveralFilters) {
    const std::string_view filters[] = {"a/+", "b/#"};
    const byte_vector expected{
        0xA2, 12,                   // UNSUBSCRIBE, flags 0010 [MQTT-3.10.1-1]
        0x00, 0x02,                 // packet id 2
        0x00, 0x03, 'a', '/', '+',  // filter
        0x00, 0x03, 'b', '/', '#',  // filter
    };
    EXPECT_EQ(encode([&](auto o) { return encode_unsubscribe(2, filters, o); }), expected);
    std::array<std::uint8_t, 64> buf{};
    EXPECT_EQ(encode_unsubscribe(2, {}, buf).err, error::no_topic_filters);  // [MQTT-3.10.3-2]
    const std::string_view bad[] = {"a+"};
    EXPECT_EQ(encode_unsubscribe(2, bad, buf).err, error::invalid_topic_filter);
}

TEST(EncodeEmpty, PingreqAndDisconnect) {
    EXPECT_EQ(encode([](auto o) { return encode_pingreq(o); }), (byte_vector{0xC0, 0x00}));     // [MQTT-3.12]
    EXPECT_EQ(encode([](auto o) { return encode_disconnect(o); }), (byte_vector{0xE0, 0x00}));  // [MQTT-3.14]
    std::array<std::uint8_t, 2> buf{};
    EXPECT_EQ(encode_empty(packet_type::pingresp, buf).err, error::unexpected_packet_type);
}

}  // namespace
}  // namespace tether::core
