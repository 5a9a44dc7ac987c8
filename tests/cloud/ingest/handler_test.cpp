// The handler on a real SQLite database: what each message stores and answers, and what
// it refuses (unknown devices, malformed bodies) without storing anything.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ingest/body.hpp"
#include "ingest_fixture.hpp"

namespace tether::cloud::ingest {
namespace {

class IngestHandler : public test::engine_test {};

using test::handler_fixture;
using test::register_device;
using namespace std::chrono_literals;

const clock_now at{};

TEST_P(IngestHandler, AStoreWriteIsReadBack) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    auto r = f.h->handle("ioto/service/dev1/store/set", R"({"key":"cpu","value":55,"type":"number"})", at);
    EXPECT_EQ(r.what, outcome::stored) << r.problem;
    EXPECT_FALSE(r.reply);
    r = f.h->handle("ioto/service/dev1/store/get/7", R"({"key":"cpu"})", at);
    EXPECT_EQ(r.what, outcome::answered);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->topic, "ioto/device/dev1/store/get/7");
    EXPECT_EQ(r.reply->payload, "55");
    r = f.h->handle("ioto/service/dev1/store/set", R"({"key":"name","value":"null","type":"string"})", at);
    EXPECT_EQ(r.what, outcome::stored) << r.problem;
    r = f.h->handle("ioto/service/dev1/store/get/8", R"({"key":"name"})", at);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, "\"null\"");  // the string, told apart from a missing key
    r = f.h->handle("ioto/service/dev1/store/get/9", R"({"key":"missing"})", at);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, "null");
}

TEST_P(IngestHandler, AnExpiredValueReadsAsNull) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    auto r = f.h->handle("ioto/service/dev1/store/set",
                         R"({"key":"k","value":true,"type":"boolean","expires":1000})", at);
    EXPECT_EQ(r.what, outcome::stored) << r.problem;
    r = f.h->handle("ioto/service/dev1/store/get/1", R"({"key":"k"})", at);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, "null");
}

TEST_P(IngestHandler, AnUnknownDeviceIsRefusedAndLoggedOncePerMinute) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    clock_now t;
    auto r = f.h->handle("ioto/service/ghost/store/set", R"({"key":"cpu","value":1,"type":"number"})", t);
    EXPECT_EQ(r.what, outcome::unknown_device);
    r = f.h->handle("ioto/service/ghost/store/get/1", R"({"key":"cpu"})", t);
    EXPECT_EQ(r.what, outcome::unknown_device);
    EXPECT_FALSE(r.reply);
    t.steady += 59s;
    (void)f.h->handle("ioto/service/ghost/store/get/2", R"({"key":"cpu"})", t);
    EXPECT_EQ(f.log.size(), 1u);
    t.steady += 1s;
    (void)f.h->handle("ioto/service/ghost/store/get/3", R"({"key":"cpu"})", t);
    EXPECT_EQ(f.log.size(), 2u);
    (void)f.h->handle("ioto/service/ghost2/store/get/3", R"({"key":"cpu"})", t);
    EXPECT_EQ(f.log.size(), 3u);
    EXPECT_EQ(f.h->stats().unknown_device, 5u);
    // Nothing of ghost's was stored.
    auto v = f.db->read_store("ghost", "cpu", 0);
    ASSERT_TRUE(v);
    EXPECT_FALSE(v.value());
}

TEST_P(IngestHandler, ARevokedDeviceIsRefused) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    (void)f.registry->revoke_thing("dev1", std::chrono::system_clock::now());
    const auto r = f.h->handle("ioto/service/dev1/store/set", R"({"key":"cpu","value":1,"type":"number"})", at);
    EXPECT_EQ(r.what, outcome::unknown_device);
}

