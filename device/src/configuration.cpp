// Loading the device's configuration files (PROTOCOL.md §5). Each merged key remembers the
// file that set it, so that a wrong value found after merging is reported against the file
// the user has to edit.

#include "tether/device/configuration.hpp"

#include <map>
#include <system_error>

#include "endpoint.hpp"
#include "tether/json5/json5.hpp"

namespace tether::device {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string shown(const json& v) {
    std::string s = v.dump();
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
}

std::string type_name(const json& v) {
    if (v.is_object()) return "an object";
    if (v.is_array()) return "an array";
    if (v.is_string()) return "a string";
    if (v.is_boolean()) return "a boolean";
    if (v.is_null()) return "null";
    return "a number";
}

class loader {
public:
    explicit loader(fs::path dir) : dir_(std::move(dir)) {}

    // Reads one file into the merged value under `prefix` ("" for the top). Returns false
    // when an optional file does not exist.
    bool merge_file(const std::string& name, const std::string& prefix, bool required) {
        const std::string file = "config/" + name;
        const fs::path path = dir_ / "config" / name;
        std::error_code ec;
        if (!fs::exists(path, ec) && !required) return false;
        json value;
        try {
            value = json5::parse_file(path);
        } catch (const json5::parse_error& e) {
            throw configuration_error(file + ":" + std::to_string(e.line) + ":" + std::to_string(e.column), "",
                                      e.message);
        }
        if (!value.is_object()) {
            throw configuration_error(file, "", "expected an object at the top of the file, got " + type_name(value));
        }
        normalize_aliases(value, file, prefix.empty() ? "mqtt" : "");
        json* target = &merged_;
        if (!prefix.empty()) {
            if (merged_.contains(prefix) && !merged_[prefix].is_object()) {
                throw configuration_error(origin(prefix), prefix, "expected an object, got " + type_name(merged_[prefix]));
            }
            target = &merged_[prefix];
            if (target->is_null()) *target = json::object();
            origins_[prefix] = file;
        }
        merge(*target, value, file, prefix);
        return true;
    }

    json& merged() { return merged_; }

    // The file that set `path` (or its nearest ancestor).
    std::string origin(std::string path) const {
        for (;;) {
            if (const auto it = origins_.find(path); it != origins_.end()) return it->second;
            const auto dot = path.rfind('.');
            if (dot == std::string::npos) return "config/ioto.json5";
            path.resize(dot);
        }
    }

private:
    // Ioto's code names: mqtt.certificate is mqtt.cert, mqtt.authority is mqtt.ca.
    static void normalize_aliases(json& top, const std::string& file, const std::string& section) {
        if (section.empty() || !top.contains(section) || !top[section].is_object()) return;
        json& s = top[section];
        for (const auto& [alias, name] : {std::pair{"certificate", "cert"}, std::pair{"authority", "ca"}}) {
            if (!s.contains(alias)) continue;
            if (s.contains(name)) {
                throw configuration_error(file, section + "." + alias,
                                          std::string("both '") + name + "' and its alias '" + alias + "' are set");
            }
            s[name] = std::move(s[alias]);
            s.erase(alias);
        }
    }

    void merge(json& target, const json& source, const std::string& file, const std::string& prefix) {
        for (const auto& [key, value] : source.items()) {
            const std::string path = prefix.empty() ? key : prefix + "." + key;
            if (value.is_object() && target.contains(key) && target[key].is_object()) {
                merge(target[key], value, file, path);
            } else {
                target[key] = value;
            }
            origins_[path] = file;
        }
    }

    fs::path dir_;
    json merged_ = json::object();
    std::map<std::string, std::string> origins_;
};

// Typed access to the merged value, with errors naming the file and the key.
class reader {
public:
    reader(const json& root, const loader& files, const fs::path& dir) : root_(root), files_(files), dir_(dir) {}

    [[noreturn]] void fail(const std::string& path, const std::string& message) const {
        throw configuration_error(files_.origin(path), path, message);
    }

