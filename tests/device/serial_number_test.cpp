// A kit without a serial number: one random serial, saved once in device.json5, the
// file's own text kept.

#include <gtest/gtest.h>

#include "test_files.hpp"
#include "tether/device/configuration.hpp"
#include "tether/device/serial_number.hpp"

namespace tether::device {
namespace {

bool is_hex16(const std::string& s) {
    return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(SerialNumber, MadeOnceAndSavedKeepingTheFilesText) {
    test::temp_dir t;
    std::filesystem::create_directories(t.path / "config");
    const auto file = t.path / "config" / "device.json5";
    test::write_text(file, "// the kit's device file {not an object}\n{ id: 'auto', /* a { in a comment */ model: 'X1' }\n");
    const std::string serial = ensure_serial_number(t.path);
    EXPECT_TRUE(is_hex16(serial)) << serial;
    const std::string text = test::read_text(file);
    EXPECT_NE(text.find("// the kit's device file {not an object}"), std::string::npos) << text;
    EXPECT_NE(text.find("/* a { in a comment */"), std::string::npos) << text;
    // The configuration reads it back, with the file's other keys.
    std::filesystem::create_directories(t.path / "config");
    test::write_text(t.path / "config" / "ioto.json5", "{ mqtt: { endpoint: 'localhost' } }");
    const auto c = load_configuration(t.path);
    ASSERT_TRUE(c.device.serial_number);
    EXPECT_EQ(*c.device.serial_number, serial);
    EXPECT_EQ(c.device.model, "X1");
    // Once: the second call returns it and leaves the file alone.
    EXPECT_EQ(ensure_serial_number(t.path), serial);
    EXPECT_EQ(test::read_text(file), text);
}

TEST(SerialNumber, AKitsOwnSerialIsKept) {
    test::temp_dir t;
    std::filesystem::create_directories(t.path / "config");
    const auto file = t.path / "config" / "device.json5";
    test::write_text(file, "{ serialNumber: 'SN-1' }");
    EXPECT_EQ(ensure_serial_number(t.path), "SN-1");
    EXPECT_EQ(test::read_text(file), "{ serialNumber: 'SN-1' }");
}

TEST(SerialNumber, AMissingFileIsCreatedAndTwoDevicesDiffer) {
    test::temp_dir a, b;
    const std::string first = ensure_serial_number(a.path);
    EXPECT_TRUE(is_hex16(first));
    EXPECT_EQ(ensure_serial_number(a.path), first);
    EXPECT_NE(ensure_serial_number(b.path), first);
}

TEST(SerialNumber, ABrokenFileIsAConfigurationErrorAndUntouched) {
    test::temp_dir t;
    std::filesystem::create_directories(t.path / "config");
    const auto file = t.path / "config" / "device.json5";
    for (const std::string bad : {"[1, 2]", "{ id: ", ""}) {
        test::write_text(file, bad);
        EXPECT_THROW((void)ensure_serial_number(t.path), configuration_error) << bad;
        EXPECT_EQ(test::read_text(file), bad);
    }
}

}  // namespace
}  // namespace tether::device
