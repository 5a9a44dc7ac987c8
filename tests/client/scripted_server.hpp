#pragma once
// A scripted MQTT 3.1.1 server for client tests that must see the client's bytes: it
// records every packet the client sends, in order, and behaves as a broker would where the
// tests need it. The barrier is the client's ping(): when it returns, the server has read
// the PINGREQ and so everything the client wrote before it.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../support/loopback.hpp"
#include "tether/client/options.hpp"
#include "use_tuple.hpp"

namespace tether::test {

inline constexpr std::uint8_t publish_type = 3, puback = 4, pubrec = 5, pubrel = 6, pubcomp = 7, subscribe_type = 8,
                              unsubscribe_type = 10;

struct packet_seen {
    int connection;
    std::uint8_t type;
    std::uint16_t id;  // of PUBLISH (QoS 1/2), PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE; else 0
    std::vector<std::string> filters{};  // SUBSCRIBE, UNSUBSCRIBE
};

// Grants every SUBSCRIBE as asked (unless hold_subacks), sends the PUBLISHes the test asks
// for, answers PUBREC with PUBREL, and keeps each PUBLISH it sent until it is acknowledged
// (PUBACK, PUBREC): the next connection of a persistent session gets it again with DUP set,
// as a broker does. The client's PUBLISHes get PUBACK or PUBREC, its PUBRELs PUBCOMP from
// connection `pubcomp_from` on. With strict_qos2 it keeps the client's QoS 2 messages as
// a broker that holds QoS 2 state strictly does (below).
class scripted_server {
public:
    explicit scripted_server(asio::io_context& io)
        : acceptor_(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        asio::co_spawn(io, serve(), asio::detached);
    }
    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    void publish(const std::string& topic, const std::string& payload, int qos, std::uint16_t id, bool dup = false) {
        std::vector<std::uint8_t> p;
        p.push_back(static_cast<std::uint8_t>(0x30 | (qos << 1) | (dup ? 0x08 : 0)));
        std::size_t rest = 2 + topic.size() + (qos != 0 ? 2 : 0) + payload.size();
        do {  // remaining length
            p.push_back(static_cast<std::uint8_t>((rest & 0x7F) | (rest > 0x7F ? 0x80 : 0)));
            rest >>= 7;
        } while (rest != 0);
        p.push_back(static_cast<std::uint8_t>(topic.size() >> 8));
        p.push_back(static_cast<std::uint8_t>(topic.size()));
        p.insert(p.end(), topic.begin(), topic.end());
        if (qos != 0) {
            p.push_back(static_cast<std::uint8_t>(id >> 8));
            p.push_back(static_cast<std::uint8_t>(id));
        }
        p.insert(p.end(), payload.begin(), payload.end());
        if (qos != 0) unacked_.push_back({id, p});
        write(p);
    }
    // Sends bytes as they are on the current connection.
    void write(const std::vector<std::uint8_t>& bytes) {
        // Blocking, on loopback and small: never interleaved with another write.
        std::error_code ec;
        if (current_) asio::write(*current_, asio::buffer(bytes), ec);
    }
    // Answers a SUBSCRIBE held back (hold_subacks), granting what it asked.
    void send_suback(std::uint16_t id) {
        for (const auto& [held_id, bytes] : held_subacks_) {
            if (held_id == id) write(bytes);
        }
    }
    // Answers an UNSUBSCRIBE held back (hold_unsubacks).
    void send_unsuback(std::uint16_t id) {
        std::erase(held_unsubacks_, id);
        write(ack(0xB0, id));
    }
    [[nodiscard]] const std::vector<std::uint16_t>& held_unsubacks() const { return held_unsubacks_; }
    void close() {
        if (current_) current_->close();
    }
    // The ids of the packets of `type` the client sent on connection `n`, in order.
    [[nodiscard]] std::vector<std::uint16_t> ids(int n, std::uint8_t type) const {
        std::vector<std::uint16_t> r;
        for (const auto& s : seen) {
            if (s.connection == n && s.type == type) r.push_back(s.id);
        }
        return r;
    }

    std::vector<packet_seen> seen;
    int connections = 0;
    int pubcomp_from = 1;
    bool hold_subacks = false;
    bool session_present = true;  // from the second connection of a persistent session on
    // Closes the link instead of answering when it says so for a packet (connection, type);
    // the packet is recorded, with id 0.
    std::function<bool(int, std::uint8_t)> close_when;
    // The PUBACK/PUBREC for the client's PUBLISHes waits for its next PINGREQ.
    bool ack_publishes_at_ping = false;
    bool hold_unsubacks = false;
    bool release_qos2 = true;  // false: no PUBREL for the PUBRECs of its QoS 2 PUBLISHes
    std::vector<std::string> refuse;  // filters whose SUBSCRIBE is answered 0x80

