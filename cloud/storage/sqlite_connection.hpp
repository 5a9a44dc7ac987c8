#pragma once
// SQLite behind connection: a file in WAL mode (readers never wait for the writer), full
// synchronous commits (a commit survives a power cut: the broker is acknowledged after
// it), a busy timeout for when another connection holds the write lock, and prepared
// statements kept per SQL text.

#include <map>
#include <string>

#include "storage/connection.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace tether::cloud::storage {

class sqlite_connection final : public connection {
public:
    // Throws failure when the file cannot be opened or set up.
    explicit sqlite_connection(const std::string& path);
    ~sqlite_connection() override;
    sqlite_connection(const sqlite_connection&) = delete;
    sqlite_connection& operator=(const sqlite_connection&) = delete;

    [[nodiscard]] engine kind() const noexcept override { return engine::sqlite; }
    rows execute(std::string_view sql, const std::vector<sql_value>& params) override;
    void begin() override;
    void commit() override;
    void rollback() noexcept override;
    [[nodiscard]] std::string_view least() const noexcept override { return "MIN"; }
    [[nodiscard]] std::string_view greatest() const noexcept override { return "MAX"; }

private:
    sqlite3_stmt* prepare(std::string_view sql);
    [[noreturn]] void fail(std::string_view what) const;

    sqlite3* db_ = nullptr;
    std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
};

}  // namespace tether::cloud::storage
