#include "storage/fleet_reads.hpp"

#include <algorithm>

namespace tether::cloud::storage {

result<std::vector<thing_summary>> read_things(const database& db) {
    try {
        const rows found = db.with_connection([](connection& c) {
            return c.execute(
                "SELECT t.name, t.revoked, t.provisioned_at, c.pem FROM things t "
                "LEFT JOIN certificates c ON c.certificate_id = t.certificate_id");
        });
        std::vector<thing_summary> out;
        out.reserve(found.size());
        for (const row& r : found) {
            out.push_back({r.text(0), r.integer(1) != 0, r.integer(2), r.is_null(3) ? std::string() : r.text(3)});
        }
        // Sorted here: the engines' collations order text differently.
        std::sort(out.begin(), out.end(), [](const thing_summary& a, const thing_summary& b) { return a.name < b.name; });
        return out;
    } catch (const failure& e) {
        return error{e.what()};
    }
}

result<std::vector<store_entry>> read_device_store(const database& db, std::string_view device_id,
                                                   std::int64_t now_ms, std::size_t limit) {
    try {
        const rows found = db.with_connection([&](connection& c) {
            return c.execute(
                "SELECT item_key, item_value, item_type, updated, expires FROM store_items "
                "WHERE device_id = $1 AND (expires IS NULL OR expires > $2) ORDER BY item_key LIMIT $3",
                {std::string(device_id), now_ms, static_cast<std::int64_t>(limit)});
        });
        std::vector<store_entry> out;
        out.reserve(found.size());
        for (const row& r : found) {
            nlohmann::json value = nlohmann::json::parse(r.text(1), nullptr, false);
            if (value.is_discarded()) return error{"the stored value of '" + r.text(0).substr(0, 64) + "' is not JSON"};
            out.push_back({r.text(0), std::move(value), r.text(2), r.integer(3), r.optional_integer(4)});
        }
        std::sort(out.begin(), out.end(), [](const store_entry& a, const store_entry& b) { return a.key < b.key; });
        return out;
    } catch (const failure& e) {
        return error{e.what()};
    }
}

result<std::vector<std::pair<std::string, std::int64_t>>> read_last_writes(const database& db) {
    try {
        const rows found = db.with_connection([](connection& c) {
            return c.execute("SELECT device_id, MAX(updated) FROM store_items GROUP BY device_id");
        });
        std::vector<std::pair<std::string, std::int64_t>> out;
        out.reserve(found.size());
        for (const row& r : found) out.emplace_back(r.text(0), r.integer(1));
        std::sort(out.begin(), out.end());
        return out;
    } catch (const failure& e) {
        return error{e.what()};
    }
}

}  // namespace tether::cloud::storage
