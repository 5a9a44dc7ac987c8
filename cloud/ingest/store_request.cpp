#include "ingest/store_request.hpp"

#include <limits>

namespace tether::cloud::ingest {
namespace {

result<std::string> string_member(const nlohmann::json& body, const char* name) {
    const auto it = body.find(name);
    if (it == body.end() || !it->is_string()) return error{std::string(name) + ": expected a string"};
    return it->get<std::string>();
}

}  // namespace

result<storage::store_write> parse_store_set(const nlohmann::json& body, std::string_view device_id,
                                             std::int64_t now_ms) {
    if (!body.is_object()) return error{"body: expected an object"};
    auto key = string_member(body, "key");
    if (!key) return key.err();
    auto type = string_member(body, "type");
    if (!type) return type.err();
    const auto value = body.find("value");
    if (value == body.end()) return error{"value: missing"};
    storage::store_write w{.device_id = std::string(device_id),
                           .key = std::move(key.value()),
                           .value = *value,
                           .type = std::move(type.value()),
                           .updated_ms = now_ms};
    if (const auto expires = body.find("expires"); expires != body.end() && !expires->is_null()) {
        if (!expires->is_number_integer() && !expires->is_number_unsigned()) {
            return error{"expires: expected whole ms since the epoch"};
        }
        if (expires->is_number_unsigned() &&
            expires->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return error{"expires: expected whole ms since the epoch"};
        }
        w.expires_ms = expires->get<std::int64_t>();
    }
    if (auto ok = storage::check_store_write(w); !ok) return ok.err();
    return w;
}

result<std::string> parse_store_get(const nlohmann::json& body) {
    if (!body.is_object()) return error{"body: expected an object"};
    auto key = string_member(body, "key");
    if (!key) return key.err();
    if (key.value().empty() || key.value().size() > storage::max_store_key_bytes) {
        return error{"key: must be 1 to " + std::to_string(storage::max_store_key_bytes) + " bytes"};
    }
    if (key.value().find('\0') != std::string::npos) return error{"key: must not hold U+0000"};
    return key;
}

}  // namespace tether::cloud::ingest
