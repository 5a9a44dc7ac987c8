#include "message_queue.hpp"

namespace tether::client::detail {

void message_queue::push(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q, bool retain,
                         std::shared_ptr<signal> acked, std::shared_ptr<signal> sent, std::uint64_t seq) {
    if (count_ == slots_.size()) {
        // Full: double, moving the ring so that it starts at 0.
        std::vector<queued_message> bigger(slots_.empty() ? 16 : slots_.size() * 2);
        for (std::size_t i = 0; i < count_; ++i) bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
        slots_ = std::move(bigger);
        head_ = 0;
    }
    queued_message& m = slots_[(head_ + count_) % slots_.size()];
    m.topic.assign(topic);
    m.payload.assign(payload.begin(), payload.end());
    m.qos = q;
    m.retain = retain;
    m.acked = std::move(acked);
    m.sent = std::move(sent);
    m.seq = seq;
    ++count_;
}

void message_queue::pop() noexcept {
    queued_message& m = slots_[head_];
    m.acked.reset();
    m.sent.reset();
    head_ = (head_ + 1) % slots_.size();
    --count_;
}

}  // namespace tether::client::detail
