#pragma once
// A device already provisioned on plain TCP, and a scripted cloud for it that keeps a Store
// in a map and answers reads (the Store and command tests).

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_files.hpp"
#include "tether/client/client.hpp"

namespace tether::device::test {

// A device already provisioned (its identity set in ioto.json5), on plain TCP.
inline void write_device(const std::filesystem::path& dir, std::uint16_t port) {
    std::filesystem::create_directories(dir / "config");
    write_text(dir / "config" / "ioto.json5",
                     "{ mqtt: { endpoint: 'mqtt://127.0.0.1:" + std::to_string(port) +
                         "', cert: 'certs/x.crt', key: 'certs/x.key', client: 'dev1' } }");
}

// Store writes go into `items`; reads answer from it: the stored value, null when absent,
// or nothing at all for the key "silent".
struct scripted_store {
    std::map<std::string, nlohmann::json> items;
    std::vector<nlohmann::json> metrics, metric_reads;
    std::unique_ptr<client::client> mqtt;

    asio::awaitable<bool> start(asio::io_context& io, std::uint16_t port) {
        client::options o;
        o.host = "127.0.0.1";
        o.port = port;
        o.client_id = "cloud";
        mqtt = std::make_unique<client::client>(io.get_executor(), o);
        if (co_await mqtt->connect()) co_return false;
        std::vector<client::subscription> subs;
        subs.emplace_back("ioto/service/+/store/set", client::qos::at_least_once, [this](const client::message& m) {
            const nlohmann::json body = nlohmann::json::parse(m.text());
            items[body["key"].get<std::string>()] = body;
        });
        subs.emplace_back("ioto/service/+/metric/set", client::qos::at_least_once,
                          [this](const client::message& m) { metrics.push_back(nlohmann::json::parse(m.text())); });
        auto answer = [this](const client::message& m) -> asio::awaitable<void> {
            // ioto/service/dev1/<store|metric>/get/<seq> -> ioto/device/dev1/<...>/get/<seq>
            std::string reply_topic(m.topic);
            reply_topic.replace(0, std::string("ioto/service").size(), "ioto/device");
            const nlohmann::json body = nlohmann::json::parse(m.text());
            std::string reply = "null";
            if (body.contains("metric")) {
                metric_reads.push_back(body);
                reply = "42.5";
            } else {
                const auto key = body["key"].get<std::string>();
                if (key == "silent") co_return;
                if (key == "broken") reply = R"({"error":"storage failed"})";
                if (const auto it = items.find(key); it != items.end()) reply = it->second["value"].dump();
            }
            (void)co_await mqtt->publish(reply_topic, reply, client::qos::at_least_once, client::wait::ack);
        };
        subs.emplace_back("ioto/service/+/store/get/+", client::qos::at_least_once, answer);
        subs.emplace_back("ioto/service/+/metric/get/+", client::qos::at_least_once, answer);
        co_return !(co_await mqtt->subscribe(std::move(subs))).ec;
    }
};

}  // namespace tether::device::test
