#pragma once
// What the cloud does with one message from the broker, without MQTT: the topic and body
// in; storage written and the reply to publish, if any, out. A write is either committed
// before handle() returns, or (given a `done` callback) gathered with others into one
// transaction (group commit) and `done` told when that commits or fails.
//
//     handler h(db, registry, provisioning, schema);
//     auto r = h.handle("ioto/service/dev1/store/get/7", R"({"key":"cpu"})", clock_now());
//     if (r.reply) publish(r.reply->topic, r.reply->payload);  // ioto/device/dev1/store/get/7, 55
//
//     auto w = h.handle("ioto/service/dev1/store/set", body, clock_now(), [](bool committed) { ... });
//     // w.what == outcome::queued: `done` runs at the next flush(), at the latest.
//
// Not thread-safe: one handler per io_context thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/recent_ids.hpp"
#include "ingest/pending_batch.hpp"
#include "ingest/refusals.hpp"
#include "ingest/topics.hpp"
#include "metrics/schema.hpp"
#include "provisioning/provisioning_service.hpp"
#include "provisioning/registry.hpp"
#include "storage/database.hpp"

namespace tether::cloud::ingest {

// The most messages in one group-commit batch unless batch_limit() says otherwise. The
// broker must let at least this many unacknowledged messages through to the service
// (provisioning/broker_config.hpp: max_inflight_messages), or it caps each batch.
inline constexpr std::size_t default_batch_limit = 256;

// How long the ingest trusts the registry's "known and unrevoked" for a device without
// asking again. Asking is a read transaction of its own (on SQLite two fcntl locks and a
// B-tree descent, on PostgreSQL a round trip): once per message it cost a fifth of the
// service's CPU per write with 10,000 devices writing twice a second (docs/CLOUD.md).
// Only "known" is remembered, so a device provisioned a moment ago is recognised at its
// first message. A revocation in this process takes effect at once (forget_device). One
// made elsewhere (the CLI, the web process, another worker) closes the device's connection
// at the broker, whose log line about it makes the ingest ask again; where no such line
// comes (no $SYS log, another cluster node, a failed closing) it takes effect within
// known_ttl, so writes the device sends in that time may still be stored.
inline constexpr std::chrono::seconds known_ttl{5};

// A device's last_seen is at most this far behind its last message (never ahead): a
// message within it of the last_seen this handler wrote for the device does not write it. Every message used to: with
// thousands of devices each writing every second, the row of each device in every
// transaction was about half of the pages SQLite wrote and synced per write.
inline constexpr std::chrono::seconds last_seen_resolution{5};

enum class outcome {
    stored,          // a Store write or metric value committed
    answered,        // a read answered (the reply may be null or an error from storage)
    provisioning,    // a provisioning request answered (accepted or rejected)
    unknown_device,  // {id} is no known, unrevoked thing: refused, nothing stored
    malformed,       // the body was refused (a read gets an {"error"} reply)
    not_ours,        // a topic that is none of the six forms, or a broker log line about no device: ignored
    presence,        // a device's connection or disconnection, from the broker's log, recorded
    storage_failed,  // the database failed: nothing of this message is stored
    queued,          // a write waits in the pending batch; its `done` says how its commit went
};

struct outgoing {
    std::string topic;
    std::string payload;
};

struct handled {
    outcome what = outcome::not_ours;
    std::optional<outgoing> reply{};
    std::string problem{};  // why, for malformed and storage_failed
};

struct clock_now {
    std::chrono::system_clock::time_point wall = std::chrono::system_clock::now();
    std::chrono::steady_clock::time_point steady = std::chrono::steady_clock::now();
};

struct counters {
    std::uint64_t stored = 0, answered = 0, provisioning = 0, unknown_device = 0, malformed = 0, not_ours = 0,
                  storage_failed = 0, presence = 0;
    // Transactions the handler committed or tried (group commit: far fewer than writes).
    std::uint64_t transactions = 0;
};

class handler {
public:
    using log_function = std::function<void(std::string_view line)>;

    // Every reference must outlive the handler. `log` gets one line per event worth a
    // person's attention (a refused unknown device, at most once per device and minute;
    // a storage failure); null: nothing is logged.
    handler(storage::database& db, provisioning::registry& registry, provisioning::provisioning_service& provisioning,
            std::shared_ptr<const metrics::schema> schema, log_function log = {});

    // Handles one message; never throws for bad input or a failing database.
    //   store/set    the write and the metrics its schema routes it to, in one transaction
    //   metric/set   the value into each series it names (current value and points), in one
    //                transaction. A metric's `buffer` is not held in memory: a value is
    //                acknowledged only once committed, and PUBACKs go in order
    //                [MQTT-4.6.0-2], so holding one for `elapsed` seconds would hold every
    //                later ack of its device's connection. Instead the values of one
    //                series in one batch are merged into one point update per span and
    //                interval (pending_batch.hpp); the batch, milliseconds, meets any
    //                buffer's bounds.
    //   store/get    reply: the value as JSON, null when missing or expired
    //   metric/get   reply: the statistic as a number, null when there is none
    //   provisioning reply on the accepted or rejected topic (provisioning_service)
    //   $SYS/broker/log/N  a known device connected or disconnected (presence.hpp): its
    //                online flag, in a transaction
    // Every message of a known device also moves its last_seen (storage::device_seen), to
    // last_seen_resolution.
    // A metric/set or metric/get whose dimensions name another device (Device: other) is
    // refused as malformed: a device reads and writes its own series and fleet-wide ones.
    // A read that fails replies {"error":"<message>"}; a refused write replies nothing
    // (PROTOCOL.md has no reply topic for writes).
    [[nodiscard]] handled handle(std::string_view topic, std::string_view payload, const clock_now& now);

