#pragma once
// What the journal knows is unacknowledged: outbound messages by sequence number (each with
// where its publish record sits in the file) and inbound QoS 2 packet ids held. The reader
// rebuilds it from a file; the writer keeps it current; compaction copies what it lists.
// No allocation per message once warmed up: a ring that only grows, a packet-id index of
// fixed size, and a bitmap.

#include <cstdint>
#include <vector>

namespace tether::client::detail {

struct journal_entry {
    std::uint64_t seq = 0;
    std::uint64_t offset = 0;  // of the publish record, in the current file
    std::uint32_t size = 0;    // of the publish record, head included
    std::uint64_t new_offset = 0;  // where a compaction under way copied it
    std::uint16_t packet_id = 0;
    std::uint8_t qos = 0;
    bool retain = false;
    bool released = false;     // past PUBREC
    bool live = true;
};

class journal_state {
public:
    journal_state();

    // Adds a message; its seq must exceed every earlier one. False otherwise.
    [[nodiscard]] bool add(const journal_entry& e);
    // The live message with this seq / packet id, or nullptr.
    [[nodiscard]] journal_entry* find(std::uint64_t seq) noexcept;
    [[nodiscard]] journal_entry* find_id(std::uint16_t packet_id) noexcept;
    // Each returns false, changing nothing, when the record does not fit the state: an
    // unknown seq, PUBREC before a packet id or at QoS 1. A bind takes the id from another
    // message that still has it (stale: that one is left without an id).
    [[nodiscard]] bool bind(std::uint64_t seq, std::uint16_t packet_id) noexcept;
    [[nodiscard]] bool release(std::uint64_t seq) noexcept;
    [[nodiscard]] bool remove(std::uint64_t seq) noexcept;
    [[nodiscard]] bool hold_inbound(std::uint16_t id) noexcept;
    [[nodiscard]] bool release_inbound(std::uint16_t id) noexcept;
    [[nodiscard]] bool inbound_held(std::uint16_t id) const noexcept {
        return (inbound_[id >> 6] >> (id & 63)) & 1;
    }

    [[nodiscard]] std::size_t live_count() const noexcept { return live_; }
    [[nodiscard]] std::size_t inbound_count() const noexcept { return inbound_count_; }
    [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_seq_; }
    // Bytes a compacted file would need for these messages and ids (records and heads).
    [[nodiscard]] std::uint64_t live_bytes() const noexcept;

    // Live messages in seq order.
    template <class F>
    void for_each(F&& f) {
        for (std::size_t i = 0; i < count_; ++i) {
            journal_entry& e = at(i);
            if (e.live) f(e);
        }
    }
    // Live messages from the first whose seq is at least `seq`, in order, while f returns true.
    template <class F>
    void for_each_from(std::uint64_t seq, F&& f) {
        for (std::size_t i = lower_bound(seq); i < count_; ++i) {
            journal_entry& e = at(i);
            if (e.live && !f(e)) return;
        }
    }
    template <class F>
    void for_each_inbound(F&& f) const {
        for (std::uint32_t w = 0; w < inbound_.size(); ++w) {
            for (std::uint64_t bits = inbound_[w]; bits != 0; bits &= bits - 1) {
                f(static_cast<std::uint16_t>(w * 64 + static_cast<unsigned>(__builtin_ctzll(bits))));
            }
        }
    }
    // Drops removed entries from the middle of the ring too, so that memory follows what is
    // live, not the distance from the oldest live message to the newest.
    void squeeze() noexcept;

private:
    [[nodiscard]] journal_entry& at(std::size_t i) noexcept { return ring_[(head_ + i) & (ring_.size() - 1)]; }
    void pop_dead() noexcept;
    [[nodiscard]] std::size_t lower_bound(std::uint64_t seq) noexcept;

    std::vector<journal_entry> ring_;       // a power of two
    std::size_t head_ = 0, count_ = 0, live_ = 0;
    std::uint64_t last_seq_ = 0;
    std::uint64_t publish_bytes_ = 0;       // sum of the live entries' sizes
    std::vector<std::uint64_t> seq_by_id_;  // 65,536 entries once a packet id is bound; 0 = none
    std::vector<std::uint64_t> inbound_;    // 65,536 bits
    std::size_t inbound_count_ = 0;
};

}  // namespace tether::client::detail
