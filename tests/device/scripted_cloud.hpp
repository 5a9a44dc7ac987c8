#pragma once
// The scripted cloud of the device tests: a client with the service's identity on the
// test cloud's broker (test_cloud.hpp) that answers provisioning requests with
// cloud/provisioning's flow, and records the Store writes it hears. Scripts: silence,
// a token answered twice, requests held back until the test lets them go.

#include <asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "provisioning/topics.hpp"
#include "test_cloud.hpp"
#include "tether/client/client.hpp"

namespace tether::device::test {

struct scripted_cloud {
    explicit scripted_cloud(test_cloud& c) : cloud(c) {}
    test_cloud& cloud;
    bool silent = false;
    bool reuse_first_token = false;  // answers every CreateCertificateFromCsr with the first token
    bool hold = false;               // keeps requests in `held` instead of answering them
    std::string first_token;
    unsigned csr_requests = 0;            // CreateCertificateFromCsr requests heard
    std::vector<std::string> rejections;  // the errorCode of each rejected reply sent
    std::vector<std::string> store_sets;  // topics
    std::vector<std::pair<std::string, std::string>> held;  // topic, payload
    std::unique_ptr<client::client> mqtt;

    asio::awaitable<bool> start(asio::io_context& io) {
        mqtt = std::make_unique<client::client>(io.get_executor(), cloud.service_options());
        if (co_await mqtt->connect()) co_return false;
        auto answer = [this](const client::message& m) -> asio::awaitable<void> {
            if (m.topic.find("create-from-csr") != std::string::npos) ++csr_requests;
            if (silent) co_return;
            if (hold) {
                held.emplace_back(std::string(m.topic), std::string(m.text()));
                co_return;
            }
            co_await reply(std::string(m.topic), std::string(m.text()));
        };
        std::vector<client::subscription> subs;
        subs.emplace_back(tether::cloud::provisioning::create_from_csr_filter, client::qos::at_least_once, answer);
        subs.emplace_back(tether::cloud::provisioning::register_thing_filter, client::qos::at_least_once, answer);
        subs.emplace_back("ioto/service/+/store/set", client::qos::at_least_once,
                          [this](const client::message& m) { store_sets.emplace_back(m.topic); });
        co_return !(co_await mqtt->subscribe(std::move(subs))).ec;
    }

    // Answers the requests held so far, in order.
    asio::awaitable<void> release_held() {
        hold = false;
        auto requests = std::move(held);
        held.clear();
        for (auto& [topic, payload] : requests) co_await reply(topic, payload);
    }

    asio::awaitable<void> reply(std::string topic, std::string payload) {
        using nlohmann::json;
        auto r = cloud.service.handle(topic, payload, std::chrono::system_clock::now());
        if (!r) co_return;
        if (r->accepted && r->topic.find("create-from-csr") != std::string::npos) {
            json body = json::parse(r->payload);
            if (first_token.empty()) first_token = body["certificateOwnershipToken"].get<std::string>();
            if (reuse_first_token) body["certificateOwnershipToken"] = first_token;
            r->payload = body.dump();
        }
        if (!r->accepted) rejections.push_back(json::parse(r->payload).value("errorCode", ""));
        (void)co_await mqtt->publish(r->topic, r->payload, client::qos::at_least_once, client::wait::ack);
    }
};

// Destroys the scripted cloud's client when the test's coroutine ends, however it ends:
// a client must not outlive the io_context that run_coro owns.
struct client_scope {
    std::unique_ptr<client::client>& c;
    ~client_scope() { c.reset(); }
};

}  // namespace tether::device::test
