#pragma once
// A TCP proxy for resilience tests, on the test's own io_context: it forwards a loopback
// port to the broker and, on command, cuts every connection or stops forwarding without
// closing (a link gone silent).

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tether::test {

class tcp_proxy {
public:
    tcp_proxy(asio::io_context& io, std::uint16_t target_port);
    ~tcp_proxy();

    [[nodiscard]] std::uint16_t port() const { return port_; }
    // Closes every connection open now; new ones are accepted as usual. Returns how many
    // were open (a cut of links already gone cuts nothing).
    std::size_t cut();
    // Connections open now forward nothing more, and stay open on the client's side even
    // when the broker closes its side.
    void silence();
    // While refusing, every connection is cut and each new one is closed as soon as it is
    // accepted: a client behind the proxy is offline, the broker stays up.
    void refuse(bool on);
    [[nodiscard]] std::size_t accepted() const { return accepted_; }
    // Connections that were open when cut() closed them.
    [[nodiscard]] std::size_t links_cut() const { return links_cut_; }
    // Everything forwarded from the server to clients, to tell after a test whether a
    // message ever left the broker.
    [[nodiscard]] const std::string& downstream() const { return *downstream_; }

private:
    struct link;
    asio::awaitable<void> accept_loop();
    static asio::awaitable<void> pump(std::shared_ptr<link> l, bool upstream, std::shared_ptr<std::string> record);

    asio::io_context& io_;
    asio::ip::tcp::acceptor acceptor_;
    std::uint16_t target_;
    std::uint16_t port_;
    std::vector<std::weak_ptr<link>> links_;
    std::size_t accepted_ = 0;
    std::size_t links_cut_ = 0;
    bool refusing_ = false;
    std::shared_ptr<std::string> downstream_ = std::make_shared<std::string>();
};

}  // namespace tether::test
