#include "stdin_reader.hpp"

#include <unistd.h>

#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace tether::tools {

stdin_reader::stdin_reader(const asio::any_io_executor& ex) {
    asio::posix::stream_descriptor d(ex);
    std::error_code ec;
    d.assign(::dup(STDIN_FILENO), ec);
    if (!ec) {
        // epoll accepts pipes, sockets and terminals; a regular file fails on the first
        // asynchronous read, and falls back to plain reads there.
        pipe_.emplace(std::move(d));
    }
}

asio::awaitable<bool> stdin_reader::fill() {
    if (eof_) co_return false;
    std::array<char, 65536> chunk;
    if (pipe_) {
        auto [ec, n] = co_await pipe_->async_read_some(asio::buffer(chunk),
                                                       asio::experimental::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_not_supported || ec == std::errc::operation_not_permitted) {
            pipe_.reset();  // a regular file: read it plainly
        } else {
            if (ec || n == 0) eof_ = true;
            buffer_.append(chunk.data(), n);
            co_return n != 0;
        }
    }
    const ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
    if (n <= 0) {
        eof_ = true;
        co_return false;
    }
    buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    co_return true;
}

asio::awaitable<std::optional<std::string>> stdin_reader::next_line() {
    for (;;) {
        if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            co_return line;
        }
        if (!co_await fill()) break;
    }
    if (buffer_.empty()) co_return std::nullopt;
    std::string last = std::move(buffer_);  // a last line without a newline
    buffer_.clear();
    co_return last;
}

asio::awaitable<std::string> stdin_reader::all() {
    // Not `while (co_await fill())`: GCC 12 miscompiles a co_await in a loop condition.
    for (;;) {
        if (!co_await fill()) break;
    }
    std::string all = std::move(buffer_);
    buffer_.clear();
    co_return all;
}

}  // namespace tether::tools
