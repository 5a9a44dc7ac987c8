#include "storage/value.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace tether::cloud::storage {

const sql_value& row::at(std::size_t column) const {
    if (column >= cells_.size()) {
        throw failure("result column " + std::to_string(column) + " out of range (" + std::to_string(cells_.size()) +
                      " columns)");
    }
    return cells_[column];
}

bool row::is_null(std::size_t column) const { return std::holds_alternative<std::monostate>(at(column)); }

std::int64_t row::integer(std::size_t column) const {
    const sql_value& v = at(column);
    if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
    if (const auto* s = std::get_if<std::string>(&v)) {
        std::int64_t out = 0;
        const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
        if (ec == std::errc{} && end == s->data() + s->size()) return out;
    }
    throw failure("result column " + std::to_string(column) + " is not an integer");
}

double row::real(std::size_t column) const {
    const sql_value& v = at(column);
    if (const auto* d = std::get_if<double>(&v)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    if (const auto* s = std::get_if<std::string>(&v)) {
        // strtod rather than from_chars: PostgreSQL writes "Infinity" and "NaN" too.
        if (!s->empty()) {
            char* end = nullptr;
            errno = 0;
            const double d = std::strtod(s->c_str(), &end);
            if (end == s->c_str() + s->size() && errno != ERANGE) return d;
        }
    }
    throw failure("result column " + std::to_string(column) + " is not a number");
}

std::string row::text(std::size_t column) const {
    const sql_value& v = at(column);
    if (const auto* s = std::get_if<std::string>(&v)) return *s;
    throw failure("result column " + std::to_string(column) + " is not text");
}

std::optional<std::int64_t> row::optional_integer(std::size_t column) const {
    if (is_null(column)) return std::nullopt;
    return integer(column);
}

}  // namespace tether::cloud::storage
