#include "tether/client/client.hpp"

#include "engine.hpp"

namespace tether::client {

client::client(asio::any_io_executor executor, options opts)
    : engine_(std::make_shared<detail::engine>(std::move(executor), std::move(opts))) {}

client::~client() { engine_->close(); }

asio::awaitable<std::error_code> client::connect() {
    auto e = engine_;  // the engine lives while this operation does
    co_return co_await e->connect();
}

// Not coroutines: the engine's publish is the one frame (it holds the engine alive).
asio::awaitable<std::error_code> client::publish(std::string_view topic, std::span<const std::uint8_t> payload,
                                                 core::qos q, wait how, bool retain) {
    return detail::engine::publish(engine_, topic, payload, q, how, retain);
}

asio::awaitable<std::error_code> client::publish(std::string_view topic, std::string_view payload, core::qos q,
                                                 wait how, bool retain) {
    return detail::engine::publish(engine_, topic,
                                   {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()}, q, how,
                                   retain);
}

asio::awaitable<subscribe_result> client::subscribe(std::vector<subscription> subscriptions, wait how) {
    auto e = engine_;
    co_return co_await e->subscribe(std::move(subscriptions), how);
}

std::error_code client::publish_now(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q,
                                    bool retain) {
    return engine_->publish_now(topic, payload, q, retain);
}

std::error_code client::publish_now(std::string_view topic, std::string_view payload, core::qos q, bool retain) {
    return engine_->publish_now(topic, {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()}, q,
                                retain);
}

asio::awaitable<std::error_code> client::drain() {
    auto e = engine_;
    co_return co_await e->drain();
}

asio::awaitable<subscribe_result> client::subscribe(subscription one, wait how) {
    std::vector<subscription> subs;
    subs.push_back(std::move(one));
    co_return co_await subscribe(std::move(subs), how);
}

asio::awaitable<std::error_code> client::unsubscribe(std::string filter, wait how) {
    std::vector<std::string> filters;
    filters.push_back(std::move(filter));
    co_return co_await unsubscribe(std::move(filters), how);
}

asio::awaitable<std::error_code> client::unsubscribe(std::vector<std::string> filters, wait how) {
    auto e = engine_;
    co_return co_await e->unsubscribe(std::move(filters), how);
}

asio::awaitable<std::error_code> client::ping() {
    auto e = engine_;
    co_return co_await e->ping();
}

asio::awaitable<request_result> client::request(std::string_view topic, std::string_view body,
                                                std::string_view reply_topic, std::chrono::milliseconds timeout,
                                                core::qos q) {
    auto e = engine_;
    co_return co_await e->request(topic, body, reply_topic, timeout, q);
}

asio::awaitable<std::error_code> client::disconnect(std::chrono::milliseconds limit) {
    auto e = engine_;
    co_return co_await e->disconnect(limit);
}

bool client::is_connected() const noexcept { return engine_->is_connected(); }

void client::on_connection_event(std::function<void(const connection_event&)> callback) {
    engine_->on_event(std::move(callback));
}

std::size_t client::queued() const noexcept { return engine_->queued(); }
std::size_t client::in_flight() const noexcept { return engine_->in_flight(); }
client_stats client::stats() const noexcept { return engine_->stats(); }

}  // namespace tether::client
