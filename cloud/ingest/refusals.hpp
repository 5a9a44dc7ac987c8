#pragma once
// Messages from devices the cloud does not know: counted, and logged at most once per
// device and interval, so that a misbehaving device cannot flood the log.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace tether::cloud::ingest {

class refusal_log {
public:
    // Devices remembered at once; past it the oldest-logged are forgotten (and may be
    // logged again sooner), so that ids an attacker invents cannot grow the map forever.
    static constexpr std::size_t max_remembered = 10'000;

    explicit refusal_log(std::chrono::milliseconds interval = std::chrono::minutes(1)) : interval_(interval) {}

    // Counts a refusal of `device_id` at `now`; true when it should be logged (the first
    // for this device, or the first since `interval` passed).
    [[nodiscard]] bool note(std::string_view device_id, std::chrono::steady_clock::time_point now);

    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }

private:
    std::chrono::milliseconds interval_;
    std::uint64_t count_ = 0;
    std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> last_logged_;
};

}  // namespace tether::cloud::ingest
