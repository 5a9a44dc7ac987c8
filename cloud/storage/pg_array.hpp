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
// as itself. Text holding a NUL byte cannot be a PostgreSQL value at all; the caller's
// checks refuse it first (the statement would fail whole).
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
