#pragma once
// The client's engine: one core session, one connection at a time, the completion
// handlers that move its bytes (reading, writing, the keep-alive ticker: engine_io.cpp)
// and the coroutine that connects and reconnects (run, attempt). Everything runs on one
// executor, so nothing here locks. Owned through a shared_ptr that run() and every API
// coroutine hold, so the engine outlives whatever is still running when the client goes
// away; the I/O handlers hold `this`, and attempt() outlasts them.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ssl/context.hpp>
#include <array>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "backoff.hpp"
#include "flight_table.hpp"
#include "journal.hpp"
#include "message_queue.hpp"
#include "refusal_probe.hpp"
#include "signal.hpp"
#include "subscription_table.hpp"
#include "tether/client/client.hpp"
#include "tether/core/session.hpp"
#include "transport.hpp"

namespace tether::client::detail {

class engine : public std::enable_shared_from_this<engine> {
public:
    engine(asio::any_io_executor ex, options opts);

    asio::awaitable<std::error_code> connect();
    // Static, holding `self`: the caller needs no coroutine frame of its own to keep the
    // engine alive (see engine_publish.cpp).
    static asio::awaitable<std::error_code> publish(std::shared_ptr<engine> self, std::string_view topic,
                                                    std::span<const std::uint8_t> payload, core::qos q, wait how,
                                                    bool retain);
    // publish() without a coroutine: queues or encodes now; `acked`/`sent` are signalled
    // later if given.
    std::error_code publish_now(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q,
                                bool retain, std::shared_ptr<signal> acked = {}, std::shared_ptr<signal> sent = {});
    asio::awaitable<std::error_code> drain();
    asio::awaitable<subscribe_result> subscribe(std::vector<subscription> subs, wait how);
    asio::awaitable<std::error_code> unsubscribe(std::vector<std::string> filters, wait how);
    asio::awaitable<std::error_code> ping();
    asio::awaitable<request_result> request(std::string_view topic, std::string_view body, std::string_view reply_topic,
                                            std::chrono::milliseconds timeout, core::qos q);
    asio::awaitable<std::error_code> disconnect(std::chrono::milliseconds limit);
    void stop(std::error_code why);
    // The client is gone: stop(), and a connect() waiting for the stopped run to end
    // starts no other (it returns client_stopped).
    void close();

    // Acknowledgements taken over by handlers (engine_ack.cpp, message::defer_ack).
    // defer_ack: false unless `delivery` is the message being dispatched and has an ack.
    bool defer_ack(std::uint64_t delivery);
    std::error_code accept_ack(std::uint64_t delivery);
    void reject_ack(std::uint64_t delivery);

    [[nodiscard]] bool is_connected() const noexcept { return state_ == state::connected; }
    [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }
    [[nodiscard]] std::size_t in_flight() const noexcept { return session_.publishes_in_flight(); }
    [[nodiscard]] client_stats stats() const noexcept { return stats_; }
    void on_event(std::function<void(const connection_event&)> cb) { on_event_ = std::move(cb); }

    // client::set_options() (engine_handover.cpp): whether a new engine may replace this one
    // now (idle or stopped), and the new engine made from `opts`, which takes over from
    // `previous` (stopped first) what outlives options: subscriptions, callback, counters.
    [[nodiscard]] bool replaceable() const noexcept;
    [[nodiscard]] bool made_from(const options& opts) const { return opts_ == opts; }
    [[nodiscard]] static std::shared_ptr<engine> succeed(engine& previous, options opts);

private:
    // disconnect() of the call that ends the connection (others wait for it).
    asio::awaitable<std::error_code> end_connection(std::chrono::milliseconds limit);
    enum class state { idle, connecting, connected, reconnecting, stopped };

    struct sent_waiter {
        std::uint64_t end;  // the byte count at which its packet is fully written
        std::shared_ptr<signal> sig;
        std::uint16_t packet_id;  // non-zero: a QoS 1/2 PUBLISH, resent after a reconnect
    };
    struct pending_unsubscribe {  // an UNSUBSCRIBE for a persistent session, made offline
        std::vector<std::string> filters;
        std::shared_ptr<signal> acked;
    };

