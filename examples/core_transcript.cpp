// The tether core at work, with no network: a session talks to a scripted server, and
// every packet is printed in hex with its decoded fields. The clock is simulated, so the
// keep-alive and a reconnect happen in an instant.
//
//   ./build/examples/core_transcript

#include <array>
#include <cstdio>
#include <string>
#include <string_view>

#include "tether/core/core.hpp"

namespace core = tether::core;

namespace {

std::array<std::uint8_t, 512> tx;
core::static_session<16, 16, 1024> session({.response_timeout_ms = 5000});
core::millis now = 0;

const char* type_name(core::packet_type t) {
    static const char* const names[] = {"?",      "CONNECT", "CONNACK",   "PUBLISH", "PUBACK",
                                        "PUBREC", "PUBREL",  "PUBCOMP",   "SUBSCRIBE", "SUBACK",
                                        "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT"};
    const auto i = static_cast<unsigned>(t);
    return i < 15 ? names[i] : "?";
}

void print_hex(const char* arrow, core::bytes packet) {
    std::printf("%s %-11s", arrow, type_name(static_cast<core::packet_type>(packet[0] >> 4)));
    const std::size_t shown = packet.size() < 24 ? packet.size() : 24;
    for (std::size_t i = 0; i < shown; ++i) std::printf(" %02x", packet[i]);
    if (shown < packet.size()) std::printf(" ... (%zu bytes)", packet.size());
    std::printf("\n");
}

void client_sends(core::bytes packet, const std::string& fields) {
    print_hex("client ->", packet);
    std::printf("            %s\n", fields.c_str());
}

std::string text(core::bytes b) { return std::string(b.begin(), b.end()); }

// Prints what the session made of the server's bytes, and sends what it asks us to.
void handle_events() {
    for (core::event e = session.poll(now); e.type != core::event_type::none; e = session.poll(now)) {
        switch (e.type) {
        case core::event_type::connack:
            std::printf("            event connack: session present %d, return code %d\n", e.connack.session_present,
                        static_cast<int>(e.connack.code));
            break;
        case core::event_type::message:
            std::printf("            event message: topic \"%.*s\", payload \"%s\", QoS %d, packet id %u\n",
                        static_cast<int>(e.message.topic.size()), e.message.topic.data(), text(e.message.payload).c_str(),
                        static_cast<int>(e.message.qos), e.message.packet_id);
            break;
        case core::event_type::puback:
        case core::event_type::pubcomp:
            std::printf("            event %s: message %u delivered; its bytes can go\n",
                        e.type == core::event_type::puback ? "puback" : "pubcomp", e.packet_id);
            break;
        case core::event_type::suback:
            std::printf("            event suback: packet id %u, granted QoS", e.packet_id);
            for (const auto c : e.return_codes) std::printf(" %d", c);
            std::printf("\n");
            break;
        case core::event_type::pingresp:
            std::printf("            event pingresp: the link is alive\n");
            break;
        case core::event_type::resend_publish:
            std::printf("            event resend_publish: packet id %u goes again with DUP set\n", e.packet_id);
            break;
        case core::event_type::error:
            std::printf("            event error %d\n", static_cast<int>(e.err));
            return;
        default:
            break;
        }
        if (!e.reply.empty()) client_sends(e.reply, "(the session's reply)");
    }
}

void server_sends(std::initializer_list<std::uint8_t> packet) {
    const core::bytes b{packet.begin(), packet.size()};
    print_hex("server ->", b);
    (void)session.feed(b);
    handle_events();
}

std::array<std::uint8_t, 64> kept_publish;  // what an application keeps until PUBACK
std::size_t kept_size = 0;

}  // namespace

