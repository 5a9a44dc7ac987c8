// The durable outbox (options::persistence, docs/PERSISTENCE.md): the journal opened by
// connect() and what it held put back — every message that had a packet id into the
// session and the flight table, to be resent at CONNACK with that id (PUBREL past PUBREC)
// even past a smaller window, the rest at the head of the offline queue — and the records that keep it current as
// messages move: accepted, in the window, past PUBREC, gone.
//
// A journal write that fails before a message is accepted refuses the message. One that
// fails after (its packet id, its PUBREC, its removal) cannot take the acceptance back: the
// message goes on in memory, the failure is counted (client_stats::journal_errors), and the
// journal is left behind the truth in the safe direction only — a restart may send such a
// message once more, never lose it.

#include <asio/post.hpp>

#include "engine.hpp"
#include "tether/core/encode.hpp"

namespace tether::client::detail {

std::error_code engine::open_journal() {
    if (opts_.persistence.directory.empty()) return {};
    // A journal belongs to one client id: without one there is nothing to own it.
    if (opts_.client_id.empty()) return make_error_code(errc::invalid_argument);
    auto j = std::make_unique<journal>();
    journal_recovery rec;
    if (auto ec = j->open(opts_.persistence.directory, opts_.client_id, opts_.persistence.level, rec)) return ec;

    // The received QoS 2 ids awaiting PUBREL: the table grows to hold them all.
    while (rec.inbound.size() > session_.inbound_qos2_capacity()) {
        const std::size_t before = session_.inbound_qos2_capacity();
        grow_inbound_qos2();
        if (session_.inbound_qos2_capacity() == before) break;
    }
    for (const std::uint16_t id : rec.inbound) (void)session_.restore_inbound_qos2(id);

    // Every message that had a packet id goes back into the session with it, in order,
    // however many there are and whatever the window is now: the server may hold that id
    // for it (a QoS 2 one awaiting PUBREL [MQTT-4.3.3-2]), so it is resent under that id
    // [MQTT-4.4.0-1] and the id goes to no other message until it is acknowledged. A
    // smaller window than the last run's limits only new ids: none is taken until fewer
    // than `window` are in flight. Messages without an id go to the queue, in order, and
    // get fresh ids when sent, after the resends.
    std::size_t bound = 0;
    for (const recovered_message& m : rec.outbound) bound += m.packet_id != 0 ? 1 : 0;
    // Room for them all beside what the session holds, and the slots kept for SUBSCRIBE
    // and UNSUBSCRIBE beside the window (the difference of the initial size).
    const std::size_t needed = session_.in_flight() + bound + (out_slots_.size() - opts_.window);
    if (needed > out_slots_.size()) {
        std::vector<core::outbound_slot> bigger(needed);
        // The session views `bigger`'s storage, which the move hands to out_slots_.
        if (session_.rebind_outbound(bigger)) out_slots_ = std::move(bigger);
    }
    for (recovered_message& m : rec.outbound) {
        if (m.packet_id != 0) {
            if (flight* kept = flights_.find(m.packet_id); kept != nullptr && kept->is_publish) {
                // Still here from this engine's last connection (past PUBREC, kept at the
                // stop with its session slot): the same message, whose PUBREL the session
                // resends. Putting it back again would publish it twice.
                kept->seq = m.seq;
                continue;
            }
            // A session slot with no flight (none sends anything for it) gives way to the
            // message; for an id not in use this does nothing.
            (void)session_.abandon_outbound(m.packet_id);
            if (restore_flight(m)) continue;
        }
        queue_.push(m.topic, m.payload, m.qos, m.retain, nullptr, nullptr, m.seq);
    }
    journal_ = std::move(j);
    return {};
}

bool engine::restore_flight(const recovered_message& m) {
    // Fails only when the session has no slot left for it (open_journal made room) or
    // the encoder refuses what the journal checked: then it goes by the queue, whose
    // encoder refuses it visibly, and its id may later pass to another message, which
    // the journal allows (bind_id takes a stale id over).
    if (session_.restore_publish(m.packet_id, m.qos, m.released) != core::error::none) return false;
    const core::publish_packet p{.topic = m.topic,
                                 .payload = m.payload,
                                 .qos = m.qos,
                                 .retain = m.retain,
                                 .dup = true,  // it may have gone out before [MQTT-3.3.1-1]
                                 .packet_id = m.packet_id};
    flight& f = flights_.insert(m.packet_id);
    f.is_publish = true;
    f.seq = m.seq;
    f.released = m.released;  // kept, and its PUBREL sent, if a connect() fails
    f.bytes.resize(core::publish_size(p));
    if (core::encode_publish(p, f.bytes).err == core::error::none) return true;
    flights_.erase(m.packet_id);
    (void)session_.abandon_outbound(m.packet_id);
    return false;
}

void engine::close_journal() {
    if (!journal_) return;
    if (journal_batch_) sync_journal_batch();  // the publishes waiting for it hear how it went
    journal_.reset();  // closing it releases the directory for the next connect() or process
}

std::error_code engine::journal_publish(std::string_view topic, std::span<const std::uint8_t> payload, core::qos q,
                                        bool retain, std::uint64_t& seq) {
    seq = 0;
    if (!journal_ || q == core::qos::at_most_once) return {};
    return journal_->append_publish(q, retain, topic, payload, seq);
}

void engine::journal_bind(std::uint64_t seq, std::uint16_t packet_id) {
    if (journal_ && seq != 0 && journal_->bind_id(seq, packet_id)) ++stats_.journal_errors;
}

void engine::journal_pubrec(std::uint16_t packet_id) {
    if (!journal_) return;
    const flight* f = flights_.find(packet_id);
    if (f == nullptr || f->seq == 0) return;
    // By the flight's own seq: a stale record of another message may carry the same id.
    if (journal_->mark_pubrec(f->seq)) ++stats_.journal_errors;
}

void engine::journal_forget(std::uint64_t seq) {
    if (!journal_ || seq == 0) return;
    if (journal_->remove(seq)) ++stats_.journal_errors;
    journal_compact_a_little();
}

void engine::journal_compact_a_little() {
    // Compaction, a little at a time: about one record's worth of copying per removal or
    // release keeps the file bounded by what is unacknowledged and unreleased without
    // holding up the connection (a client receiving QoS 2 and publishing none included).
    if (journal_->compacting() || journal_->compaction_due()) {
        bool done = false;
        if (journal_->compact_step(16 * 1024, done)) ++stats_.journal_errors;
    }
}

void engine::journal_hold_inbound(std::uint16_t packet_id) {
    // Held once: taken by the application first (journal_accepted), its PUBREC later.
    if (!journal_ || journal_->inbound_held(packet_id)) return;
    if (journal_->hold_inbound(packet_id)) ++stats_.journal_errors;
}

void engine::journal_accepted(const pending_ack& p) {
    // Held from here, a crash before its PUBREC goes costs nothing: the server sends the
    // message again, and the restarted client answers it without delivering it twice.
    if (p.qos2) journal_hold_inbound(p.packet_id);
}

void engine::journal_release_inbound(std::uint16_t packet_id) {
    if (!journal_) return;
    if (journal_->release_inbound(packet_id)) ++stats_.journal_errors;
    journal_compact_a_little();
}

void engine::journal_flush() {
    if (journal_ && journal_->flush()) ++stats_.journal_errors;
}

void engine::journal_connack(bool session_present) {
    if (!journal_ || session_present) return;
    // Without its session the server sends none of the held ids' PUBRELs, and may use them
    // for new messages: held on, they would swallow those.
    if (journal_->inbound_count() != 0 && journal_->release_all_inbound()) ++stats_.journal_errors;
    // Messages past PUBREC go again as PUBLISH now (the server forgot them): bound afresh,
    // they are no longer past PUBREC in the journal either, so that a restart before the
    // new PUBREC sends the PUBLISH again rather than a PUBREL the server cannot match.
    flights_.for_each([&](std::uint16_t id, flight& f) {
        if (f.is_publish && f.seq != 0 && journal_->bind_id(f.seq, id)) ++stats_.journal_errors;
    });
}

std::shared_ptr<signal> engine::journal_batch() {
    if (!journal_batch_) {
        // Everything journaled before this runs shares its one fdatasync: the publishes of
        // this turn of the executor, and those of the coroutines that run before it.
        journal_batch_ = std::make_shared<signal>(ex_);
        asio::post(ex_, [self = shared_from_this()] { self->sync_journal_batch(); });
    }
    return journal_batch_;
}

void engine::sync_journal_batch() {
    auto batch = std::exchange(journal_batch_, nullptr);
    if (!batch) return;  // already synced by close_journal()
    if (journal_) ++stats_.journal_syncs;
    batch->set(journal_ ? journal_->sync() : make_error_code(errc::client_stopped));
}

}  // namespace tether::client::detail