    // The receive buffer starts small, so that an idle connection costs little, and
    // doubles while reads fill it, up to busy_rx; a larger packet grows it to its size.
    static constexpr std::size_t initial_rx = 512;
    static constexpr std::size_t busy_rx = 64 * 1024;
    // QoS 0 messages go into the write buffer while it holds less than this; beyond, they
    // wait in the offline queue like QoS 1/2 messages beyond the window. Bounds the memory
    // a fast producer can pile up, and keeps each write a size the socket takes at once.
    static constexpr std::size_t write_buffer_limit = 256 * 1024;

    [[nodiscard]] core::millis now() const;
    asio::awaitable<void> run(std::shared_ptr<engine> self);
    asio::awaitable<std::error_code> attempt();
    // connect() on a run that is ending: waits until it has; {} when connect() may start the
    // next, else what connect() returns (client_stopped: called off; the caller's cancellation).
    asio::awaitable<std::error_code> wait_for_run_end();
    void call_off_waiting_connect();
    asio::awaitable<std::error_code> open_link();
    bool send_connect();  // false: the options make no valid CONNECT
    // The broker of this attempt: host:port, then each of more_endpoints, round the list.
    [[nodiscard]] endpoint current_endpoint() const;

    // The connection's I/O (engine_io.cpp): completion handlers, not coroutines.
    void start_io();
    void read_next();
    void on_read(std::error_code ec, std::size_t n, std::size_t asked);
    void schedule_write();
    void write_next();
    void write_more();
    void on_written(std::error_code ec, std::size_t n);
    void arm_ticker();
    void on_tick(std::error_code ec);
    void io_finished();
    void fail_connection(std::error_code ec);
    // Moves the receive buffer to one of `size` bytes; false if unread bytes do not fit.
    bool grow_rx(std::size_t size);
    void wake_sent_waiters();
    // Fails (with `ec`) and removes the waiters for which `which(waiter)` holds.
    template <class Pred>
    void fail_sent_waiters(Pred which, std::error_code ec) {
        for (std::size_t i = sent_head_; i < sent_waiters_.size(); ++i) {
            if (which(sent_waiters_[i])) sent_waiters_[i].sig->set(ec);
        }
        sent_waiters_.clear();
        sent_head_ = 0;
    }
    void process_events();
    // Refused publishes (engine_refusal.cpp, refusal_probe.hpp).
    void after_link_ended(std::error_code ec);
    void on_publish_acknowledged(std::uint16_t packet_id);
    void fail_refused(std::uint16_t packet_id);
    std::uint32_t write_probe_ping();
    // A packet of the flight table again (DUP on a PUBLISH); false if it has none under that id.
    bool resend(std::uint16_t packet_id);
    void write_probe(std::uint16_t packet_id);  // the probe between its two PINGREQs
    void write_settled_probe();                 // the probe that waited settle_ms, when due
    [[nodiscard]] core::millis settle_left() const;
    void grow_inbound_qos2();
    void on_connack(const core::event& e);
    void dispatch(const core::event& e);
    // Dispatches a message and sends, defers or holds its acknowledgement (engine_ack.cpp);
    // false if the connection ended meanwhile.
    bool deliver(const core::event& e);
    struct pending_ack;
    pending_ack* find_pending_ack(std::uint64_t delivery);
    void flush_acks();
    // Sends a PUBACK or PUBREC (and holds a PUBREC's id in the durable outbox).
    void send_ack(std::span<const std::uint8_t> reply);
    // At the end of a connection: forgets what it owed (the server sends those again).
    void drop_pending_acks();
    // For a reply the session gave without a message (a PUBREC for a QoS 2 PUBLISH sent
    // again, whose id is held): true if it must not go now, because acknowledgements of
    // earlier messages are pending. It then goes in its turn (flush_acks), or not at all
    // when its own message's PUBREC is pending; past max_pending_acks the connection is
    // failed (too_many_pending_acks). False: send it now.
    bool answer_in_order(std::span<const std::uint8_t> reply);
    void append(std::span<const std::uint8_t> bytes);
    void watch_sent(const std::shared_ptr<signal>& sig, std::uint16_t packet_id);
    bool can_send_publish(core::qos q) const;
    // The waiters of publish(wait::sent / wait::ack), reused: one allocation each per
    // message otherwise.
    std::shared_ptr<signal> take_signal();
    void give_back(std::shared_ptr<signal> s);
    std::error_code send_publish(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q,
                                 bool retain, std::shared_ptr<signal> acked, std::shared_ptr<signal> sent,
                                 std::uint64_t seq = 0);
    void drain_queue();
    // publish_now() but for the power_loss sync, which publish() shares with other callers.
    std::error_code accept_publish(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q,
                                   bool retain, std::shared_ptr<signal> acked, std::shared_ptr<signal> sent);
    // The durable outbox (engine_journal.cpp). open_journal() (in connect()) puts back what
    // the journal holds; the others keep it current, and do nothing when persistence is off.
    std::error_code open_journal();
    // One recovered message back into the session and the flight table with its packet
    // id; false (nothing changed) when it cannot be, and it goes by the queue.
    [[nodiscard]] bool restore_flight(const recovered_message& m);
    void close_journal();
    std::error_code journal_publish(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q,
                                    bool retain, std::uint64_t& seq);
    void journal_bind(std::uint64_t seq, std::uint16_t packet_id);
    void journal_pubrec(std::uint16_t packet_id);
    void journal_forget(std::uint64_t seq);
    void journal_compact_a_little();
    void journal_hold_inbound(std::uint16_t packet_id);
    // A received QoS 2 message the application took (its handlers ran, every deferral
    // accepted): its id is held in the journal now, not only when its PUBREC goes, which
    // may wait behind an earlier message's acknowledgement.
    void journal_accepted(const pending_ack& p);
    void journal_release_inbound(std::uint16_t packet_id);
    // Writes the run of records the journal held back (journal.hpp): before every write to
    // the socket and at the end of each batch of packets read.
    void journal_flush();
    void journal_connack(bool session_present);
    // The fdatasync that the publishes of this turn share (power_loss): set when done.
    std::shared_ptr<signal> journal_batch();
    void sync_journal_batch();
    [[nodiscard]] bool journal_syncs() const noexcept {
        return journal_ && opts_.persistence.level == durability::power_loss;
    }
    // The subscribe and unsubscribe flows (engine_subscribe.cpp).
    void send_wanted_subscriptions();
    void on_suback(const std::vector<std::string>& filters, std::span<const std::uint8_t> codes,
                   std::uint16_t packet_id);
    // Sends UNSUBSCRIBE for `filters`; `acked` (if any) is set by the UNSUBACK.
    std::error_code send_unsubscribe(const std::vector<std::string>& filters, std::shared_ptr<signal> acked);
    void send_pending_unsubscribes();
    // After a connection's resends (and its probe): send_wanted_subscriptions and
    // send_pending_unsubscribes, held back until then by subscribe_after_resends_.
    void send_new_subscriptions();
    void emit(connection_state s, std::error_code reason, bool session_present = false, unsigned attempt = 0,
              std::chrono::milliseconds retry_in = {});
    void fail_all(std::error_code ec);
    void check_drained();

