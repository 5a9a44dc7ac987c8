#include "provisioning/memory_registry.hpp"

#include <stdexcept>

namespace tether::cloud::provisioning {

void memory_registry::add_pending(const certificate_record& certificate, const token_record& token) {
    std::lock_guard lock(mutex_);
    if (certificates_.contains(certificate.certificate_id) || tokens_.contains(token.token)) {
        throw std::runtime_error("duplicate certificate id or token");
    }
    certificates_.emplace(certificate.certificate_id, certificate);
    tokens_.emplace(token.token, token);
}

std::optional<token_record> memory_registry::find_token(std::string_view token) const {
    std::lock_guard lock(mutex_);
    const auto it = tokens_.find(token);
    if (it == tokens_.end()) return std::nullopt;
    return it->second;
}

register_outcome memory_registry::register_thing(std::string_view token, const certificate_record& certificate,
                                                 time_point now) {
    std::lock_guard lock(mutex_);
    const auto t = tokens_.find(token);
    if (t == tokens_.end()) return register_outcome::token_unknown;
    if (t->second.used) return register_outcome::token_used;
    if (t->second.expires_at <= now) return register_outcome::token_expired;
    const auto thing = things_.find(certificate.thing_name);
    if (thing != things_.end() && thing->second.revoked) return register_outcome::thing_revoked;
    if (thing != things_.end()) {
        const auto held = certificates_.find(thing->second.certificate_id);
        if (held != certificates_.end() && held->second.status != certificate_status::revoked &&
            held->second.public_key_fingerprint != certificate.public_key_fingerprint) {
            return register_outcome::name_taken;
        }
    }
    if (certificates_.contains(certificate.certificate_id)) throw std::runtime_error("duplicate certificate id");
    t->second.used = true;
    certificate_record active = certificate;
    active.status = certificate_status::active;
    certificates_.emplace(active.certificate_id, active);
    things_.insert_or_assign(active.thing_name, thing_record{active.thing_name, active.certificate_id, now, false});
    return register_outcome::registered;
}

std::optional<thing_record> memory_registry::find_thing(std::string_view name) const {
    std::lock_guard lock(mutex_);
    const auto it = things_.find(name);
    if (it == things_.end()) return std::nullopt;
    return it->second;
}

std::optional<certificate_record> memory_registry::find_certificate(std::string_view certificate_id) const {
    std::lock_guard lock(mutex_);
    const auto it = certificates_.find(certificate_id);
    if (it == certificates_.end()) return std::nullopt;
    return it->second;
}

std::vector<certificate_record> memory_registry::revoke_thing(std::string_view name, time_point now) {
    std::lock_guard lock(mutex_);
    const auto thing = things_.find(name);
    if (thing == things_.end() || thing->second.revoked) return {};
    thing->second.revoked = true;
    return revoke_active_certificates(name, now);
}

std::optional<std::vector<certificate_record>> memory_registry::release_thing(std::string_view name, time_point now) {
    std::lock_guard lock(mutex_);
    const auto thing = things_.find(name);
    if (thing == things_.end()) return std::nullopt;
    thing->second.revoked = false;
    return revoke_active_certificates(name, now);
}

std::vector<certificate_record> memory_registry::revoke_active_certificates(std::string_view name, time_point now) {
    std::vector<certificate_record> revoked;
    for (auto& [id, cert] : certificates_) {
        if (cert.thing_name == name && cert.status == certificate_status::active) {
            cert.status = certificate_status::revoked;
            cert.revoked_at = now;
            revoked.push_back(cert);
        }
    }
    return revoked;
}

std::vector<certificate_record> memory_registry::revoked_certificates() const {
    std::lock_guard lock(mutex_);
    std::vector<certificate_record> out;
    for (const auto& [id, cert] : certificates_) {
        if (cert.status == certificate_status::revoked) out.push_back(cert);
    }
    return out;
}

}  // namespace tether::cloud::provisioning
