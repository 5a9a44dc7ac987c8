#pragma once
// What travels between storage and an engine: bound parameters and the cells of result
// rows. SQLite hands back typed cells; libpq hands back text, which the accessors convert,
// so code above the connection never asks which engine it talks to.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace tether::cloud::storage {

// Thrown by connections (and what sql_registry lets through, as provisioning::registry
// asks): the engine's message with what was being done.
class failure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// NULL, an integer, a double or text. Booleans travel as 0 and 1.
using sql_value = std::variant<std::monostate, std::int64_t, double, std::string>;

[[nodiscard]] inline sql_value sql_null() { return std::monostate{}; }

// One result row. Each accessor throws `failure` naming the column when the cell is NULL
// (except is_null and the optional_ ones) or cannot be read as the asked type.
class row {
public:
    explicit row(std::vector<sql_value> cells) : cells_(std::move(cells)) {}

    [[nodiscard]] std::size_t size() const noexcept { return cells_.size(); }
    [[nodiscard]] bool is_null(std::size_t column) const;
    [[nodiscard]] std::int64_t integer(std::size_t column) const;
    [[nodiscard]] double real(std::size_t column) const;
    [[nodiscard]] std::string text(std::size_t column) const;
    [[nodiscard]] std::optional<std::int64_t> optional_integer(std::size_t column) const;

private:
    const sql_value& at(std::size_t column) const;
    std::vector<sql_value> cells_;
};

using rows = std::vector<row>;

}  // namespace tether::cloud::storage
