#pragma once
// PostgreSQL behind connection (libpq): parameters travel as text beside the statement
// (PQexecParams), never inside it; results come back as text and row converts them.
// Notices ("relation already exists, skipping") are dropped rather than printed.

#include <string>

#include "storage/connection.hpp"

struct pg_conn;

namespace tether::cloud::storage {

class postgres_connection final : public connection {
public:
    // Throws failure with libpq's message when it cannot connect.
    explicit postgres_connection(const std::string& conninfo);
    ~postgres_connection() override;
    postgres_connection(const postgres_connection&) = delete;
    postgres_connection& operator=(const postgres_connection&) = delete;

    [[nodiscard]] engine kind() const noexcept override { return engine::postgresql; }
    rows execute(std::string_view sql, const std::vector<sql_value>& params) override;
    void begin() override;
    void commit() override;
    void rollback() noexcept override;
    [[nodiscard]] std::string_view least() const noexcept override { return "LEAST"; }
    [[nodiscard]] std::string_view greatest() const noexcept override { return "GREATEST"; }

private:
    pg_conn* conn_ = nullptr;
    // A connection lost inside a transaction must not be opened again silently: what
    // follows would run outside the transaction and COMMIT would only warn.
    bool in_transaction_ = false;
};

}  // namespace tether::cloud::storage
