// Evidence, not a regression test (disabled; run with --gtest_also_run_disabled_tests
// --gtest_filter='BrokerDefect.*'): a persistent subscriber behind a proxy that cuts the
// link every 40..160 ms, reconnecting within 10..200 ms, once written with libmosquitto and
// once with tether, while QoS 1 and QoS 2 messages flow. With Debian 12's mosquitto 2.0.11
// and its default max_inflight_messages 20, both lose QoS 1 messages in equal measure, none
// of which the broker ever sent down the link (the proxy records what it forwards); QoS 2
// is never lost. With TETHER_BROKER_CONFIG="max_inflight_messages 0" neither loses any.
#include <gtest/gtest.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <random>
#include <set>
#include "../support/broker.hpp"
#include "../support/coro_test.hpp"
#include "../support/proxy.hpp"
#include "../support/process.hpp"
#include "tether/client/client.hpp"
namespace tether::client { namespace {
using namespace std::chrono_literals;
test::broker_options broker_options_from_env() {
    const char* extra = std::getenv("TETHER_BROKER_CONFIG");
    return {.extra_config = extra ? extra : ""};
}
TEST(BrokerDefect, DISABLED_LibmosquittoUnderFastCuts) {
    test::mosquitto_broker broker(broker_options_from_env());
    test::run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        test::tcp_proxy proxy(io, broker.port());
        test::process sub({LIBMOSQUITTO_SUB, std::to_string(proxy.port()), "peer-sub", "cut/#", "12"});
        co_await test::sleep_for(500ms);
        options o; o.host = "127.0.0.1"; o.port = broker.port(); o.client_id = "peer-pub"; o.clean_session = false;
        client pub(io.get_executor(), o);
        CO_ASSERT(!(co_await pub.connect()));
        bool cutting = true;
        asio::co_spawn(io, [&]() -> asio::awaitable<void> {
            std::mt19937 rng(7);
            while (cutting) { co_await test::sleep_for(std::chrono::milliseconds(40 + rng() % 120)); if (cutting) proxy.cut(); }
        }, asio::detached);
        for (int i = 0; i < 400; ++i) {
            co_await pub.publish("cut/1", "[a" + std::to_string(i) + "]", qos::at_least_once, wait::none);
            co_await pub.publish("cut/2", "[b" + std::to_string(i) + "]", qos::exactly_once, wait::none);
            if (i % 20 == 0) co_await test::sleep_for(20ms);
        }
        co_await pub.disconnect(10s);
        co_await test::sleep_for(4000ms);
        cutting = false;
        co_await test::sleep_for(4000ms);
        const std::string out = sub.out();
        int qa = 0, qb = 0, fa = 0;
        for (int i = 0; i < 400; ++i) {
            const std::string a = "[a" + std::to_string(i) + "]";
            if (out.find(a) == std::string::npos) { ++qa; if (proxy.downstream().find(a) != std::string::npos) ++fa; }
            if (out.find("[b" + std::to_string(i) + "]") == std::string::npos) ++qb;
        }
        std::cout << "[ peer     ] libmosquitto (fast reconnect) missing QoS1 " << qa << " (of which forwarded " << fa << "), missing QoS2 " << qb << ", cuts " << proxy.cuts() << "\n";
    }, 60s);
}
TEST(BrokerDefect, DISABLED_TetherUnderFastCuts) {
    test::mosquitto_broker broker(broker_options_from_env());
    test::run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
        test::tcp_proxy proxy(io, broker.port());
        std::string got;
        options so; so.host = "127.0.0.1"; so.port = proxy.port(); so.client_id = "peer-sub"; so.clean_session = false;
        so.reconnect.initial_delay = 10ms; so.reconnect.max_delay = 200ms;
        client tsub(io.get_executor(), so);
        co_await tsub.subscribe({"cut/#", qos::exactly_once, [&](const message& m) { got += std::string(m.text()) + "\n"; }}, wait::none);
        co_await tsub.connect();
        co_await test::sleep_for(500ms);
        options o; o.host = "127.0.0.1"; o.port = broker.port(); o.client_id = "peer-pub"; o.clean_session = false;
        client pub(io.get_executor(), o);
        CO_ASSERT(!(co_await pub.connect()));
        bool cutting = true;
        asio::co_spawn(io, [&]() -> asio::awaitable<void> {
            std::mt19937 rng(7);
            while (cutting) { co_await test::sleep_for(std::chrono::milliseconds(40 + rng() % 120)); if (cutting) proxy.cut(); }
        }, asio::detached);
        for (int i = 0; i < 400; ++i) {
            co_await pub.publish("cut/1", "[a" + std::to_string(i) + "]", qos::at_least_once, wait::none);
            co_await pub.publish("cut/2", "[b" + std::to_string(i) + "]", qos::exactly_once, wait::none);
            if (i % 20 == 0) co_await test::sleep_for(20ms);
        }
        co_await pub.disconnect(10s);
        co_await test::sleep_for(4000ms);
        cutting = false;
        co_await test::sleep_for(4000ms);
        const std::string out = got;
        int qa = 0, qb = 0, fa = 0;
        for (int i = 0; i < 400; ++i) {
            const std::string a = "[a" + std::to_string(i) + "]";
            if (out.find(a) == std::string::npos) { ++qa; if (proxy.downstream().find(a) != std::string::npos) ++fa; }
            if (out.find("[b" + std::to_string(i) + "]") == std::string::npos) ++qb;
        }
        std::cout << "[ peer     ] tether sub missing QoS1 " << qa << " (of which forwarded " << fa << "), missing QoS2 " << qb << ", cuts " << proxy.cuts() << "\n";
    }, 60s);
}
}}
