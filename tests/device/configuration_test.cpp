// The device's configuration files (PROTOCOL.md §5), in real directories: merge order,
// aliases, 'auto', provisioned values, paths, and one-line errors naming file and key.

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tether/device/configuration.hpp"

namespace tether::device {
namespace {

namespace fs = std::filesystem;

class Configuration : public testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("device_config_" + std::to_string(::getpid()) + "_" +
                                            testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "config");
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / "config" / name, std::ios::binary) << text;
    }

    // Loading fails with exactly this line.
    void expect_error(const std::string& what) {
        try {
            (void)load_configuration(dir_);
            ADD_FAILURE() << "loaded; wanted: " << what;
        } catch (const configuration_error& e) {
            EXPECT_EQ(std::string(e.what()), what);
        }
    }

    fs::path dir_;
};

// The device kit the cloud makes (PROTOCOL.md §5).
const char* kit = R"({
    mqtt: {endpoint: 'broker.example.com', port: 8883, ca: 'certs/ca.crt',
           cert: 'auto', key: 'auto', client: 'auto', alpn: 'x-amzn-mqtt-ca'},
    provision: {root: 'tether', template: 'default', claimCert: 'certs/claim.crt', claimKey: 'certs/claim.key'},
    app: {interval: 10},
})";

TEST_F(Configuration, DeviceKitBeforeProvisioning) {
    write("ioto.json5", kit);
    const auto c = load_configuration(dir_);
    EXPECT_EQ(c.mqtt.host.value, "broker.example.com");
    EXPECT_FALSE(c.mqtt.host.is_auto);
    EXPECT_EQ(c.mqtt.port.value, 8883);
    EXPECT_TRUE(c.mqtt.tls);
    EXPECT_EQ(c.mqtt.alpn, std::vector<std::string>{"x-amzn-mqtt-ca"});
    EXPECT_EQ(c.mqtt.ca, dir_ / "certs/ca.crt");  // relative to DIR
    EXPECT_TRUE(c.mqtt.cert.is_auto);
    EXPECT_TRUE(c.mqtt.key.is_auto);
    EXPECT_TRUE(c.mqtt.client_id.is_auto);
    EXPECT_EQ(c.provision.root, "tether");
    EXPECT_EQ(c.provision.template_name, "default");
    EXPECT_EQ(c.provision.claim_cert, dir_ / "certs/claim.crt");
    EXPECT_EQ(c.provision.claim_key, dir_ / "certs/claim.key");
    EXPECT_FALSE(c.provision.provisioned);
    EXPECT_EQ(c.merged["app"]["interval"], 10);  // the application's own sections are kept
}

TEST_F(Configuration, ProvisionedValuesOverrideMqtt) {
    write("ioto.json5", kit);
    write("provision.json5", R"({id: 'dev-42', thing: 'dev-42', endpoint: 'mqtts://iot.example.net',
                                 port: '9883', certificate: 'certs/device.crt', key: '/secure/device.key'})");
    const auto c = load_configuration(dir_);
    EXPECT_EQ(c.mqtt.host.value, "iot.example.net");
    EXPECT_EQ(c.mqtt.port.value, 9883);  // AWS sends the port as a string
    EXPECT_FALSE(c.mqtt.cert.is_auto);
    EXPECT_EQ(c.mqtt.cert.value, dir_ / "certs/device.crt");
    EXPECT_EQ(c.mqtt.key.value, fs::path("/secure/device.key"));  // absolute stays
    EXPECT_EQ(c.mqtt.client_id.value, "dev-42");
    EXPECT_FALSE(c.mqtt.client_id.is_auto);
    EXPECT_TRUE(c.provision.provisioned);
    EXPECT_EQ(c.provision.claim_cert, dir_ / "certs/claim.crt");  // ioto.json5's provision keys stay
    EXPECT_EQ(c.merged["provision"]["thing"], "dev-42");
}

