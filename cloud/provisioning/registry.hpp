#pragma once
// What provisioning remembers: every certificate the CA signed for a device, every
// ownership token, and every thing (device). The cloud's database implements this
// (SQLite and PostgreSQL); memory_registry is the in-memory one the tests use.
//
// Each function is one transaction. Implementations throw (std::runtime_error or a
// subclass) when their storage fails; the provisioning flow turns that into an
// InternalFailure reply.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::cloud::provisioning {

using time_point = std::chrono::system_clock::time_point;

enum class certificate_status {
    pending,  // signed at step 2 of PROTOCOL.md §3, CN pending-<certificateId>
    active,   // a thing's certificate, CN = thing name
    revoked,  // listed in the CRL
};

struct certificate_record {
    std::string certificate_id;  // 32 lowercase hex digits, unique
    std::string serial;          // uppercase hex, unique; what the CRL lists
    std::string common_name;
    std::string pem;
    std::string public_key_fingerprint;  // keys.hpp: the same device key gives the same value
    certificate_status status = certificate_status::pending;
    time_point issued_at{};
    std::optional<time_point> revoked_at{};
    std::string thing_name{};  // empty while pending
};

struct token_record {
    std::string token;           // unique
    std::string certificate_id;  // the pending certificate it was issued with
    std::string csr_pem;         // signed again, with CN = thing name, at RegisterThing
    time_point expires_at{};
    bool used = false;
};

struct thing_record {
    std::string name;            // unique
    std::string certificate_id;  // its current certificate
    time_point provisioned_at{};
    // Revoked by an operator: the thing may not provision again until it is released
    // (release_thing), whatever key it comes with.
    bool revoked = false;
};

enum class register_outcome {
    registered,
    token_unknown,
    token_used,
    token_expired,
    name_taken,     // another key's active certificate holds the name
    thing_revoked,  // the thing is revoked and not released since
};

class registry {
public:
    virtual ~registry() = default;

    // Records a pending certificate and the ownership token issued with it, together.
    virtual void add_pending(const certificate_record& certificate, const token_record& token) = 0;

    [[nodiscard]] virtual std::optional<token_record> find_token(std::string_view token) const = 0;

    // In one transaction, in this order: the token exists (else token_unknown), is unused
    // (token_used) and has expires_at > now (token_expired); the thing `certificate.
    // thing_name` is not revoked (thing_revoked); it is new, or its current certificate is
    // revoked (a released thing) or has the same public_key_fingerprint (a device that
    // retries with the same key), else name_taken.
    // Then: the token is marked used, `certificate` (status active) is recorded, and the
    // thing points at it. Nothing changes unless the outcome is `registered`.
    [[nodiscard]] virtual register_outcome register_thing(std::string_view token, const certificate_record& certificate,
                                                          time_point now) = 0;

    [[nodiscard]] virtual std::optional<thing_record> find_thing(std::string_view name) const = 0;
    [[nodiscard]] virtual std::optional<certificate_record> find_certificate(std::string_view certificate_id) const = 0;

    // Marks the thing revoked and every active certificate of it (thing_name == name)
    // revoked at `now`; returns the certificates it revoked (empty for an unknown thing or
    // one already revoked).
    virtual std::vector<certificate_record> revoke_thing(std::string_view name, time_point now) = 0;

    // An operator lets the thing provision again: in one transaction, every active
    // certificate of it is revoked at `now` (returned: the CRL must list them), and the
    // thing is no longer revoked, so that its next RegisterThing, with any key, succeeds.
    // nullopt for an unknown thing.
    virtual std::optional<std::vector<certificate_record>> release_thing(std::string_view name, time_point now) = 0;

    // Every revoked certificate, for the CRL.
    [[nodiscard]] virtual std::vector<certificate_record> revoked_certificates() const = 0;
};

}  // namespace tether::cloud::provisioning