    const json* find(const std::string& path) const {
        const json* v = &root_;
        std::size_t start = 0;
        for (;;) {
            const auto dot = path.find('.', start);
            const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
            if (!v->is_object()) fail(path.substr(0, start - 1), "expected an object, got " + type_name(*v));
            const auto it = v->find(key);
            if (it == v->end()) return nullptr;
            v = &*it;
            if (dot == std::string::npos) return v;
            start = dot + 1;
        }
    }

    bool has(const std::string& path) const { return find(path) != nullptr; }

    std::optional<std::string> string_at(const std::string& path, bool auto_allowed = false) const {
        const json* v = find(path);
        if (v == nullptr) return std::nullopt;
        if (!v->is_string()) fail(path, "expected a string, got " + shown(*v));
        const auto& s = v->get_ref<const std::string&>();
        if (s == "auto" && !auto_allowed) fail(path, "'auto' is not allowed here");
        return s;
    }

    maybe_auto<std::string> auto_string(const std::string& path) const {
        maybe_auto<std::string> r;
        if (auto s = string_at(path, true)) {
            r.is_auto = *s == "auto";
            if (!r.is_auto) r.value = std::move(*s);
        }
        return r;
    }

    fs::path absolute(const std::string& text) const {
        const fs::path p(text);
        return p.is_absolute() ? p.lexically_normal() : (dir_ / p).lexically_normal();
    }

    fs::path path_at(const std::string& path) const {
        const auto s = string_at(path);
        if (!s) return {};
        if (s->empty()) fail(path, "expected a file path, got \"\"");
        return absolute(*s);
    }

    maybe_auto<fs::path> auto_path(const std::string& path) const {
        maybe_auto<fs::path> r;
        const auto s = auto_string(path);
        r.is_auto = s.is_auto;
        if (!s.is_auto && has(path)) {
            if (s.value.empty()) fail(path, "expected a file path or 'auto', got \"\"");
            r.value = absolute(s.value);
        }
        return r;
    }

    maybe_auto<std::uint16_t> port_at(const std::string& path) const {
        maybe_auto<std::uint16_t> r;
        const json* v = find(path);
        if (v == nullptr) return r;
        if (v->is_string() && v->get_ref<const std::string&>() == "auto") {
            r.is_auto = true;
            return r;
        }
        std::optional<std::uint16_t> port;
        if (v->is_number_unsigned() || v->is_number_integer()) {
            const auto n = v->get<std::int64_t>();
            if (n >= 1 && n <= 65535) port = static_cast<std::uint16_t>(n);
        } else if (v->is_string()) {
            port = detail::parse_port(v->get_ref<const std::string&>());  // AWS sends "8883"
        }
        if (!port) fail(path, "expected a number 1-65535, got " + shown(*v));
        r.value = *port;
        return r;
    }

