#include <algorithm>

#include "storage/database.hpp"
#include "storage/pg_array.hpp"
#include "storage/writers.hpp"

namespace tether::cloud::storage {

void detail::write_devices(const connection& c, const std::vector<device_event>& events, std::vector<statement>& out) {
    const std::string sql =
        "INSERT INTO devices (device_id, first_seen, last_seen, online) VALUES ($1, $2, $2, $3) "
        "ON CONFLICT (device_id) DO UPDATE SET "
        "first_seen = " + std::string(c.least()) + "(devices.first_seen, excluded.first_seen), "
        "last_seen = " + std::string(c.greatest()) + "(devices.last_seen, excluded.last_seen), "
        "online = CASE WHEN excluded.last_seen >= devices.last_seen THEN excluded.online ELSE devices.online END";
    for (const std::size_t i : lock_order(events, [](const device_event& e) { return e.device_id; })) {
        const device_event& e = events[i];
        if (e.device_id.empty() || e.device_id.size() > max_device_id_bytes) {
            throw failure("device event: the device id must be 1 to " + std::to_string(max_device_id_bytes) + " bytes");
        }
        out.push_back({sql, {e.device_id, e.time_ms, std::int64_t{e.online ? 1 : 0}}});
    }
}

void detail::write_seen(const connection& c, const std::vector<device_seen>& seen, std::vector<statement>& out) {
    const std::string update =
        " ON CONFLICT (device_id) DO UPDATE SET "
        "first_seen = " + std::string(c.least()) + "(devices.first_seen, excluded.first_seen), "
        "last_seen = " + std::string(c.greatest()) + "(devices.last_seen, excluded.last_seen)";
    const std::vector<std::size_t> order = lock_order(seen, [](const device_seen& s) { return s.device_id; });
    for (const std::size_t i : order) {
        const device_seen& s = seen[i];
        if (s.device_id.empty() || s.device_id.size() > max_device_id_bytes) {
            throw failure("device seen: the device id must be 1 to " + std::to_string(max_device_id_bytes) + " bytes");
        }
    }
    if (c.kind() == engine::postgresql && order.size() > 1) {
        // One statement for the batch (pg_array.hpp). A row may be touched once per
        // statement: one per device, with its earliest and latest time.
        pg_array ids, firsts, lasts;
        for (std::size_t at = 0; at < order.size();) {
            const device_seen& s = seen[order[at]];
            std::int64_t first = s.time_ms, last = s.time_ms;
            for (++at; at < order.size() && seen[order[at]].device_id == s.device_id; ++at) {
                first = std::min(first, seen[order[at]].time_ms);
                last = std::max(last, seen[order[at]].time_ms);
            }
            ids.add(s.device_id);
            firsts.add(first);
            lasts.add(last);
        }
        out.push_back({"INSERT INTO devices (device_id, first_seen, last_seen, online) SELECT d, f, l, 0 FROM "
                       "unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS u(d, f, l, n) ORDER BY n" + update,
                       {ids.take(), firsts.take(), lasts.take()}});
        return;
    }
    for (const std::size_t i : order) {
        out.push_back({"INSERT INTO devices (device_id, first_seen, last_seen, online) VALUES ($1, $2, $2, 0)" + update,
                       {seen[i].device_id, seen[i].time_ms}});
    }
}

namespace {

device_record to_device(const row& r) { return {r.text(0), r.integer(1), r.integer(2), r.integer(3) != 0}; }

}  // namespace

result<std::optional<device_record>> database::find_device(std::string_view device_id) const {
    try {
        const rows found = with_connection([&](connection& c) {
            return c.execute("SELECT device_id, first_seen, last_seen, online FROM devices WHERE device_id = $1",
                             {std::string(device_id)});
        });
        if (found.empty()) return std::optional<device_record>();
        return std::optional<device_record>(to_device(found[0]));
    } catch (const failure& e) {
        return error{e.what()};
    }
}

result<std::vector<device_record>> database::devices() const {
    try {
        const rows found = with_connection([&](connection& c) {
            return c.execute("SELECT device_id, first_seen, last_seen, online FROM devices");
        });
        std::vector<device_record> out;
        out.reserve(found.size());
        for (const row& r : found) out.push_back(to_device(r));
        // Sorted here: the engines' collations order text differently.
        std::sort(out.begin(), out.end(),
                  [](const device_record& a, const device_record& b) { return a.device_id < b.device_id; });
        return out;
    } catch (const failure& e) {
        return error{e.what()};
    }
}

result<std::size_t> database::mark_all_offline() {
    try {
        return in_transaction([&](connection& c) {
            const rows online = c.execute("SELECT device_id FROM devices WHERE online <> 0");
            // last_seen stays: the device was not seen then. A connection event with an older
            // time could set one online again; those come from this broker, so none is older.
            (void)c.execute("UPDATE devices SET online = 0 WHERE online <> 0");
            return online.size();
        });
    } catch (const failure& e) {
        return error{e.what()};
    }
}

}  // namespace tether::cloud::storage
