// metric/set and metric/get bodies and the reply value (metric_request.hpp).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "metrics/metric_request.hpp"

namespace {

using namespace tether::cloud::metrics;
using nlohmann::json;

std::string set_error(const char* body) {
    auto r = parse_metric_set(json::parse(body), "d1");
    return r ? "(parsed)" : r.err().message;
}

std::string get_error(const char* body) {
    auto r = parse_metric_get(json::parse(body), "d1");
    return r ? "(parsed)" : r.err().message;
}

schema empty_schema() { return schema::load(json::object()).value(); }

TEST(MetricSet, TheProtocolExample) {
    auto r = parse_metric_set(json::parse(R"({"metric":"Temp","value":21.5,"dimensions":[{"Device":"d1"}],"buffer":{"elapsed":10}})"), "d1");
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r.value().metric, "Temp");
    EXPECT_EQ(r.value().value, 21.5);
    ASSERT_EQ(r.value().dimensions.size(), 1u);
    EXPECT_EQ(r.value().dimensions[0], (dimension_values{{"Device", "d1"}}));
    EXPECT_EQ(r.value().buffer, (buffer_policy{0, 10'000}));
    const auto feeds = route_metric_set(empty_schema(), r.value());
    ASSERT_EQ(feeds.size(), 1u);
    EXPECT_EQ(feeds[0], (feed{{"Embedthis/Device", "Temp", {{"Device", "d1"}}}, 21.5, {0, 10'000}}));
}

TEST(MetricSet, Defaults) {
    auto r = parse_metric_set(json::parse(R"({"metric":"Temp","value":3})"), "pump-7");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().dimensions, (std::vector<dimension_values>{{{"Device", "pump-7"}}}));
    EXPECT_EQ(r.value().buffer, std::nullopt);
    EXPECT_EQ(route_metric_set(empty_schema(), r.value())[0].buffer, buffer_policy{});
}

TEST(MetricSet, FleetWideAndSeveralSeries) {
    auto fleet = parse_metric_set(json::parse(R"({"metric":"T","value":1,"dimensions":[{}]})"), "d1");
    ASSERT_TRUE(fleet.ok());
    EXPECT_EQ(fleet.value().dimensions, (std::vector<dimension_values>{{}}));
    auto none = parse_metric_set(json::parse(R"({"metric":"T","value":1,"dimensions":[]})"), "d1");
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(none.value().dimensions, (std::vector<dimension_values>{{}}));
    auto both = parse_metric_set(json::parse(R"({"metric":"T","value":1,"dimensions":[{"Site":"s","Device":"d1"},{}]})"), "d1");
    ASSERT_TRUE(both.ok());
    EXPECT_EQ(both.value().dimensions[0], (dimension_values{{"Device", "d1"}, {"Site", "s"}}));  // sorted
    EXPECT_EQ(route_metric_set(empty_schema(), both.value()).size(), 2u);
}

TEST(MetricSet, NamespaceFromTheSchema) {
    auto s = schema::load(json::parse(R"({"Store":{"metrics":[{"namespace":"Acme","fields":[{"T":"value"}]}]}})"));
    ASSERT_TRUE(s.ok());
    auto r = parse_metric_set(json::parse(R"({"metric":"T","value":1})"), "d1");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(route_metric_set(s.value(), r.value())[0].key.namespace_name, "Acme");
}

TEST(MetricSet, Errors) {
    EXPECT_EQ(set_error(R"([])"), "body: expected an object, found an array");
    EXPECT_EQ(set_error(R"({"value":1})"), "body: needs metric");
    EXPECT_EQ(set_error(R"({"metric":5,"value":1})"), "metric: expected a string, found a number");
    EXPECT_EQ(set_error(R"({"metric":"","value":1})"), "metric: must not be empty");
    EXPECT_EQ(set_error(R"({"metric":"T"})"), "body: needs value");
    EXPECT_EQ(set_error(R"({"metric":"T","value":"1"})"), "value: expected a finite number, found a string");
    EXPECT_EQ(set_error(R"({"metric":"T","value":true})"), "value: expected a finite number, found a boolean");
    EXPECT_EQ(set_error(R"({"metric":"T","value":1,"unit":"C"})"), "body: unknown member 'unit'");
    EXPECT_EQ(set_error(R"({"metric":"T","value":1,"dimensions":{"Device":"d1"}})"), "dimensions: expected an array, found an object");
    EXPECT_EQ(set_error(R"({"metric":"T","value":1,"dimensions":[{"Device":null}]})"), "dimensions[0].Device: expected a string, found null");
    EXPECT_EQ(set_error(R"({"metric":"T","value":1,"dimensions":[{"Device":""}]})"), "dimensions[0].Device: must not be empty");
    EXPECT_EQ(set_error(R"({"metric":"T","value":1,"dimensions":[{},5]})"),
              "dimensions[1]: expected an object such as {\"Device\": \"d1\"}, found a number");
    EXPECT_EQ(set_error(R"({"metric":"T","value":1,"buffer":{"count":0}})"), "buffer.count: expected a whole number from 1 to 1000000");
    EXPECT_EQ(set_error(R"({"metric":"T","value":1,"buffer":5})"), "buffer: expected an object such as {count: 5, elapsed: 10}, found a number");
}

TEST(MetricGet, TheProtocolExample) {
    auto r = parse_metric_get(json::parse(R"({"metric":"CPU","dimensions":{"Device":"d1"},"period":300,"statistic":"avg"})"), "d1");
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r.value().metric, "CPU");
    EXPECT_EQ(r.value().dimensions, (dimension_values{{"Device", "d1"}}));
    EXPECT_EQ(r.value().period_s, 300);
    EXPECT_EQ(r.value().stat, statistic::avg);
    EXPECT_EQ(key_of(empty_schema(), r.value()), (series_key{"Embedthis/Device", "CPU", {{"Device", "d1"}}}));
}

TEST(MetricGet, Defaults) {
    auto r = parse_metric_get(json::parse(R"({"metric":"CPU","statistic":"max"})"), "d7");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value().dimensions, (dimension_values{{"Device", "d7"}}));
    EXPECT_EQ(r.value().period_s, 300);
    auto fleet = parse_metric_get(json::parse(R"({"metric":"CPU","statistic":"max","dimensions":{}})"), "d7");
    ASSERT_TRUE(fleet.ok());
    EXPECT_TRUE(fleet.value().dimensions.empty());
}

TEST(MetricGet, Errors) {
    EXPECT_EQ(get_error(R"("CPU")"), "body: expected an object, found a string");
    EXPECT_EQ(get_error(R"({"statistic":"avg"})"), "body: needs metric");
    EXPECT_EQ(get_error(R"({"metric":"CPU"})"), "body: needs statistic");
    EXPECT_EQ(get_error(R"({"metric":"CPU","statistic":"mean"})"),
              "statistic: expected one of avg, min, max, sum, count, current, found 'mean'");
    EXPECT_EQ(get_error(R"({"metric":"CPU","statistic":1})"),
              "statistic: expected one of avg, min, max, sum, count, current, found a number");
    for (const char* bad : {R"({"metric":"CPU","statistic":"avg","period":0})", R"({"metric":"CPU","statistic":"avg","period":-5})",
                            R"({"metric":"CPU","statistic":"avg","period":1.5})", R"({"metric":"CPU","statistic":"avg","period":"300"})",
                            R"({"metric":"CPU","statistic":"avg","period":316224001})",
                            R"({"metric":"CPU","statistic":"avg","period":1e300})"}) {
        EXPECT_EQ(get_error(bad), "period: expected whole seconds from 1 to 316224000") << bad;
    }
    EXPECT_EQ(get_error(R"({"metric":"CPU","statistic":"avg","dimensions":[{"Device":"d1"}]})"),
              "dimensions: expected an object such as {\"Device\": \"d1\"}, found an array");
    EXPECT_EQ(get_error(R"({"metric":"CPU","statistic":"avg","extra":1})"), "body: unknown member 'extra'");
}

TEST(MetricGet, Answers) {
    series data;
    const std::int64_t now = 1'700'000'000'000;
    ASSERT_TRUE(data.add(2, now - 10'000));
    ASSERT_TRUE(data.add(3, now - 5'000));
    auto ask = [&](const char* stat, const series* s) {
        auto r = parse_metric_get(json::parse(std::string(R"({"metric":"CPU","statistic":")") + stat + "\"}"), "d1");
        EXPECT_TRUE(r.ok());
        return answer_metric_get(r.value(), s, now).dump();
    };
    EXPECT_EQ(ask("avg", &data), "2.5");
    EXPECT_EQ(ask("min", &data), "2");
    EXPECT_EQ(ask("max", &data), "3");
    EXPECT_EQ(ask("sum", &data), "5");
    EXPECT_EQ(ask("count", &data), "2");
    EXPECT_EQ(ask("current", &data), "3");
    EXPECT_EQ(ask("avg", nullptr), "null");
    EXPECT_EQ(ask("count", nullptr), "null");
    const series empty;
    EXPECT_EQ(ask("avg", &empty), "null");
    EXPECT_EQ(ask("count", &empty), "0");
}

TEST(Reply, Values) {
    EXPECT_EQ(reply_value(std::nullopt).dump(), "null");
    EXPECT_EQ(reply_value(12.0).dump(), "12");
    EXPECT_EQ(reply_value(-3.0).dump(), "-3");
    EXPECT_EQ(reply_value(0.25).dump(), "0.25");
    EXPECT_EQ(reply_value(1e300).dump(), "1e+300");  // whole but past 2^53: stays a double
    EXPECT_EQ(reply_value(std::numeric_limits<double>::infinity()).dump(), "null");
    EXPECT_EQ(error_reply("statistic: expected ...").dump(), R"({"error":"statistic: expected ..."})");
}

}  // namespace
