// The metrics of a device schema: every field checked with an error naming its path, and
// the routing of Store writes to series (schema.hpp).

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "metrics/schema.hpp"

namespace {

using namespace tether::cloud::metrics;
using nlohmann::json;

// The seed's example (PROTOCOL.md §6), as the JSON5 reader would hand it over.
json seed_schema() {
    return json::parse(R"({
        "Store": {
            "enable": "both", "sync": "up", "notify": "default",
            "metrics": [{
                "namespace": "Embedthis/Device",
                "fields": [{"CPU": "value"}],
                "where": "key == \"cpu\"",
                "dimensions": [{"Device": "deviceId"}],
                "buffer": {"count": 5, "elapsed": 10}
            }]
        }
    })");
}

std::string load_error(const json& j) {
    auto r = schema::load(j);
    return r ? "(loaded)" : r.err().message;
}

// The seed schema with metrics[0] changed by `edit`.
template <class Edit>
std::string error_after(Edit edit) {
    json j = seed_schema();
    edit(j["Store"]["metrics"][0]);
    return load_error(j);
}

store_item write(std::string_view key, scalar value, std::string_view device = "d1") {
    const char* type = value.type == scalar::kind::number ? "number" : value.type == scalar::kind::boolean ? "boolean" : "string";
    return store_item{key, value, type, device, 1'700'000'000'000};
}