// The registry's lookup of a device ("known and unrevoked") is a read transaction of its
// own: asked once per known_ttl per device, not once per message.
TEST_P(IngestHandler, AKnownDeviceIsLookedUpOncePerTtlNotOncePerMessage) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    register_device(*f.registry, "dev2");
    const std::string_view lookup = "SELECT name, certificate_id, provisioned_at, revoked FROM things";
    const auto lookups = [&] {
        return f.db->with_connection([&](storage::connection&) { return f.statements->executed(lookup); });
    };
    f.db->with_connection([&](storage::connection&) { f.statements->reset(); });
    clock_now t;
    for (int i = 0; i < 10; ++i) {
        t.steady += 100ms;  // 1 s in all: within known_ttl
        for (const char* id : {"dev1", "dev2"}) {
            const std::string topic = std::string("ioto/service/") + id + "/store/set";
            ASSERT_EQ(f.h->handle(topic, R"({"key":"cpu","value":1,"type":"number"})", t).what, outcome::stored);
        }
    }
    EXPECT_EQ(lookups(), 2u) << "one lookup per device";
    t.steady += known_ttl;
    ASSERT_EQ(f.h->handle("ioto/service/dev1/store/set", R"({"key":"cpu","value":2,"type":"number"})", t).what,
              outcome::stored);
    EXPECT_EQ(lookups(), 3u) << "asked again once the answer is known_ttl old";
    // The answer ages from when it was given, not from the last message: a device writing
    // every second is asked about once per known_ttl.
    f.db->with_connection([&](storage::connection&) { f.statements->reset(); });
    for (int i = 0; i < 12; ++i) {
        t.steady += 1s;
        ASSERT_EQ(f.h->handle("ioto/service/dev2/store/set", R"({"key":"cpu","value":1,"type":"number"})", t).what,
                  outcome::stored);
    }
    // dev2's answer was given at 0.1 s: asked again at 7 s (6.9 s old), 12 s and 17 s.
    EXPECT_EQ(lookups(), 3u);
    // A device never seen is asked about at each message: one provisioned meanwhile is
    // recognised at once.
    EXPECT_EQ(f.h->handle("ioto/service/dev3/store/set", R"({"key":"cpu","value":1,"type":"number"})", t).what,
              outcome::unknown_device);
    register_device(*f.registry, "dev3");
    EXPECT_EQ(f.h->handle("ioto/service/dev3/store/set", R"({"key":"cpu","value":1,"type":"number"})", t).what,
              outcome::stored);
}

// A revocation from another process reaches the ingest when the broker says the device's
// connection closed (revoking closes it), and within known_ttl at the latest.
TEST_P(IngestHandler, ARevocationIsSeenAtTheDevicesDisconnectionOrWithinTheTtl) {
    handler_fixture f(database_url());
    for (const char* id : {"dev1", "dev2", "dev3", "dev4"}) register_device(*f.registry, id);
    clock_now t;
    const std::string write = R"({"key":"cpu","value":1,"type":"number"})";
    const auto set = [&](const std::string& id) { return f.h->handle("ioto/service/" + id + "/store/set", write, t).what; };
    for (const char* id : {"dev1", "dev2", "dev3", "dev4"}) ASSERT_EQ(set(id), outcome::stored) << id;
    for (const char* id : {"dev1", "dev2", "dev3", "dev4"}) {
        (void)f.registry->revoke_thing(id, std::chrono::system_clock::now());
    }
    t.steady += 1s;
    // dev1: the broker's line of its disconnection.
    (void)f.h->handle("$SYS/broker/log/N", "1: Client dev1 disconnected.", t);
    EXPECT_EQ(set("dev1"), outcome::unknown_device);
    // dev3: the line of the cloud's own identity taking its client id over (how a
    // revocation closes the device's connection), before any line about dev3 leaving.
    (void)f.h->handle("$SYS/broker/log/N",
                      "1: New client connected from 127.0.0.1:5 as dev3 (p2, c1, k60, u'tether-cloud').", t);
    EXPECT_EQ(set("dev3"), outcome::unknown_device);
    // dev4: revoked by this process.
    f.h->forget_device("dev4");
    EXPECT_EQ(set("dev4"), outcome::unknown_device);
    // dev2: no line. Writes still stored within known_ttl of the registry's answer (what the
    // docs say), never after, however often it writes meanwhile.
    for (int i = 1; i < 5; ++i) {
        EXPECT_EQ(set("dev2"), outcome::stored) << i;
        t.steady += 1s;
    }
    EXPECT_EQ(set("dev2"), outcome::unknown_device);
}

