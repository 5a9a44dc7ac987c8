#pragma once
// Shared subscriptions: a filter $share/{ShareName}/{filter} (MQTT 5.0 section 4.8.2;
// mosquitto 2 accepts it from MQTT 3.1.1 clients too) is sent to the server as it is, and
// the server hands each matching message to one subscriber of the group; the messages
// carry topics that match {filter}, which is therefore what the local subscription matches.

#include <string_view>

namespace tether::client::detail {

//   matched_filter("$share/workers/a/+/b")  -> "a/+/b"
//   matched_filter("a/+/b")                  -> "a/+/b"
[[nodiscard]] constexpr std::string_view matched_filter(std::string_view filter) noexcept {
    constexpr std::string_view prefix = "$share/";
    if (!filter.starts_with(prefix)) return filter;
    const auto slash = filter.find('/', prefix.size());
    // No filter after the share name: left as it is (it matches no topic a server sends).
    if (slash == std::string_view::npos) return filter;
    return filter.substr(slash + 1);
}

static_assert(matched_filter("$share/workers/a/+/b") == "a/+/b");
static_assert(matched_filter("$share/workers") == "$share/workers");
static_assert(matched_filter("a/#") == "a/#");

}  // namespace tether::client::detail
