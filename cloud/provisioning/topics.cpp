#include "provisioning/topics.hpp"

#include <algorithm>

#include "provisioning/thing_name.hpp"

namespace tether::cloud::provisioning {

namespace {

constexpr std::string_view root = "tether/provision/";
constexpr std::string_view csr_tail = "/certificates/create-from-csr/json";
constexpr std::string_view template_head = "/provisioning-templates/";
constexpr std::string_view template_tail = "/provision/json";

bool valid_template_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    });
}

}  // namespace

std::optional<request_topic> parse_request_topic(std::string_view topic) {
    if (!topic.starts_with(root)) return std::nullopt;
    topic.remove_prefix(root.size());
    const auto slash = topic.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const std::string_view client_id = topic.substr(0, slash);
    const std::string_view rest = topic.substr(slash);
    if (!is_valid_provisioning_client_id(client_id)) return std::nullopt;
    if (rest == csr_tail) return request_topic{request_kind::create_from_csr, std::string(client_id), {}};
    if (rest.starts_with(template_head) && rest.ends_with(template_tail) &&
        rest.size() > template_head.size() + template_tail.size()) {
        const std::string_view name =
            rest.substr(template_head.size(), rest.size() - template_head.size() - template_tail.size());
        if (valid_template_name(name)) {
            return request_topic{request_kind::register_thing, std::string(client_id), std::string(name)};
        }
    }
    return std::nullopt;
}

std::string request_topic_name(const request_topic& t) {
    std::string out(root);
    out += t.client_id;
    if (t.kind == request_kind::create_from_csr) {
        out += csr_tail;
    } else {
        out += template_head;
        out += t.template_name;
        out += template_tail;
    }
    return out;
}

std::string accepted_topic(std::string_view request_topic) { return std::string(request_topic) + "/accepted"; }

std::string rejected_topic(std::string_view request_topic) { return std::string(request_topic) + "/rejected"; }

message release_message(std::string_view thing_name, std::chrono::system_clock::time_point now) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    return {"ioto/device/" + std::string(thing_name) + "/provision/release", std::to_string(ms)};
}

}  // namespace tether::cloud::provisioning
