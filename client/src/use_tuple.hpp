#pragma once
// Completion token for asynchronous operations that return their error as a value
// (std::tuple<error_code, ...>) instead of throwing. Asio 1.22 keeps as_tuple in
// experimental.

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace tether::client::detail {

inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace tether::client::detail
