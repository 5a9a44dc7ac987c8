#pragma once
// Whether one topic filter held at the server serves another locally (master
// subscriptions): every topic the inner filter can match is matched by the outer one.

#include <string_view>

namespace tether::client::detail {

// True when every topic name matching `inner` also matches `outer`. Conservative: it may
// answer false for some covering pairs, never true for a pair that does not cover.
//   filter_covers("a/#", "a/b/+")  -> true
//   filter_covers("a/+", "a/b/c")  -> false
[[nodiscard]] bool filter_covers(std::string_view outer, std::string_view inner) noexcept;

}  // namespace tether::client::detail