TEST(Schema, LoadsTheSeedExample) {
    auto r = schema::load(seed_schema());
    ASSERT_TRUE(r.ok()) << r.err().message;
    const auto& m = r.value().metrics();
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].namespace_name, "Embedthis/Device");
    ASSERT_EQ(m[0].fields.size(), 1u);
    EXPECT_EQ(m[0].fields[0].metric, "CPU");
    EXPECT_EQ(m[0].fields[0].source, item_field::value);
    EXPECT_EQ(m[0].buffer, (buffer_policy{5, 10'000}));
    ASSERT_EQ(m[0].dimensions.size(), 1u);
    EXPECT_EQ(m[0].dimensions[0].names.size(), 1u);
}

TEST(Schema, RoutesMatchingWritesPerDevice) {
    auto r = schema::load(seed_schema());
    ASSERT_TRUE(r.ok());
    const schema& s = r.value();
    const auto feeds = s.route(write("cpu", scalar::make_number(55), "d1"));
    ASSERT_EQ(feeds.size(), 1u);
    EXPECT_EQ(feeds[0], (feed{{"Embedthis/Device", "CPU", {{"Device", "d1"}}}, 55, {5, 10'000}}));
    EXPECT_EQ(s.route(write("cpu", scalar::make_number(1), "d2"))[0].key.dimensions, (dimension_values{{"Device", "d2"}}));
    EXPECT_TRUE(s.route(write("mem", scalar::make_number(55))).empty());
}

TEST(Schema, NoStoreOrNoMetricsRoutesNothing) {
    for (const char* text : {R"({})", R"({"Store": {}})", R"({"Store": {"metrics": []}})", R"({"Other": 1})"}) {
        auto r = schema::load(json::parse(text));
        ASSERT_TRUE(r.ok()) << text;
        EXPECT_TRUE(r.value().route(write("cpu", scalar::make_number(1))).empty());
    }
}

TEST(Schema, FieldsDimensionsAndValues) {
    auto r = schema::load(json::parse(R"({"Store": {"metrics": [
        {"namespace": "N", "fields": ["value", {"When": "updated"}], "dimensions": [{"Device": "deviceId"}, {}, {"Key": "key", "Type": "type"}]}
    ]}})"));
    ASSERT_TRUE(r.ok()) << r.err().message;
    const auto feeds = r.value().route(write("t", scalar::make_number(2.5), "d9"));
    // 2 fields x 3 dimension sets, fields first.
    ASSERT_EQ(feeds.size(), 6u);
    EXPECT_EQ(feeds[0].key, (series_key{"N", "value", {{"Device", "d9"}}}));
    EXPECT_EQ(feeds[0].value, 2.5);
    EXPECT_EQ(feeds[1].key, (series_key{"N", "value", {}}));  // fleet-wide
    EXPECT_EQ(feeds[2].key, (series_key{"N", "value", {{"Key", "t"}, {"Type", "number"}}}));
    EXPECT_EQ(feeds[3].key.metric, "When");
    EXPECT_EQ(feeds[3].value, 1'700'000'000'000.0);
    EXPECT_EQ(feeds[0].buffer, buffer_policy{});  // unbuffered
}

TEST(Schema, OmittedOrEmptyDimensionsAreFleetWide) {
    for (const char* dims : {"", R"(, "dimensions": [])", R"(, "dimensions": [{}])"}) {
        auto r = schema::load(json::parse(std::string(R"({"Store": {"metrics": [{"namespace": "N", "fields": ["value"])") + dims + "}]}}"));
        ASSERT_TRUE(r.ok()) << dims;
        const auto feeds = r.value().route(write("k", scalar::make_number(1)));
        ASSERT_EQ(feeds.size(), 1u) << dims;
        EXPECT_TRUE(feeds[0].key.dimensions.empty()) << dims;
    }
}

TEST(Schema, BooleansCountAsOneAndZeroStringsFeedNothing) {
    auto r = schema::load(json::parse(R"({"Store": {"metrics": [{"namespace": "N", "fields": ["value"]}]}})"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().route(write("on", scalar::make_bool(true)))[0].value, 1.0);
    EXPECT_EQ(r.value().route(write("on", scalar::make_bool(false)))[0].value, 0.0);
    EXPECT_TRUE(r.value().route(write("name", scalar::make_string("Acme"))).empty());
    EXPECT_TRUE(r.value().route(write("gone", scalar::make_null())).empty());
}

TEST(Schema, BlankDimensionValuesSkipTheSeries) {
    auto r = schema::load(seed_schema());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value().route(write("cpu", scalar::make_number(1), "")).empty());
    const std::string long_id(max_name_length + 1, 'd');
    EXPECT_TRUE(r.value().route(write("cpu", scalar::make_number(1), long_id)).empty());
}

TEST(Schema, WhereErrorsNameThePathAndColumn) {
    EXPECT_EQ(error_after([](json& m) { m["where"] = "key == (\"cpu\""; }),
              "Store.metrics[0].where: 1:14: expected ')' to close the '(' at 1:8, found the end of the expression");
    EXPECT_EQ(error_after([](json& m) { m["where"] = "speed > 5"; }).substr(0, 58),
              "Store.metrics[0].where: 1:1: unknown identifier 'speed' (e");
    EXPECT_EQ(error_after([](json& m) { m["where"] = 5; }), "Store.metrics[0].where: expected a string, found a number");
}

TEST(Schema, TopLevelErrors) {
    EXPECT_EQ(load_error(json::array()), "schema: expected an object, found an array");
    EXPECT_EQ(load_error(json::parse(R"({"Store": []})")), "Store: expected an object, found an array");
    EXPECT_EQ(load_error(json::parse(R"({"Store": {"metrics": {}}})")), "Store.metrics: expected an array, found an object");
    EXPECT_EQ(load_error(json::parse(R"({"Store": {"metrics": [1]}})")), "Store.metrics[0]: expected an object, found a number");
    json many = json::parse(R"({"Store": {"metrics": []}})");
    for (std::size_t i = 0; i <= max_metrics; ++i) many["Store"]["metrics"].push_back({{"namespace", "N"}, {"fields", {"value"}}});
    EXPECT_EQ(load_error(many), "Store.metrics: more than 1000 metrics");
}

TEST(Schema, TheSecondMetricIsNamed) {
    json j = seed_schema();
    j["Store"]["metrics"].push_back({{"namespace", "N"}, {"fields", {"value"}}, {"buffer", {{"count", 0}}}});
    EXPECT_EQ(load_error(j), "Store.metrics[1].buffer.count: expected a whole number from 1 to 1000000");
}

TEST(Schema, MemberErrors) {
    EXPECT_EQ(error_after([](json& m) { m["dimension"] = json::array(); }), "Store.metrics[0]: unknown member 'dimension'");
    EXPECT_EQ(error_after([](json& m) { m.erase("namespace"); }), "Store.metrics[0]: needs a namespace");
    EXPECT_EQ(error_after([](json& m) { m["namespace"] = ""; }), "Store.metrics[0].namespace: must not be empty");
    EXPECT_EQ(error_after([](json& m) { m["namespace"] = 3; }), "Store.metrics[0].namespace: expected a string, found a number");
    EXPECT_EQ(error_after([](json& m) { m["namespace"] = std::string(257, 'n'); }), "Store.metrics[0].namespace: longer than 256 bytes");
    EXPECT_EQ(error_after([](json& m) { m.erase("fields"); }), "Store.metrics[0]: needs fields");
    EXPECT_EQ(error_after([](json& m) { m["fields"] = "value"; }), "Store.metrics[0].fields: expected an array, found a string");
    EXPECT_EQ(error_after([](json& m) { m["fields"] = json::array(); }), "Store.metrics[0].fields: must not be empty");
}

TEST(Schema, FieldErrors) {
    EXPECT_EQ(error_after([](json& m) { m["fields"] = {"key"}; }),
              "Store.metrics[0].fields[0]: expected 'value', 'updated' or {Name: 'value'}, found 'key'");
    EXPECT_EQ(error_after([](json& m) { m["fields"] = {"value", 7}; }),
              "Store.metrics[0].fields[1]: expected 'value', 'updated' or {Name: 'value'}, found a number");
    EXPECT_EQ(error_after([](json& m) { m["fields"] = json::parse(R"([{"A": "value", "B": "value"}])"); }),
              "Store.metrics[0].fields[0]: expected 'value', 'updated' or {Name: 'value'}, found an object with 2 members");
    EXPECT_EQ(error_after([](json& m) { m["fields"] = json::parse(R"([{"CPU": "val"}])"); }),
              "Store.metrics[0].fields[0].CPU: expected 'value' or 'updated', found 'val'");
    EXPECT_EQ(error_after([](json& m) { m["fields"] = json::parse(R"([{"CPU": 1}])"); }),
              "Store.metrics[0].fields[0].CPU: expected 'value' or 'updated', found a number");
    EXPECT_EQ(error_after([](json& m) { m["fields"] = json::parse(R"([{"": "value"}])"); }),
              "Store.metrics[0].fields[0]: the metric name must not be empty");
    json many = json::array();
    for (std::size_t i = 0; i <= max_fields; ++i) many.push_back("value");
    EXPECT_EQ(error_after([&](json& m) { m["fields"] = many; }), "Store.metrics[0].fields: more than 64 fields");
}

TEST(Schema, DimensionErrors) {
    EXPECT_EQ(error_after([](json& m) { m["dimensions"] = {"deviceId"}; }),
              "Store.metrics[0].dimensions[0]: expected an object such as {Device: 'deviceId'}, found a string");
    EXPECT_EQ(error_after([](json& m) { m["dimensions"] = json::parse(R"([{"Device": "device"}])"); }),
              "Store.metrics[0].dimensions[0].Device: expected 'deviceId', 'key' or 'type', found 'device'");
    EXPECT_EQ(error_after([](json& m) { m["dimensions"] = json::parse(R"([{"V": "value"}])"); }),
              "Store.metrics[0].dimensions[0].V: expected 'deviceId', 'key' or 'type', found 'value'");
    EXPECT_EQ(error_after([](json& m) { m["dimensions"] = json::parse(R"([{"V": null}])"); }),
              "Store.metrics[0].dimensions[0].V: expected 'deviceId', 'key' or 'type', found null");
    EXPECT_EQ(error_after([](json& m) { m["dimensions"] = json::parse(R"({"Device": "deviceId"})"); }),
              "Store.metrics[0].dimensions: expected an array, found an object");
    json many = json::array();
    for (std::size_t i = 0; i <= max_dimension_sets; ++i) many.push_back(json::object());
    EXPECT_EQ(error_after([&](json& m) { m["dimensions"] = many; }), "Store.metrics[0].dimensions: more than 16 entries");
    json wide = json::object();
    for (std::size_t i = 0; i <= max_dimensions; ++i) wide["D" + std::to_string(i)] = "key";
    EXPECT_EQ(error_after([&](json& m) { m["dimensions"] = {wide}; }), "Store.metrics[0].dimensions[0]: more than 8 dimensions");
}

TEST(Schema, BufferRules) {
    auto buffer_of = [](const char* text) { return load_buffer_policy(json::parse(text), "buffer"); };
    EXPECT_EQ(buffer_of(R"({"count": 5})").value(), (buffer_policy{5, 0}));
    EXPECT_EQ(buffer_of(R"({"elapsed": 0.5})").value(), (buffer_policy{0, 500}));
    EXPECT_EQ(buffer_of(R"({"count": 5.0, "elapsed": 31536000})").value(), (buffer_policy{5, 31'536'000'000}));
    EXPECT_EQ(buffer_of(R"({})").err().message, "buffer: needs count or elapsed");
    EXPECT_EQ(buffer_of(R"([])").err().message, "buffer: expected an object such as {count: 5, elapsed: 10}, found an array");
    EXPECT_EQ(buffer_of(R"({"size": 5})").err().message, "buffer: unknown member 'size'");
    for (const char* bad : {R"({"count": 0})", R"({"count": -1})", R"({"count": 2.5})", R"({"count": "5"})", R"({"count": 1000001})",
                            R"({"count": 18446744073709551615})"}) {
        EXPECT_EQ(buffer_of(bad).err().message, "buffer.count: expected a whole number from 1 to 1000000") << bad;
    }
    for (const char* bad : {R"({"elapsed": 0})", R"({"elapsed": -3})", R"({"elapsed": 0.0001})", R"({"elapsed": "10"})",
                            R"({"elapsed": 31536001})", R"({"elapsed": 1e300})"}) {
        EXPECT_EQ(buffer_of(bad).err().message, "buffer.elapsed: expected a number of seconds above 0 and at most 31536000") << bad;
    }
}

TEST(Schema, NamespaceForSetMetrics) {
    auto r = schema::load(json::parse(R"({"Store": {"metrics": [
        {"namespace": "Acme/Pumps", "fields": [{"Pressure": "value"}]},
        {"namespace": "Other", "fields": [{"Pressure": "value"}]}
    ]}})"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().namespace_for("Pressure"), "Acme/Pumps");  // the first wins
    EXPECT_EQ(r.value().namespace_for("Temp"), "Embedthis/Device");
}

TEST(Schema, SwappingWhileRouting) {
    // A caller holding the old schema keeps routing with it after the shared one is replaced.
    auto first = schema::load(seed_schema());
    ASSERT_TRUE(first.ok());
    std::shared_ptr<const schema> shared = std::make_shared<const schema>(std::move(first).value());
    const std::shared_ptr<const schema> held = shared;
    auto second = schema::load(json::parse(R"({"Store": {"metrics": [{"namespace": "N", "fields": [{"Mem": "value"}], "where": "key == 'mem'"}]}})"));
    ASSERT_TRUE(second.ok());
    shared = std::make_shared<const schema>(std::move(second).value());
    EXPECT_EQ(held->route(write("cpu", scalar::make_number(1))).size(), 1u);
    EXPECT_TRUE(shared->route(write("cpu", scalar::make_number(1))).empty());
    EXPECT_EQ(shared->route(write("mem", scalar::make_number(1)))[0].key.metric, "Mem");
}

}  // namespace
