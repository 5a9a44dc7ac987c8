#include "ingest/service.hpp"

#include <string>
#include <vector>

#include "ingest/presence.hpp"
#include "ingest/topics.hpp"
#include "provisioning/topics.hpp"

namespace tether::cloud::ingest {

service::service(asio::any_io_executor executor, handler& h, client::options mqtt, handler::log_function log)
    : handler_(h), client_(std::move(executor), std::move(mqtt)), log_(std::move(log)) {}

void service::on_message(const client::message& m) {
    const handled r = handler_.handle(m.topic, m.text(), clock_now{});
    if (!r.reply) return;
    // QoS 1: a reply survives a lost connection. Queued, not awaited: this callback must
    // return for the PUBACK of the request to go out.
    if (const auto ec = client_.publish_now(r.reply->topic, r.reply->payload, client::qos::at_least_once)) {
        ++replies_failed_;
        if (log_) log_("cannot send the reply on " + r.reply->topic + ": " + ec.message());
    }
}

asio::awaitable<std::error_code> service::start() {
    if (auto ec = co_await client_.connect()) co_return ec;
    // Built outside the co_await (GCC 12 and braced lists in coroutines).
    std::vector<client::subscription> subs;
    for (const char* filter : {store_set_filter, store_get_filter, metric_set_filter, metric_get_filter,
                               provisioning::create_from_csr_filter, provisioning::register_thing_filter}) {
        subs.emplace_back(filter, client::qos::at_least_once, [this](const client::message& m) { on_message(m); });
    }
    // The broker's notices, for devices' connections (presence.hpp). Named exactly: '#'
    // does not reach topics that begin with '$'.
    subs.emplace_back(presence_topic, client::qos::at_least_once, [this](const client::message& m) { on_message(m); });
    const auto r = co_await client_.subscribe(std::move(subs));
    co_return r.ec;
}

asio::awaitable<std::error_code> service::stop(std::chrono::milliseconds limit) {
    co_return co_await client_.disconnect(limit);
}

}  // namespace tether::cloud::ingest
