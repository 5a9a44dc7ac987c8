#pragma once
// One connection to one database engine: the only place that knows SQLite from
// PostgreSQL. Statements are written once, in the SQL both engines accept, with parameters
// $1, $2, ... that are always bound, never pasted into the text. What the engines spell
// differently is asked of the connection (least(), greatest()).
//
// Not safe for use from two threads at once: database serializes its users.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/result.hpp"
#include "storage/value.hpp"

namespace tether::cloud::storage {

enum class engine { sqlite, postgresql };

// One statement and its parameters, for execute_all.
struct statement {
    std::string sql;
    std::vector<sql_value> params;
};

class connection {
public:
    virtual ~connection() = default;

    [[nodiscard]] virtual engine kind() const noexcept = 0;

    // Runs one statement with `params` bound to $1, $2, ...; returns its rows (none for a
    // statement that returns none). Throws failure with the engine's message when the
    // statement fails, or when the connection is lost inside a transaction (outside one,
    // a lost PostgreSQL connection is opened again first).
    virtual rows execute(std::string_view sql, const std::vector<sql_value>& params = {}) = 0;

    // Runs `statements` in order, their rows dropped, as execute() one after another would;
    // PostgreSQL sends them all before reading any answer (libpq's pipeline mode), so a
    // batch costs one round trip instead of one per row. Throws failure with the first
    // failing statement's message; none after it runs. Inside a transaction the caller
    // then rolls back, as after execute().
    virtual void execute_all(const std::vector<statement>& statements) {
        for (const statement& s : statements) (void)execute(s.sql, s.params);
    }

    // A transaction that will write. SQLite takes its write lock at once (BEGIN IMMEDIATE),
    // so that two writers wait for each other instead of failing when one upgrades a read.
    // Throws failure. commit() throws failure when the engine did not commit (it then
    // rolled back); rollback() never throws.
    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;

    // The two-argument minimum and maximum: MIN/MAX in SQLite, LEAST/GREATEST in PostgreSQL.
    [[nodiscard]] virtual std::string_view least() const noexcept = 0;
    [[nodiscard]] virtual std::string_view greatest() const noexcept = 0;
};

// Opens `url`: "sqlite:PATH" (the file is created if missing; journal in WAL mode) or a
// libpq connection URI "postgresql://..." / "postgres://...". Errors: an empty path, an
// unknown scheme (the message names only the scheme, never a password), the engine refusing
// to open or connect (its message).
[[nodiscard]] result<std::unique_ptr<connection>> connect(std::string_view url);

}  // namespace tether::cloud::storage