TEST_P(IngestHandler, MalformedBodiesAreRefusedWithoutStoring) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    const std::string deep(10'000, '[');
    const std::string huge = R"({"key":"k","type":"string","value":")" + std::string(max_body_bytes, 'x') + "\"}";
    for (const std::string& body :
         {std::string("not json"), std::string("[1]"), std::string(R"({"key":"cpu","value":"55","type":"number"})"),
          std::string(R"({"key":"","value":1,"type":"number"})"), std::string(R"({"value":1,"type":"number"})"),
          std::string(R"({"key":"cpu","value":1,"type":"number","expires":"soon"})"),
          std::string(R"({"key":"cpu","value":1,"type":"date"})"),
          // U+0000 in a key: PostgreSQL holds none, and libpq would cut the key there.
          std::string(R"({"key":"cpu\u0000x","value":1,"type":"number"})"), deep, huge}) {
        const auto r = f.h->handle("ioto/service/dev1/store/set", body, at);
        EXPECT_EQ(r.what, outcome::malformed) << body.substr(0, 80);
        EXPECT_FALSE(r.problem.empty());
    }
    auto v = f.db->read_store("dev1", "cpu", 0);
    ASSERT_TRUE(v);
    EXPECT_FALSE(v.value());
    // A read with a bad body is answered with the reason.
    const auto r = f.h->handle("ioto/service/dev1/store/get/4", R"({"key":5})", at);
    EXPECT_EQ(r.what, outcome::malformed);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, R"({"error":"key: expected a string"})");
    const auto m = f.h->handle("ioto/service/dev1/metric/get/5", deep, at);
    ASSERT_TRUE(m.reply);
    EXPECT_EQ(nlohmann::json::parse(m.reply->payload).at("error"), "body: nested deeper than 8 levels");
}

TEST_P(IngestHandler, AStoreWriteFeedsTheMetricItsSchemaWhereSelects) {
    const auto schema_json = nlohmann::json::parse(R"({"Store":{"metrics":[{"namespace":"Embedthis/Device",
        "fields":[{"CPU":"value"}],"where":"key == \"cpu\" && value > 10","dimensions":[{"Device":"deviceId"}]}]}})");
    auto loaded = metrics::schema::load(schema_json);
    ASSERT_TRUE(loaded) << loaded.err().message;
    handler_fixture f(database_url(), std::make_shared<const metrics::schema>(std::move(loaded).value()));
    register_device(*f.registry, "dev1");
    for (const char* body : {R"({"key":"cpu","value":40,"type":"number"})", R"({"key":"cpu","value":60,"type":"number"})",
                             R"({"key":"cpu","value":5,"type":"number"})",  // where: value > 10
                             R"({"key":"mem","value":1000,"type":"number"})"}) {
        const auto r = f.h->handle("ioto/service/dev1/store/set", body, at);
        EXPECT_EQ(r.what, outcome::stored) << r.problem;
    }
    auto ask = [&](const char* stat) {
        const auto r = f.h->handle("ioto/service/dev1/metric/get/1",
                                   std::string(R"({"metric":"CPU","statistic":")") + stat + "\"}", at);
        EXPECT_EQ(r.what, outcome::answered);
        return r.reply ? r.reply->payload : std::string("no reply");
    };
    EXPECT_EQ(ask("avg"), "50");
    EXPECT_EQ(ask("count"), "2");
    EXPECT_EQ(ask("max"), "60");
    EXPECT_EQ(ask("current"), "60");
}