TEST_F(Configuration, MergeOrderDeviceUnderDeviceAndLocalLast) {
    write("ioto.json5", R"({mqtt: {endpoint: 'a.example', port: 1000, alpn: ['x', 'y']}, app: {a: 1, b: {c: 2}}})");
    write("device.json5", R"({id: 'auto', product: 'P1', name: 'Rocket', model: 'R2', description: 'A rocket', serialNumber: 'SN9'})");
    write("local.json5", R"({mqtt: {port: 2000, alpn: ['z']}, app: {b: {d: 3}}, device: {name: 'Local name'}})");
    const auto c = load_configuration(dir_);
    EXPECT_EQ(c.mqtt.host.value, "a.example");  // kept from ioto.json5
    EXPECT_EQ(c.mqtt.port.value, 2000);          // local wins
    EXPECT_EQ(c.mqtt.alpn, std::vector<std::string>{"z"});  // arrays are replaced, not merged
    EXPECT_EQ(c.merged["app"], nlohmann::json::parse(R"({"a":1,"b":{"c":2,"d":3}})"));  // objects merge deeply
    EXPECT_TRUE(c.device.id.is_auto);
    EXPECT_EQ(c.device.product, "P1");
    EXPECT_EQ(c.device.name, "Local name");
    EXPECT_EQ(c.device.model, "R2");
    EXPECT_EQ(c.device.description, "A rocket");
    EXPECT_EQ(c.device.serial_number, "SN9");
}

TEST_F(Configuration, IotoAliasesAndLaterSpellingsOverride) {
    write("ioto.json5", R"({mqtt: {endpoint: 'h', certificate: 'c.pem', authority: 'ca.pem', key: 'k.pem'}})");
    auto c = load_configuration(dir_);
    EXPECT_EQ(c.mqtt.cert.value, dir_ / "c.pem");
    EXPECT_EQ(c.mqtt.ca, dir_ / "ca.pem");
    write("local.json5", R"({mqtt: {cert: 'other.pem', authority: '/etc/ca.pem'}})");
    c = load_configuration(dir_);
    EXPECT_EQ(c.mqtt.cert.value, dir_ / "other.pem");
    EXPECT_EQ(c.mqtt.ca, fs::path("/etc/ca.pem"));
}

TEST_F(Configuration, EndpointForms) {
    const auto load = [&](const std::string& mqtt) {
        write("ioto.json5", "{mqtt: {" + mqtt + "}}");
        return load_configuration(dir_).mqtt;
    };
    auto m = load("endpoint: 'h.example'");
    EXPECT_EQ(m.host.value, "h.example");
    EXPECT_EQ(m.port.value, 8883);
    EXPECT_TRUE(m.tls);
    m = load("endpoint: 'h.example:1884'");
    EXPECT_EQ(m.port.value, 1884);
    m = load("endpoint: 'mqtt://h.example'");
    EXPECT_FALSE(m.tls);
    EXPECT_EQ(m.port.value, 1883);
    m = load("endpoint: 'mqtts://h.example:443'");
    EXPECT_TRUE(m.tls);
    EXPECT_EQ(m.port.value, 443);
    m = load("endpoint: 'mqtt://h.example:1000', port: 2000");  // an explicit port wins
    EXPECT_EQ(m.port.value, 2000);
    m = load("endpoint: '[::1]:1885'");
    EXPECT_EQ(m.host.value, "::1");
    EXPECT_EQ(m.port.value, 1885);
    m = load("endpoint: 'auto', port: 'auto'");
    EXPECT_TRUE(m.host.is_auto);
    EXPECT_TRUE(m.port.is_auto);
}

TEST_F(Configuration, MissingIotoFile) {
    expect_error("config/ioto.json5:1:1: cannot open: No such file or directory");
}

TEST_F(Configuration, MalformedFileNamesFileLineAndColumn) {
    write("ioto.json5", "{mqtt: {}}");
    write("local.json5", "{\n  mqtt: {port = 1}\n}");
    expect_error("config/local.json5:2:15: expected ':' after the key, found '='");
}

TEST_F(Configuration, TopMustBeAnObject) {
    write("ioto.json5", "{}");
    write("device.json5", "['x']");
    expect_error("config/device.json5: expected an object at the top of the file, got an array");
}

