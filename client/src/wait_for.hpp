#pragma once
// Waiting on a signal with a time limit.

#include <asio/awaitable.hpp>
#include <chrono>
#include <system_error>

#include "signal.hpp"
#include "tether/client/error.hpp"

namespace tether::client::detail {

// Waits for `sig`, or for `limit`; errc::timeout on the latter.
inline asio::awaitable<std::error_code> wait_for(signal& sig, std::chrono::steady_clock::duration limit) {
    const auto result = co_await sig.wait_until(std::chrono::steady_clock::now() + limit);
    co_return result ? *result : make_error_code(errc::timeout);
}

}  // namespace tether::client::detail
