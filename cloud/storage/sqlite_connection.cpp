#include "storage/sqlite_connection.hpp"

#include <sqlite3.h>

#include <cctype>

namespace tether::cloud::storage {

namespace {

// Long enough for any other worker's transaction to finish; a transaction here is one
// batch, milliseconds long.
constexpr int busy_timeout_ms = 30'000;

}  // namespace

sqlite_connection::sqlite_connection(const std::string& path) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
        const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw failure("sqlite: cannot open '" + path + "': " + message);
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    try {
        const rows mode = execute("PRAGMA journal_mode=WAL", {});
        if (mode.empty() || mode[0].text(0) != "wal") throw failure("sqlite: '" + path + "' refuses WAL mode");
        (void)execute("PRAGMA synchronous=FULL", {});
    } catch (...) {
        finalize_all();
        sqlite3_close(db_);
        throw;
    }
}

sqlite_connection::~sqlite_connection() {
    finalize_all();
    sqlite3_close(db_);
}

void sqlite_connection::finalize_all() noexcept {
    for (auto& [sql, p] : statements_) sqlite3_finalize(p.statement);
    statements_.clear();
}

void sqlite_connection::fail(std::string_view what) const {
    throw failure("sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

const sqlite_connection::prepared& sqlite_connection::prepare(std::string_view sql) {
    if (const auto it = statements_.find(sql); it != statements_.end()) return it->second;
    sqlite3_stmt* statement = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &statement, &tail) != SQLITE_OK) {
        fail("cannot prepare '" + std::string(sql) + "'");
    }
    // One statement per call: a second one would silently never run.
    for (const char* p = tail; p != nullptr && p < sql.data() + sql.size(); ++p) {
        if (std::isspace(static_cast<unsigned char>(*p)) == 0 && *p != ';') {
            sqlite3_finalize(statement);
            throw failure("sqlite: more than one statement in '" + std::string(sql) + "'");
        }
    }
    if (statement == nullptr) throw failure("sqlite: no statement in '" + std::string(sql) + "'");
    prepared p{statement, {}};
    // Names other than $<number> (none in our statements) stay unbound, as before.
    const int count = sqlite3_bind_parameter_count(statement);
    for (int index = 1; index <= count; ++index) {
        const char* name = sqlite3_bind_parameter_name(statement, index);
        if (name == nullptr || name[0] != '$' || name[1] == '0') continue;
        // SQLite numbers named parameters 1, 2, ... as they first appear, whatever their
        // names: a text that uses only $2 has it at index 1.
        constexpr std::size_t most = 32'766;  // SQLite's own limit on parameters
        std::size_t n = 0;
        const char* digit = name + 1;
        for (; *digit >= '0' && *digit <= '9' && n <= most; ++digit) n = n * 10 + static_cast<std::size_t>(*digit - '0');
        if (*digit != '\0' || n == 0 || n > most) continue;
        if (p.index_of.size() < n) p.index_of.resize(n, 0);
        p.index_of[n - 1] = index;
    }
    return statements_.emplace(std::string(sql), std::move(p)).first->second;
}

rows sqlite_connection::execute(std::string_view sql, const std::vector<sql_value>& params) {
    const prepared& p = prepare(sql);
    sqlite3_stmt* statement = p.statement;
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    // Parameters are named $1, $2, ... as PostgreSQL numbers them; a number the text does
    // not use is skipped, one it uses and is not given stays NULL.
    for (std::size_t i = 0; i < params.size(); ++i) {
        const int index = i < p.index_of.size() ? p.index_of[i] : 0;
        if (index == 0) continue;
        int rc = SQLITE_OK;
        const sql_value& v = params[i];
        if (const auto* n = std::get_if<std::int64_t>(&v)) {
            rc = sqlite3_bind_int64(statement, index, *n);
        } else if (const auto* d = std::get_if<double>(&v)) {
            rc = sqlite3_bind_double(statement, index, *d);
        } else if (const auto* s = std::get_if<std::string>(&v)) {
            rc = sqlite3_bind_text64(statement, index, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        } else {
            rc = sqlite3_bind_null(statement, index);
        }
        if (rc != SQLITE_OK) fail("cannot bind $" + std::to_string(i + 1));
    }
    rows out;
    for (;;) {
        const int rc = sqlite3_step(statement);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) {
            const std::string message = sqlite3_errmsg(db_);
            sqlite3_reset(statement);
            throw failure("sqlite: " + message);
        }
        const int columns = sqlite3_column_count(statement);
        std::vector<sql_value> cells;
        cells.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) {
            switch (sqlite3_column_type(statement, c)) {
            case SQLITE_INTEGER: cells.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(statement, c))); break;
            case SQLITE_FLOAT: cells.emplace_back(sqlite3_column_double(statement, c)); break;
            case SQLITE_NULL: cells.emplace_back(std::monostate{}); break;
            default: {
                const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, c));
                const int size = sqlite3_column_bytes(statement, c);
                cells.emplace_back(std::string(text ? text : "", static_cast<std::size_t>(size)));
            }
            }
        }
        out.emplace_back(std::move(cells));
    }
    sqlite3_reset(statement);  // ends the statement's read, so that it holds no lock
    return out;
}

void sqlite_connection::begin() { (void)execute("BEGIN IMMEDIATE", {}); }

void sqlite_connection::commit() {
    try {
        (void)execute("COMMIT", {});
    } catch (...) {
        rollback();
        throw;
    }
}

void sqlite_connection::rollback() noexcept {
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace tether::cloud::storage
