#include "metrics/point.hpp"

namespace tether::cloud::metrics {

void point::add(double value) noexcept {
    if (count == 0) {
        min = value;
        max = value;
    } else {
        if (value < min) min = value;
        if (value > max) max = value;
    }
    ++count;
    sum += value;
}

void point::merge(const point& other) noexcept {
    if (other.count == 0) return;
    if (count == 0) {
        *this = other;
        return;
    }
    count += other.count;
    sum += other.sum;
    if (other.min < min) min = other.min;
    if (other.max > max) max = other.max;
}

}  // namespace tether::cloud::metrics
