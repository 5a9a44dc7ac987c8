#pragma once
// PostgreSQL behind connection (libpq): parameters travel as text beside the statement,
// never inside it; results come back as text and row converts them. Reads and writes
// (SELECT, INSERT, UPDATE, DELETE, WITH) are prepared once per connection and then only
// executed (PQexecPrepared), which spares the server a parse and plan per row: the
// ingest runs the same few statements for every write.
// Notices ("relation already exists, skipping") are dropped rather than printed.

#include <string>
#include <unordered_map>

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
    // In pipeline mode, in chunks of at most pipeline_chunk statements (one sync each).
    void execute_all(const std::vector<statement>& statements) override;
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
    // The name of each prepared statement, by its text ("s0", "s1", ...). Forgotten when
    // the connection is opened again (the server forgets them too). Bounded: the storage
    // layer has a few dozen fixed texts; past the bound statements run unprepared.
    std::unordered_map<std::string, std::string> prepared_;
    // The prepared name for `sql`, preparing it first; empty when it is not to be prepared.
    // Throws failure when the server refuses to prepare it.
    std::string prepared_name(const std::string& sql, int params);
    // Opens the connection again when it was lost outside a transaction. Throws failure.
    void ensure_connected();
    // Pins what this layer relies on (client_encoding, array_nulls) on a new session.
    // Throws failure.
    void configure_session();
    // Sends one chunk and reads its answers. Throws failure.
    void pipeline(const statement* first, std::size_t count);
};

}  // namespace tether::cloud::storage
