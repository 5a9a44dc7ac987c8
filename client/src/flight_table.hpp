#pragma once
// Packet ids in flight and what the client keeps for each (the bytes to send again, who
// waits), without allocating per message: entries come from a pool whose byte buffers
// keep their capacity, and an open-addressed index finds them by packet id.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "signal.hpp"

namespace tether::client::detail {

struct flight {
    std::vector<std::uint8_t> bytes;                      // the packet, to send again
    std::shared_ptr<signal> acked;                        // PUBACK / PUBCOMP / SUBACK / UNSUBACK
    std::shared_ptr<signal> sent;                         // written to the socket (wait::sent)
    std::shared_ptr<std::vector<std::uint8_t>> granted;   // SUBACK codes, for subscribe
    std::vector<std::string> filters;                     // SUBSCRIBE filters, to drop refused ones
    bool is_publish = false;
    // A QoS 2 PUBLISH past PUBREC (its PUBREL sent): the server has it. Kept when the
    // client gives up what is in flight, so that its PUBREL goes on [MQTT-4.4.0-1].
    bool released = false;
    std::uint64_t seq = 0;  // its record in the durable outbox's journal; 0: none
};

class flight_table {
public:
    // Room for `capacity` packet ids at once: the session's outbound slots.
    explicit flight_table(std::size_t capacity);

    // The entry for `id`, or nullptr.
    [[nodiscard]] flight* find(std::uint16_t id) noexcept;
    // A cleared entry for `id` (which must not be in the table), its buffer's capacity kept
    // from earlier use. Never allocates once the pool has warmed up.
    flight& insert(std::uint16_t id) { return pool_[bind(acquire(), id)]; }
    // The same in two steps, for when the id is known only after encoding into the entry:
    // acquire() a cleared entry, then bind() it to its id or release() it unused.
    [[nodiscard]] std::uint32_t acquire();
    [[nodiscard]] flight& at(std::uint32_t entry) noexcept { return pool_[entry]; }
    std::uint32_t bind(std::uint32_t entry, std::uint16_t id);
    void release(std::uint32_t entry) noexcept;
    // Removes `id` if present; its entry goes back to the pool.
    void erase(std::uint16_t id) noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return size_; }

    template <class F>
    void for_each(F&& f) {
        for (std::size_t i = 0; i < index_.size(); ++i) {
            if (index_[i].entry != empty) f(index_[i].id, pool_[index_[i].entry]);
        }
    }

private:
    static constexpr std::uint32_t empty = 0xFFFF'FFFF;
    struct bucket {
        std::uint16_t id = 0;
        std::uint32_t entry = empty;
    };
    // Fibonacci hashing: packet ids are sequential, and an identity hash would pack them
    // into one long run that every erase has to walk.
    [[nodiscard]] std::size_t home(std::uint16_t id) const noexcept {
        return (static_cast<std::uint32_t>(id) * 0x9E37'79B1u) >> (32 - bits_);
    }

    std::vector<flight> pool_;
    std::vector<std::uint32_t> free_;
    std::vector<bucket> index_;  // a power of two, at least twice the capacity
    unsigned bits_ = 2;          // log2 of index_.size()
    std::size_t size_ = 0;
};

}  // namespace tether::client::detail