    asio::any_io_executor ex_;
    options opts_;
    std::unique_ptr<asio::ssl::context> tls_;
    std::chrono::steady_clock::time_point epoch_;
    jitter_random random_;

    std::vector<core::outbound_slot> out_slots_;
    std::vector<std::uint16_t> inbound_qos2_;
    std::vector<std::uint8_t> rx_;  // one byte more than the session sees: room for a NUL after a payload
    core::session session_;

    state state_ = state::idle;
    bool ever_connected_ = false;
    bool got_connack_ = false;  // on the current attempt
    bool running_ = false;      // run() is going
    bool stopping_ = false;
    // disconnect() was called on this run (also from a handler, before it resumes): the run
    // ends soon, so a connect() waits for it rather than answering already_connected.
    bool disconnect_called_ = false;
    // A connect() waits for the stopped run to end, then starts the next (engine_connect.cpp).
    // Others answer already_connected meanwhile. disconnect() and close() call it off by
    // moving connect_waits_ on: the waiter finds its number stale and starts nothing.
    bool connect_waiting_ = false;
    std::uint64_t connect_waits_ = 0;
    // Set when run() returns; made only by a connect() that has to wait for that.
    std::shared_ptr<signal> run_ended_;
    std::unique_ptr<transport> link_;
    bool link_failed_ = true;
    std::error_code link_error_;
    std::chrono::steady_clock::time_point connect_deadline_;
    std::size_t endpoint_index_ = 0;  // into host:port + more_endpoints; moves on after a failure

