#pragma once
// The offline queue: messages waiting for a connection or for room in the window, in
// order. A ring of slots whose topic and payload buffers keep their capacity, so that a
// steady flow through the queue allocates nothing once it has warmed up.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signal.hpp"
#include "tether/core/packet.hpp"

namespace tether::client::detail {

struct queued_message {
    std::string topic;
    std::vector<std::uint8_t> payload;
    core::qos qos = core::qos::at_most_once;
    bool retain = false;
    std::shared_ptr<signal> acked;
    std::shared_ptr<signal> sent;
    std::uint64_t seq = 0;  // its record in the durable outbox's journal; 0: none
};

class message_queue {
public:
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return count_; }

    // Copies the message into the next slot (reusing that slot's buffers).
    void push(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q, bool retain,
              std::shared_ptr<signal> acked, std::shared_ptr<signal> sent, std::uint64_t seq = 0);
    [[nodiscard]] queued_message& front() noexcept { return slots_[head_]; }
    // Drops the front; its buffers stay in the ring for later messages.
    void pop() noexcept;

    template <class F>
    void for_each(F&& f) {
        for (std::size_t i = 0; i < count_; ++i) f(slots_[(head_ + i) % slots_.size()]);
    }
    void clear() noexcept {
        while (!empty()) pop();
    }

private:
    std::vector<queued_message> slots_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

}  // namespace tether::client::detail
