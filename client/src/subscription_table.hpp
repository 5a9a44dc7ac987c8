#pragma once
// The one table of subscriptions: what the application subscribed locally (handlers), and
// what the server must hold for them, each filter with an explicit state. Every
// connection computes from it what to send: nothing is sent twice, nothing covered by a
// master filter is sent at all, and nothing a local subscription needs is left without a
// server filter when another goes away.
//
// Rules:
//  - A local subscription is served by a server filter with the same text (whatever QoS
//    the server granted it), or by one that covers it (a master, filter_covers) at a QoS
//    at least the one asked for: granted when the SUBACK came, asked for until then.
//  - A local subscription that nothing serves gets a server filter of its own.
//  - A refused filter (SUBACK 0x80) delivers nothing: its local subscriptions go.
// Pure bookkeeping: the engine sends the packets and keeps the waiters.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "signal.hpp"
#include "tether/client/client.hpp"

namespace tether::client::detail {

struct server_filter {
    enum class state : std::uint8_t {
        wanted,   // to be sent on the next connection (or now, when connected)
        sent,     // in a SUBSCRIBE awaiting its SUBACK
        granted,  // the SUBACK granted `granted`; sent again on each new connection
        refused,  // the SUBACK said 0x80
    };
    std::string filter;
    core::qos wanted = core::qos::at_most_once;
    core::qos granted = core::qos::at_most_once;
    state st = state::wanted;
    // sent: the packet id of the SUBSCRIBE carrying it. Only that packet's SUBACK settles
    // it: after an upgrade sent while an earlier SUBSCRIBE was in flight, the earlier
    // SUBACK is not the word on it.
    std::uint16_t packet_id = 0;
    // Set when the SUBACK for the SUBSCRIBE carrying this filter arrives (or the client
    // stops); subscribe(wait::ack) waits on it. Made anew when the filter is sent again.
    std::shared_ptr<signal> settled;
};

struct local_subscription {
    std::string filter;
    core::qos max_qos = core::qos::at_most_once;
    // One subscribe() call: a message that matches several of its filters reaches its
    // handler once (as mosquitto_sub prints it once).
    std::uint64_t group = 0;
    // Shared, so a handler that subscribes (and so grows the table) is not destroyed while
    // it runs.
    std::shared_ptr<const message_handler> handler;
    std::shared_ptr<const async_message_handler> async_handler;
};

class subscription_table {
public:
    // Adds local subscriptions (one subscribe() call: one group) and the server filters
    // they need. Returns, per subscription, what to wait on for its SUBACK: nullptr when a
    // filter the server already granted serves it.
    std::vector<std::shared_ptr<signal>> add(const std::vector<subscription>& subs, const asio::any_io_executor& ex);

    // Removes every local subscription and server filter with these filters, then gives
    // server filters to local subscriptions that the removed ones had served.
    void remove(const std::vector<std::string>& filters, const asio::any_io_executor& ex);

    // A new connection: what was granted is to be sent again (a filter still in a SUBSCRIBE
    // that the session resends stays `sent`).
    void connection_started();
    // Filters to send now (state wanted), marked sent; empty when nothing is to be sent.
    std::vector<std::string> take_wanted();
    // The SUBSCRIBE carrying `filters` (from take_wanted) got this packet id.
    void sent_in(const std::vector<std::string>& filters, std::uint16_t packet_id);
    [[nodiscard]] core::qos wanted_qos(std::string_view filter) const;

    // The SUBACK for the SUBSCRIBE `packet_id` of `filters`, code by code. Refused filters
    // lose their local subscriptions; local subscriptions that a lower grant no longer
    // serves get their own filter. Filters sent again since in another SUBSCRIBE are left.
    void on_suback(const std::vector<std::string>& filters, std::span<const std::uint8_t> codes,
                   std::uint16_t packet_id, const asio::any_io_executor& ex);

    // The client stopped: wake every waiter with `ec`; what is `sent` goes back to `wanted`.
    void fail_waiters(std::error_code ec);

    [[nodiscard]] server_filter* find(std::string_view filter);
    // The QoS the server delivers a local subscription at: granted (or asked for, until the
    // SUBACK) of what serves it, capped at what it asked; 0x80 when refused or not served.
    [[nodiscard]] std::uint8_t served_code(const subscription& s);
    // The SUBACK still to come for what now serves `s` (its own filter, or a master), or
    // null when settled. A master refused or granted less hands a filter to its own
    // SUBSCRIBE, whose SUBACK a wait::ack subscribe must wait for in turn.
    [[nodiscard]] std::shared_ptr<signal> unsettled(const subscription& s);
    [[nodiscard]] const std::vector<local_subscription>& locals() const noexcept { return locals_; }
    [[nodiscard]] const std::vector<server_filter>& server_filters() const noexcept { return server_; }

private:
    [[nodiscard]] const server_filter* serving(std::string_view filter, core::qos q) const;
    void ensure_served(const asio::any_io_executor& ex);
    server_filter& want(std::string_view filter, core::qos q, const asio::any_io_executor& ex);

    std::vector<server_filter> server_;  // small: a vector, searched in order
    std::vector<local_subscription> locals_;
    std::uint64_t next_group_ = 1;
};

}  // namespace tether::client::detail
