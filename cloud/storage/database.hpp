#pragma once
// The cloud's database: one object per connection, the same functions on SQLite and
// PostgreSQL. Writes come in batches, each one transaction (group commit): a worker
// gathers what arrived, applies it, and acknowledges the messages to the broker only after
// apply() returned success. Safe for use from several threads (one mutex; they take
// turns); several processes share a database by each opening their own.
//
//   auto db = database::open("sqlite:/var/lib/tether/cloud.db");
//   if (!db) { std::cerr << db.err().message << "\n"; return 1; }
//   batch b;
//   b.store.push_back({"dev1", "cpu", 55, "number", now_ms});
//   if (auto r = db.value()->apply(b); !r) { /* do not acknowledge; log r.err() */ }
//   auto v = db.value()->read_store("dev1", "cpu", now_ms);  // result<optional<store_value>>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "storage/connection.hpp"
#include "storage/devices.hpp"
#include "storage/metric_points.hpp"
#include "storage/store.hpp"

namespace tether::cloud::storage {

// Everything one group commit writes. Applied in this order; within each kind, in the
// order given (a later write of a key in the same batch wins when its time is not older).
struct batch {
    std::vector<device_event> devices;
    std::vector<device_seen> seen;
    std::vector<store_write> store;
    std::vector<current_update> currents;
    std::vector<point_update> points;
    [[nodiscard]] bool empty() const noexcept {
        return devices.empty() && seen.empty() && store.empty() && currents.empty() && points.empty();
    }
};

class database {
public:
    // Connects (see connect()) and brings the schema up to date (migrate()). Errors: those
    // of connect(), a schema newer than this program's, the engine failing.
    [[nodiscard]] static result<std::unique_ptr<database>> open(std::string_view url);
    // The same over a connection already made.
    [[nodiscard]] static result<std::unique_ptr<database>> open(std::unique_ptr<connection> c);

    [[nodiscard]] engine kind() const noexcept { return connection_->kind(); }

    // On PostgreSQL, from now on: apply() announces each batch's live changes inside its
    // transaction (NOTIFY, change_feed.hpp), so that a Device Manager in another process
    // hears what was committed (`tether-cloud web`). Nothing on SQLite.
    void announce_changes(bool on) noexcept { announce_ = on; }

    // Writes the whole batch in one transaction, or nothing. Errors: the first item that
    // check_store_write or check_point_update refuses, or a device event with an empty or
    // too long id (the message names the item); the engine failing. After an error nothing
    // of the batch is stored: do not acknowledge its messages (the broker sends them again).
    [[nodiscard]] result<void> apply(const batch& b);

    // The value of `key` for `device_id` unless it expired (expires_ms <= now_ms): nullopt
    // when there is none. Errors: the engine failing, a stored value that is not JSON.
    [[nodiscard]] result<std::optional<store_value>> read_store(std::string_view device_id, std::string_view key,
                                                                std::int64_t now_ms) const;
    // Deletes the expired values; returns how many. Errors: the engine failing.
    [[nodiscard]] result<std::size_t> purge_expired_store(std::int64_t now_ms);

    // The stored points of one span of a series with from <= interval <= to, by interval.
    // Errors: a bad key, a span out of range, the engine failing.
    [[nodiscard]] result<std::vector<metrics::slot>> read_points(const metrics::series_key& key, std::size_t span,
                                                                 std::int64_t from_interval,
                                                                 std::int64_t to_interval) const;
    // The series as one metrics::series would hold it after every value the database has
    // merged: per span the newest slots() intervals, and the current value. nullopt for a
    // series never written. Errors: a bad key, the engine failing.
    [[nodiscard]] result<std::optional<metrics::series>> load_series(const metrics::series_key& key) const;
    // Deletes the points no series could still hold (older than the newest slots()
    // intervals of their series and span); returns how many. Errors: the engine failing.
    [[nodiscard]] result<std::size_t> prune_points();

    [[nodiscard]] result<std::optional<device_record>> find_device(std::string_view device_id) const;
    [[nodiscard]] result<std::vector<device_record>> devices() const;  // by id
    // Marks every device offline (a broker just started has no clients); a connection event
    // sets one online again. last_seen stays. Returns how many were online. Errors: the
    // engine failing.
    [[nodiscard]] result<std::size_t> mark_all_offline();

    // For the layers built on this one (sql_registry): `fn(connection&)` inside a write
    // transaction, committed when it returns, rolled back when it throws (the exception is
    // rethrown). Throws failure when the transaction cannot begin or commit.
    template <class F>
    decltype(auto) in_transaction(F&& fn) {
        std::lock_guard lock(mutex_);
        connection_->begin();
        try {
            if constexpr (std::is_void_v<decltype(fn(*connection_))>) {
                fn(*connection_);
                connection_->commit();
            } else {
                auto out = fn(*connection_);
                connection_->commit();
                return out;
            }
        } catch (...) {
            connection_->rollback();
            throw;
        }
    }
    // `fn(connection&)` alone on the connection, outside a transaction (one statement reads
    // a consistent state on both engines).
    template <class F>
    decltype(auto) with_connection(F&& fn) const {
        std::lock_guard lock(mutex_);
        return fn(*connection_);
    }

private:
    explicit database(std::unique_ptr<connection> c) : connection_(std::move(c)) {}

    mutable std::mutex mutex_;
    std::unique_ptr<connection> connection_;
    bool announce_ = false;
};

}  // namespace tether::cloud::storage
