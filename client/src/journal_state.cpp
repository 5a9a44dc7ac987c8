#include "journal_state.hpp"

#include "journal_format.hpp"

namespace tether::client::detail {

journal_state::journal_state() : ring_(16), inbound_(65'536 / 64, 0) {}

bool journal_state::add(const journal_entry& e) {
    if (e.seq <= last_seq_) return false;
    if (count_ == ring_.size()) {
        std::vector<journal_entry> bigger(ring_.size() * 2);
        for (std::size_t i = 0; i < count_; ++i) bigger[i] = at(i);
        ring_ = std::move(bigger);
        head_ = 0;
    }
    journal_entry& slot = ring_[(head_ + count_) & (ring_.size() - 1)];
    slot = e;
    slot.live = true;
    slot.packet_id = 0;
    slot.released = false;
    ++count_;
    ++live_;
    last_seq_ = e.seq;
    publish_bytes_ += e.size;
    return true;
}

std::size_t journal_state::lower_bound(std::uint64_t seq) noexcept {
    // Entries are in seq order: a binary search over the ring.
    std::size_t lo = 0, hi = count_;
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (at(mid).seq < seq) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

journal_entry* journal_state::find(std::uint64_t seq) noexcept {
    // Seqs are consecutive in the ring until a compaction squeezes out the dead: then the
    // entry is at its distance from the first, found without a search.
    if (count_ != 0 && seq >= at(0).seq && seq - at(0).seq < count_) {
        journal_entry& e = at(static_cast<std::size_t>(seq - at(0).seq));
        if (e.seq == seq) return e.live ? &e : nullptr;
    }
    const std::size_t lo = lower_bound(seq);
    if (lo == count_) return nullptr;
    journal_entry& e = at(lo);
    return e.seq == seq && e.live ? &e : nullptr;
}

journal_entry* journal_state::find_id(std::uint16_t packet_id) noexcept {
    if (packet_id == 0 || seq_by_id_.empty() || seq_by_id_[packet_id] == 0) return nullptr;
    return find(seq_by_id_[packet_id]);
}

bool journal_state::bind(std::uint64_t seq, std::uint16_t packet_id) noexcept {
    journal_entry* e = find(seq);
    if (e == nullptr || packet_id == 0) return false;
    if (seq_by_id_.empty()) seq_by_id_.assign(65'536, 0);
    // An id still bound to another message is stale: the client gives an id to one message
    // at a time, and a restart puts every bound message back under its id, so the other's
    // removal (or its bind to a newer id) failed to be written — or the file comes from a
    // tether before 2026-11-27, which sent such messages from the queue. It loses the id,
    // and its PUBREC with it: without the id no PUBREL can name it, so it goes again as a
    // PUBLISH (a duplicate at worst, never a loss).
    if (const std::uint64_t holder = seq_by_id_[packet_id]; holder != 0 && holder != seq) {
        if (journal_entry* other = find(holder)) {
            other->packet_id = 0;
            other->released = false;
        }
    }
    // A message sent again after a reconnect may get another id (clean session).
    if (e->packet_id != 0) seq_by_id_[e->packet_id] = 0;
    e->packet_id = packet_id;
    e->released = false;
    seq_by_id_[packet_id] = seq;
    return true;
}

bool journal_state::release(std::uint64_t seq) noexcept {
    journal_entry* e = find(seq);
    if (e == nullptr || e->qos != 2 || e->packet_id == 0) return false;
    e->released = true;
    return true;
}

bool journal_state::remove(std::uint64_t seq) noexcept {
    journal_entry* e = find(seq);
    if (e == nullptr) return false;
    if (e->packet_id != 0) seq_by_id_[e->packet_id] = 0;
    e->live = false;
    --live_;
    publish_bytes_ -= e->size;
    pop_dead();
    return true;
}

bool journal_state::hold_inbound(std::uint16_t id) noexcept {
    if (id == 0) return false;
    std::uint64_t& word = inbound_[id >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (id & 63);
    if ((word & bit) == 0) ++inbound_count_;
    word |= bit;  // holding an id twice is a duplicate PUBLISH, which is legal
    return true;
}

bool journal_state::release_inbound(std::uint16_t id) noexcept {
    if (id == 0) return false;
    std::uint64_t& word = inbound_[id >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (id & 63);
    if ((word & bit) != 0) --inbound_count_;
    word &= ~bit;  // a PUBREL for an id not held is answered all the same
    return true;
}

std::uint64_t journal_state::live_bytes() const noexcept {
    using namespace journal_format;
    // Each live message may need a bind and a pubrec record besides its publish record.
    return publish_bytes_ + live_ * 2 * (record_head + 10) + inbound_count_ * (record_head + 2);
}

void journal_state::pop_dead() noexcept {
    while (count_ > 0 && !ring_[head_].live) {
        head_ = (head_ + 1) & (ring_.size() - 1);
        --count_;
    }
}

void journal_state::squeeze() noexcept {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < count_; ++i) {
        if (at(i).live) at(kept++) = at(i);
    }
    count_ = kept;
}

}  // namespace tether::client::detail
