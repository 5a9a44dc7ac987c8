// Opening by URL, the schema's version, reopening, and device rows.
#include "storage/schema.hpp"
#include "storage/sql_registry.hpp"
#include "storage_fixture.hpp"

namespace tether::cloud::storage::test {
namespace {

TEST(storage_url, UnknownSchemeIsRefusedWithoutRepeatingTheRest) {
    const auto c = connect("mysql://admin:hunter2@db.example/cloud");
    ASSERT_FALSE(c);
    EXPECT_NE(c.err().message.find("'mysql'"), std::string::npos) << c.err().message;
    EXPECT_EQ(c.err().message.find("hunter2"), std::string::npos) << c.err().message;
}

TEST(storage_url, SqliteWithoutPathIsRefused) {
    const auto c = connect("sqlite:");
    ASSERT_FALSE(c);
    EXPECT_NE(c.err().message.find("no path"), std::string::npos) << c.err().message;
}

TEST(storage_url, UnreachablePostgresqlIsAnError) {
    // Port 1 on loopback: nothing listens there.
    const auto db = database::open("postgresql://tether@127.0.0.1:1/none?connect_timeout=5");
    ASSERT_FALSE(db);
    EXPECT_NE(db.err().message.find("postgresql: cannot connect"), std::string::npos) << db.err().message;
}

TEST(storage_url, SqliteInAMissingFolderIsAnError) {
    const auto db = database::open("sqlite:/nonexistent-tether-dir/cloud.db");
    ASSERT_FALSE(db);
    EXPECT_NE(db.err().message.find("cannot open"), std::string::npos) << db.err().message;
}

TEST_P(storage_test, NewDatabaseGetsTheCurrentSchemaVersion) {
    auto db = open();
    ASSERT_TRUE(db);
    EXPECT_EQ(db->kind(), GetParam());
    auto c = connect(url());
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(stored_schema_version(*c.value()), schema_version);
}

TEST_P(storage_test, OpeningAgainKeepsTheSchemaAndItsVersion) {
    ASSERT_TRUE(open());
    ASSERT_TRUE(open());
    auto c = connect(url());
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(stored_schema_version(*c.value()), schema_version);
    EXPECT_EQ(c.value()->execute("SELECT version FROM schema_version").size(), 1u);
}

TEST_P(storage_test, NewerSchemaIsRefused) {
    ASSERT_TRUE(open());
    {
        auto c = connect(url());
        ASSERT_TRUE(c) << c.err().message;
        (void)c.value()->execute("UPDATE schema_version SET version = $1", {std::int64_t{999}});
    }
    const auto db = database::open(url());
    ASSERT_FALSE(db);
    EXPECT_NE(db.err().message.find("version 999, newer than this program's " + std::to_string(schema_version)),
              std::string::npos)
        << db.err().message;
}

// Version 2 put a 5 s span before the others: points a version 1 database holds move up
// one span, and read back where the series now keeps them.
TEST_P(storage_test, AVersion1DatabaseKeepsItsPointsInTheirSpans) {
    const metrics::series_key key{"Embedthis/Device", "CPU", {{"Device", "d1"}}};
    ASSERT_TRUE(open());
    {
        auto c = connect(url());
        ASSERT_TRUE(c) << c.err().message;
        (void)c.value()->execute("UPDATE schema_version SET version = 1");
        const std::string text = series_key_text(key).value();
        // As version 1 stored them: span 0 was 30 s, ... span 4 was 30 days; one point each,
        // whose count says its old span.
        for (std::int64_t old_span = 0; old_span < 5; ++old_span) {
            (void)c.value()->execute(
                "INSERT INTO metric_points (series_key, span, interval_index, point_count, point_sum, point_min, "
                "point_max) VALUES ($1, $2, 7, $3, 1, 1, 1)",
                {text, old_span, old_span + 1});
        }
    }
    auto db = open();
    ASSERT_TRUE(db);
    auto c = connect(url());
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(stored_schema_version(*c.value()), schema_version);
    EXPECT_TRUE(db->read_points(key, 0, 0, 100).value().empty());
    for (std::size_t span = 1; span < metrics::span_shapes.size(); ++span) {
        const auto p = db->read_points(key, span, 0, 100);
        ASSERT_TRUE(p) << p.err().message;
        ASSERT_EQ(p.value().size(), 1u) << "span " << span;
        EXPECT_EQ(p.value()[0].value.count, span) << "span " << span;
    }
}

TEST_P(storage_test, ReopeningKeepsEverything) {
    const metrics::series_key key{"Embedthis/Device", "CPU", {{"Device", "d1"}}};
    provisioning::certificate_record cert{"c1", "0A", "d1", "PEM", "fp", provisioning::certificate_status::pending,
                                          provisioning::time_point(std::chrono::milliseconds(1000)), {}, ""};
    {
        auto db = open();
        ASSERT_TRUE(db);
        batch b;
        b.devices.push_back({"d1", true, 100});
        b.store.push_back({"d1", "cpu", 55, "number", 100, {}});
        b.points = point_updates(key, {1, 5, 5, 5}, 100);
        b.currents.push_back({key, 5, 100});
        ASSERT_TRUE(db->apply(b));
        sql_registry r(*db);
        r.add_pending(cert, {"tok", "c1", "CSR", provisioning::time_point(std::chrono::hours(1)), false});
    }
    auto db = open();
    ASSERT_TRUE(db);
    const auto v = db->read_store("d1", "cpu", 100);
    ASSERT_TRUE(v && v.value());
    EXPECT_EQ(v.value()->value, 55);
    const auto d = db->find_device("d1");
    ASSERT_TRUE(d && d.value());
    EXPECT_TRUE(d.value()->online);
    const auto s = db->load_series(key);
    ASSERT_TRUE(s && s.value()) << (s ? "no series" : s.err().message);
    EXPECT_EQ(s.value()->query(metrics::statistic::sum, 300'000, 100), 5.0);
    sql_registry r(*db);
    const auto found = r.find_certificate("c1");
    ASSERT_TRUE(found);
    expect_same(*found, cert);
    ASSERT_TRUE(r.find_token("tok"));
}

TEST_P(storage_test, DevicesKeepFirstAndLastSeenAndTheLatestState) {
    auto db = open();
    ASSERT_TRUE(db);
    batch b;
    // Out of order, as two workers may record them: the latest event decides.
    b.devices = {{"d2", false, 300}, {"d2", true, 200}, {"d1", true, 50}, {"d2", true, 100}};
    ASSERT_TRUE(db->apply(b));
    const auto all = db->devices();
    ASSERT_TRUE(all) << all.err().message;
    const std::vector<device_record> expected{{"d1", 50, 50, true}, {"d2", 100, 300, false}};
    EXPECT_EQ(all.value(), expected);
    const auto none = db->find_device("d3");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none.value());
    batch bad;
    bad.devices = {{"", true, 1}};
    const auto r = db->apply(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("device id"), std::string::npos) << r.err().message;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(engines, storage_test, ::testing::Values(engine::sqlite, engine::postgresql), engine_name);

}  // namespace tether::cloud::storage::test