TEST_P(IngestHandler, AMetricValueIsReadBack) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    auto r = f.h->handle("ioto/service/dev1/metric/set", R"({"metric":"Temp","value":21.5})", at);
    EXPECT_EQ(r.what, outcome::stored) << r.problem;
    r = f.h->handle("ioto/service/dev1/metric/set", R"({"metric":"Temp","value":"hot"})", at);
    EXPECT_EQ(r.what, outcome::malformed);
    r = f.h->handle("ioto/service/dev1/metric/get/2", R"({"metric":"Temp","statistic":"avg"})", at);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->topic, "ioto/device/dev1/metric/get/2");
    EXPECT_EQ(r.reply->payload, "21.5");
    r = f.h->handle("ioto/service/dev1/metric/get/3", R"({"metric":"Nothing","statistic":"avg"})", at);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, "null");
}

TEST_P(IngestHandler, AProvisioningRequestIsAnswered) {
    handler_fixture f(database_url());
    const std::string topic = "tether/provision/claim-1/certificates/create-from-csr/json";
    const auto r = f.h->handle(topic, R"({"certificateSigningRequest":"not a CSR"})", at);
    EXPECT_EQ(r.what, outcome::provisioning);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->topic, topic + "/rejected");
    EXPECT_EQ(nlohmann::json::parse(r.reply->payload).at("errorCode"), "InvalidCsr");
}

TEST_P(IngestHandler, OtherTopicsAreIgnored) {
    handler_fixture f(database_url());
    EXPECT_EQ(f.h->handle("ioto/service/dev1/store/other", "{}", at).what, outcome::not_ours);
    EXPECT_EQ(f.h->handle("something/else", "{}", at).what, outcome::not_ours);
}

TEST_P(IngestHandler, ADeviceMayNotNameAnotherDeviceInAMetric) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    register_device(*f.registry, "dev2");
    auto r = f.h->handle("ioto/service/dev2/metric/set", R"({"metric":"Temp","value":5})", at);
    ASSERT_EQ(r.what, outcome::stored) << r.problem;

    // dev1 writing into dev2's series, even beside its own: refused, nothing stored.
    r = f.h->handle("ioto/service/dev1/metric/set",
                    R"({"metric":"Temp","value":99,"dimensions":[{"Device":"dev1"},{"Device":"dev2"}]})", at);
    EXPECT_EQ(r.what, outcome::malformed);
    EXPECT_EQ(r.problem, "dimensions[1].Device: a device may name only itself");
    EXPECT_FALSE(r.reply);
    // dev1 reading dev2's series: an error reply, not the value.
    r = f.h->handle("ioto/service/dev1/metric/get/1", R"({"metric":"Temp","dimensions":{"Device":"dev2"},"statistic":"max"})",
                    at);
    EXPECT_EQ(r.what, outcome::malformed);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, R"({"error":"dimensions.Device: a device may name only itself"})");
    r = f.h->handle("ioto/service/dev2/metric/get/1", R"({"metric":"Temp","statistic":"max"})", at);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, "5") << "dev2's series is untouched";

    // Its own series by name, and the fleet-wide one, are allowed.
    r = f.h->handle("ioto/service/dev1/metric/set",
                    R"({"metric":"Temp","value":7,"dimensions":[{"Device":"dev1"},{}]})", at);
    EXPECT_EQ(r.what, outcome::stored) << r.problem;
    r = f.h->handle("ioto/service/dev1/metric/get/2", R"({"metric":"Temp","dimensions":{},"statistic":"max"})", at);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, "7");
    r = f.h->handle("ioto/service/dev1/metric/get/3", R"({"metric":"Temp","dimensions":{"Device":"dev1"},"statistic":"max"})",
                    at);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(r.reply->payload, "7");
}

