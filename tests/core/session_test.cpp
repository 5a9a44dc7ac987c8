// The session state machine on a manual clock: connection, packet ids, QoS 1/2 in both
// directions, resumption after a reconnect, keep-alive, the window and sticky errors.
// Transcripts of server bytes are replayed split at every byte boundary.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "tether/core/session.hpp"

namespace tether::core {
namespace {

using test::as_bytes;
using test::byte_vector;
using test::concat;
using test::drain;
using test::recorded;

// ---------------------------------------------------------------- what a server sends

byte_vector connack(bool session_present, std::uint8_t code = 0) {
    return {0x20, 0x02, static_cast<std::uint8_t>(session_present ? 1 : 0), code};
}
byte_vector ack(std::uint8_t first_byte, std::uint16_t id) {
    return {first_byte, 0x02, static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id & 0xFF)};
}
byte_vector puback(std::uint16_t id) { return ack(0x40, id); }
byte_vector pubrec(std::uint16_t id) { return ack(0x50, id); }
byte_vector pubrel(std::uint16_t id) { return ack(0x62, id); }
byte_vector pubcomp(std::uint16_t id) { return ack(0x70, id); }
byte_vector unsuback(std::uint16_t id) { return ack(0xB0, id); }
byte_vector suback(std::uint16_t id, byte_vector codes) {
    byte_vector out{0x90, static_cast<std::uint8_t>(2 + codes.size()), static_cast<std::uint8_t>(id >> 8),
                    static_cast<std::uint8_t>(id & 0xFF)};
    for (const std::uint8_t code : codes) out.push_back(code);  // insert() trips a GCC 12 false warning
    return out;
}
const byte_vector pingresp{0xD0, 0x00};

byte_vector publish(std::string_view topic, std::string_view payload, qos q = qos::at_most_once,
                    std::uint16_t id = 0, bool dup = false) {
    const publish_packet p{.topic = topic, .payload = as_bytes(payload), .qos = q, .dup = dup, .packet_id = id};
    byte_vector out(publish_size(p));
    EXPECT_EQ(encode_publish(p, out).err, error::none);
    return out;
}

// ---------------------------------------------------------------- what we expect

recorded ev(event_type type, std::uint16_t id = 0, byte_vector reply = {}) {
    recorded r;
    r.type = type;
    r.packet_id = id;
    r.reply = std::move(reply);
    return r;
}
recorded connack_event(bool session_present, connack_code code = connack_code::accepted) {
    recorded r;
    r.type = event_type::connack;
    r.session_present = session_present;
    r.code = code;
    return r;
}
recorded message_event(std::string topic, std::string payload, qos q, std::uint16_t id, byte_vector reply,
                       bool dup = false) {
    recorded r;
    r.type = event_type::message;
    r.topic = std::move(topic);
    r.payload = std::move(payload);
    r.qos = q;
    r.packet_id = id;
    r.dup = dup;
    r.reply = std::move(reply);
    return r;
}
recorded error_event(error e) {
    recorded r;
    r.type = event_type::error;
    r.err = e;
    return r;
}

// ---------------------------------------------------------------- a client under test

class client {
public:
    explicit client(session_config config = {}) : s(config) {}

    static_session<8, 8, 512> s;
    std::array<std::uint8_t, 512> tx{};

    byte_vector connect(connect_options o = {.client_id = "t", .keep_alive_s = 0}, millis now = 0) {
        const send_result r = s.connect(o, tx, now);
        EXPECT_EQ(r.err, error::none);
        return byte_vector(tx.begin(), tx.begin() + static_cast<long>(r.size));
    }
    // Connects and accepts; returns the events of the CONNACK (connack and any resends).
    std::vector<recorded> connect_accepted(bool clean = true, bool present = false, std::uint16_t keep_alive = 0,
                                           millis now = 0) {
        connect({.client_id = "t", .keep_alive_s = keep_alive, .clean_session = clean}, now);
        return feed(connack(present), now);
    }
    std::vector<recorded> feed(const byte_vector& input, millis now = 0) {
        return test::feed_in_pieces(s, input, {}, now);
    }
    send_result pub(qos q, std::string_view topic = "t", millis now = 0) {
        return s.publish({.topic = topic, .payload = as_bytes("x"), .qos = q}, tx, now);
    }
    byte_vector sent(const send_result& r) const {
        return byte_vector(tx.begin(), tx.begin() + static_cast<long>(r.size));
    }
};

// ---------------------------------------------------------------- connection

TEST(SessionConnect, AcceptedThenConnected) {
    client c;
    const byte_vector connect = c.connect({.client_id = "dev", .keep_alive_s = 30});
    EXPECT_EQ(connect[0], 0x10);
    EXPECT_FALSE(c.s.is_connected());
    EXPECT_EQ(c.feed(connack(false)), (std::vector{connack_event(false)}));
    EXPECT_TRUE(c.s.is_connected());
}

TEST(SessionConnect, EveryRefusalCodeIsReportedThenSticky) {
    for (std::uint8_t code = 1; code <= 5; ++code) {
        client c;
        c.connect();
        const auto events = c.feed(connack(false, code));
        ASSERT_EQ(events.size(), 2u);
        EXPECT_EQ(events[0], connack_event(false, static_cast<connack_code>(code)));
        EXPECT_EQ(events[1], error_event(error::connection_refused));
        EXPECT_FALSE(c.s.is_connected());
        EXPECT_EQ(c.pub(qos::at_most_once).err, error::connection_refused);
    }
}

TEST(SessionConnect, SessionPresentIsReported) {
    client c;
    EXPECT_EQ(c.connect_accepted(false, true), (std::vector{connack_event(true)}));
}

TEST(SessionConnect, CleanSessionAnsweredWithSessionPresentIsAViolation) {
    client c;  // [MQTT-3.2.2-1]
    EXPECT_EQ(c.connect_accepted(true, true).back(), error_event(error::invalid_connack));
}

TEST(SessionConnect, FirstPacketMustBeConnack) {
    client c;  // [MQTT-3.2.0-1]
    c.connect();
    EXPECT_EQ(c.feed(publish("a", "b")), (std::vector{error_event(error::protocol_violation)}));
}

TEST(SessionConnect, SecondConnackIsAViolation) {
    client c;
    c.connect_accepted();
    EXPECT_EQ(c.feed(connack(false)), (std::vector{error_event(error::protocol_violation)}));
}

TEST(SessionConnect, NoConnackWithinTheResponseTimeout) {
    client c({.response_timeout_ms = 5000});
    c.connect({.client_id = "t"}, 1000);
    EXPECT_EQ(c.s.next_timeout(1000), 5000u);
    EXPECT_TRUE(drain(c.s, 5999).empty());
    EXPECT_EQ(c.s.next_timeout(5999), 1u);
    EXPECT_EQ(drain(c.s, 6000), (std::vector{error_event(error::connack_timeout)}));
}

TEST(SessionConnect, NothingIsSentBeforeConnack) {
    client c;
    c.connect();
    EXPECT_EQ(c.pub(qos::at_least_once).err, error::not_connected);
    const subscribe_topic t[] = {{"a"}};
    EXPECT_EQ(c.s.subscribe(t, c.tx, 0).err, error::not_connected);
}

TEST(SessionConnect, DisconnectEndsTheConnection) {
    client c;
    c.connect_accepted();
    const send_result r = c.s.disconnect(c.tx);
    ASSERT_EQ(r.err, error::none);
    EXPECT_EQ(c.sent(r), (byte_vector{0xE0, 0x00}));
    EXPECT_FALSE(c.s.is_connected());
    EXPECT_EQ(c.s.disconnect(c.tx).err, error::not_connected);
    EXPECT_EQ(c.pub(qos::at_most_once).err, error::not_connected);
}

// ---------------------------------------------------------------- packet ids

TEST(SessionPacketIds, CountUpFromOne) {
    client c;
    c.connect_accepted();
    EXPECT_EQ(c.pub(qos::at_least_once).packet_id, 1);
    EXPECT_EQ(c.pub(qos::exactly_once).packet_id, 2);
    const std::string_view f[] = {"a"};
    EXPECT_EQ(c.s.unsubscribe(f, c.tx, 0).packet_id, 3);
    EXPECT_EQ(c.pub(qos::at_most_once).packet_id, 0);  // QoS 0 takes none
    EXPECT_EQ(c.s.in_flight(), 3u);
}

TEST(SessionPacketIds, WrapAroundSkippingZero) {
    client c;
    c.connect_accepted();
    std::uint16_t expected = 1;
    for (int i = 0; i < 65'537; ++i) {
        const send_result r = c.pub(qos::at_least_once);
        ASSERT_EQ(r.err, error::none);
        ASSERT_EQ(r.packet_id, expected);  // 1..65535, then 1 again; never 0 [MQTT-2.3.1-1]
        ASSERT_EQ(c.feed(puback(r.packet_id)), (std::vector{ev(event_type::puback, r.packet_id)}));
        expected = expected == 65535 ? 1 : static_cast<std::uint16_t>(expected + 1);
    }
}

TEST(SessionPacketIds, NeverOneStillInUse) {
    client c;
    c.connect_accepted();
    const std::uint16_t held = c.pub(qos::exactly_once).packet_id;  // id 1 never acknowledged
    for (int i = 0; i < 70'000; ++i) {
        const send_result r = c.pub(qos::at_least_once);
        ASSERT_NE(r.packet_id, held) << i;  // [MQTT-2.3.1-2]
        ASSERT_EQ(c.feed(puback(r.packet_id)).size(), 1u);
    }
}

// Acknowledgements in any order, over many laps of the ids, against a model of the ids in
// use: a new id is never one in use [MQTT-2.3.1-2] and never 0 [MQTT-2.3.1-1]. Some ids
// stay unacknowledged for whole laps, so the ids come round to ones in use again and again.
TEST(SessionPacketIds, AfterComingRoundEveryIdInUseIsSkipped) {
    client c;
    c.connect_accepted();
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 1);
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 2);
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 3);
    ASSERT_EQ(c.feed(puback(2)).size(), 1u);  // 1 and 3 stay in use
    for (int id = 4; id <= 65535; ++id) {
        const send_result r = c.pub(qos::at_least_once);
        ASSERT_EQ(r.packet_id, id);
        ASSERT_EQ(c.feed(puback(r.packet_id)).size(), 1u);
    }
    // Round again: 1 is in use (the oldest), 2 is free, 3 is in use (not the oldest).
    EXPECT_EQ(c.pub(qos::at_least_once).packet_id, 2);
    EXPECT_EQ(c.pub(qos::at_least_once).packet_id, 4);
    EXPECT_EQ(c.pub(qos::at_least_once).packet_id, 5);
}

