#include "metrics/buffer.hpp"

#include <cmath>

namespace tether::cloud::metrics {

std::optional<emitted> buffer::add(const buffer_policy& policy, double value, std::int64_t time_ms) noexcept {
    if (!std::isfinite(value)) return std::nullopt;
    if (pending.empty()) {
        first_ms = time_ms;
        last_ms = time_ms;
        last = value;
    } else if (time_ms >= last_ms) {
        last_ms = time_ms;
        last = value;
    }
    if (time_ms < first_ms) first_ms = time_ms;  // values may arrive out of order
    pending.add(value);
    const bool full = policy.count != 0 && pending.count >= policy.count;
    const bool old = policy.elapsed_ms != 0 && last_ms - first_ms >= policy.elapsed_ms;
    const bool unbuffered = policy.count == 0 && policy.elapsed_ms == 0;
    if (full || old || unbuffered) return flush();
    return std::nullopt;
}

std::optional<emitted> buffer::flush_due(const buffer_policy& policy, std::int64_t now_ms) noexcept {
    const auto due = due_ms(policy);
    if (!due || now_ms < *due) return std::nullopt;
    return flush();
}

std::optional<emitted> buffer::flush() noexcept {
    if (pending.empty()) return std::nullopt;
    emitted out{pending, last, last_ms};
    *this = buffer{};
    return out;
}

std::optional<std::int64_t> buffer::due_ms(const buffer_policy& policy) const noexcept {
    if (pending.empty() || policy.elapsed_ms == 0) return std::nullopt;
    return first_ms + policy.elapsed_ms;
}

}  // namespace tether::cloud::metrics
