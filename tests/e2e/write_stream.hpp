#pragma once
// A device writing w0, w1, w2, ... to its Store, one at a time and each awaited (QoS 1,
// acknowledged by the broker), on a thread of its own until stop(): what the kill tests
// stream while they kill a cloud process. `acknowledged` holds the writes the device was
// told were delivered; a write that failed may or may not be stored.

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "cloud_run.hpp"
#include "tether/device/device.hpp"

namespace tether::e2e {

class write_stream {
public:
    // `then` runs on the stream's thread after the last write, before the device stops
    // (reads back, say); it may be empty.
    using after = std::function<asio::awaitable<void>(device::device&, const std::vector<int>& acknowledged)>;

    write_stream(const fs::path& device_dir, device::device_options options = {}, after then = {})
        : dev_(io_.get_executor(), device_dir, options), then_(std::move(then)) {
        asio::co_spawn(io_, run(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~write_stream() { (void)stop(); }
    write_stream(const write_stream&) = delete;
    write_stream& operator=(const write_stream&) = delete;

    // Waits (up to `limit`) until at least `n` writes were acknowledged; false when the
    // stream ended or the limit passed first.
    bool wait_acked(int n, std::chrono::milliseconds limit = 60s) {
        return wait_until([&] { return acked_ >= n || done_; }, limit) && acked_ >= n;
    }
    [[nodiscard]] int acked() const { return acked_; }

    // Ends the stream after the write in hand, runs `then`, stops the device; waits (up to
    // `limit`) for all that. Returns whether it finished; the thread is joined either way.
    bool stop(std::chrono::milliseconds limit = 300s) {
        if (!thread_.joinable()) return finished_;
        stop_ = true;
        finished_ = wait_until([&] { return done_.load(); }, limit);
        if (!finished_) io_.stop();
        thread_.join();
        return finished_;
    }

    // Read after stop().
    [[nodiscard]] const std::vector<int>& acknowledged() const { return acknowledged_; }
    [[nodiscard]] const std::string& start_error() const { return start_error_; }

private:
    asio::awaitable<void> run() {
        if (const auto ec = co_await dev_.start()) {
            start_error_ = ec.message();
            done_ = true;
            co_return;
        }
        for (int i = 0; !stop_; ++i) {
            const std::string key = "w" + std::to_string(i);
            const device::store_value value = static_cast<double>(i);
            if (!co_await dev_.set(key, value, client::wait::ack)) {
                acknowledged_.push_back(i);
                ++acked_;
            }
        }
        if (then_) co_await then_(dev_, acknowledged_);
        co_await dev_.stop();
        done_ = true;
    }

    asio::io_context io_;
    device::device dev_;
    after then_;
    std::atomic<int> acked_{0};
    std::atomic<bool> stop_{false};
    std::atomic<bool> done_{false};
    bool finished_ = false;
    std::vector<int> acknowledged_;  // by the stream's thread; read after stop()
    std::string start_error_;
    std::thread thread_;
};

}  // namespace tether::e2e
