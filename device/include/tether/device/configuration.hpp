#pragma once
// The device's configuration: Ioto's files (PROTOCOL.md §5) merged into one JSON value, and
// typed views of the sections the agent itself uses (mqtt, provision, device).
//
// Files, in merge order (later wins, objects merged deeply, anything else replaced whole):
//   DIR/config/ioto.json5       required
//   DIR/config/device.json5     optional, merged under "device"
//   DIR/config/provision.json5  optional (written by provisioning), merged under "provision"
//   DIR/config/local.json5      optional, merged at the top, last
// Within each file's mqtt section Ioto's names `certificate` and `authority` are taken as
// `cert` and `ca` before merging, so a later file overrides either spelling.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::device {

// Every problem with the configuration, as one line: "FILE: KEY: message", e.g.
//   config/ioto.json5: mqtt.port: expected a number 1-65535, got "abc"
// FILE is relative to DIR. For a syntax error FILE carries the position
// ("config/ioto.json5:3:7: expected ':' after the key, found '='") and KEY is empty, as it
// is for a missing or unreadable file.
class configuration_error : public std::runtime_error {
public:
    configuration_error(std::string file, std::string key, std::string message);

    std::string file;     // relative to DIR, with ":LINE:COL" for syntax errors
    std::string key;      // dotted path, e.g. "mqtt.port"; empty for whole-file errors
    std::string message;  // e.g. "expected a number 1-65535, got \"abc\""
};

// A value that may be 'auto': to be supplied by provisioning (PROTOCOL.md §3).
template <typename T>
struct maybe_auto {
    bool is_auto = false;  // the file said 'auto' and provisioning has not yet said otherwise
    T value{};             // when !is_auto; empty/0 when the key is absent
};

// The mqtt section, with provisioned values (provision.json5) over those of mqtt.
struct mqtt_settings {
    maybe_auto<std::string> host;               // from endpoint; empty when absent
    maybe_auto<std::uint16_t> port;             // port key, else endpoint's port, else 8883 (1883 for mqtt://)
    bool tls = true;                            // false only for an mqtt:// endpoint
    std::vector<std::string> alpn;              // a string or an array of strings
    std::filesystem::path ca;                   // absolute; empty when absent
    maybe_auto<std::filesystem::path> cert;     // absolute when set
    maybe_auto<std::filesystem::path> key;      // absolute when set
    maybe_auto<std::string> client_id;          // client, or the provisioned id / thing
    // The durable outbox (docs/PERSISTENCE.md): `persist`, a folder (absolute; relative
    // paths are the device directory's), empty: off. Each identity gets its own journal in
    // it, named by its client id. `persistLevel`: 'process_crash' (default) or 'power_loss'.
    std::filesystem::path persist;
    bool persist_power_loss = false;
};

// The provision section: how to provision (ioto.json5) and what provisioning gave
// (provision.json5: id, thing, endpoint, port, certificate, key; folded into mqtt_settings).
struct provision_settings {
    std::string root = "tether";               // 'tether' (our cloud) or 'aws' (AWS IoT Core)
    std::string template_name = "default";     // the provisioning template
    std::filesystem::path claim_cert;           // absolute; empty when absent
    std::filesystem::path claim_key;            // absolute; empty when absent
    bool provisioned = false;                   // config/provision.json5 exists
};

// The device section (device.json5).
struct device_settings {
    maybe_auto<std::string> id;
    std::string product, name, model, description;
    std::optional<std::string> serial_number;   // serialNumber (or serial), if present
};

struct configuration {
    std::filesystem::path dir;   // absolute
    nlohmann::json merged;       // every file merged: the application's own sections too
    mqtt_settings mqtt;
    provision_settings provision;
    device_settings device;
};

// Reads DIR/config/*.json5 as described at the top of this file.
// Throws configuration_error, naming the file and the key, for: a missing ioto.json5; an
// unreadable file; a syntax error (with line and column); a file whose top is not an object;
// a section that is not an object; a key of the wrong type (strings where strings belong,
// port a number or digit string 1-65535, alpn a string or array of strings); an endpoint that
// is not a host, host:port, mqtt://host[:port] or mqtts://host[:port] (any other scheme,
// a path, an empty host, a bad port); 'auto' where it means nothing (ca, alpn, provision
// keys); root other than 'tether' or 'aws'; both a name and its alias in one mqtt section;
// a persistLevel other than 'process_crash' or 'power_loss'.
//
//   auto c = tether::device::load_configuration("/var/lib/tether");
//   if (c.mqtt.cert.is_auto) { /* provision first (PROTOCOL.md §3) */ }
[[nodiscard]] configuration load_configuration(const std::filesystem::path& dir);

// The configuration without config/provision.json5: as before the first provisioning (the
// identity 'auto', the endpoint of ioto.json5). What provisioning a replacement identity
// uses while the current one is kept on disk until the new one is saved. Throws as above.
[[nodiscard]] configuration load_unprovisioned_configuration(const std::filesystem::path& dir);

}  // namespace tether::device
