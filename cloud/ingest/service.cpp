#include "ingest/service.hpp"

#include <asio/post.hpp>
#include <string>
#include <vector>

#include "ingest/presence.hpp"
#include "ingest/topics.hpp"
#include "provisioning/topics.hpp"

namespace tether::cloud::ingest {
namespace {
// Rounds of the io_context without a new message before the batch commits (post_flush).
constexpr int idle_rounds = 8;
}  // namespace

service::service(asio::any_io_executor executor, handler& h, client::options mqtt, handler::log_function log,
                 std::string share_group)
    : executor_(executor),
      handler_(h),
      client_(std::move(executor), std::move(mqtt)),
      log_(std::move(log)),
      share_group_(std::move(share_group)),
      spacing_timer_(executor_) {}

void service::schedule_flush() {
    if (flush_posted_) return;
    flush_posted_ = true;
    const auto due = last_commit_ + commit_spacing_;
    if (commit_spacing_.count() > 0 && std::chrono::steady_clock::now() < due) {
        // Under load: the writes until `due` join this batch.
        spacing_timer_.expires_at(due);
        spacing_timer_.async_wait([weak = std::weak_ptr<service*>(self_)](std::error_code ec) {
            const auto self = weak.lock();
            if (!self || ec) return;
            service& s = **self;
            if (s.handler_.pending() == 0) {
                s.flush_posted_ = false;  // committed already (a read, batch_limit())
                return;
            }
            s.flush_now();
        });
        return;
    }
    post_flush(handler_.pending(), 0);
}

void service::flush_now() {
    flush_posted_ = false;
    (void)handler_.flush();  // a failure: told to each message's `done`, logged
    last_commit_ = std::chrono::steady_clock::now();
}

void service::post_flush(std::size_t pending_then, int quiet_rounds) {
    // Runs after the handlers already queued. A message takes several rounds of the
    // io_context to come off the socket (the reactor, TLS, the client's read loop), so
    // the batch is committed once a few rounds in a row brought no new message: the link
    // has nothing more right now. A burst thus commits in few transactions (batch_limit()
    // bounds each), and a lone message waits only for those rounds, not for a timer.
    asio::post(executor_, [weak = std::weak_ptr<service*>(self_), pending_then, quiet_rounds] {
        const auto self = weak.lock();
        if (!self) return;
        service& s = **self;
        const std::size_t now = s.handler_.pending();
        if (now == 0) {
            s.flush_posted_ = false;  // committed already (a read, batch_limit())
            return;
        }
        if (now != pending_then || quiet_rounds + 1 < idle_rounds) {
            s.post_flush(now, now != pending_then ? 0 : quiet_rounds + 1);
            return;
        }
        s.flush_now();
    });
}

void service::on_message(const client::message& m) {
    // Shared: the handler keeps a copyable `done` until the batch commits.
    auto ack = std::make_shared<client::deferred_ack>(m.defer_ack());
    auto done = [ack](bool committed) {
        if (committed) {
            (void)ack->accept();  // connection_lost: the broker delivers it again
        } else {
            ack->reject();
        }
    };
    const handled r = handler_.handle(m.topic, m.text(), clock_now{}, std::move(done));
    if (r.what == outcome::queued) {
        if (handler_.pending() > 0) schedule_flush();
    } else if (r.what == outcome::storage_failed && !r.reply) {
        ack->reject();  // a write that could not be queued: not acknowledged
    } else {
        (void)ack->accept();
    }
    if (!r.reply) return;
    // QoS 1: a reply survives a lost connection. Queued, not awaited: this callback must
    // return for the PUBACK of the request to go out.
    if (const auto ec = client_.publish_now(r.reply->topic, r.reply->payload, client::qos::at_least_once)) {
        ++replies_failed_;
        if (log_) log_("cannot send the reply on " + r.reply->topic + ": " + ec.message());
    }
}

asio::awaitable<std::error_code> service::start() {
    if (auto ec = co_await client_.connect()) co_return ec;
    // Built outside the co_await (GCC 12 and braced lists in coroutines).
    std::vector<client::subscription> subs;
    for (const char* filter : {store_set_filter, store_get_filter, metric_set_filter, metric_get_filter,
                               provisioning::create_from_csr_filter, provisioning::register_thing_filter}) {
        std::string shared = share_group_.empty() ? std::string(filter) : "$share/" + share_group_ + "/" + filter;
        subs.emplace_back(std::move(shared), client::qos::at_least_once,
                          [this](const client::message& m) { on_message(m); });
    }
    // The broker's notices, for devices' connections (presence.hpp). Named exactly: '#'
    // does not reach topics that begin with '$'.
    subs.emplace_back(presence_topic, client::qos::at_least_once, [this](const client::message& m) { on_message(m); });
    const auto r = co_await client_.subscribe(std::move(subs));
    co_return r.ec;
}

asio::awaitable<std::error_code> service::stop(std::chrono::milliseconds limit) {
    spacing_timer_.cancel();
    flush_now();
    co_return co_await client_.disconnect(limit);
}

}  // namespace tether::cloud::ingest
