#include <cmath>
#include <tuple>

#include "storage/database.hpp"
#include "storage/pg_array.hpp"
#include "storage/writers.hpp"

namespace tether::cloud::storage {

namespace {

// Cut, so that a megabyte key cannot make a megabyte message; control characters shown as
// '?', so that a NUL cannot cut the message short where it passes through what().
std::string printable(const std::string& s) {
    std::string out = s.substr(0, 64);
    for (char& ch : out) {
        if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
    }
    return out;
}

std::string describe(const store_write& w) {
    return "store write of '" + printable(w.key) + "' for device '" + printable(w.device_id) + "'";
}

bool type_matches(const nlohmann::json& value, std::string_view type) {
    if (type == "string") return value.is_string();
    if (type == "boolean") return value.is_boolean();
    if (type == "number") return value.is_number() && std::isfinite(value.get<double>());
    return false;
}

}  // namespace

result<void> check_store_write(const store_write& w) {
    const auto refuse = [&](std::string_view why) { return error{describe(w) + ": " + std::string(why)}; };
    if (w.device_id.empty() || w.device_id.size() > max_device_id_bytes) {
        return refuse("the device id must be 1 to " + std::to_string(max_device_id_bytes) + " bytes");
    }
    if (w.key.empty() || w.key.size() > max_store_key_bytes) {
        return refuse("the key must be 1 to " + std::to_string(max_store_key_bytes) + " bytes");
    }
    // PostgreSQL holds no U+0000 in text, and libpq would cut the key there: another key.
    if (w.key.find('\0') != std::string::npos) return refuse("the key must not hold U+0000");
    if (w.type != "string" && w.type != "number" && w.type != "boolean") {
        return refuse("type must be string, number or boolean");
    }
    if (!type_matches(w.value, w.type)) return refuse("the value is not a " + w.type);
    if (w.value.is_string() && w.value.get_ref<const std::string&>().size() + 2 > max_store_value_bytes) {
        return refuse("the value is longer than " + std::to_string(max_store_value_bytes) + " bytes");
    }
    return {};
}

namespace {

struct checked_write {
    const store_write* w;
    std::string text;  // the value as JSON text
};

// On PostgreSQL, the writes of a batch as one statement. ON CONFLICT DO UPDATE may touch a
// row once per statement, so of several writes of one key only the one that applying them
// in order would leave is kept: the last of those with the latest time (rows come sorted by
// key, writes of one key in their order).
statement store_rows_at_once(const std::vector<checked_write>& checked) {
    detail::pg_array devices, keys, values, types, updated, expires;
    for (std::size_t i = 0; i < checked.size();) {
        std::size_t kept = i, end = i + 1;
        for (; end < checked.size() && checked[end].w->device_id == checked[i].w->device_id && checked[end].w->key == checked[i].w->key;
             ++end) {
            if (checked[end].w->updated_ms >= checked[kept].w->updated_ms) kept = end;
        }
        const store_write& w = *checked[kept].w;
        devices.add(w.device_id);
        keys.add(w.key);
        values.add(checked[kept].text);
        types.add(w.type);
        updated.add(w.updated_ms);
        if (w.expires_ms) {
            expires.add(*w.expires_ms);
        } else {
            expires.add_null();
        }
        i = end;
    }
    return {"INSERT INTO store_items (device_id, item_key, item_value, item_type, updated, expires) "
            "SELECT d, k, v, t, u, e FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], "
            "$6::bigint[]) WITH ORDINALITY AS r(d, k, v, t, u, e, n) ORDER BY n "
            "ON CONFLICT (device_id, item_key) DO UPDATE SET "
            "item_value = excluded.item_value, item_type = excluded.item_type, updated = excluded.updated, "
            "expires = excluded.expires WHERE excluded.updated >= store_items.updated",
            {devices.take(), keys.take(), values.take(), types.take(), updated.take(), expires.take()}};
}

}  // namespace

void detail::write_store(const connection& c, const std::vector<store_write>& writes, std::vector<statement>& out) {
    std::vector<checked_write> checked;
    checked.reserve(writes.size());
    for (const std::size_t i : lock_order(writes, [](const store_write& w) { return std::tie(w.device_id, w.key); })) {
        const store_write& w = writes[i];
        if (auto ok = check_store_write(w); !ok) throw failure(ok.err().message);
        std::string text;
        try {
            text = w.value.dump();  // throws on invalid UTF-8 in a string
        } catch (const nlohmann::json::exception&) {
            throw failure(describe(w) + ": the value is not valid UTF-8");
        }
        if (text.size() > max_store_value_bytes) {
            throw failure(describe(w) + ": the value is longer than " + std::to_string(max_store_value_bytes) + " bytes");
        }
        checked.push_back({&w, std::move(text)});
    }
    if (c.kind() == engine::postgresql && checked.size() > 1) {
        out.push_back(store_rows_at_once(checked));
        return;
    }
    for (checked_write& r : checked) {
        const store_write& w = *r.w;
        // An older write (by its time) never replaces a newer one: workers may take a
        // device's messages out of order.
        out.push_back(
            {"INSERT INTO store_items (device_id, item_key, item_value, item_type, updated, expires) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (device_id, item_key) DO UPDATE SET "
            "item_value = excluded.item_value, item_type = excluded.item_type, updated = excluded.updated, "
            "expires = excluded.expires WHERE excluded.updated >= store_items.updated",
             {w.device_id, w.key, std::move(r.text), w.type, w.updated_ms,
              w.expires_ms ? sql_value(*w.expires_ms) : sql_null()}});
    }
}

result<std::optional<store_value>> database::read_store(std::string_view device_id, std::string_view key,
                                                        std::int64_t now_ms) const {
    try {
        const rows found = with_connection([&](connection& c) {
            return c.execute(
                "SELECT item_value, item_type, updated, expires FROM store_items "
                "WHERE device_id = $1 AND item_key = $2 AND (expires IS NULL OR expires > $3)",
                {std::string(device_id), std::string(key), now_ms});
        });
        if (found.empty()) return std::optional<store_value>();
        const row& r = found[0];
        nlohmann::json value = nlohmann::json::parse(r.text(0), nullptr, false);
        if (value.is_discarded()) {
            return error{"the stored value of '" + std::string(key.substr(0, 64)) + "' is not JSON"};
        }
        return std::optional<store_value>(store_value{std::move(value), r.text(1), r.integer(2), r.optional_integer(3)});
    } catch (const failure& e) {
        return error{e.what()};
    }
}

result<std::size_t> database::purge_expired_store(std::int64_t now_ms) {
    try {
        const rows gone = in_transaction([&](connection& c) {
            return c.execute("DELETE FROM store_items WHERE expires <= $1 RETURNING 1", {now_ms});
        });
        return gone.size();
    } catch (const failure& e) {
        return error{e.what()};
    }
}

}  // namespace tether::cloud::storage
