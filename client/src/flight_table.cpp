#include "flight_table.hpp"

namespace tether::client::detail {

flight_table::flight_table(std::size_t capacity) : pool_(capacity) {
    std::size_t buckets = 4;
    while (buckets < 2 * capacity) buckets *= 2, ++bits_;
    index_.resize(buckets);
    free_.reserve(capacity);
    for (std::size_t i = capacity; i > 0; --i) free_.push_back(static_cast<std::uint32_t>(i - 1));
}

flight* flight_table::find(std::uint16_t id) noexcept {
    for (std::size_t i = home(id);; i = (i + 1) & (index_.size() - 1)) {
        if (index_[i].entry == empty) return nullptr;
        if (index_[i].id == id) return &pool_[index_[i].entry];
    }
}

std::uint32_t flight_table::acquire() {
    if (free_.empty()) {
        // More ids than the session has slots cannot happen; grow rather than fail.
        pool_.emplace_back();
        free_.push_back(static_cast<std::uint32_t>(pool_.size() - 1));
        if (2 * pool_.size() > index_.size()) {
            std::vector<bucket> old = std::move(index_);
            index_.assign(old.size() * 2, bucket{});
            ++bits_;
            for (const bucket& b : old) {
                if (b.entry == empty) continue;
                std::size_t i = home(b.id);
                while (index_[i].entry != empty) i = (i + 1) & (index_.size() - 1);
                index_[i] = b;
            }
        }
    }
    const std::uint32_t entry = free_.back();
    free_.pop_back();
    flight& f = pool_[entry];
    f.bytes.clear();  // keeps its capacity
    f.acked.reset();
    f.sent.reset();
    f.granted.reset();
    f.filters.clear();
    f.is_publish = false;
    f.released = false;
    return entry;
}

std::uint32_t flight_table::bind(std::uint32_t entry, std::uint16_t id) {
    std::size_t i = home(id);
    while (index_[i].entry != empty) i = (i + 1) & (index_.size() - 1);
    index_[i] = {id, entry};
    ++size_;
    return entry;
}

void flight_table::release(std::uint32_t entry) noexcept {
    pool_[entry].acked.reset();
    pool_[entry].sent.reset();
    pool_[entry].granted.reset();
    pool_[entry].seq = 0;
    free_.push_back(entry);
}

void flight_table::erase(std::uint16_t id) noexcept {
    const std::size_t mask = index_.size() - 1;
    std::size_t i = home(id);
    while (index_[i].entry != empty && index_[i].id != id) i = (i + 1) & mask;
    if (index_[i].entry == empty) return;
    release(index_[i].entry);  // waiters' signals go now, not when the entry is reused
    index_[i].entry = empty;
    --size_;
    // Backward-shift deletion: pull later entries of the same probe run into the hole, so
    // lookups never need tombstones.
    for (std::size_t j = (i + 1) & mask; index_[j].entry != empty; j = (j + 1) & mask) {
        const std::size_t h = home(index_[j].id);
        // Move j into the hole at i when its home is not in the cyclic range (i, j].
        const bool home_in_range = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (!home_in_range) {
            index_[i] = index_[j];
            index_[j].entry = empty;
            i = j;
        }
    }
}

}  // namespace tether::client::detail
