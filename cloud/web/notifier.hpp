#pragma once
// Hands live changes from the ingest (the io thread) to the HTTP threads serving
// /api/events, without either waiting for the other: publish() only appends to each
// subscriber's bounded queue under a short lock and never blocks on a reader. A
// subscriber whose queue is full (a slow or stalled browser) is dropped — its stream
// ends, and the page reconnects and reloads — rather than ingest slowing down or memory
// growing.
//
//     notifier n({.queue_limit = 256, .max_subscribers = 16});
//     auto sub = n.subscribe("dev1");                  // "" for every device; null when full
//     n.publish({"dev1", R"({"kind":"store",...})"});  // the io thread
//     auto got = sub->wait(std::chrono::seconds(15));  // an HTTP thread
//     if (got.state == wait_state::ended) ...          // dropped, or the notifier closed

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tether::cloud::web {

struct change {
    std::string device_id;  // whose change it is; "" for a fleet-wide one (every subscriber)
    std::string json;       // what the stream sends as one event's data
};

struct notifier_limits {
    std::size_t queue_limit = 256;      // changes waiting for one subscriber
    std::size_t max_subscribers = 16;   // streams open at once (each holds an HTTP thread)
};

enum class wait_state {
    changes,  // `changes` holds at least one
    idle,     // the limit passed with nothing new (send a keep-alive)
    ended,    // overflowed or closed: end the stream
};

struct wait_result {
    wait_state state = wait_state::idle;
    std::vector<change> changes{};
};

class notifier;

class subscription {
public:
    // Waits up to `limit` for changes; returns all that are queued (in publish order).
    [[nodiscard]] wait_result wait(std::chrono::milliseconds limit);
    [[nodiscard]] bool ended() const;

private:
    friend class notifier;
    explicit subscription(std::string device_filter, std::size_t queue_limit)
        : filter_(std::move(device_filter)), queue_limit_(queue_limit) {}
    void offer(const change& c);  // never blocks beyond the lock
    void end();

    std::string filter_;
    std::size_t queue_limit_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<change> queue_;
    bool ended_ = false;
};

class notifier {
public:
    explicit notifier(notifier_limits limits = {}) : limits_(limits) {}

    // A subscriber to the changes of `device_id` ("" for all). Null when max_subscribers
    // are open already, or after close(). Released by dropping the pointer.
    [[nodiscard]] std::shared_ptr<subscription> subscribe(std::string device_id);

    // Offers `c` to every live subscriber it concerns. A subscriber whose queue is full is
    // ended and forgotten. Cheap when no one listens.
    void publish(const change& c);

    // Ends every subscription and refuses new ones (the server is stopping).
    void close();
    // Ends every open subscription but takes new ones: changes may have been missed (the
    // source of changes lost its link), so each page reconnects and reads the state again.
    void end_all();

    [[nodiscard]] std::size_t subscribers() const;
    [[nodiscard]] std::uint64_t dropped() const;  // subscribers ended by overflow so far

private:
    notifier_limits limits_;
    mutable std::mutex mutex_;
    std::vector<std::weak_ptr<subscription>> subscribers_;
    std::uint64_t dropped_ = 0;
    bool closed_ = false;
};

}  // namespace tether::cloud::web