    std::vector<std::uint8_t> out_;      // packets for the next write
    std::vector<std::uint8_t> writing_;  // packets being written
    std::size_t write_offset_ = 0;       // of writing_, written so far
    bool write_scheduled_ = false;       // a write_next() is posted
    // The posted write_next()'s operation, on an io_context (engine_io.cpp, schedule_write).
    basic_handler_memory<64> post_memory_;
    bool write_busy_ = false;            // a write is under way
    std::size_t io_pending_ = 0;         // handlers of this connection yet to run
    std::uint64_t appended_ = 0;         // bytes appended on this connection
    std::uint64_t written_ = 0;          // bytes written on this connection
    // In order of `end`; those before sent_head_ are done. A vector rather than a deque,
    // which allocates half a kilobyte as soon as it is made.
    std::vector<sent_waiter> sent_waiters_;
    std::size_t sent_head_ = 0;
    asio::steady_timer ticker_;
    // What run() and attempt() wait on: the backoff between attempts, and the end of a
    // connection's I/O. Never both at once, so one timer.
    asio::steady_timer pause_;

    std::unique_ptr<journal> journal_;            // open from connect() until stopped
    std::shared_ptr<signal> journal_batch_;       // the publishes awaiting the next fdatasync
    flight_table flights_;
    refusal_probe probe_;
    std::vector<std::uint16_t> held_resends_;  // while probing: resends waiting for the probe
    std::uint64_t probe_end_ = 0;  // the byte count at which this connection's probe is written; 0: not sent
    // PINGREQs written and PINGRESPs read on this connection (answered in order), and the
    // PINGREQs written just ahead of the probe and just after it (0: none). The first one's
    // PINGRESP shows that the server read everything before the probe; the second one's that
    // it read the probe and went on. A close can be laid at the probe's door only between
    // the two: not at a link cut before the server got that far (a flapping network, a busy
    // broker), nor at a server that read the probe and merely left it unanswered.
    std::uint32_t pings_written_ = 0;
    std::uint32_t pings_answered_ = 0;
    std::uint32_t probe_barrier_ = 0;
    std::uint32_t probe_tail_ = 0;
    core::millis barrier_answered_at_ = 0;  // when the PINGREQ ahead of the probe was answered
    std::uint16_t settling_probe_ = 0;       // a probe waiting for its link to last settle_ms (0: none)
    core::millis settled_at_ = 0;            // when it goes
    core::millis link_failed_at_ = 0;       // when this connection's failure was seen
    message_queue queue_;
    subscription_table subscriptions_;
    std::vector<pending_unsubscribe> pending_unsubscribes_;
    bool subscribe_after_resends_ = false;  // CONNACK came: send what the table wants once resends are out
    std::vector<std::shared_ptr<signal>> ping_waiters_;
    // Acknowledgements not yet sent on this connection, in the order their messages
    // arrived; those before ack_head_ have gone.
    struct pending_ack {
        std::uint64_t delivery;  // message::delivery
        std::uint16_t packet_id;
        std::uint16_t holds;     // tokens not yet accepted; 0: waits only for earlier ones
        bool qos2;
        std::array<std::uint8_t, 4> reply;  // PUBACK or PUBREC
        bool again = false;  // a PUBREC for a PUBLISH sent again, whose id is held already
    };
    std::vector<pending_ack> pending_acks_;
    struct matched_handler {  // dispatch(): the handlers a message goes to
        std::shared_ptr<const message_handler> handler;
        std::shared_ptr<const async_message_handler> async_handler;
    };
    std::vector<matched_handler> matched_;
    std::size_t ack_head_ = 0;
    std::uint64_t deliveries_ = 0;  // QoS 1/2 messages dispatched, numbering them from 1
    std::uint64_t delivering_ = 0;  // the one being dispatched now; 0: none
    std::array<std::uint8_t, 4> delivering_reply_{};
    std::shared_ptr<signal> first_connack_;
    std::shared_ptr<signal> drained_;      // disconnect(): nothing queued, nothing in flight
    std::shared_ptr<signal> disconnecting_;  // a disconnect() under way, set with what it returns
    std::shared_ptr<signal> queue_empty_;  // drain(): nothing queued
    static constexpr std::size_t max_spare_signals = 16;
    std::vector<std::shared_ptr<signal>> spare_signals_;
    std::function<void(const connection_event&)> on_event_;
    client_stats stats_;

    struct reply_slot {
        explicit reply_slot(const asio::any_io_executor& ex) : done(ex) {}
        signal done;
        std::string payload;
    };
    std::uint64_t next_request_ = 0;
    std::map<std::string, std::shared_ptr<reply_slot>> requests_;  // reply topic -> waiter
    std::set<std::string> reply_filters_;                           // reply_topic/+ subscribed
};

}  // namespace tether::client::detail
