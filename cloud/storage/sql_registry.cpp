#include "storage/sql_registry.hpp"

namespace tether::cloud::storage {

using provisioning::certificate_record;
using provisioning::certificate_status;
using provisioning::register_outcome;
using provisioning::thing_record;
using provisioning::time_point;
using provisioning::token_record;

namespace {

std::int64_t to_ms(time_point t) {
    return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

time_point from_ms(std::int64_t ms) {
    return time_point(std::chrono::duration_cast<time_point::duration>(std::chrono::milliseconds(ms)));
}

std::string status_text(certificate_status s) {
    switch (s) {
    case certificate_status::pending: return "pending";
    case certificate_status::active: return "active";
    case certificate_status::revoked: return "revoked";
    }
    throw failure("unknown certificate status");
}

certificate_status status_of(const std::string& text) {
    if (text == "pending") return certificate_status::pending;
    if (text == "active") return certificate_status::active;
    if (text == "revoked") return certificate_status::revoked;
    throw failure("a stored certificate has the unknown status '" + text.substr(0, 32) + "'");
}

constexpr const char* certificate_columns =
    "certificate_id, serial, common_name, pem, public_key_fingerprint, status, issued_at, revoked_at, thing_name";

certificate_record to_certificate(const row& r) {
    certificate_record c;
    c.certificate_id = r.text(0);
    c.serial = r.text(1);
    c.common_name = r.text(2);
    c.pem = r.text(3);
    c.public_key_fingerprint = r.text(4);
    c.status = status_of(r.text(5));
    c.issued_at = from_ms(r.integer(6));
    if (const auto revoked = r.optional_integer(7)) c.revoked_at = from_ms(*revoked);
    c.thing_name = r.text(8);
    return c;
}

void insert_certificate(connection& c, const certificate_record& cert, certificate_status status) {
    (void)c.execute(std::string("INSERT INTO certificates (") + certificate_columns +
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    {cert.certificate_id, cert.serial, cert.common_name, cert.pem, cert.public_key_fingerprint,
                     status_text(status), to_ms(cert.issued_at),
                     cert.revoked_at ? sql_value(to_ms(*cert.revoked_at)) : sql_null(), cert.thing_name});
}

// Registrations and revocations of things take turns across connections (see the header).
void lock_things(connection& c) {
    if (c.kind() == engine::postgresql) (void)c.execute("LOCK TABLE things IN SHARE ROW EXCLUSIVE MODE");
}

}  // namespace

void sql_registry::add_pending(const certificate_record& certificate, const token_record& token) {
    db_.in_transaction([&](connection& c) {
        insert_certificate(c, certificate, certificate.status);
        (void)c.execute(
            "INSERT INTO tokens (token, certificate_id, csr_pem, expires_at, used) VALUES ($1, $2, $3, $4, $5)",
            {token.token, token.certificate_id, token.csr_pem, to_ms(token.expires_at), std::int64_t{token.used ? 1 : 0}});
    });
}

std::optional<token_record> sql_registry::find_token(std::string_view token) const {
    const rows found = db_.with_connection([&](connection& c) {
        return c.execute("SELECT token, certificate_id, csr_pem, expires_at, used FROM tokens WHERE token = $1",
                         {std::string(token)});
    });
    if (found.empty()) return std::nullopt;
    const row& r = found[0];
    return token_record{r.text(0), r.text(1), r.text(2), from_ms(r.integer(3)), r.integer(4) != 0};
}

register_outcome sql_registry::register_thing(std::string_view token, const certificate_record& certificate,
                                              time_point now) {
    // Returning an outcome other than `registered` commits a transaction that changed
    // nothing: every check comes before the first write.
    return db_.in_transaction([&](connection& c) {
        lock_things(c);
        const rows t = c.execute("SELECT used, expires_at FROM tokens WHERE token = $1", {std::string(token)});
        if (t.empty()) return register_outcome::token_unknown;
        if (t[0].integer(0) != 0) return register_outcome::token_used;
        if (t[0].integer(1) <= to_ms(now)) return register_outcome::token_expired;
        const rows revoked = c.execute("SELECT 1 FROM things WHERE name = $1 AND revoked <> 0", {certificate.thing_name});
        if (!revoked.empty()) return register_outcome::thing_revoked;
        const rows holder = c.execute(
            "SELECT c.status, c.public_key_fingerprint FROM things t JOIN certificates c "
            "ON c.certificate_id = t.certificate_id WHERE t.name = $1 AND t.revoked = 0",
            {certificate.thing_name});
        if (!holder.empty() && status_of(holder[0].text(0)) != certificate_status::revoked &&
            holder[0].text(1) != certificate.public_key_fingerprint) {
            return register_outcome::name_taken;
        }
        (void)c.execute("UPDATE tokens SET used = 1 WHERE token = $1", {std::string(token)});
        insert_certificate(c, certificate, certificate_status::active);
        (void)c.execute(
            "INSERT INTO things (name, certificate_id, provisioned_at, revoked) VALUES ($1, $2, $3, 0) "
            "ON CONFLICT (name) DO UPDATE SET certificate_id = excluded.certificate_id, "
            "provisioned_at = excluded.provisioned_at, revoked = 0",
            {certificate.thing_name, certificate.certificate_id, to_ms(now)});
        return register_outcome::registered;
    });
}

std::optional<thing_record> sql_registry::find_thing(std::string_view name) const {
    const rows found = db_.with_connection([&](connection& c) {
        return c.execute("SELECT name, certificate_id, provisioned_at, revoked FROM things WHERE name = $1",
                         {std::string(name)});
    });
    if (found.empty()) return std::nullopt;
    const row& r = found[0];
    return thing_record{r.text(0), r.text(1), from_ms(r.integer(2)), r.integer(3) != 0};
}

std::optional<certificate_record> sql_registry::find_certificate(std::string_view certificate_id) const {
    const rows found = db_.with_connection([&](connection& c) {
        return c.execute(std::string("SELECT ") + certificate_columns + " FROM certificates WHERE certificate_id = $1",
                         {std::string(certificate_id)});
    });
    if (found.empty()) return std::nullopt;
    return to_certificate(found[0]);
}

std::vector<certificate_record> sql_registry::revoke_thing(std::string_view name, time_point now) {
    return db_.in_transaction([&](connection& c) {
        lock_things(c);
        std::vector<certificate_record> revoked;
        const rows thing = c.execute("SELECT revoked FROM things WHERE name = $1", {std::string(name)});
        if (thing.empty() || thing[0].integer(0) != 0) return revoked;
        (void)c.execute("UPDATE things SET revoked = 1 WHERE name = $1", {std::string(name)});
        const rows changed = c.execute(
            std::string("UPDATE certificates SET status = 'revoked', revoked_at = $2 "
                        "WHERE thing_name = $1 AND status = 'active' RETURNING ") + certificate_columns,
            {std::string(name), to_ms(now)});
        for (const row& r : changed) revoked.push_back(to_certificate(r));
        return revoked;
    });
}

std::optional<std::vector<certificate_record>> sql_registry::release_thing(std::string_view name, time_point now) {
    return db_.in_transaction([&](connection& c) -> std::optional<std::vector<certificate_record>> {
        lock_things(c);
        const rows thing = c.execute("SELECT 1 FROM things WHERE name = $1", {std::string(name)});
        if (thing.empty()) return std::nullopt;
        (void)c.execute("UPDATE things SET revoked = 0 WHERE name = $1", {std::string(name)});
        const rows changed = c.execute(
            std::string("UPDATE certificates SET status = 'revoked', revoked_at = $2 "
                        "WHERE thing_name = $1 AND status = 'active' RETURNING ") + certificate_columns,
            {std::string(name), to_ms(now)});
        std::vector<certificate_record> revoked;
        for (const row& r : changed) revoked.push_back(to_certificate(r));
        return revoked;
    });
}

std::vector<certificate_record> sql_registry::revoked_certificates() const {
    const rows found = db_.with_connection([&](connection& c) {
        return c.execute(std::string("SELECT ") + certificate_columns +
                         " FROM certificates WHERE status = 'revoked'");
    });
    std::vector<certificate_record> out;
    out.reserve(found.size());
    for (const row& r : found) out.push_back(to_certificate(r));
    return out;
}

}  // namespace tether::cloud::storage
