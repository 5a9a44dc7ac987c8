#include "tether/device/store_reply.hpp"

#include <cmath>

#include "tether/device/error.hpp"

namespace tether::device {

using nlohmann::json;

store_result<json> parse_store_reply(std::string_view payload) {
    store_result<json> r;
    if (payload.size() > max_reply_size) {
        r.ec = errc::bad_reply;
        r.error_message = "reply of " + std::to_string(payload.size()) + " bytes";
        return r;
    }
    json v = json::parse(payload, nullptr, false);
    if (v.is_discarded()) {
        r.ec = errc::bad_reply;
        r.error_message = "the reply is not JSON";
        return r;
    }
    if (v.is_null()) {
        r.ec = errc::not_found;
        return r;
    }
    if (v.is_object() && v.size() == 1 && v.contains("error")) {
        r.ec = errc::cloud_error;
        r.error_message = v["error"].is_string() ? v["error"].get<std::string>() : v["error"].dump();
        return r;
    }
    r.value = std::move(v);
    return r;
}

template <class T>
store_result<T> convert_store_value(store_result<json> reply) {
    store_result<T> r;
    r.ec = reply.ec;
    r.error_message = std::move(reply.error_message);
    if (r.ec) return r;
    const json& v = *reply.value;
    if constexpr (std::is_same_v<T, json>) {
        r.value = v;
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (v.is_string()) r.value = v.get<std::string>();
    } else if constexpr (std::is_same_v<T, bool>) {
        if (v.is_boolean()) r.value = v.get<bool>();
    } else if constexpr (std::is_same_v<T, double>) {
        if (v.is_number()) r.value = v.get<double>();
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
        if (v.is_number_integer() && (!v.is_number_unsigned() || v.get<std::uint64_t>() <= INT64_MAX)) {
            r.value = v.get<std::int64_t>();
        } else if (v.is_number_float()) {
            const double d = v.get<double>();
            // Exactly representable integers only; 2^63 itself is out of range.
            if (std::trunc(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
                r.value = static_cast<std::int64_t>(d);
            }
        }
    }
    if (!r.value) {
        r.ec = errc::wrong_type;
        r.error_message = "got " + std::string(v.type_name());
    }
    return r;
}

json json_number(double value) {
    constexpr double exact = 9007199254740992.0;  // 2^53: every whole double within it is an exact int64
    if (std::isfinite(value) && std::trunc(value) == value && value > -exact && value < exact) {
        return json(static_cast<std::int64_t>(value));
    }
    return json(value);
}

template store_result<json> convert_store_value<json>(store_result<json>);
template store_result<std::string> convert_store_value<std::string>(store_result<json>);
template store_result<bool> convert_store_value<bool>(store_result<json>);
template store_result<double> convert_store_value<double>(store_result<json>);
template store_result<std::int64_t> convert_store_value<std::int64_t>(store_result<json>);

}  // namespace tether::device
