// A burst of QoS 1 Store writes faster than the cloud commits them: the broker holds what
// the service has not yet taken (mosquitto's default would keep 1,000 and drop the rest
// after acknowledging them to the device). Every write the device saw acknowledged must be
// stored.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <sqlite3.h>

#include "cloud_run.hpp"
#include "tether/device/device.hpp"

namespace tether::e2e {
namespace {

// How many Store items the deployment's SQLite database holds whose key
// begins with `prefix`; -1 when it cannot tell.
long count_items(const fs::path& db_file, const std::string& prefix) {
    sqlite3* db = nullptr;
    long n = -1;
    if (sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        const std::string sql = "SELECT count(*) FROM store_items WHERE substr(item_key, 1, ?1) = ?2";
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
            sqlite3_bind_int(st, 1, static_cast<int>(prefix.size()));
            sqlite3_bind_text(st, 2, prefix.c_str(), -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

TEST(Burst, ThousandsOfWritesFasterThanTheCloudCommitsAreAllStored) {
    // mosquitto's default queue is 1,000 beyond 20 in flight; the cloud commits far fewer
    // than that while a burst arrives.
    constexpr int writes = 2000;
    cloud_run c;
    c.start();
    ASSERT_EQ(c.device("set", {"model", "Acme Rocket"}).status, 0);

    asio::io_context io;
    device::device dev(io.get_executor(), c.device_dir());
    std::string start_error;
    std::vector<std::string> failures;
    int acknowledged = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            if (const auto ec = co_await dev.start()) {
                start_error = ec.message();
                co_return;
            }
            // Queued without waiting, so the broker gets them as fast as the link goes; the
            // last waits for its acknowledgement, and QoS 1 keeps them in order.
            for (int i = 0; i < writes - 1; ++i) {
                if (co_await dev.set("b" + std::to_string(i), static_cast<double>(i))) failures.push_back("set " + std::to_string(i));
            }
            const device::store_value last = static_cast<double>(writes - 1);
            if (!co_await dev.set("b" + std::to_string(writes - 1), last, client::wait::ack)) acknowledged = writes;
            // A read after them is handled after them: once it is answered, all are.
            const auto r = co_await dev.get<double>("b" + std::to_string(writes - 1), std::chrono::milliseconds(300'000));
            if (!r || *r.value != writes - 1) failures.push_back("the last: " + (r ? std::to_string(*r.value) : r.ec.message()));
            co_await dev.stop();
        },
        asio::detached);
    io.run();

    ASSERT_TRUE(start_error.empty()) << start_error;
    EXPECT_EQ(acknowledged, writes);
    EXPECT_TRUE(failures.empty()) << failures.front();
    EXPECT_EQ(count_items(c.dir() / "cloud.db", "b"), writes) << "every acknowledged write is in the database";
}

}  // namespace
}  // namespace tether::e2e
