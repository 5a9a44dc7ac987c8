// libFuzzer: any bytes as a `where` expression (cloud/metrics/where.hpp). Nothing may
// crash, hang or recurse without bound; an error names a position inside the input; an
// accepted expression evaluates over Store items of every value type, and the same source
// always compiles to the same program.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "metrics/where.hpp"

namespace {

using namespace tether::cloud::metrics;

// "where: L:C: message": L and C must lie inside the input (C may be one past a line's end).
void check_error(const std::string& message, std::string_view source) {
    constexpr std::string_view prefix = "where: ";
    if (message.compare(0, prefix.size(), prefix) != 0) std::abort();
    if (source.size() > max_where_length) return;  // "longer than ..." has no position
    const char* p = message.c_str() + prefix.size();
    char* end = nullptr;
    const unsigned long line = std::strtoul(p, &end, 10);
    if (*end != ':') std::abort();
    const unsigned long column = std::strtoul(end + 1, &end, 10);
    if (*end != ':' || line < 1 || column < 1) std::abort();
    // Find that line and check the column.
    std::size_t start = 0;
    for (unsigned long l = 1; l < line; ++l) {
        const std::size_t nl = source.find('\n', start);
        if (nl == std::string_view::npos) std::abort();
        start = nl + 1;
    }
    const std::size_t nl = source.find('\n', start);
    const std::size_t length = (nl == std::string_view::npos ? source.size() : nl) - start;
    if (column > length + 1) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view source(reinterpret_cast<const char*>(data), size);
    auto compiled = where_expression::compile(source);
    if (!compiled) {
        check_error(compiled.err().message, source);
        return 0;
    }
    const where_expression& w = compiled.value();
    if (w.size() == 0 || w.size() > source.size()) std::abort();  // at least one token per instruction

    const store_item items[] = {
        {"cpu", scalar::make_number(55), "number", "dev1", 1'700'000'000'000},
        {"name", scalar::make_string("Acme"), "string", "dev2", 0},
        {"", scalar::make_string(""), "string", "", -1},
        {"on", scalar::make_bool(true), "boolean", "d", 1},
        {"off", scalar::make_bool(false), "boolean", "d", 1},
        {"gone", scalar::make_null(), "string", "d", 1},
    };
    for (const store_item& item : items) {
        const scalar v = w.evaluate(item);
        if (w.matches(item) != truthy(v)) std::abort();
        if (!scalar_equal(v, v) && !(v.type == scalar::kind::number && v.number != v.number)) std::abort();
    }

    // Deterministic: the source compiles again to the same program.
    auto again = where_expression::compile(w.source());
    if (!again || again.value().size() != w.size()) std::abort();
    for (const store_item& item : items) {
        if (again.value().matches(item) != w.matches(item)) std::abort();
    }
    return 0;
}
