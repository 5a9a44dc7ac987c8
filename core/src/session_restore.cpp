// The session's restore: puts back, between connections, what a client's durable outbox
// kept across a restart (session.hpp: restore_publish, restore_inbound_qos2, and
// rebind_outbound, which makes room for them). In a file of its own so that a device
// without a durable outbox does not link it: a static library brings in an object only
// when something calls into it (scripts/footprint.sh counts it apart from the protocol
// core).

#include "slot_state.hpp"
#include "tether/core/session.hpp"

namespace tether::core {

using namespace detail;

error session::restore_publish(std::uint16_t packet_id, qos q, bool released) noexcept {
    if (link_ != link::down) return error::protocol_violation;
    if (packet_id == 0 || find_slot(packet_id, 0) != nullptr) return error::invalid_packet_id;
    if (q != qos::at_least_once && q != qos::exactly_once) return error::invalid_qos;
    if (out_count_ == out_slots_.size()) return error::packet_ids_exhausted;
    const std::uint8_t state = q == qos::at_least_once ? awaiting_puback : released ? awaiting_pubcomp : awaiting_pubrec;
    slot_at(out_count_++) = {packet_id, 0, state};
    ++publish_count_;
    // Restored ids need not follow take_packet_id's order: look at every slot for a free id
    // until the session empties, starting after the last one restored.
    ids_wrapped_ = true;
    next_id_ = packet_id == 0xFFFF ? 1 : static_cast<std::uint16_t>(packet_id + 1);
    return error::none;
}

error session::restore_inbound_qos2(std::uint16_t packet_id) noexcept {
    if (link_ != link::down) return error::protocol_violation;
    if (packet_id == 0) return error::invalid_packet_id;
    if (inbound_has(packet_id)) return error::none;
    if (in_count_ == inbound_qos2_capacity()) return error::inbound_qos2_full;
    inbound_add(packet_id);
    return error::none;
}

bool session::rebind_outbound(std::span<outbound_slot> slots) noexcept {
    if (link_ != link::down || slots.size() < out_count_) return false;
    // Oldest first from the start of the larger ring: the order of resending stays.
    for (std::size_t i = 0; i < out_count_; ++i) slots[i] = slot_at(i);
    out_slots_ = slots;
    out_head_ = 0;
    return true;
}

}  // namespace tether::core
