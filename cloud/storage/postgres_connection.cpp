#include "storage/postgres_connection.hpp"
#include "storage/postgres_text.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <charconv>
#include <cstring>
#include <algorithm>
#include <memory>

namespace tether::cloud::storage {

namespace {

using detail::ignore_notice;
using detail::trimmed;

// Doubles as the shortest text that reads back as the same double.
std::string double_text(double d) {
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    return ec == std::errc{} ? std::string(buf, end) : std::string("NaN");
}

struct result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};

constexpr std::size_t max_prepared = 256;
// Statements sent before one sync (execute_all): the answers of a chunk (about 20 bytes
// each) stay far below what the socket holds, so neither side waits on the other.
constexpr std::size_t pipeline_chunk = 1'000;

// Parameters as the text libpq sends (NULL as a null pointer); `values` points into `texts`.
struct parameter_texts {
    explicit parameter_texts(const std::vector<sql_value>& params) : texts(params.size()), values(params.size(), nullptr) {
        for (std::size_t i = 0; i < params.size(); ++i) {
            const sql_value& v = params[i];
            if (const auto* n = std::get_if<std::int64_t>(&v)) {
                texts[i] = std::to_string(*n);
            } else if (const auto* d = std::get_if<double>(&v)) {
                texts[i] = double_text(*d);
            } else if (const auto* s = std::get_if<std::string>(&v)) {
                texts[i] = *s;
            } else {
                continue;  // NULL
            }
            values[i] = texts[i].c_str();
        }
    }
    parameter_texts(const parameter_texts&) = delete;
    parameter_texts& operator=(const parameter_texts&) = delete;
    std::vector<std::string> texts;
    std::vector<const char*> values;
};

// Statements worth preparing: those run again and again. Others (BEGIN, DDL of the schema
// migration, advisory locks) run once or are not plannable.
bool worth_preparing(std::string_view sql) {
    std::size_t i = 0;
    while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
    std::string word;
    while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])) && word.size() < 8) {
        word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i++])));
    }
    return word == "SELECT" || word == "INSERT" || word == "UPDATE" || word == "DELETE" || word == "WITH";
}

}  // namespace

std::string postgres_connection::prepared_name(const std::string& sql, int params) {
    if (const auto it = prepared_.find(sql); it != prepared_.end()) return it->second;
    if (prepared_.size() >= max_prepared || !worth_preparing(sql)) return {};
    std::string name = "s" + std::to_string(prepared_.size());
    std::unique_ptr<PGresult, result_deleter> res(PQprepare(conn_, name.c_str(), sql.c_str(), params, nullptr));
    if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
        const char* message = res ? PQresultErrorMessage(res.get()) : PQerrorMessage(conn_);
        throw failure("postgresql: " + trimmed(message));
    }
    prepared_.emplace(sql, name);
    return name;
}

postgres_connection::postgres_connection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (conn_ == nullptr) throw failure("postgresql: out of memory");
    if (PQstatus(conn_) != CONNECTION_OK) {
        const std::string message = trimmed(PQerrorMessage(conn_));
        PQfinish(conn_);
        throw failure("postgresql: cannot connect: " + message);
    }
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
    try {
        configure_session();
    } catch (...) {
        PQfinish(conn_);
        throw;
    }
}

void postgres_connection::configure_session() {
    // What array literals (pg_array.hpp) rely on, whatever the server's or the role's defaults.
    if (PQsetClientEncoding(conn_, "UTF8") != 0) {
        throw failure("postgresql: cannot set client_encoding to UTF8: " + trimmed(PQerrorMessage(conn_)));
    }
    const std::unique_ptr<PGresult, result_deleter> set(PQexec(conn_, "SET array_nulls = on"));
    if (PQresultStatus(set.get()) != PGRES_COMMAND_OK) {
        throw failure("postgresql: cannot set array_nulls: " + trimmed(PQerrorMessage(conn_)));
    }
}

postgres_connection::~postgres_connection() { PQfinish(conn_); }

void postgres_connection::ensure_connected() {
    if (PQstatus(conn_) == CONNECTION_OK) return;
    if (in_transaction_) throw failure("postgresql: connection lost inside a transaction");
    PQreset(conn_);
    prepared_.clear();  // a new session: the server holds none of them
    if (PQstatus(conn_) != CONNECTION_OK) {
        throw failure("postgresql: connection lost: " + trimmed(PQerrorMessage(conn_)));
    }
    configure_session();  // a new session: its settings are gone too
}

void postgres_connection::execute_all(const std::vector<statement>& statements) {
    for (std::size_t at = 0; at < statements.size(); at += pipeline_chunk) {
        pipeline(statements.data() + at, std::min(pipeline_chunk, statements.size() - at));
    }
}

