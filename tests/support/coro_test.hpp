#pragma once
// Runs a test body as a coroutine on a fresh io_context, with a time limit so that a bug
// fails the test instead of hanging it. Inside a coroutine, use EXPECT_* and CO_ASSERT
// (ASSERT_* returns, which a coroutine cannot).

#include <gtest/gtest.h>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <functional>

#define CO_ASSERT(cond)                                 \
    do {                                                \
        if (!(cond)) {                                  \
            ADD_FAILURE() << "CO_ASSERT failed: " #cond;  \
            co_return;                                  \
        }                                               \
    } while (0)

namespace tether::test {

inline void run_coro(const std::function<asio::awaitable<void>(asio::io_context&)>& body,
                     std::chrono::seconds limit = std::chrono::seconds(30)) {
    asio::io_context io;
    bool done = false;
    std::exception_ptr failure;
    asio::co_spawn(io, body(io), [&](std::exception_ptr e) {
        failure = e;
        done = true;
        io.stop();
    });
    io.run_for(limit);
    if (failure) std::rethrow_exception(failure);
    EXPECT_TRUE(done) << "the test did not finish within " << limit.count() << " s";
}

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

// Polls `cond` every 10 ms until it holds or `limit` passes; returns whether it held.
template <class Cond>
asio::awaitable<bool> eventually(Cond cond, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() >= deadline) co_return false;
        co_await sleep_for(std::chrono::milliseconds(10));
    }
    co_return true;
}

}  // namespace tether::test
