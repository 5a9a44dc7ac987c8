#pragma once
// Reading standard input without stalling the client: asynchronously when stdin is a
// pipe or a terminal, and plainly when it is a regular file (which never blocks, and
// which epoll refuses).

#include <asio/awaitable.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/streambuf.hpp>
#include <optional>
#include <string>

namespace tether::tools {

class stdin_reader {
public:
    explicit stdin_reader(const asio::any_io_executor& ex);

    // The next line without its newline, or nullopt at the end of input.
    asio::awaitable<std::optional<std::string>> next_line();
    // Everything until the end of input.
    asio::awaitable<std::string> all();

private:
    asio::awaitable<bool> fill();  // more bytes into buffer_; false at the end

    std::optional<asio::posix::stream_descriptor> pipe_;
    std::string buffer_;
    bool eof_ = false;
};

}  // namespace tether::tools
