// Decoding every packet a server sends, byte-exact, and every rule a server's packet can
// break. Each vector is decoded again from every proper prefix (which must say
// "incomplete", never decide early on partial input) and whole.

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "tether/core/decode.hpp"

namespace tether::core {
namespace {

using test::byte_vector;

// Decodes `frame` whole; before that, checks that every proper prefix is incomplete or
// fails with the same error the whole frame gives (errors found on the first byte).
error decode_checked(const byte_vector& frame, incoming_packet& out) {
    const error whole = decode_packet(frame, out);
    for (std::size_t n = 0; n < frame.size(); ++n) {
        incoming_packet scratch;
        const error e = decode_packet(std::span(frame).first(n), scratch);
        if (e != error::incomplete) {
            EXPECT_EQ(e, whole) << "prefix of " << n << " bytes";
        }
    }
    return whole;
}

error decode_error(const byte_vector& frame) {
    incoming_packet p;
    return decode_checked(frame, p);
}

TEST(DecodeConnack, AcceptedAndSessionPresent) {
    incoming_packet p;
    ASSERT_EQ(decode_checked({0x20, 0x02,    // CONNACK, remaining length 2
                              0x00,          // acknowledge flags: session present 0
                              0x00},         // return code 0: accepted
                             p),
              error::none);
    EXPECT_EQ(p.type, packet_type::connack);
    EXPECT_FALSE(p.connack.session_present);
    EXPECT_EQ(p.connack.code, connack_code::accepted);

    ASSERT_EQ(decode_checked({0x20, 0x02, 0x01, 0x00}, p), error::none);  // session present 1
    EXPECT_TRUE(p.connack.session_present);
}

TEST(DecodeConnack, EveryRefusalCode) {
    // [MQTT-3.2.2.3] table 3.1: 1..5 refuse the connection.
    for (std::uint8_t code = 1; code <= 5; ++code) {
        incoming_packet p;
        ASSERT_EQ(decode_checked({0x20, 0x02, 0x00, code}, p), error::none);
        EXPECT_EQ(static_cast<std::uint8_t>(p.connack.code), code);
    }
}

TEST(DecodeConnack, Violations) {
    EXPECT_EQ(decode_error({0x20, 0x02, 0x00, 0x06}), error::invalid_connack);  // reserved code
    EXPECT_EQ(decode_error({0x20, 0x02, 0x02, 0x00}), error::invalid_connack);  // reserved flag bit 1
    EXPECT_EQ(decode_error({0x20, 0x02, 0x80, 0x00}), error::invalid_connack);  // reserved flag bit 7
    EXPECT_EQ(decode_error({0x20, 0x02, 0x01, 0x05}), error::invalid_connack);  // [MQTT-3.2.2-4]
    EXPECT_EQ(decode_error({0x20, 0x03, 0x00, 0x00, 0x00}), error::invalid_length);
    EXPECT_EQ(decode_error({0x20, 0x01, 0x00}), error::invalid_length);
    EXPECT_EQ(decode_error({0x21, 0x02, 0x00, 0x00}), error::invalid_flags);  // [MQTT-2.2.2-2]
}

TEST(DecodePublish, Qos0) {
    // Decoded packets are views: the frame must outlive them.
    const byte_vector frame{0x30, 0x07,                 // PUBLISH QoS 0, remaining length 7
                            0x00, 0x03, 'a', '/', 'b',  // topic name
                            'h', 'i'};                  // payload
    incoming_packet p;
    ASSERT_EQ(decode_checked(frame, p), error::none);
    EXPECT_EQ(p.type, packet_type::publish);
    EXPECT_EQ(p.publish.topic, "a/b");
    EXPECT_EQ(std::string(p.publish.payload.begin(), p.publish.payload.end()), "hi");
    EXPECT_EQ(p.publish.qos, qos::at_most_once);
    EXPECT_EQ(p.publish.packet_id, 0);
    EXPECT_FALSE(p.publish.retain);
    EXPECT_FALSE(p.publish.dup);
}

TEST(DecodePublish, Qos1RetainAndQos2DupEmptyPayload) {
    incoming_packet p;
    ASSERT_EQ(decode_checked({0x33, 0x07,       // PUBLISH QoS 1, RETAIN
                              0x00, 0x01, 't',  // topic name
                              0x00, 0x0A,       // packet id 10
                              'x', 'y'},        // payload
                             p),
              error::none);
    EXPECT_EQ(p.publish.qos, qos::at_least_once);
    EXPECT_TRUE(p.publish.retain);
    EXPECT_EQ(p.publish.packet_id, 10);
    EXPECT_EQ(p.packet_id, 10);
    EXPECT_EQ(p.publish.payload.size(), 2u);

    ASSERT_EQ(decode_checked({0x3C, 0x05,       // PUBLISH DUP, QoS 2
                              0x00, 0x01, 't',  // topic name
                              0xAB, 0xCD},      // packet id 0xABCD, no payload
                             p),
              error::none);
    EXPECT_EQ(p.publish.qos, qos::exactly_once);
    EXPECT_TRUE(p.publish.dup);
    EXPECT_EQ(p.publish.packet_id, 0xABCD);
    EXPECT_TRUE(p.publish.payload.empty());
}

TEST(DecodePublish, TwoByteRemainingLength) {
    byte_vector frame{0x30, 0x85, 0x01, 0x00, 0x01, 't'};  // remaining length 133
    frame.resize(3 + 133, 'z');
    incoming_packet p;
    ASSERT_EQ(decode_checked(frame, p), error::none);
    EXPECT_EQ(p.publish.payload.size(), 130u);
}

TEST(DecodePublish, Violations) {
    EXPECT_EQ(decode_error({0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01}), error::invalid_qos);  // [MQTT-3.3.1-4]
    EXPECT_EQ(decode_error({0x38, 0x03, 0x00, 0x01, 't'}), error::invalid_flags);            // DUP on QoS 0
    EXPECT_EQ(decode_error({0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00}), error::zero_packet_id);
    EXPECT_EQ(decode_error({0x30, 0x02, 0x00, 0x00}), error::invalid_topic_name);            // empty topic
    EXPECT_EQ(decode_error({0x30, 0x03, 0x00, 0x01, '#'}), error::invalid_topic_name);       // wildcard
    EXPECT_EQ(decode_error({0x30, 0x03, 0x00, 0x01, '+'}), error::invalid_topic_name);
    EXPECT_EQ(decode_error({0x30, 0x04, 0x00, 0x02, 'a', 0x00}), error::invalid_topic_name);  // U+0000
    EXPECT_EQ(decode_error({0x30, 0x04, 0x00, 0x02, 0xC0, 0x80}), error::invalid_topic_name);  // overlong
    EXPECT_EQ(decode_error({0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80}), error::invalid_topic_name);  // surrogate
    EXPECT_EQ(decode_error({0x30, 0x03, 0x00, 0x02, 'a'}), error::invalid_length);  // topic past the end
    EXPECT_EQ(decode_error({0x32, 0x04, 0x00, 0x01, 't', 0x00}), error::invalid_length);  // half a packet id
    EXPECT_EQ(decode_error({0x30, 0x01, 0x00}), error::invalid_length);
}

TEST(DecodeAcks, PacketIdOnly) {
    struct row {
        byte_vector frame;
        packet_type type;
    };
    const row rows[] = {
        {{0x40, 0x02, 0x00, 0x05}, packet_type::puback},    // PUBACK, id 5
        {{0x50, 0x02, 0x01, 0x00}, packet_type::pubrec},    // PUBREC, id 256
        {{0x62, 0x02, 0xFF, 0xFF}, packet_type::pubrel},    // PUBREL flags 0010, id 65535
        {{0x70, 0x02, 0x00, 0x01}, packet_type::pubcomp},   // PUBCOMP, id 1
        {{0xB0, 0x02, 0x12, 0x34}, packet_type::unsuback},  // UNSUBACK, id 0x1234
    };
    for (const row& r : rows) {
        incoming_packet p;
        ASSERT_EQ(decode_checked(r.frame, p), error::none);
        EXPECT_EQ(p.type, r.type);
        EXPECT_EQ(p.packet_id, (r.frame[2] << 8) | r.frame[3]);
    }
}

TEST(DecodeAcks, Violations) {
    for (const std::uint8_t first : {0x40, 0x50, 0x62, 0x70, 0xB0}) {
        const auto b = static_cast<std::uint8_t>(first);
        EXPECT_EQ(decode_error({b, 0x03, 0x00, 0x01, 0x00}), error::invalid_length) << int(first);
        EXPECT_EQ(decode_error({b, 0x01, 0x00}), error::invalid_length) << int(first);
        EXPECT_EQ(decode_error({b, 0x02, 0x00, 0x00}), error::zero_packet_id) << int(first);
    }
    EXPECT_EQ(decode_error({0x41, 0x02, 0x00, 0x01}), error::invalid_flags);
    EXPECT_EQ(decode_error({0x60, 0x02, 0x00, 0x01}), error::invalid_flags);  // PUBREL needs 0010
    EXPECT_EQ(decode_error({0x72, 0x02, 0x00, 0x01}), error::invalid_flags);
    EXPECT_EQ(decode_error({0xB2, 0x02, 0x00, 0x01}), error::invalid_flags);
}

TEST(DecodeSuback, EveryReturnCode) {
    const byte_vector frame{0x90, 0x06,               // SUBACK, remaining length 6
                            0x00, 0x07,               // packet id 7
                            0x00, 0x01, 0x02, 0x80};  // QoS 0, 1, 2 granted; failure
    incoming_packet p;
    ASSERT_EQ(decode_checked(frame, p), error::none);
    EXPECT_EQ(p.type, packet_type::suback);
    EXPECT_EQ(p.packet_id, 7);
    EXPECT_EQ(byte_vector(p.return_codes.begin(), p.return_codes.end()), (byte_vector{0, 1, 2, 0x80}));
}

TEST(DecodeSuback, Violations) {
    EXPECT_EQ(decode_error({0x90, 0x03, 0x00, 0x01, 0x03}), error::invalid_suback_code);  // [MQTT-3.9.3-2]
    EXPECT_EQ(decode_error({0x90, 0x03, 0x00, 0x01, 0x81}), error::invalid_suback_code);
    EXPECT_EQ(decode_error({0x90, 0x02, 0x00, 0x01}), error::invalid_length);  // no return code
    EXPECT_EQ(decode_error({0x90, 0x03, 0x00, 0x00, 0x00}), error::zero_packet_id);
    EXPECT_EQ(decode_error({0x92, 0x03, 0x00, 0x01, 0x00}), error::invalid_flags);
}

TEST(DecodePingresp, EmptyOnly) {
    incoming_packet p;
    ASSERT_EQ(decode_checked({0xD0, 0x00}, p), error::none);
    EXPECT_EQ(p.type, packet_type::pingresp);
    EXPECT_EQ(decode_error({0xD0, 0x01, 0x00}), error::invalid_length);
    EXPECT_EQ(decode_error({0xD1, 0x00}), error::invalid_flags);
}

TEST(DecodeFrame, TypesNoServerSends) {
    // Reserved 0 and 15, and the client-to-server types [MQTT-2.2.1] table 2.1.
    for (const std::uint8_t first : {0x00, 0x10, 0x82, 0xA2, 0xC0, 0xE0, 0xF0}) {
        EXPECT_EQ(decode_error({static_cast<std::uint8_t>(first), 0x00}), error::unexpected_packet_type) << int(first);
        frame_header h;
        // Decided on the first byte, before any length arrives.
        EXPECT_EQ(decode_frame_header(byte_vector{static_cast<std::uint8_t>(first)}, h), error::unexpected_packet_type);
    }
}

TEST(DecodeFrame, RemainingLengthBoundaries) {
    struct row {
        byte_vector header;
        std::uint32_t length;
    };
    const row rows[] = {
        {{0x30, 0x00}, 0},
        {{0x30, 0x7F}, 127},
        {{0x30, 0x80, 0x01}, 128},
        {{0x30, 0xFF, 0x7F}, 16'383},
        {{0x30, 0x80, 0x80, 0x01}, 16'384},
        {{0x30, 0xFF, 0xFF, 0x7F}, 2'097'151},
        {{0x30, 0x80, 0x80, 0x80, 0x01}, 2'097'152},
        {{0x30, 0xFF, 0xFF, 0xFF, 0x7F}, 268'435'455},  // the largest [MQTT-2.2.3]
    };
    for (const row& r : rows) {
        frame_header h;
        ASSERT_EQ(decode_frame_header(r.header, h), error::none) << r.length;
        EXPECT_EQ(h.remaining_length, r.length);
        EXPECT_EQ(h.header_size, r.header.size());
        for (std::size_t n = 0; n < r.header.size(); ++n) {
            EXPECT_EQ(decode_frame_header(std::span(r.header).first(n), h), error::incomplete) << r.length << "/" << n;
        }
    }
    frame_header h;
    EXPECT_EQ(decode_frame_header(byte_vector{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, h),
              error::malformed_remaining_length);  // a fifth length byte
    EXPECT_EQ(decode_frame_header(byte_vector{0x30, 0x80, 0x80, 0x80, 0x80}, h), error::malformed_remaining_length);
}

TEST(DecodeFrame, TrailingBytesAreNotPartOfThePacket) {
    incoming_packet p;
    EXPECT_EQ(decode_packet(byte_vector{0xD0, 0x00, 0xD0}, p), error::invalid_length);
}

}  // namespace
}  // namespace tether::core
