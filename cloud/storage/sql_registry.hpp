#pragma once
// provisioning::registry in the database, for production (memory_registry is for tests).
// Each function is one transaction on the database's connection. As the interface asks,
// failures are thrown: storage::failure (a std::runtime_error) with the engine's message,
// also for add_pending of a certificate id, serial or token that exists already.
//
// Times are kept to the millisecond (rounded down).
//
// Several processes may share one PostgreSQL database: register_thing, revoke_thing and
// release_thing lock the things table for their transaction, so that two registrations of
// one token or one name run one after the other and the second sees what the first did
// (SQLite's write transactions are one at a time anyway).

#include "provisioning/registry.hpp"
#include "storage/database.hpp"

namespace tether::cloud::storage {

class sql_registry final : public provisioning::registry {
public:
    // `db` must outlive the registry.
    explicit sql_registry(database& db) : db_(db) {}

    void add_pending(const provisioning::certificate_record& certificate,
                     const provisioning::token_record& token) override;
    [[nodiscard]] std::optional<provisioning::token_record> find_token(std::string_view token) const override;
    [[nodiscard]] provisioning::register_outcome register_thing(std::string_view token,
                                                                const provisioning::certificate_record& certificate,
                                                                provisioning::time_point now) override;
    [[nodiscard]] std::optional<provisioning::thing_record> find_thing(std::string_view name) const override;
    [[nodiscard]] std::optional<provisioning::certificate_record> find_certificate(
        std::string_view certificate_id) const override;
    std::vector<provisioning::certificate_record> revoke_thing(std::string_view name,
                                                               provisioning::time_point now) override;
    std::optional<std::vector<provisioning::certificate_record>> release_thing(std::string_view name,
                                                                               provisioning::time_point now) override;
    [[nodiscard]] std::vector<provisioning::certificate_record> revoked_certificates() const override;

private:
    database& db_;
};

}  // namespace tether::cloud::storage
