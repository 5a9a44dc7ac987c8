// The API's answers over a real SQLite database: devices with their certificate expiry
// and activity, a device's Store, a metric's points, the schema's metrics, refused
// parameters, and the changes a committed batch makes.

#include <gtest/gtest.h>

#include "metrics/schema.hpp"
#include "storage/metric_points.hpp"
#include "web/api.hpp"
#include "web/certificate_expiry.hpp"
#include "web/json_body.hpp"
#include "web_fixture.hpp"

namespace tether::cloud::web {
namespace {

using nlohmann::json;
using test::now_ms;
using query = std::map<std::string, std::string, std::less<>>;

metrics::schema cpu_schema() {
    auto s = metrics::schema::load(json::parse(R"({"Store":{"metrics":[{"namespace":"Acme","fields":[{"CPU":"value"}],
        "where":"key == 'cpu'","dimensions":[{"Device":"deviceId"},{}]}]}})"));
    if (!s) throw std::runtime_error(s.err().message);
    return std::move(s).value();
}

TEST(WebApi, DevicesListEveryThingWithItsCertificateExpiryAndActivity) {
    test::web_fixture f;
    const auto pem = f.register_device("dev1");
    (void)f.register_device("dev2");
    (void)f.register_device("gone");
    (void)f.registry->revoke_thing("gone", std::chrono::system_clock::now());
    const auto now = now_ms();
    storage::batch b;
    b.store.push_back({"dev1", "cpu", 5, "number", now - 1000});
    ASSERT_TRUE(f.db->apply(b));

    const auto r = devices_reply(*f.db, now);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    const auto& list = r.body["devices"];
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0]["id"], "dev1");
    EXPECT_EQ(list[0]["online"], true);  // wrote a second ago
    EXPECT_EQ(list[0]["lastSeen"], now - 1000);
    const auto expiry = certificate_expiry_ms(pem);
    ASSERT_TRUE(expiry);
    EXPECT_GT(*expiry, now);
    EXPECT_EQ(list[0]["certificateExpires"], *expiry);
    EXPECT_EQ(list[1]["id"], "dev2");
    EXPECT_EQ(list[1]["online"], false);
    EXPECT_TRUE(list[1]["lastSeen"].is_null());
    EXPECT_EQ(list[2]["id"], "gone");
    EXPECT_EQ(list[2]["revoked"], true);
}

TEST(WebApi, TheDevicesTableDecidesOnlineWhenItKnowsTheDevice) {
    test::web_fixture f;
    (void)f.register_device("dev1");
    const auto now = now_ms();
    storage::batch b;
    b.store.push_back({"dev1", "cpu", 5, "number", now});
    b.devices.push_back({"dev1", false, now - 10});
    ASSERT_TRUE(f.db->apply(b));
    const auto r = devices_reply(*f.db, now);
    EXPECT_EQ(r.body["devices"][0]["online"], false);
    EXPECT_EQ(r.body["devices"][0]["lastSeen"], now);  // the later of the two
}

TEST(WebApi, AStoreListsEveryUnexpiredValueByKey) {
    test::web_fixture f;
    const auto now = now_ms();
    storage::batch b;
    b.store.push_back({"dev1", "model", "Acme Rocket", "string", now});
    b.store.push_back({"dev1", "cpu", 55, "number", now});
    b.store.push_back({"dev1", "old", true, "boolean", now, now - 1});
    b.store.push_back({"dev2", "cpu", 1, "number", now});
    ASSERT_TRUE(f.db->apply(b));
    const auto r = store_reply(*f.db, "dev1", now);
    ASSERT_EQ(r.status, 200);
    const auto& items = r.body["items"];
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0]["key"], "cpu");
    EXPECT_EQ(items[0]["value"], 55);
    EXPECT_EQ(items[0]["type"], "number");
    EXPECT_EQ(items[0]["updated"], now);
    EXPECT_EQ(items[1]["value"], "Acme Rocket");
    EXPECT_EQ(store_reply(*f.db, std::string(129, 'x'), now).status, 400);
    EXPECT_EQ(store_reply(*f.db, "", now).status, 400);
}

