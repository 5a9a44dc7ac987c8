// Restoring what an earlier run of the client had in flight (the durable outbox puts it
// back before the first connect): outbound publishes resent in the order given with their
// own packet ids, PUBREL for those past PUBREC, and received QoS 2 ids still held.

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "test_util.hpp"
#include "tether/core/session.hpp"

namespace tether::core {
namespace {

using test::byte_vector;
using test::drain;
using test::recorded;

byte_vector ack(std::uint8_t first_byte, std::uint16_t id) {
    return {first_byte, 0x02, static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id & 0xFF)};
}

struct restored_client {
    static_session<4, 4, 256> s;
    std::array<std::uint8_t, 256> tx{};

    std::vector<recorded> connect(bool clean, bool present) {
        EXPECT_EQ(s.connect({.client_id = "t", .keep_alive_s = 0, .clean_session = clean}, tx, 0).err, error::none);
        const byte_vector connack{0x20, 0x02, static_cast<std::uint8_t>(present ? 1 : 0), 0};
        (void)s.feed(connack);
        return drain(s, 0);
    }
    std::vector<recorded> feed(const byte_vector& in) {
        (void)s.feed(in);
        return drain(s, 0);
    }
};

std::vector<std::pair<event_type, std::uint16_t>> kinds(const std::vector<recorded>& events) {
    std::vector<std::pair<event_type, std::uint16_t>> out;
    for (const auto& e : events) out.emplace_back(e.type, e.packet_id);
    return out;
}

TEST(SessionRestore, PersistentSessionResendsInTheOrderRestoredWithPubrelPastPubrec) {
    restored_client c;
    ASSERT_EQ(c.s.restore_publish(700, qos::exactly_once, true), error::none);
    ASSERT_EQ(c.s.restore_publish(9, qos::at_least_once, false), error::none);
    ASSERT_EQ(c.s.restore_publish(701, qos::exactly_once, false), error::none);
    EXPECT_EQ(c.s.publishes_in_flight(), 3u);
    const auto events = c.connect(false, true);
    const std::vector<std::pair<event_type, std::uint16_t>> want{{event_type::connack, 0},
                                                                 {event_type::resend_pubrel, 700},
                                                                 {event_type::resend_publish, 9},
                                                                 {event_type::resend_publish, 701}};
    EXPECT_EQ(kinds(events), want);
    EXPECT_EQ(events[1].reply, ack(0x62, 700));
    // The flows complete as for messages this run sent.
    EXPECT_EQ(kinds(c.feed(ack(0x70, 700))), (std::vector<std::pair<event_type, std::uint16_t>>{{event_type::pubcomp, 700}}));
    EXPECT_EQ(kinds(c.feed(ack(0x40, 9))), (std::vector<std::pair<event_type, std::uint16_t>>{{event_type::puback, 9}}));
    EXPECT_EQ(kinds(c.feed(ack(0x50, 701))), (std::vector<std::pair<event_type, std::uint16_t>>{{event_type::send, 701}}));
    EXPECT_EQ(kinds(c.feed(ack(0x70, 701))), (std::vector<std::pair<event_type, std::uint16_t>>{{event_type::pubcomp, 701}}));
    EXPECT_EQ(c.s.in_flight(), 0u);
}

TEST(SessionRestore, WithoutTheServersSessionEvenThosePastPubrecGoAsPublish) {
    restored_client c;
    ASSERT_EQ(c.s.restore_publish(5, qos::exactly_once, true), error::none);
    const std::vector<std::pair<event_type, std::uint16_t>> want{{event_type::connack, 0},
                                                                 {event_type::resend_publish, 5}};
    EXPECT_EQ(kinds(c.connect(true, false)), want);
}

TEST(SessionRestore, NewIdsAvoidRestoredOnes) {
    restored_client c;
    ASSERT_EQ(c.s.restore_publish(2, qos::at_least_once, false), error::none);
    ASSERT_EQ(c.s.restore_publish(1, qos::at_least_once, false), error::none);
    (void)c.connect(false, true);
    const publish_packet p{.topic = "t", .qos = qos::at_least_once};
    const auto r = c.s.publish(p, c.tx, 0);
    ASSERT_EQ(r.err, error::none);
    EXPECT_EQ(r.packet_id, 3);
    const auto r2 = c.s.publish(p, c.tx, 0);
    EXPECT_NE(r2.packet_id, 1);
    EXPECT_NE(r2.packet_id, 2);
    EXPECT_NE(r2.packet_id, 3);
}

TEST(SessionRestore, RefusesWhatCannotBeRestored) {
    restored_client c;
    EXPECT_EQ(c.s.restore_publish(0, qos::at_least_once, false), error::invalid_packet_id);
    EXPECT_EQ(c.s.restore_publish(1, qos::at_most_once, false), error::invalid_qos);
    ASSERT_EQ(c.s.restore_publish(1, qos::at_least_once, false), error::none);
    EXPECT_EQ(c.s.restore_publish(1, qos::at_least_once, false), error::invalid_packet_id);
    for (std::uint16_t id = 2; id <= 4; ++id) ASSERT_EQ(c.s.restore_publish(id, qos::at_least_once, false), error::none);
    EXPECT_EQ(c.s.restore_publish(5, qos::at_least_once, false), error::packet_ids_exhausted);
    (void)c.connect(false, true);
    EXPECT_EQ(c.s.restore_publish(6, qos::at_least_once, false), error::protocol_violation);
    EXPECT_EQ(c.s.restore_inbound_qos2(6), error::protocol_violation);
}

// A restart into a smaller window: every publish the last run had in flight comes back
// with its id, more than the window and than the slots the session had; rebind_outbound
// makes room (in order), and the window then limits only new ids.
TEST(SessionRestore, RebindingMakesRoomForMoreThanTheWindowWhichLimitsOnlyNewIds) {
    std::array<outbound_slot, 3> few{};
    std::array<std::uint16_t, 4> inbound{};
    std::array<std::uint8_t, 256> rx{}, tx{};
    session s(few, inbound, rx, {.window = 2});
    ASSERT_EQ(s.restore_publish(10, qos::exactly_once, true), error::none);
    ASSERT_EQ(s.restore_publish(11, qos::exactly_once, false), error::none);
    ASSERT_EQ(s.restore_publish(12, qos::at_least_once, false), error::none);
    EXPECT_EQ(s.restore_publish(13, qos::at_least_once, false), error::packet_ids_exhausted);
    std::array<outbound_slot, 2> fewer{};
    EXPECT_FALSE(s.rebind_outbound(fewer));  // three ids in use do not fit two slots
    std::array<outbound_slot, 8> more{};
    ASSERT_TRUE(s.rebind_outbound(more));
    ASSERT_EQ(s.restore_publish(13, qos::at_least_once, false), error::none);
    EXPECT_EQ(s.publishes_in_flight(), 4u);

    ASSERT_EQ(s.connect({.client_id = "t", .keep_alive_s = 0, .clean_session = false}, tx, 0).err, error::none);
    EXPECT_FALSE(s.rebind_outbound(few));  // only between connections
    (void)s.feed(byte_vector{0x20, 0x02, 0x01, 0x00});
    const std::vector<std::pair<event_type, std::uint16_t>> want{{event_type::connack, 0},
                                                                 {event_type::resend_pubrel, 10},
                                                                 {event_type::resend_publish, 11},
                                                                 {event_type::resend_publish, 12},
                                                                 {event_type::resend_publish, 13}};
    EXPECT_EQ(kinds(drain(s, 0)), want);
    const publish_packet p{.topic = "t", .qos = qos::at_least_once};
    EXPECT_EQ(s.publish(p, tx, 0).err, error::window_full);  // four in flight, window two
    (void)s.feed(ack(0x70, 10));
    (void)s.feed(ack(0x40, 12));
    (void)drain(s, 0);
    EXPECT_EQ(s.publish(p, tx, 0).err, error::window_full);  // two: still not fewer
    (void)s.feed(ack(0x40, 13));
    (void)drain(s, 0);
    const auto r = s.publish(p, tx, 0);
    ASSERT_EQ(r.err, error::none);
    EXPECT_NE(r.packet_id, 11);  // still in use
}

TEST(SessionRestore, ARestoredInboundIdIsNotDeliveredAgain) {
    restored_client c;
    ASSERT_EQ(c.s.restore_inbound_qos2(42), error::none);
    EXPECT_EQ(c.s.restore_inbound_qos2(0), error::invalid_packet_id);
    (void)c.connect(false, true);
    // The server sends it again (DUP): PUBREC only, no message.
    const byte_vector again{0x3C, 0x05, 0x00, 0x01, 't', 0x00, 42};
    const auto events = c.feed(again);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, event_type::send);
    EXPECT_EQ(events[0].reply, ack(0x50, 42));
}

TEST(SessionRestore, ARestoredInboundIdIsForgottenWhenTheServerHasNoSession) {
    restored_client c;
    ASSERT_EQ(c.s.restore_inbound_qos2(42), error::none);
    (void)c.connect(false, false);
    const byte_vector fresh{0x34, 0x05, 0x00, 0x01, 't', 0x00, 42};
    const auto events = c.feed(fresh);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, event_type::message);
}

}  // namespace
}  // namespace tether::core