TEST_P(IngestHandler, EveryMessageOfAKnownDeviceMovesItsLastSeen) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    clock_now t;
    t.wall = std::chrono::system_clock::time_point(1'000'000ms);
    ASSERT_EQ(f.h->handle("ioto/service/dev1/store/set", R"({"key":"cpu","value":1,"type":"number"})", t).what,
              outcome::stored);
    auto d = f.db->find_device("dev1");
    ASSERT_TRUE(d && d.value());
    EXPECT_EQ(d.value()->first_seen_ms, 1'000'000);
    EXPECT_EQ(d.value()->last_seen_ms, 1'000'000);
    EXPECT_FALSE(d.value()->online) << "a message alone does not say the device is still connected";

    // A read, and a refused body, are messages too (each past last_seen_resolution).
    t.wall += last_seen_resolution;
    t.steady += last_seen_resolution;
    ASSERT_EQ(f.h->handle("ioto/service/dev1/store/get/1", R"({"key":"cpu"})", t).what, outcome::answered);
    d = f.db->find_device("dev1");
    EXPECT_EQ(d.value()->last_seen_ms, 1'005'000);
    t.wall += last_seen_resolution;
    t.steady += last_seen_resolution;
    ASSERT_EQ(f.h->handle("ioto/service/dev1/store/set", "{", t).what, outcome::malformed);
    d = f.db->find_device("dev1");
    EXPECT_EQ(d.value()->last_seen_ms, 1'010'000);
    EXPECT_EQ(d.value()->first_seen_ms, 1'000'000);

    // An unknown device leaves no trace.
    (void)f.h->handle("ioto/service/ghost/store/set", R"({"key":"cpu","value":1,"type":"number"})", t);
    d = f.db->find_device("ghost");
    ASSERT_TRUE(d);
    EXPECT_FALSE(d.value());
}

// last_seen is written once per last_seen_resolution per device, not at every message;
// a batch that fails takes its last_seen rows with it, so the next message writes again.
TEST_P(IngestHandler, LastSeenIsWrittenOncePerResolutionAndAgainAfterAFailedBatch) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    const std::string_view seen_row = "INSERT INTO devices";
    const auto seen_rows = [&] {
        return f.db->with_connection([&](storage::connection&) { return f.statements->executed(seen_row); });
    };
    f.db->with_connection([&](storage::connection&) { f.statements->reset(); });
    clock_now t;
    t.wall = std::chrono::system_clock::time_point(1'000'000ms);
    const std::string write = R"({"key":"cpu","value":1,"type":"number"})";
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(f.h->handle("ioto/service/dev1/store/set", write, t).what, outcome::stored);
        t.wall += 400ms;  // 4 s in all: within last_seen_resolution
        t.steady += 400ms;
    }
    EXPECT_EQ(seen_rows(), 1u);
    EXPECT_EQ(f.db->find_device("dev1").value()->last_seen_ms, 1'000'000);
    t.wall += last_seen_resolution;
    t.steady += last_seen_resolution;
    ASSERT_EQ(f.h->handle("ioto/service/dev1/store/set", write, t).what, outcome::stored);
    EXPECT_EQ(seen_rows(), 2u);
    EXPECT_EQ(f.db->find_device("dev1").value()->last_seen_ms, 1'009'000);
    // A device writing every 4 s: its last_seen moves every other message, since the
    // resolution counts from the last one written, not from the last message.
    for (int i = 0; i < 4; ++i) {
        t.wall += 4s;
        t.steady += 4s;
        ASSERT_EQ(f.h->handle("ioto/service/dev1/store/set", write, t).what, outcome::stored);
    }
    EXPECT_EQ(f.db->find_device("dev1").value()->last_seen_ms, 1'025'000);

    // A batch the database refuses: its last_seen is not written, so the next message
    // (within the resolution) writes it.
    f.db->with_connection([](storage::connection& c) {
        (void)c.execute(c.kind() == storage::engine::sqlite
                            ? "CREATE TRIGGER refuse_store BEFORE INSERT ON store_items BEGIN SELECT RAISE(ABORT, 'down'); END"
                            : "CREATE RULE refuse_store AS ON INSERT TO store_items DO INSTEAD SELECT 1/0");
    });
    t.wall += last_seen_resolution;
    t.steady += last_seen_resolution;
    std::vector<bool> outcomes;
    const std::string other = R"({"key":"mem","value":1,"type":"number"})";
    EXPECT_EQ(f.h->handle("ioto/service/dev1/store/set", other, t, [&](bool ok) { outcomes.push_back(ok); }).what,
              outcome::queued);
    EXPECT_FALSE(f.h->flush());
    ASSERT_EQ(outcomes, std::vector<bool>{false});
    f.db->with_connection([](storage::connection& c) {
        (void)c.execute(c.kind() == storage::engine::sqlite ? "DROP TRIGGER refuse_store" : "DROP RULE refuse_store ON store_items");
    });
    t.wall += 1s;
    t.steady += 1s;
    ASSERT_EQ(f.h->handle("ioto/service/dev1/store/set", write, t).what, outcome::stored);
    EXPECT_EQ(f.db->find_device("dev1").value()->last_seen_ms, 1'031'000);
}

