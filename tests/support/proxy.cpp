#include "proxy.hpp"

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace tether::test {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
}

struct tcp_proxy::link {
    explicit link(asio::io_context& io) : client(io), server(io) {}
    asio::ip::tcp::socket client;
    asio::ip::tcp::socket server;
    bool silent = false;
    void close() {
        std::error_code ignored;
        client.close(ignored);
        server.close(ignored);
    }
};

tcp_proxy::tcp_proxy(asio::io_context& io, std::uint16_t target_port)
    : io_(io), acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), target_(target_port) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(), asio::detached);
}

tcp_proxy::~tcp_proxy() {
    std::error_code ignored;
    acceptor_.close(ignored);
    cut();
}

asio::awaitable<void> tcp_proxy::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
        if (ec) co_return;  // closed
        auto l = std::make_shared<link>(io_);
        l->client = std::move(socket);
        if (refusing_) {
            l->close();
            continue;
        }
        auto [cec] = co_await l->server.async_connect({asio::ip::make_address("127.0.0.1"), target_}, use_tuple);
        if (cec || refusing_) {
            l->close();  // the broker is down, or refused meanwhile: so is the link
            continue;
        }
        ++accepted_;
        std::erase_if(links_, [](const auto& w) { return w.expired(); });
        links_.push_back(l);
        asio::co_spawn(io_, pump(l, true, nullptr), asio::detached);
        asio::co_spawn(io_, pump(l, false, downstream_), asio::detached);
    }
}

asio::awaitable<void> tcp_proxy::pump(std::shared_ptr<link> l, bool upstream, std::shared_ptr<std::string> record) {
    auto& from = upstream ? l->client : l->server;
    auto& to = upstream ? l->server : l->client;
    std::array<std::uint8_t, 16384> buf;
    for (;;) {
        auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), use_tuple);
        if (ec) break;
        if (l->silent) continue;  // swallowed: the link looks alive and says nothing
        if (record) record->append(reinterpret_cast<const char*>(buf.data()), n);
        auto [wec, w] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_tuple);
        if (wec) break;
    }
    if (l->silent && !upstream) {
        // The broker gave up on a link that stopped answering (its own keep-alive): the
        // client's side stays open and silent, for the client to find out by itself.
        std::error_code ignored;
        l->server.close(ignored);
        co_return;
    }
    l->close();
}

std::size_t tcp_proxy::cut() {
    std::size_t open = 0;
    for (auto& w : links_) {
        auto l = w.lock();
        if (!l || !l->client.is_open()) continue;  // its pumps have closed it already
        l->close();
        ++open;
    }
    links_.clear();
    links_cut_ += open;
    return open;
}

void tcp_proxy::refuse(bool on) {
    refusing_ = on;
    if (on) (void)cut();
}

void tcp_proxy::silence() {
    for (auto& w : links_) {
        if (auto l = w.lock()) l->silent = true;
    }
}

}  // namespace tether::test
