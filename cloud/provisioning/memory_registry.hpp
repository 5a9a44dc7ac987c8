#pragma once
// The registry in memory, for tests and for trying the flow out: lost when the process
// ends. Safe to use from several threads (one mutex).

#include <map>
#include <mutex>

#include "provisioning/registry.hpp"

namespace tether::cloud::provisioning {

class memory_registry final : public registry {
public:
    void add_pending(const certificate_record& certificate, const token_record& token) override;
    [[nodiscard]] std::optional<token_record> find_token(std::string_view token) const override;
    [[nodiscard]] register_outcome register_thing(std::string_view token, const certificate_record& certificate,
                                                  time_point now) override;
    [[nodiscard]] std::optional<thing_record> find_thing(std::string_view name) const override;
    [[nodiscard]] std::optional<certificate_record> find_certificate(std::string_view certificate_id) const override;
    std::vector<certificate_record> revoke_thing(std::string_view name, time_point now) override;
    std::optional<std::vector<certificate_record>> release_thing(std::string_view name, time_point now) override;
    [[nodiscard]] std::vector<certificate_record> revoked_certificates() const override;

private:
    // Marks the thing's active certificates revoked at `now` and returns them; the caller
    // holds mutex_.
    std::vector<certificate_record> revoke_active_certificates(std::string_view name, time_point now);

    mutable std::mutex mutex_;
    std::map<std::string, certificate_record, std::less<>> certificates_;  // by certificate_id
    std::map<std::string, token_record, std::less<>> tokens_;
    std::map<std::string, thing_record, std::less<>> things_;
};

}  // namespace tether::cloud::provisioning
