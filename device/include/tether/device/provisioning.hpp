#pragma once
// Fleet provisioning by claim (PROTOCOL.md §3), device side: with the claim certificate,
// obtain the device's own certificate for a key made here, and save the identity
// (identity_files.hpp). One attempt per call; the device object retries with backoff.
//
//   auto report = co_await tether::device::provision(io.get_executor(), config, {});
//   if (report.ec) std::cerr << report.text() << "\n";  // e.g. "provisioning rejected: InvalidCsr: key too weak"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <system_error>

#include "tether/device/configuration.hpp"
#include "tether/device/csr.hpp"

namespace tether::device {

struct provision_options {
    std::chrono::milliseconds reply_timeout{30'000};  // per request (CreateCertificateFromCsr, RegisterThing)
    key_kind key = key_kind::ec_p256;
    // Test seam: used instead of a fresh key and CSR when set (e.g. a weak key the cloud
    // must refuse).
    std::string csr_pem_override{};
    std::string key_pem_override{};
};

struct provision_report {
    // errc::provisioning_rejected (error_code says why), provisioning_timeout, claim_refused
    // (cause: the connect error), no_claim_identity, no_serial_number, bad_reply, or the
    // client's error for a failed subscribe or publish; a std::system_error while saving
    // is reported as its code. Empty on success.
    std::error_code ec{};
    std::error_code cause{};        // claim_refused: what connect() said
    std::string error_code{};       // the cloud's errorCode, e.g. "InvalidCsr"
    std::string error_message{};    // the cloud's errorMessage, or a description
    std::string thing{};            // on success: the thing name, the device's id from now on

    // One line: "provisioning rejected: InvalidCsr: ..." / "no provisioning reply in time".
    [[nodiscard]] std::string text() const;
};

// The <root> of PROTOCOL.md §3 for `root_setting` ('tether' or 'aws') and a claim client id.
[[nodiscard]] std::string provisioning_root(const std::string& root_setting, const std::string& client_id);

// Runs the flow once with `config` (its mqtt endpoint, ca and alpn; provision.claimCert,
// claimKey, root, template; device.serialNumber), and saves the identity in config.dir.
// Never throws for what the network or the cloud does; see provision_report::ec.
[[nodiscard]] asio::awaitable<provision_report> provision(asio::any_io_executor executor, const configuration& config,
                                                          provision_options options);

}  // namespace tether::device
