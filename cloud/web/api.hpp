#pragma once
// The JSON API's answers, without HTTP: each function reads what it needs and returns the
// status and body the server sends. Request parameters come in as text from outside and
// are checked (lengths, ranges, JSON depth) before use; a bad one is a 400 whose body
// names it: {"error": "period: expected whole seconds from 1 to 34560000"}.
//
//     auto r = devices_reply(db, now_ms);  // r.status 200, r.body {"devices": [...]}

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/schema.hpp"
#include "storage/database.hpp"
#include "web/notifier.hpp"

namespace tether::cloud::web {

struct reply {
    int status = 200;
    nlohmann::json body;
};

[[nodiscard]] reply error_reply(int status, std::string message);

// A device that wrote to its Store this recently counts as online when the devices table
// has no record of it (the broker's connection events are not recorded there yet).
inline constexpr std::int64_t online_by_activity_ms = 5 * 60 * 1000;

// GET /api/devices: {"devices": [{"id", "online", "lastSeen" (ms or null),
// "certificateExpires" (ms or null), "provisioned" (ms or null), "revoked"}]}, by id:
// every thing in the registry and every device the devices table knows. 500 when the
// database fails.
[[nodiscard]] reply devices_reply(const storage::database& db, std::int64_t now_ms);

// GET /api/devices/{id}/store: {"device", "items": [{"key", "value", "type", "updated",
// "expires" (ms or null)}]}. 400 for an empty or overlong id (over 128 bytes); 500 when the
// database fails. An unknown device has no items.
[[nodiscard]] reply store_reply(const storage::database& db, std::string_view device_id, std::int64_t now_ms);

// GET /api/schema: {"metrics": [{"namespace", "metric", "dimensions": [{Name: field}]}]},
// one entry per namespace and metric name of the schema's Store metrics.
[[nodiscard]] reply schema_reply(const metrics::schema& schema);

// GET /api/metrics?metric=M[&namespace=N][&dimensions={"Device":"d1"}][&statistic=avg]
// [&period=3600]: a series' points over the last `period` seconds, for a chart.
//   {"namespace", "metric", "dimensions", "statistic", "period", "resolution" (ms),
//    "points": [{"t": interval start ms, "v": value or null}], "value": the statistic
//    over the whole period (null when none), "current": latest value or null}
// statistic is avg, min, max, sum, count or current (no points for current; "value" is
// the latest). Errors (400): no metric, a name over 256 bytes, dimensions that are not a
// flat JSON object of at most 8 strings (or over 2 KiB), an unknown statistic, a period
// outside 1 s..400 days. 500 when the database fails.
[[nodiscard]] reply metrics_reply(const storage::database& db, const metrics::schema& schema,
                                  const std::map<std::string, std::string, std::less<>>& query, std::int64_t now_ms);

// The live changes of a committed batch, as the event stream sends them: a Store write
// {"kind":"store","device","key","value","type","updated"} (for its device) and a
// metric's new current value {"kind":"metric","namespace","metric","dimensions","value",
// "time"} (for every stream: series are not per device); storage/change_feed.hpp makes them.
[[nodiscard]] std::vector<change> changes_of(const storage::batch& committed);

}  // namespace tether::cloud::web
