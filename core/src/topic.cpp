#include "tether/core/topic.hpp"

#include "tether/core/packet.hpp"
#include "tether/core/utf8.hpp"

namespace tether::core {

namespace {

// The checks a name and a filter share: 1..65,535 bytes of valid UTF-8 without U+0000.
bool is_valid_topic_text(std::string_view text) noexcept {
    return !text.empty() && text.size() <= max_string_length && is_valid_mqtt_utf8(text);
}

// text[from, to) without substr(), whose range check needs exception support.
std::string_view slice(std::string_view text, std::size_t from, std::size_t to) noexcept {
    return {text.data() + from, to - from};
}

// Index of the next '/' at or after `from`, or text.size().
std::size_t level_end(std::string_view text, std::size_t from) noexcept {
    while (from < text.size() && text[from] != '/') ++from;
    return from;
}

}  // namespace

error validate_topic_name(std::string_view name) noexcept {
    if (!is_valid_topic_text(name)) return error::invalid_topic_name;
    for (const char c : name) {
        if (c == '+' || c == '#') return error::invalid_topic_name;  // [MQTT-3.3.2-2]
    }
    return error::none;
}

error validate_topic_filter(std::string_view filter) noexcept {
    if (!is_valid_topic_text(filter)) return error::invalid_topic_filter;
    const std::size_t n = filter.size();
    for (std::size_t i = 0; i < n; ++i) {
        const char c = filter[i];
        if (c != '+' && c != '#') continue;
        // A wildcard must fill its whole level [MQTT-4.7.1-2, 4.7.1-3] ...
        const bool starts_level = i == 0 || filter[i - 1] == '/';
        const bool ends_level = i + 1 == n || filter[i + 1] == '/';
        if (!starts_level || !ends_level) return error::invalid_topic_filter;
        // ... and '#' must be the last level [MQTT-4.7.1-2].
        if (c == '#' && i + 1 != n) return error::invalid_topic_filter;
    }
    return error::none;
}

bool topic_matches(std::string_view filter, std::string_view name) noexcept {
    if (filter.empty() || name.empty()) return false;
    // [MQTT-4.7.2-1]: wildcards at the first level do not match '$' topics.
    if (name[0] == '$' && (filter[0] == '+' || filter[0] == '#')) return false;
    std::size_t f = 0;
    std::size_t t = 0;
    for (;;) {
        const std::size_t f_end = level_end(filter, f);
        const std::size_t t_end = level_end(name, t);
        const std::string_view level = slice(filter, f, f_end);
        if (level == "#") return true;  // this level and everything below it
        if (level != "+" && level != slice(name, t, t_end)) return false;
        const bool filter_done = f_end == filter.size();
        const bool name_done = t_end == name.size();
        if (filter_done || name_done) {
            // "sport/#" also matches "sport": the parent level [MQTT-4.7.1-2].
            return filter_done == name_done || (name_done && slice(filter, f_end, filter.size()) == "/#");
        }
        f = f_end + 1;
        t = t_end + 1;
    }
}

}  // namespace tether::core
