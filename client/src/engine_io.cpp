// The connection's I/O: reading, writing and the keep-alive ticker, as completion handlers
// rather than coroutines. While a connection waits, each costs one small pending operation
// (a coroutine per loop would hold kilobytes of frames per idle connection), and Asio's
// recycling allocator reuses those operations, so steady traffic allocates nothing.
//
// Handlers capture `this`: attempt(), which runs inside run() holding the engine, does not
// return before the link has failed and every handler counted in io_pending_ has run.

#include <algorithm>
#include <asio/bind_allocator.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "engine.hpp"

namespace tether::client::detail {

void engine::start_io() {
    read_next();
    arm_ticker();
    schedule_write();  // the CONNECT
}

void engine::io_finished() {
    if (link_failed_ && io_pending_ == 0) pause_.cancel();
}

void engine::fail_connection(std::error_code ec) {
    if (link_failed_) return;
    link_failed_ = true;
    link_failed_at_ = now();
    link_error_ = ec;
    session_.connection_lost();
    drop_pending_acks();  // the server sends those messages again (engine_ack.cpp)
    if (link_) link_->close();  // what is pending completes with operation_aborted
    ticker_.cancel();
    if (state_ == state::connected) state_ = state::reconnecting;
    // Bytes not written are gone with the link. A QoS 1/2 PUBLISH among them is sent again
    // after the reconnect, so its `sent` waiter waits on; a QoS 0 one has failed.
    fail_sent_waiters([](const sent_waiter& w) { return w.packet_id == 0; }, make_error_code(errc::connection_lost));
    for (auto& p : ping_waiters_) p->set(make_error_code(errc::connection_lost));
    ping_waiters_.clear();
    io_finished();
}

// ---------------------------------------------------------------- reading

bool engine::grow_rx(std::size_t size) {
    std::vector<std::uint8_t> bigger(size + 1);  // the spare byte: room for a NUL after a payload
    if (!session_.rx_rebind(std::span(bigger).first(size))) return false;
    rx_.swap(bigger);
    return true;
}

void engine::read_next() {
    auto space = session_.rx_space();
    if (space.empty()) {
        // A packet larger than the buffer: grow to its size (the session has already
        // refused anything past max_packet_size).
        if (!grow_rx(std::max(session_.rx_frame_size(), 2 * (rx_.size() - 1)))) {
            fail_connection(make_error_code(errc::message_too_large));
            return;
        }
        space = session_.rx_space();
    }
    ++io_pending_;
    link_->async_read_some(space, [this, asked = space.size()](std::error_code ec, std::size_t n) {
        on_read(ec, n, asked);
    });
}

void engine::on_read(std::error_code ec, std::size_t n, std::size_t asked) {
    --io_pending_;
    if (!link_failed_) {
        if (ec) {
            fail_connection(ec == asio::error::eof ? make_error_code(errc::connection_lost) : ec);
        } else {
            session_.rx_commit(n);
            // A read that filled the buffer: more is coming, so read more at once next time.
            if (n == asked && rx_.size() - 1 < busy_rx) (void)grow_rx(2 * (rx_.size() - 1));
            ++stats_.reads;
            stats_.bytes_read += n;
            process_events();
            if (!link_failed_) read_next();
        }
    }
    io_finished();
}

// ---------------------------------------------------------------- writing

void engine::append(std::span<const std::uint8_t> bytes) {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    appended_ += bytes.size();
    schedule_write();
}

void engine::watch_sent(const std::shared_ptr<signal>& sig, std::uint16_t packet_id) {
    if (sig) sent_waiters_.push_back({appended_, sig, packet_id});
}

void engine::schedule_write() {
    if (write_scheduled_ || write_busy_ || link_failed_ || !link_ || out_.empty()) return;
    // Posted rather than started: a write started now would go out at once, a system call
    // per packet; posted, it takes everything appended until the executor comes round.
    // (Starting the application's writes at once when the link is idle was tried: no
    // measurable gain in latency, and fewer packets per write.)
    write_scheduled_ = true;
    ++io_pending_;
    // The operation holds the engine: destroyed unrun (the loop stopped, then the
    // io_context destroyed), it gives its memory back before the engine can go.
    auto run = [self = shared_from_this()] {
        engine& e = *self;
        --e.io_pending_;
        e.write_scheduled_ = false;
        e.write_next();
        e.io_finished();
    };
    // On an io_context's executor (what a client usually runs on), the operation lives in
    // post_memory_: one is posted at a time, so nothing is allocated per write. Through the
    // type-erased executor the function is wrapped and the wrapper queued, two allocations
    // that Asio's recycling cache does not always catch (two per awaited publish, measured).
    if (auto* io = ex_.target<asio::io_context::executor_type>()) {
        asio::post(*io, asio::bind_allocator(handler_allocator<void, basic_handler_memory<64>>(post_memory_), std::move(run)));
    } else {
        asio::post(ex_, std::move(run));
    }
}

void engine::write_next() {
    if (link_failed_ || write_busy_ || out_.empty()) return;
    journal_flush();  // a PUBLISH leaves after the record of its packet id
    writing_.swap(out_);  // out_ takes the old buffer, empty with its capacity
    write_offset_ = 0;
    write_more();
}

void engine::write_more() {
    write_busy_ = true;
    ++io_pending_;
    link_->async_write_some(std::span(writing_).subspan(write_offset_),
                            [this](std::error_code ec, std::size_t n) { on_written(ec, n); });
}

void engine::on_written(std::error_code ec, std::size_t n) {
    --io_pending_;
    write_busy_ = false;
    if (!link_failed_) {
        if (ec) {
            fail_connection(ec);
        } else {
            write_offset_ += n;
            written_ += n;
            ++stats_.writes;
            stats_.bytes_written += n;
            wake_sent_waiters();
            if (write_offset_ < writing_.size()) {
                write_more();
            } else {
                writing_.clear();
                write_next();  // what was appended meanwhile, in one write
                drain_queue();  // QoS 0 messages that waited for room in the write buffer
                check_drained();
            }
        }
    }
    io_finished();
}

void engine::wake_sent_waiters() {
    while (sent_head_ < sent_waiters_.size() && sent_waiters_[sent_head_].end <= written_) {
        sent_waiters_[sent_head_].sig->set();
        sent_waiters_[sent_head_].sig.reset();
        ++sent_head_;
    }
    if (sent_head_ == sent_waiters_.size()) {
        sent_waiters_.clear();
        sent_head_ = 0;
    } else if (sent_head_ >= 64 && 2 * sent_head_ >= sent_waiters_.size()) {
        // Done ones are dropped in bulk, so the vector does not grow under a steady flow.
        sent_waiters_.erase(sent_waiters_.begin(), sent_waiters_.begin() + static_cast<std::ptrdiff_t>(sent_head_));
        sent_head_ = 0;
    }
}

// ---------------------------------------------------------------- the ticker

void engine::arm_ticker() {
    if (link_failed_) return;
    core::millis wait_ms = session_.next_timeout(now());
    if (settling_probe_ != 0) wait_ms = std::min(wait_ms, settle_left());
    auto deadline = std::chrono::steady_clock::now() +
                    (wait_ms == core::no_timeout ? std::chrono::milliseconds(std::chrono::hours(1))
                                                 : std::chrono::milliseconds(wait_ms));
    if (state_ != state::connected) deadline = std::min(deadline, connect_deadline_);
    ticker_.expires_at(deadline);  // a wait under way completes with operation_aborted
    ++io_pending_;
    ticker_.async_wait([this](std::error_code ec) { on_tick(ec); });
}

void engine::on_tick(std::error_code ec) {
    --io_pending_;
    // Aborted: re-armed by arm_ticker(), or the link failed. Either way not this wait's turn.
    if (!link_failed_ && ec != asio::error::operation_aborted) {
        if (state_ != state::connected && std::chrono::steady_clock::now() >= connect_deadline_) {
            fail_connection(make_error_code(errc::timeout));
        } else {
            write_settled_probe();
            process_events();  // PINGREQ due, or a response overdue
            arm_ticker();
        }
    }
    io_finished();
}

}  // namespace tether::client::detail