TEST_P(IngestHandler, TheBrokersLogSetsADeviceOnlineAndOffline) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    clock_now t;
    t.wall = std::chrono::system_clock::time_point(5'000'000ms);
    auto r = f.h->handle("$SYS/broker/log/N",
                         "1795716513: New client connected from 127.0.0.1:44722 as dev1 (p2, c0, k60, u'dev1').", t);
    EXPECT_EQ(r.what, outcome::presence) << r.problem;
    auto d = f.db->find_device("dev1");
    ASSERT_TRUE(d && d.value());
    EXPECT_TRUE(d.value()->online);
    EXPECT_EQ(d.value()->last_seen_ms, 5'000'000);

    t.wall += 2s;
    EXPECT_EQ(f.h->handle("$SYS/broker/log/N", "1795716515: Socket error on client dev1, disconnecting.", t).what,
              outcome::presence);
    d = f.db->find_device("dev1");
    EXPECT_FALSE(d.value()->online);
    EXPECT_EQ(d.value()->last_seen_ms, 5'002'000);

    // Someone else's certificate under dev1's client id, an unknown client, other lines:
    // nothing about dev1.
    t.wall += 1s;
    EXPECT_EQ(f.h->handle("$SYS/broker/log/N",
                          "1795716516: New client connected from 127.0.0.1:1 as dev1 (p2, c1, k60, u'claim').", t)
                  .what,
              outcome::not_ours);
    EXPECT_EQ(f.h->handle("$SYS/broker/log/N",
                          "1795716516: New client connected from 127.0.0.1:1 as ghost (p2, c1, k60, u'ghost').", t)
                  .what,
              outcome::not_ours);
    EXPECT_EQ(f.h->handle("$SYS/broker/log/N", "1795716516: New connection from 127.0.0.1:1 on port 8883.", t).what,
              outcome::not_ours);
    d = f.db->find_device("dev1");
    EXPECT_FALSE(d.value()->online);
    ASSERT_TRUE(f.db->find_device("ghost"));
    EXPECT_FALSE(f.db->find_device("ghost").value());
    EXPECT_EQ(f.h->stats().presence, 2u);
}

TEST_P(IngestHandler, LinesOfAnEarlierBrokerAreIgnored) {
    handler_fixture f(database_url());
    register_device(*f.registry, "dev1");
    f.h->ignore_presence_before(1795716600);
    const std::string connected = " New client connected from 127.0.0.1:1 as dev1 (p2, c1, k60, u'dev1').";
    EXPECT_EQ(f.h->handle("$SYS/broker/log/N", "1795716599:" + connected, at).what, outcome::not_ours);
    ASSERT_TRUE(f.db->find_device("dev1"));
    EXPECT_FALSE(f.db->find_device("dev1").value());
    EXPECT_EQ(f.h->handle("$SYS/broker/log/N", "1795716600:" + connected, at).what, outcome::presence);
    EXPECT_TRUE(f.db->find_device("dev1").value()->online);
}

INSTANTIATE_TEST_SUITE_P(engines, IngestHandler, ::testing::Values(storage::engine::sqlite, storage::engine::postgresql),
                         test::engine_name);

}  // namespace
}  // namespace tether::cloud::ingest
