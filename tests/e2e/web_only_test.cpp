// The Device Manager beside the workers: two `tether-cloud run --worker` processes and one
// `tether-cloud web` on one PostgreSQL. A device writes `model`; the web API and its event
// stream (fed by the workers' NOTIFYs, never by the device topics) show it. One worker is
// killed with SIGKILL: the writes the other one stores still reach the API and the stream;
// those the broker holds for the dead one show once it is back. Revoke works from it too.

#include <gtest/gtest.h>
#include <httplib.h>
#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cloud_run.hpp"
#include "postgres.hpp"

namespace tether::e2e {
namespace {

using nlohmann::json;

// A signed-in client of the Device Manager.
class web_client {
public:
    web_client(std::uint16_t port, const std::string& password) : port_(port) {
        auto c = client();
        const json body{{"user", "admin"}, {"password", password}};
        auto r = c.Post("/login", body.dump(), "application/json");
        if (!r || r->status != 200) throw std::runtime_error("cannot log in to the Device Manager");
        const auto set = r->get_header_value("Set-Cookie");
        cookie_ = set.substr(0, set.find(';'));
    }
    [[nodiscard]] httplib::Client client() const {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(30, 0);
        return c;
    }
    // GET `path` as JSON; null on any failure (callers wait and ask again).
    [[nodiscard]] json get(const std::string& path) const {
        auto c = client();
        auto r = c.Get(path, {{"Cookie", cookie_}});
        if (!r || r->status != 200) return nullptr;
        return json::parse(r->body, nullptr, false);
    }
    [[nodiscard]] const std::string& cookie() const { return cookie_; }
    [[nodiscard]] std::uint16_t port() const { return port_; }

private:
    std::uint16_t port_;
    std::string cookie_;
};

// /api/events read on a thread of its own: what it received so far.
class event_reader {
public:
    explicit event_reader(const web_client& w) : client_(w.client()) {
        thread_ = std::thread([this, cookie = w.cookie()] {
            (void)client_.Get("/api/events", {{"Cookie", cookie}}, [this](const char* data, std::size_t n) {
                std::lock_guard lock(mutex_);
                received_.append(data, n);
                return true;
            });
        });
    }
    ~event_reader() {
        client_.stop();  // ends the stream's read
        thread_.join();
    }
    [[nodiscard]] bool has(const std::string& text) const {
        std::lock_guard lock(mutex_);
        return received_.find(text) != std::string::npos;
    }
    [[nodiscard]] std::string text() const {
        std::lock_guard lock(mutex_);
        return received_;
    }

private:
    httplib::Client client_;
    mutable std::mutex mutex_;
    std::string received_;
    std::thread thread_;
};

// The Store of `device` as the API lists it: key -> value.
std::map<std::string, json> api_store(const web_client& w, const std::string& device) {
    std::map<std::string, json> out;
    const json body = w.get("/api/devices/" + device + "/store");
    if (!body.is_object() || !body.contains("items")) return out;
    for (const auto& item : body["items"]) out[item.value("key", "")] = item.value("value", json());
    return out;
}

TEST(WebOnly, BesideTwoWorkersTheDeviceManagerShowsEachStoredWriteLiveEvenWhenAWorkerDies) {
    two_workers d("web_only");
    cloud_run& c = d.c;
    const std::string& url = d.url;
    auto& w1 = d.w1;
    auto web = c.web();
    const web_client w(c.web_port(), c.admin_password());
    event_reader events(w);
    ASSERT_TRUE(wait_until([&] { return events.has(": connected"); }, 30s)) << "no event stream";

    // The device provisions (through the workers) and writes its model.
    const auto set = c.device("set", {"model", "Acme Rocket"});
    ASSERT_EQ(set.status, 0) << set.err;
    std::string thing;
    ASSERT_TRUE(wait_until([&] {
        const json list = w.get("/api/devices");
        if (!list.is_object() || list["devices"].size() != 1) return false;
        thing = list["devices"][0].value("id", "");
        return !thing.empty();
    })) << "the device list never showed the device";
    EXPECT_TRUE(wait_until([&] { return api_store(w, thing)["model"] == "Acme Rocket"; }))
        << w.get("/api/devices/" + thing + "/store").dump();
    EXPECT_TRUE(wait_until([&] { return events.has(R"("key":"model")") && events.has(R"("value":"Acme Rocket")"); }))
        << events.text();

    // One worker dies; the device goes on writing. The broker hands the group's messages
    // round, so some go to the dead worker's session, the rest to w2, which stores them.
    w1->kill(SIGKILL);
    (void)w1->wait();
    constexpr int later = 8;
    for (int i = 0; i < later; ++i) {
        const auto r = c.device("set", {"after" + std::to_string(i), std::to_string(i)});
        ASSERT_EQ(r.status, 0) << r.err;
    }
    std::set<std::string> by_w2;
    ASSERT_TRUE(wait_until([&] {
        by_w2 = stored_keys(url, thing);
        by_w2.erase("model");
        return !by_w2.empty();
    })) << "the surviving worker stored none of the later writes";
    for (const std::string& key : by_w2) {
        EXPECT_TRUE(wait_until([&] { return api_store(w, thing).contains(key); })) << key << " not in the API";
        EXPECT_TRUE(wait_until([&] { return events.has("\"key\":\"" + key + "\""); })) << key << " not in the stream";
    }

    // The dead worker back under its name: what the broker kept for it is stored and shown.
    w1 = c.worker("w1");
    EXPECT_TRUE(wait_until([&] {
        const auto store = api_store(w, thing);
        for (int i = 0; i < later; ++i) {
            if (!store.contains("after" + std::to_string(i))) return false;
        }
        return true;
    }, 120s)) << w.get("/api/devices/" + thing + "/store").dump();
    EXPECT_TRUE(wait_until([&] { return events.has(R"("key":"after)" + std::to_string(later - 1) + "\""); }))
        << events.text();
    std::printf("w2 stored %zu of %d writes while w1 was dead\n", by_w2.size(), later);

    // Revoke from the web process: done in the registry and the CRL file; this broker was
    // started by hand, not by `run`, so the reply says it must re-read the CRL itself.
    auto http = w.client();
    const auto revoked = http.Post("/api/devices/" + thing + "/revoke", {{"Cookie", w.cookie()}}, "{}",
                                   "application/json");
    ASSERT_TRUE(revoked);
    EXPECT_EQ(revoked->status, 200) << revoked->body;
    EXPECT_NE(revoked->body.find("must re-read the CRL"), std::string::npos) << revoked->body;
    const json list = w.get("/api/devices");
    ASSERT_TRUE(list.is_object() && list["devices"].size() == 1) << list.dump();
    EXPECT_EQ(list["devices"][0].value("revoked", false), true) << list.dump();
}

}  // namespace
}  // namespace tether::e2e
