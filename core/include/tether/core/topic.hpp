#pragma once
// Topic names, topic filters and matching [MQTT-4.7].

#include <string_view>

#include "tether/core/error.hpp"

namespace tether::core {

// Checks a topic name as used in PUBLISH and in a will.
// Returns error::none, or error::invalid_topic_name when the name is empty
// [MQTT-4.7.3-1], holds '+' or '#' [MQTT-3.3.2-2], is over 65,535 bytes [MQTT-4.7.3-3],
// is not well-formed UTF-8 [MQTT-1.5.3-1] or holds U+0000 [MQTT-4.7.3-2].
//
//   validate_topic_name("sport/tennis/player1")  // error::none
//   validate_topic_name("sport/+")               // error::invalid_topic_name
[[nodiscard]] error validate_topic_name(std::string_view name) noexcept;

// Checks a topic filter as used in SUBSCRIBE and UNSUBSCRIBE.
// Returns error::none, or error::invalid_topic_filter when the filter is empty, over
// 65,535 bytes, not valid UTF-8, holds U+0000, has '#' anywhere but alone in the last
// level [MQTT-4.7.1-2], or '+' not alone in its level [MQTT-4.7.1-3].
//
//   validate_topic_filter("sport/+/player1")  // error::none
//   validate_topic_filter("sport+")           // error::invalid_topic_filter
[[nodiscard]] error validate_topic_filter(std::string_view filter) noexcept;

// True when the (valid) topic `name` matches the (valid) topic `filter`. '#' matches the
// parent level and any number of levels below it; '+' matches exactly one level, which
// may be empty. A filter that starts with a wildcard does not match a name that starts
// with '$' [MQTT-4.7.2-1].
//
//   topic_matches("sport/#", "sport")              // true
//   topic_matches("+/monitor/Clients", "$SYS/monitor/Clients")  // false
[[nodiscard]] bool topic_matches(std::string_view filter, std::string_view name) noexcept;

}  // namespace tether::core
