// Store values per device: types, times, expiry, refusals, and batches that are written
// whole or not at all.
#include "storage_fixture.hpp"

namespace tether::cloud::storage::test {
namespace {

std::optional<store_value> read(database& db, const std::string& device, const std::string& key, std::int64_t now) {
    auto v = db.read_store(device, key, now);
    if (!v) {
        ADD_FAILURE() << v.err().message;
        return std::nullopt;
    }
    return v.value();
}

result<void> write(database& db, store_write w) {
    batch b;
    b.store.push_back(std::move(w));
    return db.apply(b);
}

TEST_P(storage_test, EachTypeComesBackAsWritten) {
    auto db = open();
    ASSERT_TRUE(db);
    batch b;
    b.store = {
        {"d1", "name", "Acme Rocket", "string", 10, {}},
        {"d1", "cpu", 55, "number", 11, {}},
        {"d1", "ratio", 0.1, "number", 12, 5000},
        {"d1", "on", true, "boolean", 13, {}},
        {"d1", "empty", "", "string", 14, {}},
        {"d1", "quote", "say \"null\" \xC3\xA9", "string", 15, {}},
    };
    ASSERT_TRUE(db->apply(b));
    for (const store_write& w : b.store) {
        const auto v = read(*db, "d1", w.key, 0);
        ASSERT_TRUE(v) << w.key;
        EXPECT_EQ(*v, (store_value{w.value, w.type, w.updated_ms, w.expires_ms})) << w.key;
    }
    EXPECT_EQ(read(*db, "d1", "ratio", 0)->value.get<double>(), 0.1);  // exactly, not 0.1000000000000000055
    EXPECT_FALSE(read(*db, "d1", "missing", 0));
}

TEST_P(storage_test, ValuesAreKeptPerDevice) {
    auto db = open();
    ASSERT_TRUE(db);
    ASSERT_TRUE(write(*db, {"d1", "cpu", 1, "number", 10, {}}));
    ASSERT_TRUE(write(*db, {"d2", "cpu", 2, "number", 10, {}}));
    EXPECT_EQ(read(*db, "d1", "cpu", 0)->value, 1);
    EXPECT_EQ(read(*db, "d2", "cpu", 0)->value, 2);
    EXPECT_FALSE(read(*db, "d3", "cpu", 0));
}

TEST_P(storage_test, AnOlderWriteNeverReplacesANewerOne) {
    auto db = open();
    ASSERT_TRUE(db);
    ASSERT_TRUE(write(*db, {"d1", "cpu", 2, "number", 200, {}}));
    ASSERT_TRUE(write(*db, {"d1", "cpu", 1, "number", 100, {}}));
    EXPECT_EQ(read(*db, "d1", "cpu", 0)->value, 2);
    ASSERT_TRUE(write(*db, {"d1", "cpu", "three", "string", 300, {}}));
    const auto v = read(*db, "d1", "cpu", 0);
    EXPECT_EQ(v->value, "three");
    EXPECT_EQ(v->type, "string");
    EXPECT_EQ(v->updated_ms, 300);
}

// On PostgreSQL a batch's writes go as one statement (pg_array.hpp), which may touch a row
// once: of several writes of one key it keeps the one that writing them in order leaves.
// Texts that mean something in an array literal come back as written.
TEST_P(storage_test, ABatchLeavesWhatWritingItsRowsOneByOneWould) {
    auto db = open();
    ASSERT_TRUE(db);
    ASSERT_TRUE(write(*db, {"d2", "cpu", 9, "number", 60, {}}));
    batch b;
    b.store = {
        {"d1", "cpu", 1, "number", 100, {}},
        {"d1", "cpu", 2, "number", 300, {}},
        {"d1", "cpu", "four", "string", 300, 7000},  // as new as the newest: written after it, kept
        {"d1", "cpu", 3, "number", 200, 5000},       // the last, but older: not kept
        {"d2", "cpu", 5, "number", 50, {}},          // older than what is stored
        {"d1,\"x\"}", "{NULL}", "NULL", "string", 10, {}},
        {"d1", "a\\b", "back\\slash \"quoted\" {brace}, comma", "string", 11, {}},
        {"d1", "NULL", "", "string", 12, {}},
        {"d1", "\xC3\xA9t\xC3\xA9", true, "boolean", 13, {}},
    };
    ASSERT_TRUE(db->apply(b));
    const auto cpu = read(*db, "d1", "cpu", 0);
    ASSERT_TRUE(cpu);
    EXPECT_EQ(*cpu, (store_value{"four", "string", 300, 7000}));
    EXPECT_EQ(read(*db, "d2", "cpu", 0)->value, 9);
    EXPECT_EQ(read(*db, "d1,\"x\"}", "{NULL}", 0)->value, "NULL");
    EXPECT_EQ(read(*db, "d1", "a\\b", 0)->value, "back\\slash \"quoted\" {brace}, comma");
    EXPECT_EQ(read(*db, "d1", "NULL", 0)->value, "");
    EXPECT_EQ(read(*db, "d1", "\xC3\xA9t\xC3\xA9", 0)->value, true);

    // A batch as large as the ingest makes them, every row its own key.
    batch large;
    for (int i = 0; i < 300; ++i) large.store.push_back({"d3", "k" + std::to_string(i), i, "number", 20, i % 2 ? 9000 : std::optional<std::int64_t>()});
    ASSERT_TRUE(db->apply(large));
    for (int i = 0; i < 300; ++i) {
        const auto v = read(*db, "d3", "k" + std::to_string(i), 0);
        ASSERT_TRUE(v) << i;
        EXPECT_EQ(*v, (store_value{i, "number", 20, i % 2 ? 9000 : std::optional<std::int64_t>()})) << i;
    }
}

TEST_P(storage_test, ExpiredValuesAreNotReadAndArePurged) {
    auto db = open();
    ASSERT_TRUE(db);
    ASSERT_TRUE(write(*db, {"d1", "temp", 20, "number", 10, 1000}));
    ASSERT_TRUE(write(*db, {"d1", "keep", 1, "number", 10, {}}));
    EXPECT_TRUE(read(*db, "d1", "temp", 999));
    EXPECT_FALSE(read(*db, "d1", "temp", 1000));
    const auto purged = db->purge_expired_store(1000);
    ASSERT_TRUE(purged) << purged.err().message;
    EXPECT_EQ(purged.value(), 1u);
    EXPECT_FALSE(read(*db, "d1", "temp", 0));  // gone, not just hidden
    EXPECT_TRUE(read(*db, "d1", "keep", 1'000'000));
}

TEST_P(storage_test, BadWritesAreRefusedWithAReason) {
    auto db = open();
    ASSERT_TRUE(db);
    const std::vector<std::pair<store_write, std::string>> cases{
        {{"d1", "k", 1, "object", 1, {}}, "type must be string, number or boolean"},
        {{"d1", "k", "1", "number", 1, {}}, "not a number"},
        {{"d1", "k", 1, "boolean", 1, {}}, "not a boolean"},
        {{"d1", "k", nlohmann::json::object(), "string", 1, {}}, "not a string"},
        {{"d1", "k", std::nan(""), "number", 1, {}}, "not a number"},
        {{"d1", "", 1, "number", 1, {}}, "the key must be 1 to 256 bytes"},
        {{"d1", std::string(257, 'k'), 1, "number", 1, {}}, "the key must be 1 to 256 bytes"},
        {{"", "k", 1, "number", 1, {}}, "the device id must be"},
        {{std::string(129, 'd'), "k", 1, "number", 1, {}}, "the device id must be"},
        {{"d1", "k", std::string(max_store_value_bytes, 'x'), "string", 1, {}}, "longer than 65536 bytes"},
        {{"d1", "k", std::string("\xFF\xFE"), "string", 1, {}}, "not valid UTF-8"},
        {{"d1", std::string("k\0x", 3), 1, "number", 1, {}}, "must not hold U+0000"},
    };
    for (const auto& [w, why] : cases) {
        const auto r = write(*db, w);
        ASSERT_FALSE(r) << why;
        EXPECT_NE(r.err().message.find(why), std::string::npos) << r.err().message;
    }
    EXPECT_FALSE(read(*db, "d1", "k", 0));
    // The longest key, device id and value that are allowed are stored.
    ASSERT_TRUE(write(*db, {std::string(128, 'd'), std::string(256, 'k'),
                            std::string(max_store_value_bytes - 2, 'x'), "string", 1, {}}));
    EXPECT_TRUE(read(*db, std::string(128, 'd'), std::string(256, 'k'), 0));
}

// The bad item comes after good ones were written in the same transaction: they must be
// rolled back with it.
TEST_P(storage_test, AFailingBatchLeavesNothing) {
    auto db = open();
    ASSERT_TRUE(db);
    const metrics::series_key key{"ns", "m", {}};
    batch b;
    b.devices.push_back({"d1", true, 5});
    b.store = {{"d1", "a", 1, "number", 5, {}}, {"d1", "b", 2, "number", 5, {}}, {"d1", "c", "x", "number", 5, {}}};
    b.points = point_updates(key, {1, 1, 1, 1}, 5);
    const auto r = db->apply(b);
    ASSERT_FALSE(r);
    EXPECT_NE(r.err().message.find("'c'"), std::string::npos) << r.err().message;
    EXPECT_FALSE(read(*db, "d1", "a", 0));
    EXPECT_FALSE(read(*db, "d1", "b", 0));
    EXPECT_FALSE(db->find_device("d1").value());

    // Good store writes, then a bad point.
    batch c;
    c.store = {{"d1", "a", 1, "number", 5, {}}};
    c.points = point_updates(key, {1, 1, 1, 1}, 5);
    c.points.push_back({key, 9, 0, {1, 1, 1, 1}});
    const auto r2 = db->apply(c);
    ASSERT_FALSE(r2);
    EXPECT_NE(r2.err().message.find("span 9 out of range"), std::string::npos) << r2.err().message;
    EXPECT_FALSE(read(*db, "d1", "a", 0));
    EXPECT_FALSE(db->load_series(key).value());

    // The same connection goes on working after a failed batch.
    ASSERT_TRUE(write(*db, {"d1", "a", 1, "number", 5, {}}));
    EXPECT_TRUE(read(*db, "d1", "a", 0));
}

}  // namespace
}  // namespace tether::cloud::storage::test
