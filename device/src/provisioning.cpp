// The device side of PROTOCOL.md §3 over the client: connect with the claim identity,
// CreateCertificateFromCsr, RegisterThing, save.

#include "tether/device/provisioning.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <optional>
#include <random>

#include <nlohmann/json.hpp>

#include "client_options.hpp"
#include "tether/client/client.hpp"
#include "tether/device/error.hpp"
#include "tether/device/identity_files.hpp"
#include "thing_name.hpp"

namespace tether::device {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Larger replies are refused before they are parsed (a certificate is about 1 KiB).
constexpr std::size_t max_reply_size = 64 * 1024;

std::string random_hex(int digits) {
    std::random_device rd;
    static const char hex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < digits; ++i) s += hex[rd() & 15];
    return s;
}

// The one reply a request waits for: the handlers of accepted and rejected fill it and
// wake the waiter; a timer bounds the wait.
struct reply_slot {
    explicit reply_slot(const asio::any_io_executor& ex) : timer(ex) {}
    std::optional<std::string> accepted, rejected;
    asio::steady_timer timer;

    void reset() {
        accepted.reset();
        rejected.reset();
    }
    client::subscription on(const std::string& topic, bool is_accepted) {
        return {topic, client::qos::at_least_once, [this, is_accepted](const client::message& m) {
                    auto& slot = is_accepted ? accepted : rejected;
                    if (accepted || rejected) return;  // the first answer counts
                    slot = std::string(m.text().substr(0, max_reply_size + 1));
                    timer.cancel();
                }};
    }
    // Waits until a reply came or `limit` passed; true if one came.
    asio::awaitable<bool> wait(std::chrono::milliseconds limit) {
        if (accepted || rejected) co_return true;
        timer.expires_after(limit);
        (void)co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        co_return accepted || rejected;
    }
};

// The message is a const char*: GCC 12 fails on a string literal bound to a std::string
// parameter inside a co_return expression ("array used as initializer").
provision_report failure(std::error_code ec, const char* message = "") {
    provision_report r;
    r.ec = ec;
    r.error_message = message;
    return r;
}

// A reply as a JSON object, or nullopt for anything else (not JSON, too large).
std::optional<json> object_of(const std::string& text) {
    if (text.size() > max_reply_size) return std::nullopt;
    json v = json::parse(text, nullptr, false);
    if (v.is_discarded() || !v.is_object()) return std::nullopt;
    return v;
}

std::string string_field(const json& o, const char* name) {
    const auto it = o.find(name);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

provision_report rejected(const std::string& text) {
    provision_report r;
    r.ec = errc::provisioning_rejected;
    if (const auto body = object_of(text)) {
        r.error_code = string_field(*body, "errorCode");
        r.error_message = string_field(*body, "errorMessage");
    }
    if (r.error_code.empty()) r.error_code = "Unknown";
    return r;
}

}  // namespace

std::string provision_report::text() const {
    if (!ec) return "provisioned as " + thing;
    std::string s = ec.message();
    if (!error_code.empty()) s += ": " + error_code;
    if (!error_message.empty()) s += ": " + error_message;
    if (cause) s += " (" + cause.message() + ")";
    return s;
}

std::string provisioning_root(const std::string& root_setting, const std::string& client_id) {
    return root_setting == "aws" ? std::string("$aws") : "tether/provision/" + client_id;
}

