// The acknowledgement of received messages: sent after the handlers return, or taken over
// by a handler (message::defer_ack → deferred_ack) and sent when it accepts. Whatever the
// order of the accepts, PUBACK and PUBREC go out in the order the PUBLISHes came
// [MQTT-4.6.0-2, 4.6.0-3]: an accepted acknowledgement waits behind earlier ones. So does
// the PUBREC that answers a QoS 2 PUBLISH sent again for an id held (not delivered again):
// it answers a PUBLISH that came after those still waiting.
//
// MQTT 3.1.1 has no negative acknowledgement. A rejected message is given back to the
// server the only way there is: closing the connection without acknowledging it, so that
// the server sends it again on the next one (persistent sessions only). The same holds for
// every acknowledgement still pending when a connection ends for any reason.

#include <algorithm>

#include "engine.hpp"

namespace tether::client {

deferred_ack message::defer_ack() const {
    if (delivery == 0) return {};
    const auto e = source.lock();
    if (!e || !e->defer_ack(delivery)) return {};
    return deferred_ack(source, delivery);
}

deferred_ack::deferred_ack(deferred_ack&& other) noexcept
    : source_(std::move(other.source_)), delivery_(std::exchange(other.delivery_, 0)) {}

deferred_ack& deferred_ack::operator=(deferred_ack&& other) noexcept {
    if (this != &other) {
        reject();
        source_ = std::move(other.source_);
        delivery_ = std::exchange(other.delivery_, 0);
    }
    return *this;
}

deferred_ack::~deferred_ack() { reject(); }

std::error_code deferred_ack::accept() noexcept {
    if (delivery_ == 0) return {};
    const auto e = source_.lock();
    const std::uint64_t d = std::exchange(delivery_, 0);
    source_.reset();
    if (!e) return make_error_code(errc::client_stopped);
    return e->accept_ack(d);
}

void deferred_ack::reject() noexcept {
    if (delivery_ == 0) return;
    const auto e = source_.lock();
    const std::uint64_t d = std::exchange(delivery_, 0);
    source_.reset();
    if (e) e->reject_ack(d);
}

}  // namespace tether::client