    // A broker strict about QoS 2 [MQTT-4.3.3-2] (method A of the specification's figure
    // 4.3): the client's QoS 2 PUBLISH is stored under its packet id and delivered onwards
    // at PUBREL, which releases the id; a PUBLISH with an id held awaiting PUBREL is
    // answered PUBREC and not delivered again, whatever it carries. Acks held for a
    // PINGREQ (ack_publishes_at_ping) die with their connection, as a broker's would.
    // Off, the server delivers every PUBLISH it gets, QoS 2 included, and keeps no ids.
    bool strict_qos2 = false;
    std::vector<std::uint16_t> withhold_pubcomp;  // PUBRELs of these ids get no PUBCOMP

    // What the server delivered onwards from the client, in order: a QoS 0/1 PUBLISH at
    // each receipt (duplicates included), a QoS 2 one at PUBREL (strict_qos2) or receipt.
    struct delivery {
        int connection;
        int qos;
        std::uint16_t id;
        std::string topic;
        std::string payload;
    };
    std::vector<delivery> delivered;
    // Ids of client PUBLISHes that came while the id was in use for another message (other
    // topic or payload): an id is in use from the PUBLISH until the server's PUBACK or
    // PUBCOMP for it [MQTT-2.3.1-2]. A clean session forgets them all.
    std::vector<std::uint16_t> id_conflicts;

private:
    struct unacked {
        std::uint16_t id;
        std::vector<std::uint8_t> bytes;
    };

    void forget(std::uint16_t id) {
        std::erase_if(unacked_, [id](const unacked& u) { return u.id == id; });
    }
    struct stored {
        std::string topic;
        std::string payload;
    };
    // Writes an ack to the client; a PUBACK or PUBCOMP frees the id it names.
    void write_ack(const std::vector<std::uint8_t>& bytes) {
        if (bytes[0] == 0x40 || bytes[0] == 0x70) in_use_.erase(static_cast<std::uint16_t>((bytes[2] << 8) | bytes[3]));
        write(bytes);
    }
    // A client PUBLISH of QoS 1/2 with `id`: the id is in use for it until acknowledged.
    // Strict, a QoS 2 one is stored until PUBREL unless the id is held already (a
    // duplicate, only answered); otherwise it is delivered now.
    void receive(int n, int qos, std::uint16_t id, stored m) {
        const auto [use, fresh] = in_use_.try_emplace(id, m);
        if (!fresh && (use->second.topic != m.topic || use->second.payload != m.payload)) id_conflicts.push_back(id);
        if (qos == 2 && strict_qos2) {
            held_qos2_.try_emplace(id, std::move(m));
            return;
        }
        delivered.push_back({n, qos, id, std::move(m.topic), std::move(m.payload)});
    }