TEST(SessionPacketIds, RandomAcksNeverReuseAnIdInUse) {
    client c;  // 8 outbound slots, a ring: acknowledgements out of order shift it both ways
    c.connect_accepted(false);
    std::mt19937 random(7);
    std::vector<std::uint16_t> in_use;
    int laps = 0;
    std::uint16_t last_id = 0;
    for (int step = 0; step < 600'000; ++step) {
        if (step % 5000 == 4999) {
            // Reconnect: everything in flight is sent again, in the order first sent [MQTT-4.6.0-1].
            const auto events = c.connect_accepted(false, true);
            ASSERT_EQ(events.size(), in_use.size() + 1);
            for (std::size_t k = 0; k < in_use.size(); ++k) {
                ASSERT_EQ(events[k + 1], ev(event_type::resend_publish, in_use[k])) << step;
            }
        }
        const bool publish = in_use.empty() || (in_use.size() < 8 && random() % 2 == 0);
        if (publish) {
            const send_result r = c.pub(qos::at_least_once);
            ASSERT_EQ(r.err, error::none);
            ASSERT_NE(r.packet_id, 0);
            ASSERT_EQ(std::count(in_use.begin(), in_use.end(), r.packet_id), 0) << step;
            if (r.packet_id < last_id) ++laps;
            last_id = r.packet_id;
            in_use.push_back(r.packet_id);
        } else {
            // Mostly the oldest, as brokers do; now and then any. Ids 7 (mod 8192) stay
            // unacknowledged for laps: until every slot holds one.
            const auto held = [](std::uint16_t id) { return id % 8192 == 7; };
            std::size_t i = random() % 4 == 0 ? random() % in_use.size() : 0;
            while (i < in_use.size() && held(in_use[i])) ++i;
            if (i == in_use.size() && in_use.size() == 8) i = random() % in_use.size();  // all 8 held
            if (i == in_use.size()) continue;
            ASSERT_EQ(c.feed(puback(in_use[i])), (std::vector{ev(event_type::puback, in_use[i])}));
            in_use.erase(in_use.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }
    EXPECT_GE(laps, 3);  // the ids came round, with some in use, several times
}

TEST(SessionPacketIds, ExhaustedWhenEverySlotIsTaken) {
    client c;  // 8 outbound slots
    c.connect_accepted();
    const subscribe_topic t[] = {{"a"}};
    for (int i = 0; i < 8; ++i) ASSERT_EQ(c.s.subscribe(t, c.tx, 0).err, error::none);
    EXPECT_EQ(c.s.subscribe(t, c.tx, 0).err, error::packet_ids_exhausted);
    // The window (QoS 1/2 publishes) is not full, but no packet id is free.
    EXPECT_EQ(c.pub(qos::at_least_once).err, error::packet_ids_exhausted);
    EXPECT_EQ(c.pub(qos::at_most_once).err, error::none);
}

// ---------------------------------------------------------------- outbound QoS 1 and 2

TEST(SessionOutbound, Qos1PublishPuback) {
    client c;
    c.connect_accepted();
    const send_result r = c.pub(qos::at_least_once, "a/b");
    ASSERT_EQ(r.err, error::none);
    EXPECT_EQ(c.sent(r), (byte_vector{0x32, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 'x'}));
    EXPECT_EQ(c.s.publishes_in_flight(), 1u);
    EXPECT_EQ(c.feed(puback(1)), (std::vector{ev(event_type::puback, 1)}));
    EXPECT_EQ(c.s.in_flight(), 0u);
}

TEST(SessionOutbound, Qos2PublishPubrecPubrelPubcomp) {
    client c;
    c.connect_accepted();
    ASSERT_EQ(c.pub(qos::exactly_once).packet_id, 1);
    // PUBREC is answered with PUBREL [MQTT-4.3.3-1] ...
    EXPECT_EQ(c.feed(pubrec(1)), (std::vector{ev(event_type::send, 1, pubrel(1))}));
    // ... and a PUBREC again (a resent PUBLISH crossed it) with PUBREL again.
    EXPECT_EQ(c.feed(pubrec(1)), (std::vector{ev(event_type::send, 1, pubrel(1))}));
    EXPECT_EQ(c.feed(pubcomp(1)), (std::vector{ev(event_type::pubcomp, 1)}));
    EXPECT_EQ(c.s.in_flight(), 0u);
}

TEST(SessionOutbound, SubscribeAndUnsubscribeAcks) {
    client c;
    c.connect_accepted();
    const subscribe_topic t[] = {{"a/+", qos::at_least_once}, {"b/#", qos::exactly_once}};
    const send_result r = c.s.subscribe(t, c.tx, 0);
    ASSERT_EQ(r.err, error::none);
    EXPECT_EQ(c.sent(r)[0], 0x82);
    recorded expected = ev(event_type::suback, 1);
    expected.return_codes = {0x01, 0x80};
    EXPECT_EQ(c.feed(suback(1, {0x01, 0x80})), (std::vector{expected}));

    const std::string_view f[] = {"a/+"};
    ASSERT_EQ(c.s.unsubscribe(f, c.tx, 0).packet_id, 2);
    EXPECT_EQ(c.feed(unsuback(2)), (std::vector{ev(event_type::unsuback, 2)}));
}

TEST(SessionOutbound, SubackWithTheWrongNumberOfCodesIsAViolation) {
    client c;  // [MQTT-3.8.4-5]
    c.connect_accepted();
    const subscribe_topic t[] = {{"a"}, {"b"}};
    ASSERT_EQ(c.s.subscribe(t, c.tx, 0).packet_id, 1);
    EXPECT_EQ(c.feed(suback(1, {0x00})), (std::vector{error_event(error::suback_count_mismatch)}));
}

TEST(SessionOutbound, StrayAcksAreIgnoredAndReadingGoesOn) {
    client c;
    c.connect_accepted();
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 1);
    ASSERT_EQ(c.pub(qos::exactly_once).packet_id, 2);
    // Unknown ids, and acks of the wrong kind for ids we hold, are all ignored; the PUBACK
    // at the end shows that reading went on past them. (A PUBACK for the QoS 2 id is not
    // stray: PubackForAQos2PublishCompletesItFlagged.)
    const byte_vector input = concat({puback(9), pubrec(9), pubcomp(9), suback(9, {0}), unsuback(9),
                                      pubcomp(1), pubcomp(2), puback(1)});
    EXPECT_EQ(c.feed(input), (std::vector{ev(event_type::puback, 1)}));
    EXPECT_EQ(c.s.in_flight(), 1u);
}

// ---------------------------------------------------------------- inbound QoS 0, 1, 2

TEST(SessionConnect, ConnackWaitHasItsOwnLimit) {
    client c({.response_timeout_ms = 500, .connack_timeout_ms = 5'000});
    c.connect({.client_id = "t", .keep_alive_s = 1}, 0);
    EXPECT_EQ(c.s.next_timeout(0), 5'000u);
    EXPECT_TRUE(test::drain(c.s, 4'999).empty());  // past the response timeout: still waiting
    EXPECT_EQ(test::drain(c.s, 5'000), (std::vector{error_event(error::connack_timeout)}));
    // Once connected, PINGREQ answers are held to the response timeout.
    client d({.response_timeout_ms = 500, .connack_timeout_ms = 5'000});
    d.connect_accepted(true, false, 1);
    ASSERT_EQ(test::drain(d.s, 1'000).size(), 1u);  // PINGREQ
    EXPECT_EQ(d.s.next_timeout(1'000), 500u);
    EXPECT_EQ(test::drain(d.s, 1'500), (std::vector{error_event(error::keep_alive_timeout)}));
}

// RabbitMQ 3.10 answers a QoS 2 PUBLISH with PUBACK and delivers it at QoS 1: the
// message is done (not held for a PUBREC that never comes), and the event says how.
TEST(SessionOutbound, PubackForAQos2PublishCompletesItFlagged) {
    client c;
    c.connect_accepted();
    ASSERT_EQ(c.pub(qos::exactly_once).packet_id, 1);
    auto events = c.feed(puback(1));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, event_type::puback);
    EXPECT_EQ(events[0].packet_id, 1);
    EXPECT_EQ(events[0].err, error::qos2_answered_with_puback);
    EXPECT_EQ(c.s.in_flight(), 0u);
    // A QoS 1 PUBACK carries no such mark, and a QoS 2 one past PUBREC takes no PUBACK.
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 2);
    EXPECT_EQ(c.feed(puback(2)), (std::vector{ev(event_type::puback, 2)}));
    ASSERT_EQ(c.pub(qos::exactly_once).packet_id, 3);
    ASSERT_EQ(c.feed(pubrec(3)).size(), 1u);
    EXPECT_TRUE(c.feed(puback(3)).empty());
    EXPECT_EQ(c.s.in_flight(), 1u);
}

TEST(SessionInbound, Qos0AndQos1) {
    client c;
    c.connect_accepted();
    EXPECT_EQ(c.feed(publish("a", "zero")), (std::vector{message_event("a", "zero", qos::at_most_once, 0, {})}));
    EXPECT_EQ(c.feed(publish("a", "one", qos::at_least_once, 7)),
              (std::vector{message_event("a", "one", qos::at_least_once, 7, puback(7))}));  // [MQTT-4.3.2-2]
}

TEST(SessionInbound, Qos2IsDeliveredExactlyOnce) {
    client c;
    c.connect_accepted();
    EXPECT_EQ(c.feed(publish("a", "two", qos::exactly_once, 5)),
              (std::vector{message_event("a", "two", qos::exactly_once, 5, pubrec(5))}));
    // The same id again before PUBREL: PUBREC again, no second delivery [MQTT-4.3.3-2].
    EXPECT_EQ(c.feed(publish("a", "two", qos::exactly_once, 5, true)),
              (std::vector{ev(event_type::send, 5, pubrec(5))}));
    EXPECT_EQ(c.feed(pubrel(5)), (std::vector{ev(event_type::send, 5, pubcomp(5))}));
    // Released: the id now starts a new message.
    EXPECT_EQ(c.feed(publish("a", "new", qos::exactly_once, 5)),
              (std::vector{message_event("a", "new", qos::exactly_once, 5, pubrec(5))}));
}

// A PUBLISH without DUP under an id still held is a new message (the server finished the
// old one without our seeing its PUBREL: a broker that lost that state): delivered, and
// answered PUBREC. Only a resend (DUP 1) is answered without delivery.
TEST(SessionInbound, ANewMessageUnderAHeldIdIsDeliveredNotSwallowed) {
    client c;
    c.connect_accepted();
    ASSERT_EQ(c.feed(publish("a", "first", qos::exactly_once, 5)).size(), 1u);
    EXPECT_EQ(c.feed(publish("a", "second", qos::exactly_once, 5)),
              (std::vector{message_event("a", "second", qos::exactly_once, 5, pubrec(5))}));
    EXPECT_EQ(c.s.inbound_qos2_count(), 1u);  // held once
    EXPECT_EQ(c.feed(publish("a", "second", qos::exactly_once, 5, true)),
              (std::vector{ev(event_type::send, 5, pubrec(5))}));
    EXPECT_EQ(c.feed(pubrel(5)), (std::vector{ev(event_type::send, 5, pubcomp(5))}));
    EXPECT_EQ(c.s.inbound_qos2_count(), 0u);
}

TEST(SessionInbound, PubrelForAnUnknownIdIsAnsweredWithPubcomp) {
    client c;  // [MQTT-4.3.3-2]
    c.connect_accepted();
    EXPECT_EQ(c.feed(pubrel(42)), (std::vector{ev(event_type::send, 42, pubcomp(42))}));
}

TEST(SessionInbound, TooManyQos2AwaitingPubrel) {
    client c;  // 8 inbound QoS 2 slots
    c.connect_accepted();
    for (std::uint16_t id = 1; id <= 8; ++id) ASSERT_EQ(c.feed(publish("a", "m", qos::exactly_once, id)).size(), 1u);
    EXPECT_EQ(c.feed(publish("a", "m", qos::exactly_once, 9)), (std::vector{error_event(error::inbound_qos2_full)}));
}

// With a bitmap (8 KiB) the table holds every id at once: the server may keep all 65,535
// awaiting PUBREL, and the connection is never dropped over it.
TEST(SessionInbound, ABitmapHoldsEveryIdAndNeverFills) {
    std::array<outbound_slot, 4> out{};
    std::vector<std::uint16_t> ids(session::inbound_qos2_bitmap_size);
    std::array<std::uint8_t, 256> rx{};
    session s(out, ids, rx);
    std::array<std::uint8_t, 64> tx{};
    ASSERT_EQ(s.connect({.client_id = "t", .clean_session = false}, tx, 0).err, error::none);
    s.feed(connack(false));
    ASSERT_EQ(drain(s, 0).size(), 1u);
    EXPECT_EQ(s.inbound_qos2_capacity(), 0xFFFFu);
    for (std::uint32_t id = 1; id <= 0xFFFF; ++id) {
        s.feed(publish("a", "m", qos::exactly_once, static_cast<std::uint16_t>(id)));
        const auto events = drain(s, 0);
        ASSERT_EQ(events.size(), 1u) << id;
        ASSERT_EQ(events[0].type, event_type::message) << id;
    }
    EXPECT_EQ(s.inbound_qos2_count(), 0xFFFFu);
    // Every id is held: any PUBLISH now is a duplicate, answered with PUBREC only.
    s.feed(publish("a", "m", qos::exactly_once, 77, true));
    EXPECT_EQ(drain(s, 0), (std::vector{ev(event_type::send, 77, pubrec(77))}));
    s.feed(pubrel(77));
    EXPECT_EQ(drain(s, 0), (std::vector{ev(event_type::send, 77, pubcomp(77))}));
    EXPECT_EQ(s.inbound_qos2_count(), 0xFFFEu);
    s.feed(publish("a", "again", qos::exactly_once, 77));
    EXPECT_EQ(drain(s, 0), (std::vector{message_event("a", "again", qos::exactly_once, 77, pubrec(77))}));
}

// Review (j): a full bitmap must be emptied when the server says it has no session, or
// every id would stay "received" and no QoS 2 message would be delivered again.
TEST(SessionInbound, ABitmapIsEmptiedWhenTheServerHasNoSession) {
    std::array<outbound_slot, 4> out{};
    std::vector<std::uint16_t> ids(session::inbound_qos2_bitmap_size);
    std::array<std::uint8_t, 256> rx{};
    session s(out, ids, rx);
    std::array<std::uint8_t, 64> tx{};
    ASSERT_EQ(s.connect({.client_id = "t", .clean_session = false}, tx, 0).err, error::none);
    s.feed(connack(false));
    ASSERT_EQ(drain(s, 0).size(), 1u);
    for (const std::uint16_t id : {std::uint16_t{5}, std::uint16_t{40'000}, std::uint16_t{0xFFFF}}) {
        s.feed(publish("a", "m", qos::exactly_once, id));
        ASSERT_EQ(drain(s, 0).size(), 1u);
    }
    s.connection_lost();
    ASSERT_EQ(s.connect({.client_id = "t", .clean_session = false}, tx, 0).err, error::none);
    s.feed(connack(false));
    ASSERT_EQ(drain(s, 0).size(), 1u);
    EXPECT_EQ(s.inbound_qos2_count(), 0u);
    for (const std::uint16_t id : {std::uint16_t{5}, std::uint16_t{40'000}, std::uint16_t{0xFFFF}}) {
        s.feed(publish("a", "new", qos::exactly_once, id));
        EXPECT_EQ(drain(s, 0), (std::vector{message_event("a", "new", qos::exactly_once, id, pubrec(id))}));
    }
}

// forget_inbound(): a QoS 2 message whose PUBREC the application withheld is delivered
// again when the server sends it again, from a list as from a bitmap.
TEST(SessionInbound, AForgottenIdIsDeliveredAgain) {
    for (const std::size_t size : {std::size_t{8}, session::inbound_qos2_bitmap_size}) {
        std::array<outbound_slot, 4> out{};
        std::vector<std::uint16_t> ids(size);
        std::array<std::uint8_t, 256> rx{};
        session s(out, ids, rx);
        std::array<std::uint8_t, 64> tx{};
        ASSERT_EQ(s.connect({.client_id = "t", .clean_session = false}, tx, 0).err, error::none);
        s.feed(connack(false));
        ASSERT_EQ(drain(s, 0).size(), 1u);
        s.feed(publish("a", "m", qos::exactly_once, 9));
        ASSERT_EQ(drain(s, 0).size(), 1u);
        s.feed(publish("a", "other", qos::exactly_once, 10));
        ASSERT_EQ(drain(s, 0).size(), 1u);
        s.forget_inbound(9);
        s.forget_inbound(11);  // not held: nothing
        EXPECT_EQ(s.inbound_qos2_count(), 1u) << size;
        s.feed(publish("a", "m", qos::exactly_once, 9, true));
        EXPECT_EQ(drain(s, 0), (std::vector{message_event("a", "m", qos::exactly_once, 9, pubrec(9), true)})) << size;
        s.feed(publish("a", "other", qos::exactly_once, 10, true));
        EXPECT_EQ(drain(s, 0), (std::vector{ev(event_type::send, 10, pubrec(10))})) << size;
    }
}

// A bitmap handed over full of garbage holds no id until one arrives.
TEST(SessionInbound, AGivenBitmapStartsEmpty) {
    std::array<outbound_slot, 4> out{};
    std::vector<std::uint16_t> ids(session::inbound_qos2_bitmap_size, 0xFFFF);
    std::array<std::uint8_t, 256> rx{};
    session s(out, ids, rx);
    std::array<std::uint8_t, 64> tx{};
    ASSERT_EQ(s.connect({.client_id = "t", .clean_session = false}, tx, 0).err, error::none);
    s.feed(connack(false));
    ASSERT_EQ(drain(s, 0).size(), 1u);
    EXPECT_EQ(s.inbound_qos2_count(), 0u);
    s.feed(publish("a", "m", qos::exactly_once, 5));
    EXPECT_EQ(drain(s, 0), (std::vector{message_event("a", "m", qos::exactly_once, 5, pubrec(5))}));
}

// What the client does: grow the table before it fills, list to larger list to bitmap, and
// the ids held (and so the exactly-once promise) come along.
TEST(SessionInbound, RebindMovesTheIdsHeldListToListToBitmapAndBack) {
    client c;  // 8 inbound slots
    c.connect_accepted(false);
    for (std::uint16_t id : {3, 9, 200}) ASSERT_EQ(c.feed(publish("a", "m", qos::exactly_once, id)).size(), 1u);
    std::vector<std::uint16_t> small(2);
    EXPECT_FALSE(c.s.rebind_inbound_qos2(small));  // three ids do not fit in two
    std::vector<std::uint16_t> list(16);
    ASSERT_TRUE(c.s.rebind_inbound_qos2(list));
    EXPECT_EQ(c.s.inbound_qos2_capacity(), 16u);
    std::vector<std::uint16_t> bitmap(session::inbound_qos2_bitmap_size, 0xFFFF);  // rebind clears it
    ASSERT_TRUE(c.s.rebind_inbound_qos2(bitmap));
    EXPECT_EQ(c.s.inbound_qos2_count(), 3u);
    for (std::uint16_t id : {3, 9, 200}) {
        EXPECT_EQ(c.feed(publish("a", "m", qos::exactly_once, id, true)), (std::vector{ev(event_type::send, id, pubrec(id))}));
    }
    EXPECT_EQ(c.feed(publish("a", "m", qos::exactly_once, 4)).size(), 1u);  // a new id is a new message
    std::vector<std::uint16_t> back(8);
    ASSERT_TRUE(c.s.rebind_inbound_qos2(back));
    EXPECT_EQ(c.s.inbound_qos2_count(), 4u);
    EXPECT_EQ(c.feed(pubrel(9)), (std::vector{ev(event_type::send, 9, pubcomp(9))}));
    EXPECT_EQ(c.feed(publish("a", "m", qos::exactly_once, 3, true)), (std::vector{ev(event_type::send, 3, pubrec(3))}));
    EXPECT_EQ(c.s.inbound_qos2_count(), 3u);
}

// A message the application gave up (the client stopped) is never sent again.
TEST(SessionResume, AbandonedOutboundIdsAreNotResent) {
    client c;
    c.connect_accepted(false);
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 1);
    ASSERT_EQ(c.pub(qos::exactly_once).packet_id, 2);
    ASSERT_EQ(c.feed(publish("a", "m", qos::exactly_once, 40)).size(), 1u);
    c.s.connection_lost();
    c.s.abandon_outbound();
    EXPECT_EQ(c.s.in_flight(), 0u);
    EXPECT_EQ(c.connect_accepted(false, true), (std::vector{connack_event(true)}));  // no resend
    // The received QoS 2 id is still held: exactly once across the stop.
    EXPECT_EQ(c.feed(publish("a", "m", qos::exactly_once, 40, true)), (std::vector{ev(event_type::send, 40, pubrec(40))}));
    EXPECT_EQ(c.pub(qos::at_least_once).packet_id, 3);  // ids go on: the broker may still know 1 and 2
}

// Review (i): a QoS 2 message past PUBREC is the server's; abandoning it would leave the
// server holding its id for ever and never delivering it [MQTT-4.4.0-1].
TEST(SessionResume, AbandoningKeepsMessagesPastPubrecAndTheirPubrelGoesOnTheNextConnection) {
    client c;
    c.connect_accepted(false);
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 1);
    ASSERT_EQ(c.pub(qos::exactly_once).packet_id, 2);
    ASSERT_EQ(c.pub(qos::exactly_once).packet_id, 3);
    ASSERT_EQ(c.pub(qos::exactly_once).packet_id, 4);
    EXPECT_EQ(c.feed(pubrec(3)), (std::vector{ev(event_type::send, 3, pubrel(3))}));
    c.s.connection_lost();
    c.s.abandon_outbound();
    EXPECT_EQ(c.s.publishes_in_flight(), 1u);
    EXPECT_EQ(c.connect_accepted(false, true),
              (std::vector{connack_event(true), ev(event_type::resend_pubrel, 3, pubrel(3))}));
    EXPECT_EQ(c.feed(pubcomp(3)), (std::vector{ev(event_type::pubcomp, 3)}));
    EXPECT_EQ(c.s.in_flight(), 0u);
}

TEST(SessionResume, OneAbandonedIdIsNotResentAndTheRestAre) {
    client c;
    c.connect_accepted(false);
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 1);
    ASSERT_EQ(c.pub(qos::exactly_once).packet_id, 2);
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 3);
    c.s.connection_lost();
    EXPECT_TRUE(c.s.abandon_outbound(2));
    EXPECT_FALSE(c.s.abandon_outbound(2));
    EXPECT_EQ(c.s.publishes_in_flight(), 2u);
    EXPECT_EQ(c.connect_accepted(false, true),
              (std::vector{connack_event(true), ev(event_type::resend_publish, 1), ev(event_type::resend_publish, 3)}));
}

TEST(SessionInbound, Qos2IdsSurviveAReconnectOfAPersistentSession) {
    client c;
    c.connect_accepted(false);
    ASSERT_EQ(c.feed(publish("a", "m", qos::exactly_once, 3)).size(), 1u);
    c.s.connection_lost();
    c.connect_accepted(false, true);
    // The server resends the PUBLISH (it missed our PUBREC): not delivered again.
    EXPECT_EQ(c.feed(publish("a", "m", qos::exactly_once, 3, true)), (std::vector{ev(event_type::send, 3, pubrec(3))}));
}

TEST(SessionInbound, Qos2IdsAreForgottenWhenTheServerHasNoSession) {
    client c;
    c.connect_accepted(false);
    ASSERT_EQ(c.feed(publish("a", "m", qos::exactly_once, 3)).size(), 1u);
    c.s.connection_lost();
    c.connect_accepted(false, false);
    // A new session: id 3 is a new message.
    EXPECT_EQ(c.feed(publish("a", "n", qos::exactly_once, 3)),
              (std::vector{message_event("a", "n", qos::exactly_once, 3, pubrec(3))}));
}

// ---------------------------------------------------------------- resumption

// Leaves in flight: 1 QoS 1 unacknowledged, 2 QoS 2 past PUBREC, 3 QoS 2 without PUBREC,
// 4 a SUBSCRIBE, 5 an UNSUBSCRIBE, and 6 a QoS 1 acknowledged (gone).
void leave_work_in_flight(client& c) {
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 1);
    ASSERT_EQ(c.pub(qos::exactly_once).packet_id, 2);
    ASSERT_EQ(c.feed(pubrec(2)).size(), 1u);
    ASSERT_EQ(c.pub(qos::exactly_once).packet_id, 3);
    const subscribe_topic t[] = {{"a"}};
    ASSERT_EQ(c.s.subscribe(t, c.tx, 0).packet_id, 4);
    const std::string_view f[] = {"a"};
    ASSERT_EQ(c.s.unsubscribe(f, c.tx, 0).packet_id, 5);
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 6);
    ASSERT_EQ(c.feed(puback(6)).size(), 1u);
    c.s.connection_lost();
}

TEST(SessionResume, PersistentSessionResendsInOrderWithPubrelPastPubrec) {
    client c;
    c.connect_accepted(false);
    leave_work_in_flight(c);
    // [MQTT-4.4.0-1]: PUBLISH with DUP and the same id; PUBREL for those past PUBREC;
    // in the order first sent [MQTT-4.6.0-1].
    EXPECT_EQ(c.connect_accepted(false, true), (std::vector{connack_event(true), ev(event_type::resend_publish, 1),
                                                            ev(event_type::resend_pubrel, 2, pubrel(2)),
                                                            ev(event_type::resend_publish, 3),
                                                            ev(event_type::resend_subscribe, 4),
                                                            ev(event_type::resend_unsubscribe, 5)}));
    // The flows then complete as usual.
    EXPECT_EQ(c.feed(concat({puback(1), pubcomp(2), pubrec(3), pubcomp(3), suback(4, {0}), unsuback(5)})).size(), 6u);
    EXPECT_EQ(c.s.in_flight(), 0u);
}

TEST(SessionResume, CleanSessionResendsEverythingAsPublish) {
    client c;
    c.connect_accepted(true);
    leave_work_in_flight(c);
    // The server forgot everything: message 2, past PUBREC, goes again as a PUBLISH, never
    // as a lone PUBREL the server would answer with PUBCOMP and so lose the message.
    EXPECT_EQ(c.connect_accepted(true, false), (std::vector{connack_event(false), ev(event_type::resend_publish, 1),
                                                            ev(event_type::resend_publish, 2),
                                                            ev(event_type::resend_publish, 3),
                                                            ev(event_type::resend_subscribe, 4),
                                                            ev(event_type::resend_unsubscribe, 5)}));
    // Message 2 now runs the whole QoS 2 flow again.
    EXPECT_EQ(c.feed(pubrec(2)), (std::vector{ev(event_type::send, 2, pubrel(2))}));
    EXPECT_EQ(c.feed(pubcomp(2)), (std::vector{ev(event_type::pubcomp, 2)}));
}

TEST(SessionResume, PersistentSessionTheServerLostIsTreatedAsClean) {
    client c;
    c.connect_accepted(false);
    leave_work_in_flight(c);
    const auto events = c.connect_accepted(false, false);
    ASSERT_EQ(events.size(), 6u);
    EXPECT_EQ(events[2], ev(event_type::resend_publish, 2));
}

TEST(SessionResume, ResendCountsAsSendingForKeepAlive) {
    client c;
    c.connect_accepted(false, false, 10);
    ASSERT_EQ(c.pub(qos::at_least_once).packet_id, 1);
    c.s.connection_lost();
    c.connect({.client_id = "t", .keep_alive_s = 10, .clean_session = false}, 50'000);
    ASSERT_EQ(c.feed(connack(true), 50'000).size(), 2u);
    EXPECT_EQ(c.s.next_timeout(50'000), 10'000u);
}

// ---------------------------------------------------------------- keep-alive

TEST(SessionKeepAlive, PingreqAfterAnIdleKeepAlive) {
    client c({.response_timeout_ms = 3000});
    c.connect_accepted(true, false, 10, 0);
    EXPECT_EQ(c.s.next_timeout(0), 10'000u);
    EXPECT_TRUE(drain(c.s, 9'999).empty());
    // [MQTT-3.1.2-23]: nothing sent for the keep-alive: PINGREQ.
    EXPECT_EQ(drain(c.s, 10'000), (std::vector{ev(event_type::send, 0, {0xC0, 0x00})}));
    EXPECT_EQ(c.s.next_timeout(10'000), 3000u);
    EXPECT_TRUE(drain(c.s, 12'999).empty());  // only one PINGREQ outstanding
    EXPECT_EQ(c.feed(pingresp, 12'999), (std::vector{ev(event_type::pingresp)}));
    EXPECT_EQ(c.s.next_timeout(12'999), 7'001u);  // counted from the PINGREQ
    EXPECT_EQ(drain(c.s, 20'000), (std::vector{ev(event_type::send, 0, {0xC0, 0x00})}));
}

TEST(SessionKeepAlive, SendingAnythingPostponesThePing) {
    client c;
    c.connect_accepted(true, false, 10, 0);
    ASSERT_EQ(c.pub(qos::at_most_once, "t", 6'000).err, error::none);
    EXPECT_TRUE(drain(c.s, 15'999).empty());
    EXPECT_EQ(drain(c.s, 16'000).size(), 1u);
}

TEST(SessionKeepAlive, RepliesCountAsSending) {
    client c;
    c.connect_accepted(true, false, 10, 0);
    ASSERT_EQ(c.feed(publish("a", "m", qos::at_least_once, 1), 8'000).size(), 1u);  // PUBACK sent at 8 s
    EXPECT_TRUE(drain(c.s, 17'999).empty());
    EXPECT_EQ(drain(c.s, 18'000).size(), 1u);
}

TEST(SessionKeepAlive, DeadLinkWhenNothingAnswers) {
    client c({.response_timeout_ms = 5000});
    c.connect_accepted(true, false, 10, 0);
    ASSERT_EQ(drain(c.s, 10'000).size(), 1u);  // PINGREQ
    EXPECT_TRUE(drain(c.s, 14'999).empty());
    EXPECT_EQ(drain(c.s, 15'000), (std::vector{error_event(error::keep_alive_timeout)}));
    EXPECT_FALSE(c.s.is_connected());
}

TEST(SessionKeepAlive, AnyPacketAnswersForTheLink) {
    client c({.response_timeout_ms = 5000});
    c.connect_accepted(true, false, 10, 0);
    ASSERT_EQ(drain(c.s, 10'000).size(), 1u);  // PINGREQ
    ASSERT_EQ(c.feed(publish("a", "m"), 12'000).size(), 1u);
    EXPECT_TRUE(drain(c.s, 19'999).empty());  // no timeout: the link is alive
}

TEST(SessionKeepAlive, ZeroTurnsItOff) {
    client c;
    c.connect_accepted(true, false, 0, 0);
    EXPECT_EQ(c.s.next_timeout(0), no_timeout);
    EXPECT_TRUE(drain(c.s, 4'000'000'000u).empty());
}

TEST(SessionKeepAlive, ExplicitPingWaitsForPingresp) {
    client c({.response_timeout_ms = 1000});
    c.connect_accepted();
    const send_result r = c.s.ping(c.tx, 100);
    ASSERT_EQ(r.err, error::none);
    EXPECT_EQ(c.sent(r), (byte_vector{0xC0, 0x00}));
    EXPECT_EQ(c.s.next_timeout(100), 1000u);
    EXPECT_EQ(drain(c.s, 1100), (std::vector{error_event(error::keep_alive_timeout)}));
}

TEST(SessionKeepAlive, TheClockMayWrap) {
    client c;
    const millis start = 0xFFFF'F000u;
    c.connect_accepted(true, false, 10, start);
    EXPECT_TRUE(drain(c.s, start + 9'999).empty());
    EXPECT_EQ(drain(c.s, start + 10'000).size(), 1u);  // start + 10 s wraps past zero
}

// ---------------------------------------------------------------- window

TEST(SessionWindow, AtMostNPublishesInFlight) {
    client c({.window = 2});
    c.connect_accepted();
    ASSERT_EQ(c.pub(qos::at_least_once).err, error::none);
    ASSERT_EQ(c.pub(qos::exactly_once).err, error::none);
    EXPECT_EQ(c.pub(qos::at_least_once).err, error::window_full);
    EXPECT_EQ(c.pub(qos::at_most_once).err, error::none);  // QoS 0 is never in flight
    const subscribe_topic t[] = {{"a"}};
    EXPECT_EQ(c.s.subscribe(t, c.tx, 0).err, error::none);  // nor is a SUBSCRIBE
    ASSERT_EQ(c.feed(puback(1)).size(), 1u);
    EXPECT_EQ(c.pub(qos::at_least_once).err, error::none);
    EXPECT_EQ(c.s.publishes_in_flight(), 2u);
}

TEST(SessionWindow, AFailedEncodeHoldsNoId) {
    client c;
    c.connect_accepted();
    EXPECT_EQ(c.s.publish({.topic = "a/#", .qos = qos::at_least_once}, c.tx, 0).err, error::invalid_topic_name);
    std::array<std::uint8_t, 3> tiny{};
    EXPECT_EQ(c.s.publish({.topic = "a", .qos = qos::at_least_once}, tiny, 0).err, error::buffer_too_small);
    EXPECT_EQ(c.s.in_flight(), 0u);
}

// ---------------------------------------------------------------- errors and input

TEST(SessionErrors, StickyUntilConnect) {
    client c;
    c.connect_accepted();
    EXPECT_EQ(c.feed({0x20, 0x02, 0x00, 0x09}), (std::vector{error_event(error::invalid_connack)}));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(drain(c.s, 0), (std::vector{error_event(error::invalid_connack)}));
    EXPECT_EQ(c.s.sticky_error(), error::invalid_connack);
    EXPECT_EQ(c.s.feed(as_bytes("ignored")), 7u);
    EXPECT_EQ(c.pub(qos::at_most_once).err, error::invalid_connack);
    EXPECT_EQ(c.s.next_timeout(0), no_timeout);
    c.connect_accepted();
    EXPECT_EQ(c.s.sticky_error(), error::none);
    EXPECT_TRUE(c.s.is_connected());
}

TEST(SessionErrors, EveryDecodeViolationIsFatal) {
    const byte_vector bad[] = {
        {0x10, 0x00},                          // CONNECT from a server
        {0x41, 0x02, 0x00, 0x01},              // reserved flags
        {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01},  // a fifth length byte
        {0x36, 0x03, 0x00, 0x01, 't'},         // QoS 3
        {0x40, 0x02, 0x00, 0x00},              // packet id 0
        {0x30, 0x03, 0x00, 0x01, '#'},         // wildcard in a topic name
        {0x90, 0x03, 0x00, 0x01, 0x03},        // SUBACK code 3
    };
    for (const byte_vector& b : bad) {
        client c;
        c.connect_accepted();
        const auto events = c.feed(b);
        ASSERT_EQ(events.size(), 1u);
        EXPECT_EQ(events[0].type, event_type::error);
        EXPECT_EQ(c.s.sticky_error(), events[0].err);
        EXPECT_FALSE(c.s.is_connected());
    }
}

TEST(SessionErrors, PacketLargerThanTheLimit) {
    client c({.max_packet_size = 64});
    c.connect_accepted();
    // Refused as soon as its header says how large it is, not after buffering it.
    EXPECT_EQ(c.feed({0x30, 0x80, 0x01}), (std::vector{error_event(error::packet_too_large)}));
}

TEST(SessionInput, ReadStraightIntoTheBuffer) {
    client c;
    c.connect();
    const byte_vector in = connack(false);
    auto space = c.s.rx_space();
    ASSERT_GE(space.size(), in.size());
    std::copy(in.begin(), in.end(), space.begin());
    c.s.rx_commit(in.size());
    EXPECT_EQ(drain(c.s, 0), (std::vector{connack_event(false)}));
}

TEST(SessionInput, GrowTheBufferForALargePacket) {
    std::array<outbound_slot, 2> slots{};
    std::array<std::uint16_t, 2> ids{};
    std::array<std::uint8_t, 16> small{};
    std::vector<std::uint8_t> large(4096);
    session s(slots, ids, small, {.max_packet_size = 4096});
    std::array<std::uint8_t, 64> tx{};
    ASSERT_EQ(s.connect({.client_id = "t"}, tx, 0).err, error::none);
    const std::string payload(1000, 'p');
    const byte_vector input = concat({connack(false), publish("big", payload)});
    std::size_t at = s.feed(input);
    EXPECT_EQ(drain(s, 0), (std::vector{connack_event(false)}));
    at += s.feed(std::span(input).subspan(at));
    EXPECT_TRUE(drain(s, 0).empty());
    EXPECT_TRUE(s.rx_space().empty());       // full, mid-packet
    EXPECT_EQ(s.rx_frame_size(), 1000u + 3 + 2 + 3);  // the caller learns how much it needs
    ASSERT_FALSE(s.rx_rebind(std::span(large).first(8)));  // too small for what is buffered
    ASSERT_TRUE(s.rx_rebind(large));
    while (at < input.size()) at += s.feed(std::span(input).subspan(at));
    const auto events = drain(s, 0);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].payload, payload);
}

TEST(SessionInput, InputWithoutAConnectionIsDiscarded) {
    client c;
    EXPECT_EQ(c.s.feed(as_bytes("abc")), 3u);
    EXPECT_TRUE(drain(c.s, 0).empty());
}

TEST(SessionReset, ForgetsEverything) {
    client c;
    c.connect_accepted(false);
    ASSERT_EQ(c.pub(qos::at_least_once).err, error::none);
    c.s.reset();
    EXPECT_EQ(c.s.in_flight(), 0u);
    EXPECT_EQ(c.connect_accepted(false, true), (std::vector{connack_event(true)}));  // nothing to resend
}

// ---------------------------------------------------------------- split-point replay

// A whole conversation: the server accepts, delivers QoS 0/1/2 (one duplicate), releases,
// acknowledges our QoS 1, QoS 2 and SUBSCRIBE, sends stray acks, answers a ping.
struct transcript {
    byte_vector input;
    std::vector<recorded> expected;
};

transcript conversation() {
    transcript t;
    t.input = concat({connack(false), publish("s/0", "zero"), publish("s/1", "one", qos::at_least_once, 10),
                      publish("s/2", "two", qos::exactly_once, 11),
                      publish("s/2", "two", qos::exactly_once, 11, true), pubrel(11), puback(1), pubrec(2),
                      pubcomp(2), suback(3, {0x01, 0x80}), puback(77), pubcomp(78),
                      publish("s/big", std::string(300, 'b')), pingresp});
    recorded sub = ev(event_type::suback, 3);
    sub.return_codes = {0x01, 0x80};
    t.expected = {connack_event(false),
                  message_event("s/0", "zero", qos::at_most_once, 0, {}),
                  message_event("s/1", "one", qos::at_least_once, 10, puback(10)),
                  message_event("s/2", "two", qos::exactly_once, 11, pubrec(11)),
                  ev(event_type::send, 11, pubrec(11)),
                  ev(event_type::send, 11, pubcomp(11)),
                  ev(event_type::puback, 1),
                  ev(event_type::send, 2, pubrel(2)),
                  ev(event_type::pubcomp, 2),
                  sub,
                  message_event("s/big", std::string(300, 'b'), qos::at_most_once, 0, {}),
                  ev(event_type::pingresp)};
    return t;
}

// A client that has sent CONNECT; its publishes and SUBSCRIBE are made right after
// CONNACK, which the harness does by sending them before any input when possible: the
// session refuses to send before CONNACK, so we replay from a connected state instead.
std::unique_ptr<client> connected_with_work() {
    auto c = std::make_unique<client>();
    c->connect();
    return c;
}

std::vector<recorded> replay(const transcript& t, const std::vector<std::size_t>& cuts) {
    auto c = connected_with_work();
    // Feed CONNACK (always the first 4 bytes) alone if no cut falls inside it, then send
    // our work, then the rest in the given pieces.
    std::vector<recorded> events;
    std::size_t at = 0;
    std::vector<std::size_t> rest_cuts;
    for (std::size_t cut : cuts) {
        if (cut > 4) rest_cuts.push_back(cut - 4);
    }
    std::vector<std::size_t> head_cuts;
    for (std::size_t cut : cuts) {
        if (cut < 4) head_cuts.push_back(cut);
    }
    auto head = test::feed_in_pieces(c->s, std::span(t.input).first(4), head_cuts, 0);
    events.insert(events.end(), head.begin(), head.end());
    at = 4;
    EXPECT_EQ(c->pub(qos::at_least_once).packet_id, 1);
    EXPECT_EQ(c->pub(qos::exactly_once).packet_id, 2);
    const subscribe_topic topics[] = {{"a", qos::at_least_once}, {"b", qos::exactly_once}};
    EXPECT_EQ(c->s.subscribe(topics, c->tx, 0).packet_id, 3);
    auto tail = test::feed_in_pieces(c->s, std::span(t.input).subspan(at), rest_cuts, 0);
    events.insert(events.end(), tail.begin(), tail.end());
    return events;
}

TEST(SessionSplit, WholeConversationAtOnce) {
    const transcript t = conversation();
    EXPECT_EQ(replay(t, {}), t.expected);
}

TEST(SessionSplit, EverySplitPointGivesTheSameEvents) {
    const transcript t = conversation();
    for (std::size_t cut = 1; cut < t.input.size(); ++cut) {
        ASSERT_EQ(replay(t, {cut}), t.expected) << "split at " << cut;
    }
}

TEST(SessionSplit, OneByteAtATime) {
    const transcript t = conversation();
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < t.input.size(); ++i) cuts.push_back(i);
    EXPECT_EQ(replay(t, cuts), t.expected);
}

// Feeds `input` to a fresh client made by `make` whole, then split at every boundary and
// one byte at a time; every replay must give the events of the whole feed.
template <class Make>
std::vector<recorded> same_at_every_split(Make make, const byte_vector& input) {
    auto whole_client = make();
    const std::vector<recorded> whole = test::feed_in_pieces(whole_client->s, input, {}, 0);
    for (std::size_t cut = 1; cut < input.size(); ++cut) {
        auto c = make();
        EXPECT_EQ(test::feed_in_pieces(c->s, input, {cut}, 0), whole) << "split at " << cut;
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
    auto c = make();
    EXPECT_EQ(test::feed_in_pieces(c->s, input, every, 0), whole) << "one byte at a time";
    return whole;
}

TEST(SessionSplit, RefusalTranscript) {
    const auto events = same_at_every_split(
        [] {
            auto c = std::make_unique<client>();
            c->connect();
            return c;
        },
        concat({connack(false, 4), publish("a", "b")}));
    EXPECT_EQ(events, (std::vector{connack_event(false, connack_code::bad_user_name_or_password),
                                   error_event(error::connection_refused)}));
}

TEST(SessionSplit, ResumptionTranscript) {
    const auto events = same_at_every_split(
        [] {
            auto c = std::make_unique<client>();
            c->connect_accepted(false);
            leave_work_in_flight(*c);
            c->connect({.client_id = "t", .keep_alive_s = 0, .clean_session = false});
            return c;
        },
        concat({connack(true), puback(1), pubcomp(2), pubrec(3), pubcomp(3), suback(4, {0}), unsuback(5)}));
    EXPECT_EQ(events.size(), 1u + 5 + 6);  // connack, five resends, six completions
    EXPECT_EQ(events[2], ev(event_type::resend_pubrel, 2, pubrel(2)));
}

TEST(SessionSplit, InboundQos2Transcript) {
    const auto events = same_at_every_split(
        [] {
            auto c = std::make_unique<client>();
            c->connect_accepted();
            return c;
        },
        concat({publish("q", "2", qos::exactly_once, 1), publish("q", "2", qos::exactly_once, 1, true), pubrel(1),
                pubrel(1), publish("q", "3", qos::exactly_once, 1)}));
    EXPECT_EQ(events, (std::vector{message_event("q", "2", qos::exactly_once, 1, pubrec(1)),
                                   ev(event_type::send, 1, pubrec(1)), ev(event_type::send, 1, pubcomp(1)),
                                   ev(event_type::send, 1, pubcomp(1)),
                                   message_event("q", "3", qos::exactly_once, 1, pubrec(1))}));
}

TEST(SessionSplit, ErrorsAreTheSameAtEverySplitPoint) {
    // A valid packet, then a violation: the error arrives after the valid event whatever
    // the split.
    const byte_vector input = concat({publish("ok", "1"), {0x40, 0x02, 0x00, 0x00}});
    const std::vector<recorded> expected{message_event("ok", "1", qos::at_most_once, 0, {}),
                                         error_event(error::zero_packet_id)};
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
        client c;
        c.connect_accepted();
        std::vector<std::size_t> cuts;
        if (cut != 0 && cut != input.size()) cuts.push_back(cut);
        ASSERT_EQ(test::feed_in_pieces(c.s, input, cuts, 0), expected) << "split at " << cut;
    }
}

}  // namespace
}  // namespace tether::core
