// Live changes between processes (change_feed.hpp, change_listener.hpp): how a batch's
// changes are packed into notifications, what a listener accepts, and a real PostgreSQL
// carrying them from a writer's commits to a listener, through a lost connection too.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "postgres.hpp"
#include "storage/change_feed.hpp"
#include "storage/change_listener.hpp"
#include "storage/database.hpp"

namespace tether::cloud::storage {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

store_write write_of(const std::string& device, const std::string& key, json value) {
    return {device, key, std::move(value), "string", 1'700'000'000'000, std::nullopt};
}

template <class Cond>
bool wait_until(Cond cond, std::chrono::milliseconds limit = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

TEST(ChangeFeed, ChangesArePackedInOrderUnderTheLimitAndAnOversizeOneBecomesAReload) {
    batch b;
    for (int i = 0; i < 100; ++i) b.store.push_back(write_of("dev1", "k" + std::to_string(i), "v" + std::to_string(i)));
    b.store.push_back(write_of("dev2", "big", std::string(20'000, 'x')));
    b.currents.push_back({{"ns", "Temp", {{"Device", "dev1"}}}, 21.5, 5});
    const auto changes = live_changes(b);
    ASSERT_EQ(changes.size(), 102u);
    EXPECT_EQ(changes[0].device_id, "dev1");
    EXPECT_EQ(changes[101].device_id, "");  // a series: every stream

    const auto payloads = notification_payloads(changes, 1'000);
    EXPECT_GT(payloads.size(), 3u);
    std::vector<live_change> back;
    for (const auto& p : payloads) {
        EXPECT_LE(p.size(), 1'000u);
        auto parsed = parse_notification(p);
        ASSERT_TRUE(parsed) << parsed.err().message;
        for (auto& c : parsed.value()) back.push_back(std::move(c));
    }
    ASSERT_EQ(back.size(), changes.size());
    for (std::size_t i = 0; i < 100; ++i) {
        EXPECT_EQ(back[i].device_id, changes[i].device_id);
        EXPECT_EQ(back[i].json, changes[i].json) << i;
    }
    EXPECT_EQ(json::parse(back[100].json), (json{{"kind", "reload"}, {"device", "dev2"}}));
    EXPECT_EQ(back[101].json, changes[101].json);
    EXPECT_TRUE(notification_payloads({}).empty());
}

TEST(ChangeFeed, ANotificationThatIsNotAListOfChangesIsRefused) {
    const std::vector<std::string> refused{"", "{}", "[1]", "[\"x\"]", "not json", "[{" + std::string(5'000, '[')};
    for (const std::string& bad : refused) {
        EXPECT_FALSE(parse_notification(bad)) << bad.substr(0, 20);
    }
    EXPECT_FALSE(parse_notification(R"([{"device":")" + std::string(200, 'd') + R"("}])"));
    const auto ok = parse_notification(R"([{"kind":"metric","dimensions":{"Device":"d1"}}])");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok.value().at(0).device_id, "");
}

// A listener on a server of this program's own, and what it heard.
struct heard {
    std::mutex mutex;
    std::vector<live_change> changes;
    std::atomic<int> gaps{0};
    [[nodiscard]] std::vector<std::string> keys() {
        std::lock_guard lock(mutex);
        std::vector<std::string> out;
        for (const auto& c : changes) out.push_back(json::parse(c.json).value("key", ""));
        return out;
    }
    change_listener listen_to(const std::string& url) {
        return change_listener(
            url,
            [this](std::vector<live_change> c) {
                std::lock_guard lock(mutex);
                for (auto& one : c) changes.push_back(std::move(one));
            },
            [this] { ++gaps; });
    }
};

tether::test::postgres_server& server() {
    static tether::test::postgres_server s;
    return s;
}

std::unique_ptr<database> open_db(const std::string& url) {
    auto db = database::open(url);
    if (!db) throw std::runtime_error(db.err().message);
    return std::move(db).value();
}

TEST(ChangeListener, HearsWhatAnnouncingWritersCommitInCommitOrderAndNothingElse) {
    const std::string url = server().create_database("feed_order");
    auto writer = open_db(url);
    auto quiet = open_db(url);  // does not announce
    writer->announce_changes(true);
    heard h;
    auto listener = h.listen_to(url);
    ASSERT_TRUE(listener.start());

    batch one;
    one.store.push_back(write_of("dev1", "a", "1"));
    one.store.push_back(write_of("dev1", "b", "2"));
    ASSERT_TRUE(writer->apply(one));
    batch unheard;
    unheard.store.push_back(write_of("dev1", "quiet", "3"));
    ASSERT_TRUE(quiet->apply(unheard));
    batch refused;  // a number that is not one: the whole batch is refused
    refused.store.push_back(write_of("dev1", "refused", "4"));
    refused.store.push_back({"dev1", "bad", "x", "number", 1, std::nullopt});
    ASSERT_FALSE(writer->apply(refused));
    batch last;
    last.store.push_back(write_of("dev1", "c", "5"));
    ASSERT_TRUE(writer->apply(last));

    // Notifications arrive in commit order: once `c` is heard, anything else would have been.
    ASSERT_TRUE(wait_until([&] { return h.keys().size() >= 3; })) << h.keys().size();
    EXPECT_EQ(h.keys(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(h.gaps, 0);
    listener.stop();
}

TEST(ChangeListener, AfterLosingItsConnectionItConnectsAgainAndSaysChangesMayHaveBeenMissed) {
    const std::string url = server().create_database("feed_gap");
    auto writer = open_db(url);
    writer->announce_changes(true);
    heard h;
    auto listener = h.listen_to(url);
    ASSERT_TRUE(listener.start());
    // The server ends the listener's session, as a restart or a network cut would.
    const rows ended = writer->with_connection([](connection& c) {
        return c.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND datname = current_database() AND pid <> "
            "pg_backend_pid()");
    });
    ASSERT_EQ(ended.size(), 1u);
    ASSERT_TRUE(wait_until([&] { return h.gaps.load() == 1; })) << "no gap reported";
    EXPECT_EQ(listener.reconnections(), 1u);
    batch b;
    b.store.push_back(write_of("dev1", "after", "1"));
    ASSERT_TRUE(writer->apply(b));
    EXPECT_TRUE(wait_until([&] { return h.keys() == std::vector<std::string>{"after"}; }));
}

TEST(ChangeListener, AServerItCannotReachIsAnErrorAtStart) {
    heard h;
    auto listener = h.listen_to("postgresql://tether@127.0.0.1:1/none?connect_timeout=5");
    const auto r = listener.start();
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("cannot connect"), std::string::npos) << r.err().message;
}

}  // namespace
}  // namespace tether::cloud::storage
