#include "web/json_body.hpp"

#include <string>

namespace tether::cloud::web {

result<nlohmann::json> parse_json_body(std::string_view body, std::size_t max_depth) {
    // Counts brackets outside strings; an unbalanced or malformed body is the parser's to refuse.
    std::size_t depth = 0;
    bool in_string = false, escaped = false;
    for (const char c : body) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return error{"body: nested deeper than " + std::to_string(max_depth) + " levels"};
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return error{"body: not JSON"};
    return j;
}

}  // namespace tether::cloud::web
