#pragma once
// The device → cloud topics of PROTOCOL.md §1 as the ingest reads them, and the reply
// topics of §2.
//
//     auto t = parse_service_topic("ioto/service/dev1/store/get/7");
//     // t->kind == service_kind::store_get, t->device_id == "dev1", t->seq == "7"
//     reply_topic(*t)  // "ioto/device/dev1/store/get/7"

#include <optional>
#include <string>
#include <string_view>

namespace tether::cloud::ingest {

enum class service_kind { store_set, store_get, metric_set, metric_get };

struct service_topic {
    service_kind kind;
    std::string_view device_id;  // views into the parsed topic
    std::string_view seq;        // store_get and metric_get only
};

// Longest {seq} accepted: 20 decimal digits hold any 64-bit counter.
inline constexpr std::size_t max_seq_digits = 20;

// The filters the cloud subscribes to, one per kind.
inline constexpr const char* store_set_filter = "ioto/service/+/store/set";
inline constexpr const char* store_get_filter = "ioto/service/+/store/get/+";
inline constexpr const char* metric_set_filter = "ioto/service/+/metric/set";
inline constexpr const char* metric_get_filter = "ioto/service/+/metric/get/+";

// The request `topic` names, or nullopt when it is not exactly one of the four forms, the
// device id is empty or longer than storage::max_device_id_bytes, or {seq} is not 1 to
// max_seq_digits decimal digits. The result views into `topic`.
[[nodiscard]] std::optional<service_topic> parse_service_topic(std::string_view topic) noexcept;

// Where the answer to a store/get or metric/get goes: ioto/device/{id}/{topic}/{seq}.
[[nodiscard]] std::string reply_topic(const service_topic& t);

}  // namespace tether::cloud::ingest
