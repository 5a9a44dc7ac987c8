#include "filter_cover.hpp"

namespace tether::client::detail {

namespace {

std::string_view next_level(std::string_view& rest, bool& more) noexcept {
    const auto slash = rest.find('/');
    more = slash != std::string_view::npos;
    const std::string_view level = rest.substr(0, more ? slash : rest.size());
    rest.remove_prefix(more ? slash + 1 : rest.size());
    return level;
}

}  // namespace

bool filter_covers(std::string_view outer, std::string_view inner) noexcept {
    if (outer == inner) return true;
    if (outer.empty() || inner.empty()) return false;
    // A wildcard first level never matches '$' topics [MQTT-4.7.2-1]; an inner filter
    // starting with '$' can only be covered by an outer one that names it.
    if (inner[0] == '$' && (outer[0] == '#' || outer[0] == '+')) return false;
    bool outer_more = true;
    bool inner_more = true;
    while (outer_more) {
        const std::string_view o = next_level(outer, outer_more);
        if (o == "#") return true;  // everything below, including the parent level
        if (!inner_more) {
            // inner ended; "a/#" covers "a" only through '#', handled above
            return false;
        }
        const std::string_view i = next_level(inner, inner_more);
        if (i == "#") return false;  // inner reaches deeper than a non-'#' outer level
        if (o != "+" && o != i) return false;  // literal must match literal ('+' inner is wider)
        if (!outer_more) return !inner_more;
    }
    return false;
}

}  // namespace tether::client::detail
