// Ping, and request/response: a request on topic/<seq>, its answer awaited on
// reply_topic/<seq> through one subscription to reply_topic/+.

#include "engine.hpp"
#include "wait_for.hpp"

namespace tether::client::detail {

asio::awaitable<std::error_code> engine::ping() {
    if (state_ != state::connected || link_failed_) co_return make_error_code(errc::not_connected);
    std::array<std::uint8_t, 2> packet{};
    if (session_.ping(packet, now()).err != core::error::none) co_return make_error_code(errc::not_connected);
    append(packet);
    ++pings_written_;
    arm_ticker();  // the response deadline is sooner than the keep-alive
    auto waiter = std::make_shared<signal>(ex_);
    ping_waiters_.push_back(waiter);
    co_return co_await waiter->wait();
}

asio::awaitable<request_result> engine::request(std::string_view topic, std::string_view body,
                                                std::string_view reply_topic, std::chrono::milliseconds timeout,
                                                core::qos q) {
    const std::string reply_filter = std::string(reply_topic) + "/+";
    if (!reply_filters_.contains(reply_filter)) {
        std::weak_ptr<engine> weak = weak_from_this();
        subscription s{reply_filter, q, [weak](const message& m) {
                           auto self = weak.lock();
                           if (!self) return;
                           if (auto it = self->requests_.find(std::string(m.topic)); it != self->requests_.end()) {
                               it->second->payload = std::string(m.text());
                               it->second->done.set();
                           }
                       }};
        std::vector<subscription> subs;
        subs.push_back(std::move(s));
        const auto sub = co_await subscribe(std::move(subs), wait::ack);
        if (sub.ec) co_return request_result{sub.ec, {}};
        reply_filters_.insert(reply_filter);
    }
    const std::string seq = std::to_string(++next_request_);
    const std::string reply_name = std::string(reply_topic) + "/" + seq;
    auto slot = std::make_shared<reply_slot>(ex_);
    requests_[reply_name] = slot;
    const std::string request_topic = std::string(topic) + "/" + seq;
    const auto ec = co_await publish(shared_from_this(), request_topic,
                                     {reinterpret_cast<const std::uint8_t*>(body.data()), body.size()},
                                     q, wait::none, false);
    request_result result;
    result.ec = ec ? ec : co_await wait_for(slot->done, timeout);
    if (!result.ec) result.payload = std::move(slot->payload);
    requests_.erase(reply_name);
    co_return result;
}

}  // namespace tether::client::detail
