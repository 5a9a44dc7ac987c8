#pragma once
// The live changes of committed batches, for the Device Manager of another process: the
// writers (workers) announce each batch's changes inside its transaction with PostgreSQL's
// NOTIFY on one channel, so that a listener (change_listener.hpp) hears exactly what was
// committed, in commit order, and nothing of a batch rolled back.
//
// A change is what the Device Manager's event stream sends (web/api.hpp): a Store write
//   {"kind":"store","device","key","value","type","updated"}
// and a metric's new current value
//   {"kind":"metric","namespace","metric","dimensions","value","time"}.
// A notification carries a JSON array of them, at most max_notification_bytes long (the
// server refuses payloads of 8,000 bytes and more). A change too long for one notification
// (a Store value of up to 64 KiB) travels as {"kind":"reload","device"}: the page reads
// that device's Store again.
//
//     auto payloads = notification_payloads(live_changes(batch));   // writer, in the transaction
//     auto changes = parse_notification(payload);                   // listener

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "storage/result.hpp"

namespace tether::cloud::storage {

struct batch;

// The channel the writers NOTIFY and listeners LISTEN on.
inline constexpr std::string_view change_channel = "tether_changes";
// Below PostgreSQL's limit of 8,000 bytes per payload.
inline constexpr std::size_t max_notification_bytes = 7'900;

struct live_change {
    std::string device_id;  // whose change it is; "" for a fleet-wide one (a metric series)
    std::string json;       // one change object, as the event stream sends it
};

// The changes of a committed batch: its Store writes, then its series' current values.
[[nodiscard]] std::vector<live_change> live_changes(const batch& committed);

// `changes` packed, in order, into JSON arrays of at most `limit` bytes each; a change
// longer than that alone becomes a reload of its device.
[[nodiscard]] std::vector<std::string> notification_payloads(const std::vector<live_change>& changes,
                                                             std::size_t limit = max_notification_bytes);

// The changes of one payload. Errors: not a JSON array of objects, or nested deeper than
// a change is (the payload comes from the database, but any client may NOTIFY).
[[nodiscard]] result<std::vector<live_change>> parse_notification(std::string_view payload);

}  // namespace tether::cloud::storage