namespace tether::client::detail {

bool engine::deliver(const core::event& e) {
    const bool acknowledged = !e.reply.empty();  // QoS 1 and 2
    if (acknowledged &&
        pending_acks_.size() - ack_head_ >= std::max<std::size_t>(opts_.max_pending_acks, 1)) {
        // Not delivered: the server sends it again after the reconnect, with the rest. The
        // session already holds a QoS 2 id: forgotten, so that copy is delivered, not only
        // answered.
        if (e.message.qos == core::qos::exactly_once) session_.forget_inbound(e.packet_id);
        fail_connection(make_error_code(errc::too_many_pending_acks));
        return false;
    }
    delivering_ = acknowledged ? ++deliveries_ : 0;
    // Copied: a handler may use the session, which reuses the reply's memory.
    if (acknowledged) std::copy_n(e.reply.begin(), std::min(e.reply.size(), std::size_t{4}), delivering_reply_.begin());
    const std::uint64_t d = delivering_;
    dispatch(e);
    delivering_ = 0;
    if (link_failed_) return false;  // a handler rejected, or stopped the client
    if (!acknowledged) return true;
    if (ack_head_ < pending_acks_.size() && pending_acks_.back().delivery == d) {
        // Deferred, and maybe accepted already: then journaled as taken, even if its PUBREC
        // waits behind an earlier message's.
        if (pending_acks_.back().holds == 0) journal_accepted(pending_acks_.back());
        flush_acks();
    } else if (ack_head_ == pending_acks_.size()) {
        // The PUBACK or PUBREC goes after the handlers have run: the application has the
        // message before the server may forget it.
        send_ack(delivering_reply_);
    } else {
        pending_acks_.push_back({d, e.packet_id, 0, e.message.qos == core::qos::exactly_once, delivering_reply_});
        journal_accepted(pending_acks_.back());
    }
    return true;
}

bool engine::defer_ack(std::uint64_t delivery) {
    // After a handler of the same message rejected it (the link is failing and what it owed
    // is dropped), there is nothing to defer: the server sends the message again.
    if (delivery == 0 || delivery != delivering_ || link_failed_) return false;
    if (ack_head_ < pending_acks_.size() && pending_acks_.back().delivery == delivery) {
        ++pending_acks_.back().holds;  // another handler of the same message
        return true;
    }
    const bool qos2 = delivering_reply_[0] == 0x50;  // PUBREC
    const auto id = static_cast<std::uint16_t>((delivering_reply_[2] << 8) | delivering_reply_[3]);
    pending_acks_.push_back({delivery, id, 1, qos2, delivering_reply_});
    return true;
}

engine::pending_ack* engine::find_pending_ack(std::uint64_t delivery) {
    const auto first = pending_acks_.begin() + static_cast<std::ptrdiff_t>(ack_head_);
    const auto it = std::lower_bound(first, pending_acks_.end(), delivery,
                                     [](const pending_ack& p, std::uint64_t d) { return p.delivery < d; });
    return it != pending_acks_.end() && it->delivery == delivery ? &*it : nullptr;
}

std::error_code engine::accept_ack(std::uint64_t delivery) {
    pending_ack* p = find_pending_ack(delivery);
    if (p == nullptr) return make_error_code(errc::connection_lost);
    if (p->holds > 0) --p->holds;
    // During its own dispatch deliver() flushes when the handlers are done.
    if (delivery != delivering_) {
        if (p->holds == 0) journal_accepted(*p);
        flush_acks();
    }
    return {};
}

void engine::reject_ack(std::uint64_t delivery) {
    if (find_pending_ack(delivery) != nullptr) fail_connection(make_error_code(errc::message_rejected));
}

void engine::flush_acks() {
    while (ack_head_ < pending_acks_.size() && pending_acks_[ack_head_].holds == 0 &&
           pending_acks_[ack_head_].delivery != delivering_) {
        const pending_ack& p = pending_acks_[ack_head_];
        if (p.again) {
            append(p.reply);  // the id is held (and journaled) since its first PUBREC
        } else {
            send_ack(p.reply);
        }
        ++ack_head_;
    }
    if (ack_head_ == pending_acks_.size()) {
        pending_acks_.clear();
        ack_head_ = 0;
    } else if (ack_head_ >= 64 && 2 * ack_head_ >= pending_acks_.size()) {
        pending_acks_.erase(pending_acks_.begin(), pending_acks_.begin() + static_cast<std::ptrdiff_t>(ack_head_));
        ack_head_ = 0;
    }
}

void engine::send_ack(std::span<const std::uint8_t> reply) {
    // A received QoS 2 id is held in the durable outbox as its PUBREC goes: after delivery
    // (a crash before it costs a duplicate, never a message answered PUBREC and not
    // delivered), and only once the application took it (one deferred and never accepted
    // must be delivered again).
    if (reply.size() == 4 && reply[0] == 0x50) journal_hold_inbound(static_cast<std::uint16_t>((reply[2] << 8) | reply[3]));
    append(reply);
}

void engine::drop_pending_acks() {
    for (std::size_t i = ack_head_; i < pending_acks_.size(); ++i) {
        // Not taken: when the server sends it again it must be delivered again, not only
        // answered PUBREC. (One accepted and held keeps its id: it was processed, and the
        // server's next copy is only answered.)
        if (pending_acks_[i].qos2 && pending_acks_[i].holds != 0) session_.forget_inbound(pending_acks_[i].packet_id);
    }
    pending_acks_.clear();
    ack_head_ = 0;
}

bool engine::answer_in_order(std::span<const std::uint8_t> reply) {
    // Only a PUBREC is an acknowledgement here: a PUBREL or PUBCOMP answers our own flow.
    if (reply.size() != 4 || reply[0] != 0x50 || ack_head_ == pending_acks_.size()) return false;
    const auto id = static_cast<std::uint16_t>((reply[2] << 8) | reply[3]);
    // The PUBREC of that message is pending already: it answers this copy too.
    if (std::any_of(pending_acks_.begin() + static_cast<std::ptrdiff_t>(ack_head_), pending_acks_.end(),
                    [id](const pending_ack& p) { return p.qos2 && p.packet_id == id; })) {
        return true;
    }
    // A PUBLISH again for an id answered before: its PUBREC answers the PUBLISH that just
    // came, so it queues behind those of the messages before it [MQTT-4.6.0-2, 4.6.0-3]. It
    // counts against the same limit as a delivered message (one entry per held id at most,
    // but the server picks the ids).
    if (pending_acks_.size() - ack_head_ >= std::max<std::size_t>(opts_.max_pending_acks, 1)) {
        fail_connection(make_error_code(errc::too_many_pending_acks));
        return true;
    }
    std::array<std::uint8_t, 4> copy{};
    std::copy_n(reply.begin(), 4, copy.begin());
    pending_acks_.push_back({++deliveries_, id, 0, true, copy, true});
    return true;
}

}  // namespace tether::client::detail
