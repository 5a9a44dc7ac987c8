#pragma once
// A SQLite database in a temporary folder with things registered as RegisterThing would
// (each with a real certificate from a CA of the test's own, so that expiry is readable).

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "provisioning/certificate_authority.hpp"
#include "provisioning/keys.hpp"
#include "storage/database.hpp"
#include "storage/sql_registry.hpp"

namespace tether::cloud::web::test {

struct web_fixture {
    web_fixture() {
        char tmpl[] = "/tmp/tether-web-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir = tmpl;
        auto opened = storage::database::open("sqlite:" + (dir / "cloud.db").string());
        if (!opened) throw std::runtime_error(opened.err().message);
        db = std::move(opened).value();
        registry = std::make_unique<storage::sql_registry>(*db);
    }
    ~web_fixture() {
        registry.reset();
        db.reset();
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    web_fixture(const web_fixture&) = delete;
    web_fixture& operator=(const web_fixture&) = delete;

    // Registers `name`; returns its certificate's PEM.
    std::string register_device(const std::string& name) {
        using namespace provisioning;
        const auto now = std::chrono::system_clock::now();
        auto key = generate_p256_key();
        const auto issued = ca.issue(*key, {.kind = certificate_kind::client, .common_name = name}, now);
        const std::string pending_id = "p-" + name, active_id = "a-" + name;
        registry->add_pending({pending_id, "S" + pending_id, "pending-" + pending_id, "PEM", "fp-" + name,
                               certificate_status::pending, now, {}, ""},
                              {"tok-" + name, pending_id, "CSR", now + std::chrono::hours(1), false});
        const auto outcome = registry->register_thing(
            "tok-" + name,
            {active_id, issued.serial, name, issued.pem, "fp-" + name, certificate_status::active, now, {}, name}, now);
        if (outcome != register_outcome::registered) throw std::runtime_error("cannot register " + name);
        return issued.pem;
    }

    std::filesystem::path dir;
    provisioning::certificate_authority ca =
        provisioning::certificate_authority::create("web test CA", std::chrono::system_clock::now());
    std::unique_ptr<storage::database> db;
    std::unique_ptr<storage::sql_registry> registry;
};

inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace tether::cloud::web::test
