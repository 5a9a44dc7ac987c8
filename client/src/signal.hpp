#pragma once
// A one-shot completion that a coroutine can await: set() once, wait() any time before
// or after. Built on a timer that never expires, cancelled to wake the waiter; the wait
// keeps its operation in the signal, so waiting allocates nothing.

#include <asio/any_io_executor.hpp>
#include <asio/bind_allocator.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include "handler_memory.hpp"
#include "use_tuple.hpp"
#include <chrono>
#include <optional>
#include <system_error>

namespace tether::client::detail {

class signal {
    // The completion token of the wait: its operation lives in memory_.
    auto token() { return asio::bind_allocator(handler_allocator<void>(memory_), use_tuple); }

public:
    explicit signal(const asio::any_io_executor& ex) : timer_(ex, asio::steady_timer::time_point::max()) {}

    void set(std::error_code ec = {}) {
        if (done_) return;
        done_ = true;
        ec_ = ec;
        timer_.cancel();
    }
    [[nodiscard]] bool done() const noexcept { return done_; }
    // Makes a signal that was set and is no longer waited on ready for another use.
    void reset() noexcept {
        done_ = false;
        ec_ = {};
    }

    asio::awaitable<std::error_code> wait() {
        while (!done_) {
            auto [ec] = co_await timer_.async_wait(token());
            (void)ec;  // cancelled by set(), or by the awaiting coroutine's own cancellation
            if (!done_) co_return make_error_code(std::errc::operation_canceled);
        }
        co_return ec_;
    }

    // One wait, without a coroutine frame of its own (wait() is a coroutine, and each frame
    // on the path of an awaited publish is an allocation that Asio's first-fit cache may
    // miss). For a caller that checks done() after it: not done means its own cancellation.
    auto wait_once() { return timer_.async_wait(token()); }
    [[nodiscard]] std::error_code result() const noexcept { return ec_; }

    // wait(), giving up at `deadline`: nothing (std::nullopt) if it passes first. For one
    // waiter at a time (it moves the timer's expiry).
    asio::awaitable<std::optional<std::error_code>> wait_until(std::chrono::steady_clock::time_point deadline) {
        if (done_) co_return ec_;
        timer_.expires_at(deadline);
        auto [ec] = co_await timer_.async_wait(token());
        timer_.expires_at(asio::steady_timer::time_point::max());  // wait() relies on it
        if (done_) co_return ec_;
        if (ec) co_return make_error_code(std::errc::operation_canceled);  // the waiter's own cancellation
        co_return std::nullopt;
    }

private:
    handler_memory memory_;
    asio::steady_timer timer_;
    bool done_ = false;
    std::error_code ec_;
};

}  // namespace tether::client::detail