int main() {
    std::printf("tether core transcript: a session and a scripted server, no network\n\n");

    const core::will_message will{.topic = "demo/status", .payload = {reinterpret_cast<const std::uint8_t*>("offline"), 7},
                                  .qos = core::qos::at_least_once, .retain = true};
    auto r = session.connect({.client_id = "tether-demo", .keep_alive_s = 30, .clean_session = false, .will = &will},
                             tx, now);
    client_sends({tx.data(), r.size}, "client id \"tether-demo\", keep-alive 30 s, persistent session, will on demo/status");
    server_sends({0x20, 0x02, 0x00, 0x00});

    const core::subscribe_topic topics[] = {{"demo/#", core::qos::exactly_once}};
    r = session.subscribe(topics, tx, now);
    client_sends({tx.data(), r.size}, "packet id " + std::to_string(r.packet_id) + ", filter demo/# at QoS 2");
    server_sends({0x90, 0x03, 0x00, 0x01, 0x02});

    const std::string_view hello = "Hello from tether";
    r = session.publish({.topic = "demo/hello", .payload = {reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()},
                         .qos = core::qos::at_least_once},
                        tx, now);
    client_sends({tx.data(), r.size}, "QoS 1, packet id " + std::to_string(r.packet_id) + ", topic demo/hello");
    server_sends({0x40, 0x02, 0x00, 0x02});

    r = session.publish({.topic = "demo/once", .payload = {reinterpret_cast<const std::uint8_t*>("exactly"), 7},
                         .qos = core::qos::exactly_once},
                        tx, now);
    client_sends({tx.data(), r.size}, "QoS 2, packet id " + std::to_string(r.packet_id) + ", topic demo/once");
    server_sends({0x50, 0x02, 0x00, 0x03});  // PUBREC: the session answers PUBREL
    server_sends({0x70, 0x02, 0x00, 0x03});  // PUBCOMP

    std::printf("\nthe server delivers a QoS 2 message, then sends it again before PUBREL:\n");
    server_sends({0x34, 0x0F, 0x00, 0x08, 'd', 'e', 'm', 'o', '/', 'c', 'm', 'd', 0x00, 0x07, 'r', 'e', 'b'});
    server_sends({0x3C, 0x0F, 0x00, 0x08, 'd', 'e', 'm', 'o', '/', 'c', 'm', 'd', 0x00, 0x07, 'r', 'e', 'b'});
    server_sends({0x62, 0x02, 0x00, 0x07});

    std::printf("\n30 s pass with nothing sent (simulated clock):\n");
    now += 30'000;
    handle_events();
    server_sends({0xD0, 0x00});

    std::printf("\na QoS 1 message is in flight when the link drops:\n");
    r = session.publish({.topic = "demo/hello", .payload = {reinterpret_cast<const std::uint8_t*>("again"), 5},
                         .qos = core::qos::at_least_once},
                        kept_publish, now);
    kept_size = r.size;
    client_sends({kept_publish.data(), kept_size}, "QoS 1, packet id " + std::to_string(r.packet_id));
    session.connection_lost();
    std::printf("            (connection lost)\n");
    r = session.connect({.client_id = "tether-demo", .keep_alive_s = 30, .clean_session = false}, tx, now);
    client_sends({tx.data(), r.size}, "reconnect, same persistent session");
    print_hex("server ->", std::array<std::uint8_t, 4>{0x20, 0x02, 0x01, 0x00});
    (void)session.feed(std::array<std::uint8_t, 4>{0x20, 0x02, 0x01, 0x00});
    for (core::event e = session.poll(now); e.type != core::event_type::none; e = session.poll(now)) {
        if (e.type == core::event_type::resend_publish) {
            core::mark_dup({kept_publish.data(), kept_size});
            client_sends({kept_publish.data(), kept_size}, "the same message again: DUP set, same packet id");
        } else if (e.type == core::event_type::connack) {
            std::printf("            event connack: session present %d\n", e.connack.session_present);
        }
    }
    server_sends({0x40, 0x02, 0x00, 0x04});

    r = session.disconnect(tx);
    client_sends({tx.data(), r.size}, "graceful: the server discards the will");
    return 0;
}
