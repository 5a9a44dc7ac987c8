#include "provisioning/provisioning_service.hpp"

#include <exception>
#include <variant>

#include "provisioning/csr.hpp"
#include "provisioning/keys.hpp"
#include "provisioning/random.hpp"
#include "provisioning/rejection.hpp"
#include "provisioning/thing_name.hpp"

namespace tether::cloud::provisioning {

namespace {

using nlohmann::json;

reply rejected(const std::string& request_topic, const rejection& r) {
    return {rejected_topic(request_topic), r.body().dump(), false};
}

reply accepted(const std::string& request_topic, const json& body) {
    return {accepted_topic(request_topic), body.dump(), true};
}

rejection bad_payload(std::string message) { return {400, error_code::invalid_payload, std::move(message)}; }

// The body as a JSON object, or why not.
std::variant<json, rejection> parse_body(std::string_view payload) {
    if (payload.size() > max_request_size) {
        return bad_payload("request of " + std::to_string(payload.size()) + " bytes is larger than " +
                           std::to_string(max_request_size));
    }
    json body = json::parse(payload, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return bad_payload("the request is not a JSON object");
    return body;
}

std::uint64_t crl_number(time_point now) {
    // Milliseconds since the epoch: grows with every rewrite without a counter to store.
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}

std::vector<revoked_certificate> revoked_list(const registry& reg) {
    std::vector<revoked_certificate> out;
    for (const auto& c : reg.revoked_certificates()) out.push_back({c.serial, c.revoked_at.value_or(c.issued_at)});
    return out;
}

}  // namespace

provisioning_service::provisioning_service(const certificate_authority& ca, registry& registry,
                                           provisioning_settings settings)
    : ca_(ca), registry_(registry), settings_(std::move(settings)) {}

std::optional<reply> provisioning_service::handle(std::string_view topic, std::string_view payload, time_point now) {
    const auto t = parse_request_topic(topic);
    if (!t) return std::nullopt;
    if (t->kind == request_kind::create_from_csr) return create_from_csr(t->client_id, payload, now);
    return register_thing(t->client_id, t->template_name, payload, now);
}

reply provisioning_service::create_from_csr(std::string_view client_id, std::string_view payload, time_point now) {
    const std::string topic = request_topic_name({request_kind::create_from_csr, std::string(client_id), {}});
    try {
        auto parsed = parse_body(payload);
        if (auto* r = std::get_if<rejection>(&parsed)) return rejected(topic, *r);
        const json& body = std::get<json>(parsed);
        const auto field = body.find("certificateSigningRequest");
        if (field == body.end() || !field->is_string()) {
            return rejected(topic, bad_payload("certificateSigningRequest (a string) is missing"));
        }
        const std::string csr_pem = field->get<std::string>();
        auto checked = check_csr(csr_pem);
        if (auto* r = std::get_if<rejection>(&checked)) return rejected(topic, *r);
        EVP_PKEY& key = *std::get<checked_csr>(checked).public_key;

        certificate_record cert;
        cert.certificate_id = random_hex(16);
        cert.common_name = "pending-" + cert.certificate_id;
        const auto issued = ca_.issue(key, {.kind = certificate_kind::client, .common_name = cert.common_name,
                                            .lifetime = settings_.certificate_lifetime},
                                      now);
        cert.serial = issued.serial;
        cert.pem = issued.pem;
        cert.public_key_fingerprint = public_key_fingerprint(key);
        cert.status = certificate_status::pending;
        cert.issued_at = now;
        token_record token{random_hex(32), cert.certificate_id, csr_pem, now + settings_.token_lifetime, false};
        registry_.add_pending(cert, token);
        return accepted(topic, {{"certificateId", cert.certificate_id},
                                {"certificatePem", cert.pem},
                                {"certificateOwnershipToken", token.token}});
    } catch (const std::exception& e) {
        return rejected(topic, {500, error_code::internal_failure, e.what()});
    }
}

reply provisioning_service::register_thing(std::string_view client_id, std::string_view template_name,
                                           std::string_view payload, time_point now) {
    const std::string topic =
        request_topic_name({request_kind::register_thing, std::string(client_id), std::string(template_name)});
    try {
        if (!settings_.templates.contains(template_name)) {
            return rejected(topic, {404, error_code::template_not_found,
                                    "no provisioning template '" + std::string(template_name) + "'"});
        }
        auto parsed = parse_body(payload);
        if (auto* r = std::get_if<rejection>(&parsed)) return rejected(topic, *r);
        const json& body = std::get<json>(parsed);
        const auto token_field = body.find("certificateOwnershipToken");
        if (token_field == body.end() || !token_field->is_string()) {
            return rejected(topic, bad_payload("certificateOwnershipToken (a string) is missing"));
        }
        const auto params = body.find("parameters");
        if (params == body.end() || !params->is_object()) {
            return rejected(topic, {400, error_code::invalid_parameters, "parameters (an object) is missing"});
        }
        const auto serial = params->find("SerialNumber");
        if (serial == params->end() || !serial->is_string()) {
            return rejected(topic, {400, error_code::invalid_parameters, "parameters.SerialNumber (a string) is missing"});
        }
        // The template: the serial number is the thing name.
        const std::string thing_name = serial->get<std::string>();
        if (auto problem = thing_name_problem(thing_name); !problem.empty()) {
            return rejected(topic, {400, error_code::invalid_parameters, problem});
        }
        const std::string token = token_field->get<std::string>();
        const auto record = registry_.find_token(token);
        if (!record) return rejected(topic, {400, error_code::invalid_token, "unknown certificate ownership token"});

        // Stored by create_from_csr after the same checks; checked again all the same.
        auto checked = check_csr(record->csr_pem);
        if (auto* r = std::get_if<rejection>(&checked)) return rejected(topic, *r);
        EVP_PKEY& key = *std::get<checked_csr>(checked).public_key;
        const auto issued = ca_.issue(
            key, {.kind = certificate_kind::client, .common_name = thing_name, .lifetime = settings_.certificate_lifetime},
            now);
        certificate_record cert;
        cert.certificate_id = random_hex(16);
        cert.serial = issued.serial;
        cert.common_name = thing_name;
        cert.pem = issued.pem;
        cert.public_key_fingerprint = public_key_fingerprint(key);
        cert.status = certificate_status::active;
        cert.issued_at = now;
        cert.thing_name = thing_name;

        switch (registry_.register_thing(token, cert, now)) {
            case register_outcome::registered:
                return accepted(topic, {{"thingName", thing_name},
                                        {"deviceConfiguration",
                                         {{"endpoint", settings_.endpoint},
                                          {"port", std::to_string(settings_.port)},
                                          {"certificatePem", cert.pem}}}});
            case register_outcome::token_unknown:
                return rejected(topic, {400, error_code::invalid_token, "unknown certificate ownership token"});
            case register_outcome::token_used:
                return rejected(topic, {400, error_code::invalid_token, "the certificate ownership token was used"});
            case register_outcome::token_expired:
                return rejected(topic, {400, error_code::invalid_token, "the certificate ownership token has expired"});
            case register_outcome::thing_revoked:
                return rejected(topic, {403, error_code::device_revoked,
                                        "thing '" + thing_name + "' is revoked; an operator must release it first"});
            case register_outcome::name_taken:
                return rejected(topic, {409, error_code::name_taken,
                                        "thing name '" + thing_name + "' belongs to another certificate"});
        }
        return rejected(topic, {500, error_code::internal_failure, "unknown registry outcome"});
    } catch (const std::exception& e) {
        return rejected(topic, {500, error_code::internal_failure, e.what()});
    }
}

revocation provisioning_service::revoke_thing(std::string_view thing_name, time_point now) {
    revocation out;
    out.revoked = registry_.revoke_thing(thing_name, now);
    out.crl_pem = current_crl(now);
    out.release = release_message(thing_name, now);
    return out;
}

std::optional<revocation> provisioning_service::release_thing(std::string_view thing_name, time_point now) {
    auto revoked = registry_.release_thing(thing_name, now);
    if (!revoked) return std::nullopt;
    revocation out;
    out.revoked = std::move(*revoked);
    out.crl_pem = current_crl(now);
    out.release = release_message(thing_name, now);
    return out;
}

std::string provisioning_service::current_crl(time_point now) const {
    const auto list = revoked_list(registry_);
    return ca_.crl_pem(list, crl_number(now), now);
}

}  // namespace tether::cloud::provisioning
