#pragma once
// A handler over a database (SQLite in a temporary folder, or a PostgreSQL database of its
// own), with a CA of its own and the things a test registers. The suites run each test on
// both engines: `engine_test` is their parameterised base.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "counting_connection.hpp"
#include "ingest/handler.hpp"
#include "postgres.hpp"
#include "provisioning/certificate_authority.hpp"
#include "storage/sql_registry.hpp"

namespace tether::cloud::ingest::test {

// Makes `name` a provisioned thing, as RegisterThing would.
inline void register_device(provisioning::registry& r, const std::string& name) {
    using namespace provisioning;
    const auto now = std::chrono::system_clock::now();
    const std::string pending_id = "p-" + name, active_id = "a-" + name;
    r.add_pending({pending_id, "S" + pending_id, "pending-" + pending_id, "PEM", "fp-" + name,
                   certificate_status::pending, now, {}, ""},
                  {"tok-" + name, pending_id, "CSR", now + std::chrono::hours(1), false});
    const auto outcome = r.register_thing(
        "tok-" + name,
        {active_id, "S" + active_id, name, "PEM", "fp-" + name, certificate_status::active, now, {}, name}, now);
    if (outcome != register_outcome::registered) throw std::runtime_error("cannot register " + name);
}

struct handler_fixture {
    // `database`: its URL; empty means SQLite in the fixture's folder.
    // Another fixture's `url`: a second handler, on a connection of its own, over the same
    // database (as a second worker would be).
    explicit handler_fixture(const std::string& database = {}, std::shared_ptr<const metrics::schema> schema = nullptr) {
        char tmpl[] = "/tmp/tether-ingest-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir = tmpl;
        url = database.empty() ? "sqlite:" + (dir / "cloud.db").string() : database;
        auto connected = storage::connect(url);
        if (!connected) throw std::runtime_error(connected.err().message);
        auto counting = std::make_unique<counting_connection>(std::move(connected).value());
        statements = counting.get();
        auto opened = storage::database::open(std::move(counting));
        if (!opened) throw std::runtime_error(opened.err().message);
        db = std::move(opened).value();
        registry = std::make_unique<storage::sql_registry>(*db);
        provisioning = std::make_unique<provisioning::provisioning_service>(ca, *registry,
                                                                            provisioning::provisioning_settings{});
        h = std::make_unique<handler>(*db, *registry, *provisioning, std::move(schema),
                                      [this](std::string_view line) { log.emplace_back(line); });
    }
    ~handler_fixture() {
        h.reset();
        provisioning.reset();
        registry.reset();
        db.reset();
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    handler_fixture(const handler_fixture&) = delete;
    handler_fixture& operator=(const handler_fixture&) = delete;

    std::filesystem::path dir;
    std::string url;  // the database's
    provisioning::certificate_authority ca =
        provisioning::certificate_authority::create("test CA", std::chrono::system_clock::now());
    std::unique_ptr<storage::database> db;
    counting_connection* statements = nullptr;  // db's connection: use under db->with_connection
    std::unique_ptr<storage::sql_registry> registry;
    std::unique_ptr<provisioning::provisioning_service> provisioning;
    std::vector<std::string> log;
    std::unique_ptr<handler> h;
};

// Each test once on SQLite and once on PostgreSQL (a server this program starts the first
// time a PostgreSQL test needs it, a database of its own per test).
class engine_test : public ::testing::TestWithParam<storage::engine> {
protected:
    static tether::test::postgres_server& server() {
        static tether::test::postgres_server s;
        return s;
    }
    // The database URL for this test: empty (the fixture's SQLite file) or a new PostgreSQL
    // database.
    std::string database_url() {
        if (GetParam() == storage::engine::sqlite) return {};
        static int databases = 0;
        return server().create_database("ingest_" + std::to_string(++databases));
    }
};

inline std::string engine_name(const ::testing::TestParamInfo<storage::engine>& info) {
    return info.param == storage::engine::sqlite ? "sqlite" : "postgresql";
}

}  // namespace tether::cloud::ingest::test
