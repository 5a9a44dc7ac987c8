#include "storage/schema.hpp"

#include <array>
#include <string_view>
#include <vector>

namespace tether::cloud::storage {

namespace {

// steps[i] takes a database from version i to version i + 1.
const std::array<std::vector<std::string_view>, schema_version> steps{{
    {
        // Provisioning (provisioning/registry.hpp).
        "CREATE TABLE certificates (certificate_id TEXT PRIMARY KEY, serial TEXT NOT NULL UNIQUE, "
        "common_name TEXT NOT NULL, pem TEXT NOT NULL, public_key_fingerprint TEXT NOT NULL, status TEXT NOT NULL, "
        "issued_at BIGINT NOT NULL, revoked_at BIGINT, thing_name TEXT NOT NULL)",
        "CREATE INDEX certificates_by_thing ON certificates (thing_name)",
        "CREATE INDEX certificates_by_status ON certificates (status)",
        "CREATE TABLE tokens (token TEXT PRIMARY KEY, certificate_id TEXT NOT NULL, csr_pem TEXT NOT NULL, "
        "expires_at BIGINT NOT NULL, used INTEGER NOT NULL)",
        "CREATE TABLE things (name TEXT PRIMARY KEY, certificate_id TEXT NOT NULL, provisioned_at BIGINT NOT NULL, "
        "revoked INTEGER NOT NULL)",
        // The Store (PROTOCOL.md §1): one row per device and key.
        "CREATE TABLE store_items (device_id TEXT NOT NULL, item_key TEXT NOT NULL, item_value TEXT NOT NULL, "
        "item_type TEXT NOT NULL, updated BIGINT NOT NULL, expires BIGINT, PRIMARY KEY (device_id, item_key))",
        "CREATE INDEX store_items_by_expiry ON store_items (expires)",
        // Metrics (metrics/series.hpp): a series' current value, and its points per span
        // and interval, which writers merge into rather than overwrite.
        "CREATE TABLE metric_series (series_key TEXT PRIMARY KEY, namespace_name TEXT NOT NULL, metric TEXT NOT NULL, "
        "has_current INTEGER NOT NULL, current_value DOUBLE PRECISION NOT NULL, current_ms BIGINT NOT NULL)",
        "CREATE TABLE metric_points (series_key TEXT NOT NULL, span INTEGER NOT NULL, interval_index BIGINT NOT NULL, "
        "point_count BIGINT NOT NULL, point_sum DOUBLE PRECISION NOT NULL, point_min DOUBLE PRECISION NOT NULL, "
        "point_max DOUBLE PRECISION NOT NULL, PRIMARY KEY (series_key, span, interval_index))",
        // Devices as the broker sees them.
        "CREATE TABLE devices (device_id TEXT PRIMARY KEY, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, "
        "online INTEGER NOT NULL)",
    },
    {
        // Version 2: a 5 s span (1 minute) before the others (metrics/series.hpp), so the
        // stored spans move up by one. Through negatives, so that no row meets another's
        // key on the way (PostgreSQL checks the key row by row).
        "UPDATE metric_points SET span = -span - 1",
        "UPDATE metric_points SET span = -span",
    },
}};

}  // namespace

int stored_schema_version(connection& c) {
    // The table may not exist yet: ask the catalogue rather than fail on it.
    const rows exists = c.kind() == engine::sqlite
                            ? c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
                            : c.execute("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
                                        "AND tablename = 'schema_version'");
    if (exists.empty()) return 0;
    const rows version = c.execute("SELECT version FROM schema_version");
    if (version.size() != 1) {
        throw failure("schema_version holds " + std::to_string(version.size()) + " rows instead of one");
    }
    return static_cast<int>(version[0].integer(0));
}

void migrate(connection& c) {
    c.begin();
    try {
        // Two workers starting at once on one PostgreSQL: the second waits here, then finds
        // the tables made. (SQLite's BEGIN IMMEDIATE already lets one writer in.)
        if (c.kind() == engine::postgresql) (void)c.execute("SELECT pg_advisory_xact_lock(7468746865720001)");
        const int version = stored_schema_version(c);
        if (version > schema_version) {
            throw failure("the database's schema is version " + std::to_string(version) +
                          ", newer than this program's " + std::to_string(schema_version) +
                          ": run a newer tether-cloud against it");
        }
        if (version < 0) throw failure("schema_version holds " + std::to_string(version));
        if (version == 0) (void)c.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)");
        for (int v = version; v < schema_version; ++v) {
            for (const std::string_view statement : steps[static_cast<std::size_t>(v)]) (void)c.execute(statement);
        }
        if (version == 0) {
            (void)c.execute("INSERT INTO schema_version (version) VALUES ($1)", {std::int64_t{schema_version}});
        } else if (version < schema_version) {
            (void)c.execute("UPDATE schema_version SET version = $1", {std::int64_t{schema_version}});
        }
        c.commit();
    } catch (...) {
        c.rollback();
        throw;
    }
}

}  // namespace tether::cloud::storage