    void require_object(const std::string& path) const {
        const json* v = find(path);
        if (v != nullptr && !v->is_object()) fail(path, "expected an object, got " + type_name(*v));
    }

private:
    const json& root_;
    const loader& files_;
    const fs::path& dir_;
};

// The provisioned value's path when provision.json5 gave one, else the mqtt one.
std::string effective(const reader& r, std::initializer_list<const char*> provision_keys, const std::string& mqtt_key) {
    for (const char* k : provision_keys) {
        const std::string p = std::string("provision.") + k;
        if (r.has(p)) return p;
    }
    return "mqtt." + mqtt_key;
}

mqtt_settings read_mqtt(const reader& r) {
    mqtt_settings m;
    r.require_object("mqtt");
    const std::string endpoint_key = effective(r, {"endpoint"}, "endpoint");
    const auto endpoint_text = r.auto_string(endpoint_key);
    m.host.is_auto = endpoint_text.is_auto;
    std::optional<std::uint16_t> endpoint_port;
    if (!endpoint_text.is_auto && r.has(endpoint_key)) {
        std::string error;
        const auto e = detail::parse_endpoint(endpoint_text.value, error);
        if (!e) r.fail(endpoint_key, error);
        m.host.value = e->host;
        m.tls = e->tls;
        endpoint_port = e->port;
    }
    // An explicit port wins over one in the endpoint; the scheme's port is the default.
    const std::string port_key = effective(r, {"port"}, "port");
    m.port = r.port_at(port_key);
    if (!m.port.is_auto && !r.has(port_key)) m.port.value = endpoint_port.value_or(m.tls ? 8883 : 1883);

    if (const json* alpn = r.find("mqtt.alpn")) {
        if (alpn->is_string()) {
            m.alpn.push_back(*r.string_at("mqtt.alpn"));
        } else if (alpn->is_array()) {
            for (const auto& a : *alpn) {
                if (!a.is_string() || a.get_ref<const std::string&>().empty()) {
                    r.fail("mqtt.alpn", "expected non-empty strings in the array, got " + shown(a));
                }
                m.alpn.push_back(a.get<std::string>());
            }
        } else {
            r.fail("mqtt.alpn", "expected a string or an array of strings, got " + shown(*alpn));
        }
    }
    m.ca = r.path_at("mqtt.ca");
    m.cert = r.auto_path(effective(r, {"certificate", "cert"}, "cert"));
    m.key = r.auto_path(effective(r, {"key"}, "key"));
    m.client_id = r.auto_string(effective(r, {"id", "thing"}, "client"));
    m.persist = r.path_at("mqtt.persist");
    if (auto level = r.string_at("mqtt.persistLevel")) {
        if (*level != "process_crash" && *level != "power_loss") {
            r.fail("mqtt.persistLevel", "expected 'process_crash' or 'power_loss', got \"" + *level + "\"");
        }
        m.persist_power_loss = *level == "power_loss";
    }
    return m;
}

provision_settings read_provision(const reader& r, bool provisioned) {
    provision_settings p;
    r.require_object("provision");
    if (auto root = r.string_at("provision.root")) {
        if (*root != "tether" && *root != "aws") r.fail("provision.root", "expected 'tether' or 'aws', got \"" + *root + "\"");
        p.root = *root;
    }
    if (auto t = r.string_at("provision.template")) {
        if (t->empty()) r.fail("provision.template", "expected a template name, got \"\"");
        p.template_name = *t;
    }
    p.claim_cert = r.path_at("provision.claimCert");
    p.claim_key = r.path_at("provision.claimKey");
    for (const char* k : {"provision.id", "provision.thing"}) (void)r.string_at(k);
    p.provisioned = provisioned;
    return p;
}

device_settings read_device(const reader& r) {
    device_settings d;
    r.require_object("device");
    d.id = r.auto_string("device.id");
    d.product = r.string_at("device.product").value_or("");
    d.name = r.string_at("device.name").value_or("");
    d.model = r.string_at("device.model").value_or("");
    d.description = r.string_at("device.description").value_or("");
    d.serial_number = r.string_at("device.serialNumber");
    if (!d.serial_number) d.serial_number = r.string_at("device.serial");
    return d;
}

}  // namespace

configuration_error::configuration_error(std::string file_name, std::string key_path, std::string text)
    : std::runtime_error(file_name + ": " + (key_path.empty() ? "" : key_path + ": ") + text),
      file(std::move(file_name)),
      key(std::move(key_path)),
      message(std::move(text)) {}

namespace {

configuration load(const std::filesystem::path& dir, bool with_provisioned) {
    configuration c;
    std::error_code ec;
    c.dir = fs::absolute(dir, ec).lexically_normal();
    if (ec) c.dir = dir;
    loader files(c.dir);
    files.merge_file("ioto.json5", "", true);
    files.merge_file("device.json5", "device", false);
    const bool provisioned = with_provisioned && files.merge_file("provision.json5", "provision", false);
    files.merge_file("local.json5", "", false);
    c.merged = std::move(files.merged());
    const reader r(c.merged, files, c.dir);
    c.mqtt = read_mqtt(r);
    c.provision = read_provision(r, provisioned);
    c.device = read_device(r);
    return c;
}

}  // namespace

configuration load_configuration(const std::filesystem::path& dir) { return load(dir, true); }

configuration load_unprovisioned_configuration(const std::filesystem::path& dir) { return load(dir, false); }

}  // namespace tether::device
