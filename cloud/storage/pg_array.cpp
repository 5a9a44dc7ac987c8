#include "storage/pg_array.hpp"

#include <utility>

namespace tether::cloud::storage::detail {

void pg_array::separate() {
    if (literal_.size() > 1) literal_ += ',';
}

void pg_array::add(std::string_view text) {
    separate();
    literal_ += '"';
    for (const char ch : text) {
        if (ch == '"' || ch == '\\') literal_ += '\\';
        literal_ += ch;
    }
    literal_ += '"';
}

void pg_array::add(std::int64_t number) {
    separate();
    literal_ += std::to_string(number);
}

void pg_array::add_null() {
    separate();
    literal_ += "NULL";
}

std::string pg_array::take() {
    literal_ += '}';
    std::string out;
    out.swap(literal_);
    literal_.push_back('{');
    return out;
}

}  // namespace tether::cloud::storage::detail
