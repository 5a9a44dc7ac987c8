#include "ingest/body.hpp"

#include <string>

namespace tether::cloud::ingest {

result<nlohmann::json> parse_body(std::string_view payload) {
    if (payload.size() > max_body_bytes) {
        return error{"body: larger than " + std::to_string(max_body_bytes) + " bytes"};
    }
    // nlohmann's parser keeps its own stack, but a deep tree costs memory and is destroyed
    // by recursion: drop what is too deep as it is read, and refuse the body.
    bool too_deep = false;
    const nlohmann::json::parser_callback_t limit = [&too_deep](int depth, nlohmann::json::parse_event_t,
                                                                nlohmann::json&) {
        if (depth > max_body_depth) too_deep = true;
        return !too_deep;
    };
    nlohmann::json j = nlohmann::json::parse(payload, limit, /*allow_exceptions=*/false);
    if (too_deep) return error{"body: nested deeper than " + std::to_string(max_body_depth) + " levels"};
    if (j.is_discarded()) return error{"body: not JSON"};
    return j;
}

}  // namespace tether::cloud::ingest
