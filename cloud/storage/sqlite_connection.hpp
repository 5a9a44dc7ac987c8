#pragma once
// SQLite behind connection: a file in WAL mode (readers never wait for the writer), full
// synchronous commits (a commit survives a power cut: the broker is acknowledged after
// it), a busy timeout for when another connection holds the write lock, and prepared
// statements kept per SQL text.

#include <map>
#include <string>
#include <vector>

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
    // A statement prepared once, and where its $1, $2, ... are: SQLite numbers the
    // parameters in the order the text names them first. Worked out once per statement,
    // not looked up by name for every row.
    struct prepared {
        sqlite3_stmt* statement = nullptr;
        std::vector<int> index_of;  // [n - 1]: the index of $n, 0 when the text has none
    };
    const prepared& prepare(std::string_view sql);
    [[noreturn]] void fail(std::string_view what) const;
    void finalize_all() noexcept;

    sqlite3* db_ = nullptr;
    std::map<std::string, prepared, std::less<>> statements_;
};

}  // namespace tether::cloud::storage