    asio::awaitable<void> serve() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(client::detail::use_tuple);
            if (ec) co_return;
            if (current_) current_->close();
            current_ = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
            // Acknowledgements not written on the old link are gone with it, as at a broker:
            // the client sends those PUBLISHes again and gets them anew.
            held_acks_.clear();
            asio::co_spawn(acceptor_.get_executor(), talk(current_, ++connections), asio::detached);
        }
    }

    asio::awaitable<void> talk(std::shared_ptr<asio::ip::tcp::socket> s, int n) {
        std::vector<std::uint8_t> in;
        std::array<std::uint8_t, 4096> buf{};
        for (;;) {
            auto [ec, got] = co_await s->async_read_some(asio::buffer(buf), client::detail::use_tuple);
            if (ec || s != current_) co_return;
            in.insert(in.end(), buf.begin(), buf.begin() + static_cast<long>(got));
            for (;;) {
                std::size_t length = 0, shift = 0, header = 1;
                bool complete = false;
                while (!complete && header < in.size() && header <= 4) {
                    const std::uint8_t b = in[header++];
                    length |= std::size_t{b & 0x7Fu} << shift;
                    shift += 7;
                    complete = (b & 0x80) == 0;
                }
                if (!complete || in.size() < header + length) break;
                const std::uint8_t first = in[0];
                const std::vector<std::uint8_t> body(in.begin() + static_cast<long>(header),
                                                     in.begin() + static_cast<long>(header + length));
                in.erase(in.begin(), in.begin() + static_cast<long>(header + length));
                if (close_when && close_when(n, static_cast<std::uint8_t>(first >> 4))) {
                    seen.push_back({n, static_cast<std::uint8_t>(first >> 4), 0});
                    s->close();
                    co_return;
                }
                handle(n, first, body);
            }
        }
    }

    static std::uint16_t id_at(const std::vector<std::uint8_t>& body, std::size_t at) {
        return body.size() >= at + 2 ? static_cast<std::uint16_t>((body[at] << 8) | body[at + 1]) : 0;
    }
    static std::vector<std::uint8_t> ack(std::uint8_t first, std::uint16_t id) {
        return {first, 0x02, static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
    }

    void handle(int n, std::uint8_t first, const std::vector<std::uint8_t>& body) {
        const std::uint8_t type = first >> 4;
        packet_seen seen_now{n, type, 0};
        switch (type) {
        case 1: {  // CONNECT: flags after "\0\4MQTT" and the level
            seen.push_back(seen_now);
            const bool clean = (body[7] & 0x02) != 0;
            if (clean) unacked_.clear();
            if (clean) held_qos2_.clear(), in_use_.clear();
            const bool present = !clean && session_present && connections > 1;
            write({0x20, 0x02, static_cast<std::uint8_t>(present ? 1 : 0), 0});
            for (auto& u : unacked_) {
                u.bytes[0] |= 0x08;  // DUP
                write(u.bytes);
            }
            return;
        }
        case publish_type: {
            const int qos = (first >> 1) & 3;
            const std::size_t topic = id_at(body, 0);
            if (qos != 0) seen_now.id = id_at(body, 2 + topic);
            seen.push_back(seen_now);
            const std::size_t payload_at = std::min(body.size(), 2 + topic + (qos != 0 ? 2 : 0));
            stored m{std::string(body.begin() + static_cast<long>(std::min(body.size(), std::size_t{2})),
                                 body.begin() + static_cast<long>(std::min(body.size(), 2 + topic))),
                     std::string(body.begin() + static_cast<long>(payload_at), body.end())};
            if (qos == 0) delivered.push_back({n, 0, 0, std::move(m.topic), std::move(m.payload)});
            if (qos != 0) {
                receive(n, qos, seen_now.id, std::move(m));
                auto reply = ack(qos == 1 ? 0x40 : 0x50, seen_now.id);
                if (ack_publishes_at_ping) {
                    held_acks_.push_back(std::move(reply));
                } else {
                    write_ack(reply);
                }
            }
            return;
        }
        case subscribe_type: {
            seen_now.id = id_at(body, 0);
            std::vector<std::uint8_t> suback{0x90, 0x02, body[0], body[1]};
            for (std::size_t i = 2; i + 2 < body.size();) {
                const std::size_t len = id_at(body, i);
                seen_now.filters.emplace_back(body.begin() + static_cast<long>(i + 2),
                                              body.begin() + static_cast<long>(i + 2 + len));
                const bool refused = std::find(refuse.begin(), refuse.end(), seen_now.filters.back()) != refuse.end();
                suback.push_back(refused ? 0x80 : body[i + 2 + len]);
                ++suback[1];
                i += 3 + len;
            }
            seen.push_back(seen_now);
            if (hold_subacks) {
                held_subacks_.emplace_back(seen_now.id, suback);
            } else {
                write(suback);
            }
            return;
        }
        case unsubscribe_type: {
            seen_now.id = id_at(body, 0);
            for (std::size_t i = 2; i + 1 < body.size();) {
                const std::size_t len = id_at(body, i);
                seen_now.filters.emplace_back(body.begin() + static_cast<long>(i + 2),
                                              body.begin() + static_cast<long>(i + 2 + len));
                i += 2 + len;
            }
            seen.push_back(seen_now);
            if (hold_unsubacks) {
                held_unsubacks_.push_back(seen_now.id);
            } else {
                write(ack(0xB0, seen_now.id));
            }
            return;
        }
        case puback:
        case pubrec:
        case pubrel:
        case pubcomp:
            seen_now.id = id_at(body, 0);
            seen.push_back(seen_now);
            if (type == puback || type == pubrec) forget(seen_now.id);
            if (type == pubrec && release_qos2) write(ack(0x62, seen_now.id));
            if (type == pubrel) {
                if (auto held = held_qos2_.find(seen_now.id); held != held_qos2_.end()) {
                    delivered.push_back({n, 2, seen_now.id, std::move(held->second.topic),
                                         std::move(held->second.payload)});
                    held_qos2_.erase(held);
                }
                const bool withheld = std::find(withhold_pubcomp.begin(), withhold_pubcomp.end(), seen_now.id) !=
                                      withhold_pubcomp.end();
                if (n >= pubcomp_from && !withheld) write_ack(ack(0x70, seen_now.id));
            }
            return;
        case 12:  // PINGREQ
            seen.push_back(seen_now);
            for (const auto& held : held_acks_) write_ack(held);
            held_acks_.clear();
            write({0xD0, 0x00});
            return;
        default:
            seen.push_back(seen_now);
            return;
        }
    }

    asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<asio::ip::tcp::socket> current_;
    std::vector<unacked> unacked_;
    std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> held_subacks_;
    std::vector<std::vector<std::uint8_t>> held_acks_;
    std::vector<std::uint16_t> held_unsubacks_;
    std::map<std::uint16_t, stored> held_qos2_;  // strict_qos2: awaiting PUBREL
    std::map<std::uint16_t, stored> in_use_;     // ids of client PUBLISHes not yet acknowledged
};

// A persistent session (clean_session false) to a server on `port` that reconnects at
// once: what the tests of a scripted server's reconnections use.
inline client::options persistent_to(std::uint16_t port, const char* client_id) {
    client::options o = loopback(port, client_id);
    o.clean_session = false;
    o.reconnect.initial_delay = std::chrono::milliseconds(10);
    o.reconnect.max_delay = std::chrono::milliseconds(20);
    return o;
}

}  // namespace tether::test
