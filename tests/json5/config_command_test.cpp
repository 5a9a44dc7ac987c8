// `tether config print FILE`, run as a program: the value as JSON and exit 0, or one line
// "FILE:LINE:COL: message" on stderr and exit 1.

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../support/process.hpp"

namespace tether::test {
namespace {

namespace fs = std::filesystem;

class ConfigCommand : public testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("json5_cli_" + std::to_string(::getpid()) + "_" +
                                            testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string write(const std::string& name, const std::string& text) {
        const auto p = dir_ / name;
        std::ofstream(p, std::ios::binary) << text;
        return p.string();
    }
    fs::path dir_;
};

TEST_F(ConfigCommand, PrintsTheValueAsJson) {
    const auto file = write("ioto.json5", "{mqtt: {port: 0x22B3, alpn: ['x-amzn-mqtt-ca',],}, // TLS\n ratio: .5, n: NaN}");
    const auto r = run({TETHER_BINARY, "config", "print", file});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(nlohmann::json::parse(r.out),
              nlohmann::json::parse(R"({"mqtt":{"port":8883,"alpn":["x-amzn-mqtt-ca"]},"ratio":0.5,"n":null})"));
}

TEST_F(ConfigCommand, SyntaxErrorIsOneLineWithThePosition) {
    const auto file = write("bad.json5", "{\n  port: 8883\n  host: 'x'\n}");
    const auto r = run({TETHER_BINARY, "config", "print", file});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, file + ":3:3: expected ',' or '}' after a member, found 'h'\n");
}

TEST_F(ConfigCommand, MissingFile) {
    const auto file = (dir_ / "none.json5").string();
    const auto r = run({TETHER_BINARY, "config", "print", file});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, file + ":1:1: cannot open: No such file or directory\n");
}

TEST_F(ConfigCommand, Usage) {
    const auto r = run({TETHER_BINARY, "config"});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "Error: usage: tether config print FILE\n");
    EXPECT_EQ(run({TETHER_BINARY, "config", "show", "x"}).status, 1);
    EXPECT_EQ(run({TETHER_BINARY, "config", "--help"}).status, 0);
}

}  // namespace
}  // namespace tether::test
