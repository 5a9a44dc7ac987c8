#pragma once
// PostgreSQL array literals, for statements that write many rows in one go:
//
//     INSERT INTO t (a, b) SELECT * FROM unnest($1::text[], $2::bigint[]) ...
//
// with $1 = text_array({"x", "y"}) and $2 = bigint_array({1, 2}). One statement for a
// whole batch costs PostgreSQL far less than one per row (parse, plan and execute once),
// and keeps a single statement text whatever the batch's size (one prepared statement).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::cloud::storage::detail {

// Builds an array literal element by element: `{"a","b\"c",NULL}`. Every text element is
// quoted, with '\' and '"' escaped, so any text (commas, braces, spaces, "NULL") is taken
// as itself, given the connection's client_encoding is UTF8 (postgres_connection pins it:
// in an encoding such as SJIS a byte before the escaping backslash could swallow it) and
// array_nulls is on (pinned too: else NULL would be read as text). Text holding a NUL byte
// cannot be a PostgreSQL value at all, and libpq would cut the literal there: the callers'
// checks refuse it first (the statement would fail whole, and the batch with it, each time
// it is delivered again). Rows come out of unnest WITH ORDINALITY ... ORDER BY in the
// arrays' order, which is the order that keeps the writers' row locks in one order.
class pg_array {
public:
    void add(std::string_view text);
    void add(std::int64_t number);
    void add_null();
    [[nodiscard]] std::string take();

private:
    void separate();
    std::string literal_ = "{";
};

}  // namespace tether::cloud::storage::detail
