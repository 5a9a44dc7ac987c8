// client::set_options(): new options by a new engine that takes the old one's place. The
// engine sizes its session, buffers and TLS context from its options when it is made, and
// a stopped run may still be winding down on the old ones, so nothing is changed under it:
// the old engine stays stopped, ends when the last coroutine holding it does, and hands over
// only what belongs to the client rather than to a connection.

#include <asio/post.hpp>

#include "engine.hpp"

namespace tether::client::detail {

bool engine::replaceable() const noexcept { return state_ == state::idle || state_ == state::stopped; }

std::shared_ptr<engine> engine::succeed(engine& previous, options opts) {
    auto next = std::make_shared<engine>(previous.ex_, std::move(opts));
    // An idle engine may have waiters (a subscribe(wait::ack) before connect()): they would
    // wait for a connection it never makes. A stopped one has failed them already. A
    // connect() waiting for its stopped run to end is called off too (client_stopped): it
    // would start a run of the old identity on an engine the client no longer holds.
    previous.close();

    // The application's subscriptions, handlers shared. Each is sent on the next connection
    // (granted ones as after a reconnect; stop() put those in a SUBSCRIBE back to wanted).
    next->subscriptions_ = previous.subscriptions_;
    next->subscriptions_.connection_started();
    // request()'s reply filters deliver into the old engine's waiters: they go, and the new
    // engine subscribes its own on its first request().
    if (!previous.reply_filters_.empty()) {
        const std::vector<std::string> replies(previous.reply_filters_.begin(), previous.reply_filters_.end());
        next->subscriptions_.remove(replies, next->ex_);
    }

    next->stats_ = previous.stats_;  // "since the client was made"
    // A stopped engine reports nothing more, but its copy of the callback goes too (it may
    // hold what the owner destroys after the next on_connection_event()). Not now: this may
    // be running inside that very callback (a `disconnected` event).
    next->on_event_ = previous.on_event_;
    asio::post(previous.ex_, [old = previous.shared_from_this()] { old->on_event_ = nullptr; });
    return next;
}

}  // namespace tether::client::detail

namespace tether::client {

std::error_code client::set_options(options opts) {
    if (!engine_->replaceable()) return make_error_code(errc::already_connected);
    // Nothing changes: no new engine, so the session state in memory stays for the next
    // connect(), as for connect() again without set_options(): the PUBREL of a QoS 2
    // message past PUBREC [MQTT-4.4.0-1], messages a stop left unacknowledged. (A device
    // coming back from a throttle's stay-away sets the options it had.)
    if (engine_->made_from(opts)) return {};
    engine_ = detail::engine::succeed(*engine_, std::move(opts));
    return {};
}

}  // namespace tether::client