TEST(WebApi, AMetricsPointsAndStatisticOverAPeriod) {
    test::web_fixture f;
    const auto schema = cpu_schema();
    const metrics::series_key key{"Acme", "CPU", {{"Device", "dev1"}}};
    const std::int64_t now = 1'800'000'000'000;  // on a 30 s boundary
    storage::batch b;
    for (const double v : {10.0, 30.0}) {
        metrics::point p;
        p.add(v);
        auto u = storage::point_updates(key, p, now - 40'000);
        b.points.insert(b.points.end(), u.begin(), u.end());
    }
    metrics::point p;
    p.add(50);
    auto u = storage::point_updates(key, p, now + 1000);
    b.points.insert(b.points.end(), u.begin(), u.end());
    b.currents.push_back({key, 50, now + 1000});
    ASSERT_TRUE(f.db->apply(b));

    const auto r = metrics_reply(*f.db, schema,
                                 query{{"metric", "CPU"}, {"dimensions", R"({"Device":"dev1"})"}, {"statistic", "avg"},
                                       {"period", "300"}},
                                 now + 2000);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["namespace"], "Acme");  // from the schema
    EXPECT_EQ(r.body["resolution"], 30'000);
    const auto& points = r.body["points"];
    ASSERT_EQ(points.size(), 11u);  // 300 s at 30 s, and the point in progress
    EXPECT_EQ(points[8]["t"], now - 60'000);
    EXPECT_EQ(points[8]["v"], 20.0);
    EXPECT_EQ(points[10]["t"], now);
    EXPECT_EQ(points[10]["v"], 50.0);
    EXPECT_TRUE(points[0]["v"].is_null());
    EXPECT_EQ(r.body["value"], 30.0);
    EXPECT_EQ(r.body["current"], 50.0);

    const auto count = metrics_reply(
        *f.db, schema, query{{"metric", "CPU"}, {"dimensions", R"({"Device":"dev1"})"}, {"statistic", "count"}}, now + 2000);
    EXPECT_EQ(count.body["value"], 3.0);
    const auto none = metrics_reply(*f.db, schema, query{{"metric", "CPU"}}, now);
    ASSERT_EQ(none.status, 200);
    EXPECT_TRUE(none.body["points"].empty());  // the fleet series was never written
    EXPECT_TRUE(none.body["current"].is_null());
}

TEST(WebApi, BadMetricParametersAreRefusedByName) {
    test::web_fixture f;
    const metrics::schema s;
    const auto error_of = [&](const query& q) {
        const auto r = metrics_reply(*f.db, s, q, now_ms());
        EXPECT_EQ(r.status, 400) << r.body.dump();
        return r.body.value("error", "");
    };
    EXPECT_EQ(error_of({}), "metric: expected a name of 1 to 256 bytes");
    EXPECT_EQ(error_of({{"metric", std::string(257, 'm')}}), "metric: expected a name of 1 to 256 bytes");
    EXPECT_EQ(error_of({{"metric", "m"}, {"statistic", "median"}}),
              "statistic: expected avg, min, max, sum, count or current");
    for (const char* p : {"0", "-5", "12x", "34560001", "99999999999999999999"}) {
        EXPECT_EQ(error_of({{"metric", "m"}, {"period", p}}), "period: expected whole seconds from 1 to 34560000") << p;
    }
    EXPECT_EQ(error_of({{"metric", "m"}, {"dimensions", "[1]"}}), "dimensions: expected a JSON object");
    EXPECT_EQ(error_of({{"metric", "m"}, {"dimensions", R"({"a":{"b":"c"}})"}}), "dimensions.a: expected a string");
    EXPECT_EQ(error_of({{"metric", "m"}, {"dimensions", std::string(3000, ' ')}}), "dimensions: longer than 2048 bytes");
    EXPECT_EQ(error_of({{"metric", "m"}, {"dimensions", std::string(1000, '[') + std::string(1000, ']')}}),
              "dimensions: expected a JSON object");
    EXPECT_EQ(error_of({{"metric", "m"}, {"dimensions", R"({"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1","i":"1"})"}}),
              "dimensions: more than 8 names");
}

TEST(WebApi, TheSchemaListsEachMetricWithItsDimensions) {
    const auto r = schema_reply(cpu_schema());
    ASSERT_EQ(r.body["metrics"].size(), 1u);
    const auto& m = r.body["metrics"][0];
    EXPECT_EQ(m["namespace"], "Acme");
    EXPECT_EQ(m["metric"], "CPU");
    EXPECT_EQ(m["dimensions"], json::parse(R"([{"Device":"deviceId"},{}])"));
}

TEST(WebApi, ABatchBecomesStoreChangesForItsDeviceAndMetricChangesForAll) {
    storage::batch b;
    b.store.push_back({"dev1", "cpu", 55, "number", 1234});
    b.currents.push_back({{"Acme", "CPU", {{"Device", "dev1"}}}, 55, 1234});
    const auto changes = changes_of(b);
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].device_id, "dev1");
    EXPECT_EQ(json::parse(changes[0].json),
              json::parse(R"({"kind":"store","device":"dev1","key":"cpu","value":55,"type":"number","updated":1234})"));
    EXPECT_EQ(changes[1].device_id, "");
    EXPECT_EQ(json::parse(changes[1].json)["dimensions"], json::parse(R"({"Device":"dev1"})"));
}

TEST(WebJsonBody, NestingIsBoundedBeforeParsing) {
    EXPECT_TRUE(parse_json_body(R"({"a":[[[[[[1]]]]]]})"));
    const auto deep = parse_json_body(std::string(100'000, '[') + std::string(100'000, ']'));
    ASSERT_FALSE(deep);
    EXPECT_EQ(deep.err().message, "body: nested deeper than 8 levels");
    EXPECT_TRUE(parse_json_body(R"({"p":"[[[[[[[[[[[[[[[[\"[[[["})"));  // brackets in strings do not count
    EXPECT_EQ(parse_json_body("{\"a\":").err().message, "body: not JSON");
}

TEST(WebCertificateExpiry, NotAfterOfAPemAndNothingForGarbage) {
    test::web_fixture f;
    const auto pem = f.register_device("dev1");
    const auto e = certificate_expiry_ms(pem);
    ASSERT_TRUE(e);
    EXPECT_GT(*e, now_ms() + 365LL * 86'400'000);
    EXPECT_FALSE(certificate_expiry_ms("PEM"));
    EXPECT_FALSE(certificate_expiry_ms(""));
}

}  // namespace
}  // namespace tether::cloud::web