    // Group commit. Told whether the write of one message committed (true) or failed with
    // its whole batch (false: nothing of it is stored). Must not throw.
    using commit_done = std::function<void(bool committed)>;
    // As above, except that a valid store/set or metric/set of a known device is not
    // committed at once: its rows join the pending batch and the result is outcome::queued;
    // `done` runs when the batch commits or fails (counted then as stored or
    // storage_failed). The batch is committed by flush(), and by handle() itself once it
    // holds batch_limit() messages, and before any other message (a read, a provisioning
    // request, a broker log line) is handled, so that it sees every write before it.
    // Every other outcome is as above and `done` is dropped uncalled.
    [[nodiscard]] handled handle(std::string_view topic, std::string_view payload, const clock_now& now,
                                 commit_done done);
    // Commits the pending batch in one transaction (nothing to do: success), then tells
    // each of its messages' `done`, and the commit observer on success. Errors: those of
    // storage::database::apply(); nothing of the batch is then stored.
    result<void> flush();
    [[nodiscard]] std::size_t pending() const noexcept { return pending_done_.size(); }
    // Most messages in one batch (0 counts as 1). Default default_batch_limit; keep it within the MQTT
    // client's max_pending_acks.
    void batch_limit(std::size_t n) noexcept { batch_limit_ = n == 0 ? 1 : n; }
    [[nodiscard]] std::size_t batch_limit() const noexcept { return batch_limit_; }

    [[nodiscard]] const counters& stats() const noexcept { return counters_; }

    // Broker log lines stamped before `seconds` (since the epoch) are ignored: lines about
    // the clients of a previous broker, saved in its queue for this service (presence.hpp).
    void ignore_presence_before(std::int64_t seconds) noexcept { presence_since_s_ = seconds; }

    // Told of every batch right after it commits, on the handler's thread, inside handle()
    // or flush(): Store writes and metric values as stored (the web part's live updates).
    // One observer; a new one replaces the last. It must not throw.
    // The device schema from now on (a null one: no Store metrics). Written messages
    // already committed keep what the old one fed.
    void replace_schema(std::shared_ptr<const metrics::schema> s) {
        schema_ = s ? std::move(s) : std::make_shared<const metrics::schema>();
    }

    // `device_id` was revoked by this process: its next message asks the registry (rather
    // than trusting what it said within known_ttl).
    void forget_device(std::string_view device_id) { known_.forget(device_id); }

    using commit_observer = std::function<void(const storage::batch& committed)>;
    void observe_commits(commit_observer o) { observer_ = std::move(o); }

private:
    // Whether `device_id` is a provisioned, unrevoked thing: the registry, or what it said
    // within known_ttl before `now`. Throws when the registry's storage fails.
    [[nodiscard]] bool known(std::string_view device_id, std::chrono::steady_clock::time_point now);
    handled count(handled h);
    [[nodiscard]] handled handle_device(const service_topic& t, std::string_view payload, std::int64_t now_ms);
    [[nodiscard]] handled handle_presence(std::string_view payload, const clock_now& now);
    // Applies `b`, with the pending last-seen of the message in hand (seen_) added to it.
    [[nodiscard]] result<void> commit(storage::batch& b);
    // What one write stores: metric values (all at time_ms) and perhaps a Store value.
    struct message_rows {
        std::vector<metrics::feed> feeds;
        std::optional<storage::store_write> store;
        std::int64_t time_ms = 0;
    };
    // A write's rows: committed at once, or merged into pending_ when done_ is set.
    [[nodiscard]] handled write(message_rows m);
    // Applies `b` in one transaction, counting it; tells the observer on success.
    [[nodiscard]] result<void> apply(const storage::batch& b);

    storage::database& db_;
    provisioning::registry& registry_;
    provisioning::provisioning_service& provisioning_;
    std::shared_ptr<const metrics::schema> schema_;
    log_function log_;
    refusal_log unknown_;
    recent_ids known_{known_ttl};
    recent_ids seen_written_{last_seen_resolution};  // last_seen queued or committed lately
    counters counters_;
    commit_observer observer_;
    std::optional<storage::device_seen> seen_;
    std::int64_t presence_since_s_ = 0;
    // Group commit: the rows of the queued writes (merged), and each one's `done`, in
    // arrival order.
    pending_batch pending_;
    std::vector<commit_done> pending_done_;
    std::optional<commit_done> done_;  // of the message in hand, while handle() runs
    std::size_t batch_limit_ = default_batch_limit;
};

}  // namespace tether::cloud::ingest
