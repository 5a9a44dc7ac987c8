#include "storage/change_feed.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "storage/database.hpp"

namespace tether::cloud::storage {

namespace {

using nlohmann::json;

// Deepest a payload may nest: the array, a change, its dimensions.
constexpr std::size_t max_depth = 3;

std::string text_of(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// How deeply `text` nests arrays and objects, outside strings; stops counting past `limit`.
std::size_t nesting(std::string_view text, std::size_t limit) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (const char ch : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (ch == '\\') {
                escaped = true;
            } else if (ch == '"') {
                in_string = false;
            }
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) return deepest;
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

}  // namespace

std::vector<live_change> live_changes(const batch& committed) {
    std::vector<live_change> out;
    out.reserve(committed.store.size() + committed.currents.size());
    for (const auto& w : committed.store) {
        out.push_back({w.device_id, text_of(json{{"kind", "store"},
                                                 {"device", w.device_id},
                                                 {"key", w.key},
                                                 {"value", w.value},
                                                 {"type", w.type},
                                                 {"updated", w.updated_ms}})});
    }
    for (const auto& c : committed.currents) {
        json dimensions = json::object();
        for (const auto& [name, value] : c.key.dimensions) dimensions[name] = value;
        out.push_back({"", text_of(json{{"kind", "metric"},
                                        {"namespace", c.key.namespace_name},
                                        {"metric", c.key.metric},
                                        {"dimensions", std::move(dimensions)},
                                        {"value", c.value},
                                        {"time", c.time_ms}})});
    }
    return out;
}

std::vector<std::string> notification_payloads(const std::vector<live_change>& changes, std::size_t limit) {
    std::vector<std::string> out;
    std::string current;
    const auto finish = [&] {
        if (current.empty()) return;
        current += ']';
        out.push_back(std::move(current));
        current.clear();
    };
    for (const live_change& c : changes) {
        std::string one = c.json;
        // "[" + one + "]" must fit alone, or it becomes a reload of its device.
        if (one.size() + 2 > limit) one = text_of(json{{"kind", "reload"}, {"device", c.device_id}});
        if (!current.empty() && current.size() + 1 + one.size() + 1 > limit) finish();
        current += current.empty() ? '[' : ',';
        current += one;
    }
    finish();
    return out;
}

result<std::vector<live_change>> parse_notification(std::string_view payload) {
    if (nesting(payload, max_depth) > max_depth) return error{"change notification: nested too deeply"};
    const json parsed = json::parse(payload, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_array()) return error{"change notification: not a JSON array"};
    std::vector<live_change> out;
    out.reserve(parsed.size());
    for (const json& c : parsed) {
        if (!c.is_object()) return error{"change notification: an item is not an object"};
        const auto device = c.find("device");
        std::string id = device != c.end() && device->is_string() ? device->get<std::string>() : std::string();
        if (id.size() > max_device_id_bytes) return error{"change notification: a device id is too long"};
        out.push_back({std::move(id), text_of(c)});
    }
    return out;
}

}  // namespace tether::cloud::storage