void postgres_connection::pipeline(const statement* first, std::size_t count) {
    ensure_connected();
    // Prepared beforehand, outside the pipeline (once per text and connection).
    std::vector<std::string> names(count);
    for (std::size_t i = 0; i < count; ++i) {
        names[i] = prepared_name(first[i].sql, static_cast<int>(first[i].params.size()));
    }
    if (PQenterPipelineMode(conn_) != 1) throw failure("postgresql: cannot enter pipeline mode: " + trimmed(PQerrorMessage(conn_)));
    std::string problem;
    std::size_t sent = 0;
    for (; sent < count; ++sent) {
        const statement& s = first[sent];
        const parameter_texts p(s.params);
        const int n = static_cast<int>(s.params.size());
        // libpq copies the parameters into its output buffer here.
        const int ok = names[sent].empty()
                           ? PQsendQueryParams(conn_, s.sql.c_str(), n, nullptr, p.values.data(), nullptr, nullptr, 0)
                           : PQsendQueryPrepared(conn_, names[sent].c_str(), n, p.values.data(), nullptr, nullptr, 0);
        if (ok != 1) {
            problem = "postgresql: " + trimmed(PQerrorMessage(conn_));
            break;
        }
    }
    if (PQpipelineSync(conn_) != 1 && problem.empty()) problem = "postgresql: " + trimmed(PQerrorMessage(conn_));
    // Every answer is read, up to the sync, before the connection leaves pipeline mode.
    // Each statement's results end with a null; after a failure the rest come back
    // PGRES_PIPELINE_ABORTED. A lost connection ends the reading.
    bool synced = false;
    for (std::size_t nulls = 0; !synced && PQstatus(conn_) == CONNECTION_OK;) {
        std::unique_ptr<PGresult, result_deleter> res(PQgetResult(conn_));
        if (!res) {
            // Between two statements' results; past the last one sent, nothing more but the sync.
            if (++nulls > sent + 1) break;
            continue;
        }
        const ExecStatusType status = PQresultStatus(res.get());
        if (status == PGRES_PIPELINE_SYNC) {
            synced = true;
        } else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_PIPELINE_ABORTED &&
                   problem.empty()) {
            problem = "postgresql: " + trimmed(PQresultErrorMessage(res.get()));
        }
    }
    if (!synced && problem.empty()) problem = "postgresql: connection lost: " + trimmed(PQerrorMessage(conn_));
    (void)PQexitPipelineMode(conn_);
    if (!problem.empty()) throw failure(problem);
}

rows postgres_connection::execute(std::string_view sql, const std::vector<sql_value>& params) {
    ensure_connected();
    const parameter_texts p(params);
    const auto& values = p.values;
    const std::string text(sql);
    const int count = static_cast<int>(params.size());
    const std::string name = prepared_name(text, count);
    std::unique_ptr<PGresult, result_deleter> res(
        name.empty() ? PQexecParams(conn_, text.c_str(), count, nullptr, values.data(), nullptr, nullptr, 0)
                     : PQexecPrepared(conn_, name.c_str(), count, values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        const char* message = res ? PQresultErrorMessage(res.get()) : PQerrorMessage(conn_);
        throw failure("postgresql: " + trimmed(message));
    }
    rows out;
    const int n = PQntuples(res.get());
    const int columns = PQnfields(res.get());
    out.reserve(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) {
        std::vector<sql_value> cells;
        cells.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) {
            if (PQgetisnull(res.get(), r, c)) {
                cells.emplace_back(std::monostate{});
            } else {
                cells.emplace_back(std::string(PQgetvalue(res.get(), r, c), static_cast<std::size_t>(PQgetlength(res.get(), r, c))));
            }
        }
        out.emplace_back(std::move(cells));
    }
    return out;
}

void postgres_connection::begin() {
    (void)execute("BEGIN", {});
    in_transaction_ = true;
}

void postgres_connection::commit() {
    // COMMIT of a transaction that failed earlier "succeeds" with the tag ROLLBACK.
    std::unique_ptr<PGresult, result_deleter> res(PQexec(conn_, "COMMIT"));
    in_transaction_ = false;
    const bool committed = res && PQresultStatus(res.get()) == PGRES_COMMAND_OK && std::strcmp(PQcmdStatus(res.get()), "COMMIT") == 0;
    if (!committed) {
        const std::string message = res ? trimmed(PQresultErrorMessage(res.get())) : trimmed(PQerrorMessage(conn_));
        throw failure("postgresql: commit failed" + (message.empty() ? std::string(" (rolled back)") : ": " + message));
    }
}

void postgres_connection::rollback() noexcept {
    in_transaction_ = false;
    if (PQstatus(conn_) != CONNECTION_OK) return;
    PQclear(PQexec(conn_, "ROLLBACK"));
}

}  // namespace tether::cloud::storage
