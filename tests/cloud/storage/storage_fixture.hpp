#pragma once
// The storage suite's fixture: every TEST_P runs once on SQLite (a file in a temporary
// folder) and once on PostgreSQL (a database of its own on a server this program starts
// the first time a PostgreSQL test needs it and stops at exit).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <memory>
#include <string>

#include "postgres.hpp"
#include "provisioning/registry.hpp"
#include "storage/database.hpp"

namespace tether::cloud::storage::test {

class storage_test : public ::testing::TestWithParam<engine> {
protected:
    static tether::test::postgres_server& server() {
        static tether::test::postgres_server s;
        return s;
    }

    void SetUp() override {
        if (GetParam() == engine::sqlite) {
            char tmpl[] = "/tmp/tether-storage-XXXXXX";
            ASSERT_NE(::mkdtemp(tmpl), nullptr);
            dir_ = tmpl;
            url_ = "sqlite:" + (dir_ / "cloud.db").string();
        } else {
            static int databases = 0;
            url_ = server().create_database("test_" + std::to_string(++databases));
        }
    }

    void TearDown() override {
        std::error_code ignored;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
    }

    // A new connection to the test's database; fails the test when it cannot open.
    std::unique_ptr<database> open() {
        auto db = database::open(url_);
        if (!db) {
            ADD_FAILURE() << db.err().message;
            return nullptr;
        }
        return std::move(db).value();
    }

    [[nodiscard]] const std::string& url() const { return url_; }

private:
    std::filesystem::path dir_;
    std::string url_;
};

// Field by field: the records have no operator==.
inline void expect_same(const provisioning::certificate_record& a, const provisioning::certificate_record& b) {
    EXPECT_EQ(a.certificate_id, b.certificate_id);
    EXPECT_EQ(a.serial, b.serial);
    EXPECT_EQ(a.common_name, b.common_name);
    EXPECT_EQ(a.pem, b.pem);
    EXPECT_EQ(a.public_key_fingerprint, b.public_key_fingerprint);
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.issued_at, b.issued_at);
    EXPECT_EQ(a.revoked_at, b.revoked_at);
    EXPECT_EQ(a.thing_name, b.thing_name);
}

inline std::string engine_name(const ::testing::TestParamInfo<engine>& info) {
    return info.param == engine::sqlite ? "sqlite" : "postgresql";
}

}  // namespace tether::cloud::storage::test
