#include "metrics/series.hpp"

#include <cmath>
#include <limits>

namespace tether::cloud::metrics {

namespace {

std::size_t slot_of(std::int64_t interval, std::size_t slots) noexcept {
    const auto n = static_cast<std::int64_t>(slots);
    const std::int64_t m = interval % n;
    return static_cast<std::size_t>(m < 0 ? m + n : m);
}

std::int64_t saturating_sub(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t r = 0;
    if (__builtin_sub_overflow(a, b, &r)) return b > 0 ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
    return r;
}

void add_to_span(span& s, std::int64_t resolution_ms, const point& p, std::int64_t time_ms) noexcept {
    const std::int64_t interval = floor_div(time_ms, resolution_ms);
    slot& target = s.slots[slot_of(interval, s.slots.size())];
    if (target.interval == interval) {
        target.value.merge(p);
    } else if (target.interval < interval) {
        target = slot{interval, p};  // the older point rolls off
    }
    // else: the slot already holds a newer point, so this one has rolled off already.
}

}  // namespace

series::series() {
    for (std::size_t i = 0; i < spans.size(); ++i) spans[i].slots.resize(span_shapes[i].slots());
}

bool series::add(double value, std::int64_t time_ms) noexcept {
    if (!std::isfinite(value)) return false;
    point p;
    p.add(value);
    return add(p, value, time_ms);
}

bool series::add(const point& p, double last, std::int64_t time_ms) noexcept {
    if (p.empty() || !std::isfinite(p.sum) || !std::isfinite(p.min) || !std::isfinite(p.max) || !std::isfinite(last)) {
        return false;
    }
    for (std::size_t i = 0; i < spans.size(); ++i) add_to_span(spans[i], span_shapes[i].resolution_ms, p, time_ms);
    if (!has_current || time_ms >= current_ms) {
        has_current = true;
        current = last;
        current_ms = time_ms;
    }
    return true;
}

std::size_t series::span_for(std::int64_t period_ms) noexcept {
    for (std::size_t i = 0; i < span_shapes.size(); ++i) {
        if (span_shapes[i].cover_ms() >= period_ms) return i;
    }
    return span_shapes.size() - 1;
}

point series::window(std::int64_t period_ms, std::int64_t now_ms) const noexcept {
    point total;
    if (period_ms < 1) return total;
    const std::size_t i = span_for(period_ms);
    const std::int64_t resolution = span_shapes[i].resolution_ms;
    const span& s = spans[i];
    const std::int64_t last = floor_div(now_ms, resolution);
    std::int64_t first = floor_div(saturating_sub(now_ms, period_ms), resolution);
    // No more intervals than there are slots: older ones cannot be held anyway.
    const std::int64_t oldest_held = last - static_cast<std::int64_t>(s.slots.size()) + 1;
    if (first < oldest_held) first = oldest_held;
    for (std::int64_t k = first; k <= last; ++k) {
        const slot& sl = s.slots[slot_of(k, s.slots.size())];
        if (sl.interval == k) total.merge(sl.value);
    }
    return total;
}

std::optional<double> series::query(statistic st, std::int64_t period_ms, std::int64_t now_ms) const noexcept {
    if (period_ms < 1) return std::nullopt;
    if (st == statistic::current) return has_current ? std::optional<double>(current) : std::nullopt;
    return statistic_of(window(period_ms, now_ms), st);
}

void series::merge(const series& other) noexcept {
    for (std::size_t i = 0; i < spans.size(); ++i) {
        auto& mine = spans[i].slots;
        const auto& theirs = other.spans[i].slots;
        if (mine.size() != theirs.size()) continue;  // not well formed: nothing sensible to merge
        for (std::size_t k = 0; k < mine.size(); ++k) {
            if (theirs[k].interval > mine[k].interval) mine[k] = theirs[k];
            else if (theirs[k].interval == mine[k].interval) mine[k].value.merge(theirs[k].value);
        }
    }
    if (other.has_current && (!has_current || other.current_ms > current_ms)) {
        has_current = true;
        current = other.current;
        current_ms = other.current_ms;
    }
}

bool series::well_formed() const noexcept {
    for (std::size_t i = 0; i < spans.size(); ++i) {
        const auto& slots = spans[i].slots;
        if (slots.size() != span_shapes[i].slots()) return false;
        for (std::size_t k = 0; k < slots.size(); ++k) {
            const slot& s = slots[k];
            if (s.interval == INT64_MIN) {
                if (!s.value.empty()) return false;
                continue;
            }
            if (slot_of(s.interval, slots.size()) != k || s.value.empty()) return false;
            if (!std::isfinite(s.value.sum) || !std::isfinite(s.value.min) || !std::isfinite(s.value.max)) return false;
            if (s.value.min > s.value.max) return false;
        }
    }
    return !has_current || std::isfinite(current);
}

}  // namespace tether::cloud::metrics
