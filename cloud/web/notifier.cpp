#include "web/notifier.hpp"

#include <algorithm>

namespace tether::cloud::web {

wait_result subscription::wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, limit, [&] { return ended_ || !queue_.empty(); });
    if (ended_) return {wait_state::ended, {}};
    if (queue_.empty()) return {wait_state::idle, {}};
    wait_result r{wait_state::changes, {}};
    r.changes.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    return r;
}

bool subscription::ended() const {
    std::lock_guard lock(mutex_);
    return ended_;
}

void subscription::offer(const change& c) {
    if (!filter_.empty() && !c.device_id.empty() && c.device_id != filter_) return;
    {
        std::lock_guard lock(mutex_);
        if (ended_) return;
        if (queue_.size() >= queue_limit_) {
            // Too slow: the stream ends rather than ingest waiting or memory growing.
            ended_ = true;
            queue_.clear();
        } else {
            queue_.push_back(c);
        }
    }
    ready_.notify_one();
}

void subscription::end() {
    {
        std::lock_guard lock(mutex_);
        ended_ = true;
        queue_.clear();
    }
    ready_.notify_one();
}

std::shared_ptr<subscription> notifier::subscribe(std::string device_id) {
    std::lock_guard lock(mutex_);
    std::erase_if(subscribers_, [](const auto& w) {
        auto s = w.lock();
        return !s || s->ended();
    });
    if (closed_ || subscribers_.size() >= limits_.max_subscribers) return nullptr;
    std::shared_ptr<subscription> s(new subscription(std::move(device_id), limits_.queue_limit));
    subscribers_.push_back(s);
    return s;
}

void notifier::publish(const change& c) {
    std::lock_guard lock(mutex_);
    if (subscribers_.empty()) return;
    std::erase_if(subscribers_, [&](const auto& w) {
        auto s = w.lock();
        if (!s) return true;
        s->offer(c);
        if (s->ended()) {
            ++dropped_;
            return true;
        }
        return false;
    });
}

void notifier::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (auto& w : subscribers_) {
        if (auto s = w.lock()) s->end();
    }
    subscribers_.clear();
}

void notifier::end_all() {
    std::lock_guard lock(mutex_);
    for (auto& w : subscribers_) {
        if (auto s = w.lock()) s->end();
    }
    subscribers_.clear();
}

std::size_t notifier::subscribers() const {
    std::lock_guard lock(mutex_);
    return subscribers_.size();
}

std::uint64_t notifier::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

}  // namespace tether::cloud::web