asio::awaitable<provision_report> provision(asio::any_io_executor executor, const configuration& config,
                                            provision_options options) {
    if (config.provision.claim_cert.empty() || config.provision.claim_key.empty()) {
        co_return failure(errc::no_claim_identity);
    }
    if (config.mqtt.host.is_auto || config.mqtt.port.is_auto || config.mqtt.host.value.empty()) {
        co_return failure(errc::no_claim_identity, "mqtt.endpoint and mqtt.port must name the broker to provision at");
    }
    if (!config.device.serial_number || config.device.serial_number->empty()) {
        co_return failure(errc::no_serial_number);
    }

    // A fresh client id per attempt (PROTOCOL.md §3 step 1): a retry never collides with
    // the session of an attempt the broker has not yet noticed is gone.
    const std::string client_id = "claim-" + random_hex(16);
    const std::string root = provisioning_root(config.provision.root, client_id);
    const std::string create_topic = root + "/certificates/create-from-csr/json";
    const std::string register_topic =
        root + "/provisioning-templates/" + config.provision.template_name + "/provision/json";

    auto opts = detail::client_options(config, client_id, config.provision.claim_cert, config.provision.claim_key);
    opts.clean_session = true;
    opts.reconnect.enabled = false;  // one attempt; the caller retries the whole flow
    client::client claim(executor, opts);
    if (const auto ec = co_await claim.connect()) {
        provision_report r = failure(errc::claim_refused);
        r.cause = ec;
        co_return r;
    }

    reply_slot slot(executor);
    std::vector<client::subscription> replies;
    replies.push_back(slot.on(create_topic + "/accepted", true));
    replies.push_back(slot.on(create_topic + "/rejected", false));
    replies.push_back(slot.on(register_topic + "/accepted", true));
    replies.push_back(slot.on(register_topic + "/rejected", false));
    // Subscribed before anything is published (step 1): no reply can come before its handler.
    if (const auto s = co_await claim.subscribe(std::move(replies), client::wait::ack); s.ec) {
        (void)co_await claim.disconnect(1s);
        co_return failure(s.ec, "subscribing to the provisioning replies");
    }

    key_and_csr made;
    if (!options.csr_pem_override.empty()) {
        made.csr_pem = options.csr_pem_override;
        made.key_pem = options.key_pem_override;
    } else {
        made = make_key_and_csr(options.key, client_id);
    }

    // Step 2: CreateCertificateFromCsr.
    // Built outside the co_await: GCC 12 miscompiles braced lists inside one.
    json csr_request = json::object();
    csr_request["certificateSigningRequest"] = made.csr_pem;
    if (const auto ec = co_await claim.publish(create_topic, csr_request.dump(), client::qos::at_least_once,
                                               client::wait::ack)) {
        (void)co_await claim.disconnect(1s);
        co_return failure(ec, "publishing the CSR");
    }
    if (!co_await slot.wait(options.reply_timeout)) {
        (void)co_await claim.disconnect(1s);
        co_return failure(errc::provisioning_timeout, "CreateCertificateFromCsr");
    }
    if (slot.rejected) {
        const auto r = rejected(*slot.rejected);
        (void)co_await claim.disconnect(1s);
        co_return r;
    }
    const auto created = object_of(*slot.accepted);
    const std::string certificate = created ? string_field(*created, "certificatePem") : "";
    const std::string token = created ? string_field(*created, "certificateOwnershipToken") : "";
    if (certificate.empty() || token.empty()) {
        (void)co_await claim.disconnect(1s);
        co_return failure(errc::bad_reply, "CreateCertificateFromCsr accepted without certificatePem and token");
    }

    // Step 3: RegisterThing.
    slot.reset();
    json request = json::object();
    request["certificateOwnershipToken"] = token;
    request["parameters"]["SerialNumber"] = *config.device.serial_number;
    if (const auto ec = co_await claim.publish(register_topic, request.dump(), client::qos::at_least_once,
                                               client::wait::ack)) {
        (void)co_await claim.disconnect(1s);
        co_return failure(ec, "publishing RegisterThing");
    }
    if (!co_await slot.wait(options.reply_timeout)) {
        (void)co_await claim.disconnect(1s);
        co_return failure(errc::provisioning_timeout, "RegisterThing");
    }
    (void)co_await claim.disconnect(1s);
    if (slot.rejected) co_return rejected(*slot.rejected);

    const auto registered = object_of(*slot.accepted);
    identity id;
    id.key_pem = made.key_pem;
    id.certificate_pem = certificate;
    id.thing = registered ? string_field(*registered, "thingName") : "";
    if (!detail::is_valid_thing_name(id.thing)) {
        co_return failure(errc::bad_reply, "RegisterThing accepted without a usable thingName");
    }
    if (registered && registered->contains("deviceConfiguration")) {
        const json& dc = (*registered)["deviceConfiguration"];
        if (!dc.is_object()) co_return failure(errc::bad_reply, "deviceConfiguration is not an object");
        // Our cloud signs the CSR again with CN = thing name (PROTOCOL.md §3).
        if (const auto pem = string_field(dc, "certificatePem"); !pem.empty()) id.certificate_pem = pem;
        id.endpoint = string_field(dc, "endpoint");
        if (const auto it = dc.find("port"); it != dc.end()) {
            std::int64_t port = 0;
            if (it->is_number_integer()) port = it->get<std::int64_t>();
            if (it->is_string()) {
                const auto& s = it->get_ref<const std::string&>();
                if (s.size() <= 5 && !s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
                    port = std::stoll(s);
                }
            }
            if (port < 1 || port > 65535) co_return failure(errc::bad_reply, "deviceConfiguration.port is not 1-65535");
            id.port = static_cast<std::uint16_t>(port);
        }
        if (id.endpoint.find_first_of("/ \t\r\n") != std::string::npos || id.endpoint.size() > 253) {
            co_return failure(errc::bad_reply, "deviceConfiguration.endpoint is not a host name");
        }
    }
    try {
        save_identity(config.dir, id);
    } catch (const std::system_error& e) {
        co_return failure(e.code(), e.what());
    }
    provision_report ok;
    ok.thing = id.thing;
    co_return ok;
}

}  // namespace tether::device
