// Statements the connection keeps prepared (PostgreSQL: PQprepare once, then
// PQexecPrepared; SQLite: sqlite3_prepare_v2 once) must stay correct when run again with
// other parameters, and across a PostgreSQL session that ended and was opened again (the
// server then holds none of the old prepared statements).

#include <gtest/gtest.h>

#include "storage/connection.hpp"
#include "storage_fixture.hpp"

namespace tether::cloud::storage::test {
namespace {

TEST_P(storage_test, APreparedStatementAnswersEachCallWithItsOwnParameters) {
    auto db = open();
    ASSERT_TRUE(db);
    auto c = connect(url());
    ASSERT_TRUE(c) << c.err().message;
    auto& conn = *c.value();
    for (std::int64_t i = 1; i <= 3; ++i) {
        const rows r = conn.execute("SELECT $1 + 1", {i});
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].integer(0), i + 1);
    }
}

// $n is the n-th parameter given, wherever and however often the text names it: SQLite
// numbers its parameters in the order they first appear, so the text "$2 ... $1" has $2 at
// its index 1 (the connection maps them once per statement).
TEST_P(storage_test, EachNumberedParameterTakesItsOwnValueInAnyOrderAndRepeated) {
    auto db = open();
    ASSERT_TRUE(db);
    auto c = connect(url());
    ASSERT_TRUE(c) << c.err().message;
    auto& conn = *c.value();
    for (std::int64_t i = 1; i <= 2; ++i) {
        const rows r = conn.execute("SELECT $3 * 100 + $1 * 10 + $3, $1, $2 + 0", {i, std::int64_t{7}, i + 4});
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].integer(0), (i + 4) * 100 + i * 10 + (i + 4));
        EXPECT_EQ(r[0].integer(1), i);
        EXPECT_EQ(r[0].integer(2), 7);
    }
}

TEST_P(storage_test, PreparedStatementsWorkAgainAfterTheSessionWasLost) {
    if (GetParam() != engine::postgresql) GTEST_SKIP() << "a SQLite file has no session to lose";
    auto db = open();
    ASSERT_TRUE(db);
    auto c = connect(url());
    ASSERT_TRUE(c) << c.err().message;
    auto& conn = *c.value();
    const rows pid = conn.execute("SELECT pg_backend_pid()", {});
    ASSERT_EQ(pid.size(), 1u);
    ASSERT_EQ(conn.execute("SELECT COUNT(*) FROM store_items WHERE device_id = $1", {std::string("d")})[0].integer(0), 0);

    // Another session ends this one's server process: its prepared statements go with it.
    auto killer = connect(url());
    ASSERT_TRUE(killer) << killer.err().message;
    (void)killer.value()->execute("SELECT pg_terminate_backend($1::int)", {pid[0].integer(0)});

    // The first statement after that finds the link gone; the next opens a new session,
    // where the statement must be prepared again rather than executed by its old name.
    const std::vector<sql_value> params{std::string("d")};
    try {
        (void)conn.execute("SELECT COUNT(*) FROM store_items WHERE device_id = $1", params);
    } catch (const failure&) {
    }
    const rows again = conn.execute("SELECT COUNT(*) FROM store_items WHERE device_id = $1", params);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].integer(0), 0);
    EXPECT_NE(conn.execute("SELECT pg_backend_pid()", {})[0].integer(0), pid[0].integer(0));
}

// execute_all (a pipeline on PostgreSQL): the statements run in order, each with its own
// parameters; the first failure is the error, nothing after it runs, and the transaction
// rolls back whole. Then the connection works as before (it left pipeline mode).
TEST_P(storage_test, ExecuteAllRunsInOrderAndStopsAtTheFirstFailure) {
    auto db = open();
    ASSERT_TRUE(db);
    auto c = connect(url());
    ASSERT_TRUE(c) << c.err().message;
    auto& conn = *c.value();
    const std::string insert =
        "INSERT INTO devices (device_id, first_seen, last_seen, online) VALUES ($1, $2, $2, 0) "
        "ON CONFLICT (device_id) DO UPDATE SET last_seen = excluded.last_seen";
    std::vector<statement> ok;
    for (std::int64_t i = 0; i < 2500; ++i) ok.push_back({insert, {std::string("d") + std::to_string(i % 10), i}});
    conn.begin();
    conn.execute_all(ok);  // several chunks
    conn.commit();
    const rows last = conn.execute("SELECT last_seen FROM devices WHERE device_id = $1", {std::string("d9")});
    ASSERT_EQ(last.size(), 1u);
    EXPECT_EQ(last[0].integer(0), 2499);  // the last of d9's, in order

    std::vector<statement> failing{{insert, {std::string("e1"), std::int64_t{1}}},
                                   {insert, {std::string("e3"), sql_null()}},  // first_seen NOT NULL: fails as it runs
                                   {insert, {std::string("e2"), std::int64_t{2}}}};
    conn.begin();
    try {
        conn.execute_all(failing);
        ADD_FAILURE() << "no error";
    } catch (const failure& e) {
        EXPECT_NE(std::string(e.what()).find("first_seen"), std::string::npos) << e.what();
    }
    conn.rollback();
    EXPECT_TRUE(conn.execute("SELECT 1 FROM devices WHERE device_id IN ($1, $2)", {std::string("e1"), std::string("e2")})
                    .empty());
    EXPECT_EQ(conn.execute("SELECT COUNT(*) FROM devices", {})[0].integer(0), 10);
}

}  // namespace
}  // namespace tether::cloud::storage::test
