// The publish flow: straight into the write buffer or the window when there is room, into
// the offline queue when not; the waiters of wait::sent and wait::ack, reused.

#include "engine.hpp"
#include "tether/core/encode.hpp"
#include "tether/core/topic.hpp"

namespace tether::client::detail {

bool engine::can_send_publish(core::qos q) const {
    if (state_ != state::connected || link_failed_ || probe_.probing()) return false;
    if (q == core::qos::at_most_once) return out_.size() < write_buffer_limit;
    return session_.publishes_in_flight() < opts_.window;
}

std::error_code engine::send_publish(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q,
                                     bool retain, std::shared_ptr<signal> acked, std::shared_ptr<signal> sent,
                                     std::uint64_t seq) {
    // The encoder checks topic and QoS [MQTT-3.3.2-2, 4.7.3]; nothing is kept if it refuses.
    const core::publish_packet packet{.topic = topic, .payload = payload, .qos = q, .retain = retain};
    const std::size_t size = core::publish_size(packet);
    if (q == core::qos::at_most_once) {
        // Encoded straight into the write buffer: no copy, no allocation in steady state.
        const std::size_t at = out_.size();
        out_.resize(at + size);
        const auto r = session_.publish(packet, std::span(out_).subspan(at), now());
        if (r.err != core::error::none) {
            out_.resize(at);
            return make_error_code(errc::invalid_argument);
        }
        appended_ += r.size;
        ++stats_.messages_published;
        schedule_write();
        watch_sent(sent ? sent : acked, 0);  // QoS 0: `ack` means `sent`
        return {};
    }
    // Encoded into a pooled buffer that keeps its capacity: no allocation per message once
    // the pool has seen messages this large.
    const std::uint32_t entry = flights_.acquire();
    flight& f = flights_.at(entry);
    f.is_publish = true;
    f.bytes.resize(size);
    const auto r = session_.publish(packet, f.bytes, now());
    if (r.err != core::error::none) {
        flights_.release(entry);
        return make_error_code(errc::invalid_argument);
    }
    append(f.bytes);
    ++stats_.messages_published;
    f.acked = std::move(acked);
    f.sent = std::move(sent);
    watch_sent(f.sent, r.packet_id);
    flights_.bind(entry, r.packet_id);
    f.seq = seq;
    journal_bind(seq, r.packet_id);
    return {};
}

void engine::drain_queue() {
    while (!queue_.empty() && can_send_publish(queue_.front().qos)) {
        queued_message& m = queue_.front();
        // Checked before it was queued, so the encoder accepts it.
        (void)send_publish(m.topic, m.payload, m.qos, m.retain, std::move(m.acked), std::move(m.sent), m.seq);
        queue_.pop();
    }
    if (queue_.empty() && queue_empty_) std::exchange(queue_empty_, nullptr)->set();
}

asio::awaitable<std::error_code> engine::drain() {
    if (queue_.empty()) co_return std::error_code{};
    if (state_ == state::idle || state_ == state::stopped) co_return make_error_code(errc::not_connected);
    if (!queue_empty_) queue_empty_ = std::make_shared<signal>(ex_);
    auto waiter = queue_empty_;
    co_return co_await waiter->wait();
}

std::error_code engine::publish_now(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q,
                                    bool retain, std::shared_ptr<signal> acked, std::shared_ptr<signal> sent) {
    const std::error_code ec = accept_publish(topic, payload, q, retain, std::move(acked), std::move(sent));
    // power_loss: accepted means on the disk, and a plain call has no batch to wait for.
    if (!ec && q != core::qos::at_most_once && journal_syncs()) {
        ++stats_.journal_syncs;
        return journal_->sync();
    }
    return ec;
}

std::error_code engine::accept_publish(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q,
                                       bool retain, std::shared_ptr<signal> acked, std::shared_ptr<signal> sent) {
    if (payload.size() > opts_.max_message_size) return make_error_code(errc::message_too_large);
    if (state_ == state::idle || state_ == state::stopped || stopping_) return make_error_code(errc::not_connected);
    const bool now = queue_.empty() && can_send_publish(q);
    // Checked before it is journaled or queued: what the encoder would refuse later.
    if ((!now || journal_) &&
        (core::validate_topic_name(topic) != core::error::none || q > core::qos::exactly_once)) {
        return make_error_code(errc::invalid_argument);
    }
    const bool full = !now && queue_.size() >= opts_.offline_queue_limit;
    if (full && (opts_.overflow == overflow_policy::reject_new || queue_.empty())) {
        return make_error_code(errc::queue_full);
    }
    // Journaled before it counts as accepted: a disk error refuses it, nothing is lost.
    std::uint64_t seq = 0;
    if (auto ec = journal_publish(topic, payload, q, retain, seq)) return ec;
    if (now) {
        const std::error_code ec = send_publish(topic, payload, q, retain, std::move(acked), std::move(sent), seq);
        if (ec) journal_forget(seq);
        return ec;
    }
    if (full) {
        queued_message& oldest = queue_.front();
        const auto dropped = make_error_code(errc::message_dropped);
        if (oldest.acked) oldest.acked->set(dropped);
        if (oldest.sent) oldest.sent->set(dropped);
        journal_forget(oldest.seq);  // reported dropped: never sent, not even after a restart
        queue_.pop();
    }
    queue_.push(topic, payload, q, retain, std::move(acked), std::move(sent), seq);
    return {};
}

// One coroutine frame for the whole awaited publish: client::publish calls this directly
// (no frame of its own), the engine is kept alive by `self` in this frame, and the wait is
// the timer's own operation, not signal::wait()'s coroutine.
asio::awaitable<std::error_code> engine::publish(std::shared_ptr<engine> self, std::string_view topic,
                                                 std::span<const std::uint8_t> payload, core::qos q, wait how,
                                                 bool retain) {
    std::shared_ptr<signal> waiter;
    if (how != wait::none) waiter = self->take_signal();
    if (const auto ec = self->accept_publish(topic, payload, q, retain, how == wait::ack ? waiter : nullptr,
                                             how == wait::sent ? waiter : nullptr)) {
        self->give_back(std::move(waiter));
        co_return ec;
    }
    if (q != core::qos::at_most_once && self->journal_syncs()) {
        // power_loss: accepted once on the disk. One fdatasync for every publish of the
        // batch (group commit); the message may already be on its way meanwhile.
        auto batch = self->journal_batch();
        while (!batch->done()) {
            (void)co_await batch->wait_once();
            if (!batch->done()) co_return make_error_code(std::errc::operation_canceled);  // our own cancellation
        }
        if (batch->result()) co_return batch->result();
    }
    if (!waiter) co_return std::error_code{};
    while (!waiter->done()) {
        (void)co_await waiter->wait_once();
        if (!waiter->done()) co_return make_error_code(std::errc::operation_canceled);  // our own cancellation
    }
    const std::error_code ec = waiter->result();
    self->give_back(std::move(waiter));
    co_return ec;
}

std::shared_ptr<signal> engine::take_signal() {
    if (spare_signals_.empty()) return std::make_shared<signal>(ex_);
    auto s = std::move(spare_signals_.back());
    spare_signals_.pop_back();
    return s;
}

void engine::give_back(std::shared_ptr<signal> s) {
    // Only one nobody else holds (a QoS 1/2 flight keeps its `sent` signal until the
    // acknowledgement): it is then reset and reused by the next publish.
    if (!s || s.use_count() != 1 || spare_signals_.size() >= max_spare_signals) return;
    s->reset();
    spare_signals_.push_back(std::move(s));
}

}  // namespace tether::client::detail