TEST_F(Configuration, WrongTypesNameTheFileThatSetThem) {
    write("ioto.json5", R"({mqtt: {endpoint: 'h', port: 'abc'}})");
    expect_error(R"(config/ioto.json5: mqtt.port: expected a number 1-65535, got "abc")");
    write("ioto.json5", R"({mqtt: {endpoint: 'h', port: 1883}})");
    write("local.json5", R"({mqtt: {port: 70000}})");
    expect_error("config/local.json5: mqtt.port: expected a number 1-65535, got 70000");
    write("local.json5", R"({mqtt: {port: 0}})");
    expect_error("config/local.json5: mqtt.port: expected a number 1-65535, got 0");
    write("local.json5", R"({mqtt: {port: 1.5}})");
    expect_error("config/local.json5: mqtt.port: expected a number 1-65535, got 1.5");
    write("local.json5", R"({mqtt: {endpoint: 5}})");
    expect_error("config/local.json5: mqtt.endpoint: expected a string, got 5");
    write("local.json5", R"({mqtt: {alpn: [1]}})");
    expect_error("config/local.json5: mqtt.alpn: expected non-empty strings in the array, got 1");
    write("local.json5", R"({mqtt: {alpn: {}}})");
    expect_error("config/local.json5: mqtt.alpn: expected a string or an array of strings, got {}");
    write("local.json5", R"({mqtt: {ca: 'auto'}})");
    expect_error("config/local.json5: mqtt.ca: 'auto' is not allowed here");
    write("local.json5", R"({mqtt: {key: ''}})");
    expect_error(R"(config/local.json5: mqtt.key: expected a file path or 'auto', got "")");
    write("local.json5", R"({mqtt: 'none'})");
    expect_error("config/local.json5: mqtt: expected an object, got a string");
    fs::remove(dir_ / "config/local.json5");
    write("device.json5", R"({name: ['x']})");
    expect_error(R"(config/device.json5: device.name: expected a string, got ["x"])");
    write("device.json5", "{}");
    write("provision.json5", R"({port: false})");
    expect_error("config/provision.json5: provision.port: expected a number 1-65535, got false");
}

TEST_F(Configuration, EndpointErrors) {
    const auto check = [&](const std::string& endpoint, const std::string& message) {
        write("ioto.json5", "{mqtt: {endpoint: '" + endpoint + "'}}");
        expect_error("config/ioto.json5: mqtt.endpoint: " + message);
    };
    check("http://h", "unknown scheme 'http' (use host, host:port, mqtt://host[:port] or mqtts://host[:port])");
    check("ws://h:80", "unknown scheme 'ws' (use host, host:port, mqtt://host[:port] or mqtts://host[:port])");
    check("mqtts://h/path", "expected host[:port] with no path, got 'h/path'");
    check("mqtts://", "the endpoint has no host");
    check(":8883", "the endpoint has no host");
    check("h:", "expected a port 1-65535 after ':', got ''");
    check("h:99999", "expected a port 1-65535 after ':', got '99999'");
    check("h:88a", "expected a port 1-65535 after ':', got '88a'");
    check("[::1", "'[' without ']' in the host");
}

TEST_F(Configuration, ProvisionSettings) {
    write("ioto.json5", R"({provision: {root: 'aws', template: 'fleet'}})");
    auto c = load_configuration(dir_);
    EXPECT_EQ(c.provision.root, "aws");
    EXPECT_EQ(c.provision.template_name, "fleet");
    EXPECT_TRUE(c.provision.claim_cert.empty());
    write("ioto.json5", R"({provision: {root: 'azure'}})");
    expect_error(R"(config/ioto.json5: provision.root: expected 'tether' or 'aws', got "azure")");
}

TEST_F(Configuration, PersistIsAFolderOfTheDeviceAndItsLevelIsChecked) {
    write("ioto.json5", R"({mqtt: {persist: 'state/outbox', persistLevel: 'power_loss'}})");
    const auto c = load_configuration(dir_);
    EXPECT_EQ(c.mqtt.persist, dir_ / "state" / "outbox");
    EXPECT_TRUE(c.mqtt.persist_power_loss);
    write("ioto.json5", R"({mqtt: {}})");
    EXPECT_TRUE(load_configuration(dir_).mqtt.persist.empty());
    write("ioto.json5", R"({mqtt: {persist: 'o', persistLevel: 'disk'}})");
    expect_error(R"(config/ioto.json5: mqtt.persistLevel: expected 'process_crash' or 'power_loss', got "disk")");
}

TEST_F(Configuration, BothNameAndAliasInOneFile) {
    write("ioto.json5", R"({mqtt: {cert: 'a', certificate: 'b'}})");
    expect_error("config/ioto.json5: mqtt.certificate: both 'cert' and its alias 'certificate' are set");
}

TEST_F(Configuration, DefaultsWithoutAnMqttSection) {
    write("ioto.json5", "{}");
    const auto c = load_configuration(dir_);
    EXPECT_EQ(c.mqtt.host.value, "");
    EXPECT_EQ(c.mqtt.port.value, 8883);
    EXPECT_FALSE(c.mqtt.cert.is_auto);
    EXPECT_TRUE(c.mqtt.ca.empty());
    EXPECT_EQ(c.provision.root, "tether");
    EXPECT_FALSE(c.device.serial_number.has_value());
}

}  // namespace
}  // namespace tether::device
