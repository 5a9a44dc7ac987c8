#include "ingest/topics.hpp"

#include <algorithm>

#include "storage/store.hpp"

namespace tether::cloud::ingest {
namespace {

constexpr std::string_view prefix = "ioto/service/";

bool is_seq(std::string_view s) noexcept {
    return !s.empty() && s.size() <= max_seq_digits &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<service_topic> parse_service_topic(std::string_view topic) noexcept {
    if (!topic.starts_with(prefix)) return std::nullopt;
    topic.remove_prefix(prefix.size());
    const auto slash = topic.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const std::string_view id = topic.substr(0, slash);
    // A '+' or '#' cannot appear in a topic name a broker delivers, but the id is also
    // the key of the device's rows: refuse what storage would refuse.
    if (id.empty() || id.size() > storage::max_device_id_bytes) return std::nullopt;
    const std::string_view rest = topic.substr(slash + 1);
    if (rest == "store/set") return service_topic{service_kind::store_set, id, {}};
    if (rest == "metric/set") return service_topic{service_kind::metric_set, id, {}};
    for (auto [name, kind] : {std::pair{std::string_view("store/get/"), service_kind::store_get},
                              std::pair{std::string_view("metric/get/"), service_kind::metric_get}}) {
        if (rest.starts_with(name) && is_seq(rest.substr(name.size()))) {
            return service_topic{kind, id, rest.substr(name.size())};
        }
    }
    return std::nullopt;
}

std::string reply_topic(const service_topic& t) {
    const std::string_view what = t.kind == service_kind::metric_get ? "/metric/get/" : "/store/get/";
    std::string out = "ioto/device/";
    out.append(t.device_id).append(what).append(t.seq);
    return out;
}

}  // namespace tether::cloud::ingest
