// Where errors point (line and column), the depth and size limits, and reading files.

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tether/json5/json5.hpp"

namespace tether::json5 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

parse_error error_of(const std::string& text, const limits& bounds = {}) {
    try {
        (void)parse(text, "in.json5", bounds);
    } catch (const parse_error& e) {
        return e;
    }
    ADD_FAILURE() << "accepted: " << testing::PrintToString(text);
    return parse_error("", 0, 0, "");
}

TEST(Positions, LinesAndColumns) {
    const auto e = error_of("{\n  a: 1,\n  b: ?\n}");
    EXPECT_EQ(e.line, 3u);
    EXPECT_EQ(e.column, 6u);
    EXPECT_EQ(std::string(e.what()), "in.json5:3:6: expected a value, found '?'");
    EXPECT_EQ(e.source, "in.json5");
}

TEST(Positions, EveryLineTerminatorEndsALine) {
    EXPECT_EQ(error_of("\n\n?").line, 3u);
    EXPECT_EQ(error_of("\r\r?").line, 3u);
    EXPECT_EQ(error_of("\r\n\r\n?").line, 3u);  // CR LF is one break
    EXPECT_EQ(error_of("\xE2\x80\xA8\xE2\x80\xA9?").line, 3u);
    EXPECT_EQ(error_of("'a\\\nb\\\r\nc' x").line, 3u);  // line continuations in strings count
    EXPECT_EQ(error_of("/*\n\n*/ x").line, 3u);
    EXPECT_EQ(error_of("\r\n\r\n?").column, 1u);
}

TEST(Positions, ColumnsCountCodePointsNotBytes) {
    const auto e = error_of("['\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80', ?]");  // é € 😀: 2+3+4 bytes, 3 columns
    EXPECT_EQ(e.line, 1u);
    EXPECT_EQ(e.column, 9u);
    EXPECT_EQ(error_of("\t?").column, 2u);  // a tab is one column
}

TEST(Positions, DefaultSourceName) {
    try {
        (void)parse("?");
        FAIL();
    } catch (const parse_error& e) {
        EXPECT_EQ(std::string(e.what()), "<input>:1:1: expected a value, found '?'");
    }
}

TEST(Limits, DepthUpToTheLimitIsAccepted) {
    const limits bounds{.max_depth = 5};
    EXPECT_EQ(parse("[[[[[1]]]]]", "d", bounds), json::parse("[[[[[1]]]]]"));
    EXPECT_EQ(parse("{a:{a:{a:{a:[]}}}}", "d", bounds)["a"]["a"]["a"]["a"], json::array());
    EXPECT_EQ(parse("[[],[],[[[[]]]]]", "d", bounds).size(), 3u);  // siblings do not add up
}

TEST(Limits, DepthPastTheLimitIsAClearError) {
    const auto e = error_of("[[[[[[1]]]]]]", limits{.max_depth = 5});
    EXPECT_EQ(e.column, 6u);  // the bracket that is one too many
    EXPECT_EQ(e.message, "nesting deeper than 5 arrays and objects");
    EXPECT_EQ(error_of("{a:{a:{a:{a:{a:{a:1}}}}}}", limits{.max_depth = 5}).column, 16u);
    EXPECT_EQ(error_of("[]", limits{.max_depth = 0}).message, "nesting deeper than 0 arrays and objects");
    EXPECT_EQ(parse("1", "d", limits{.max_depth = 0}), 1);
}

TEST(Limits, DefaultDepthIs128) {
    EXPECT_NO_THROW((void)parse(std::string(128, '[') + std::string(128, ']')));
    EXPECT_EQ(error_of(std::string(129, '[') + std::string(129, ']')).column, 129u);
}

TEST(Limits, DeepNestingNeitherOverflowTheStackNorHang) {
    // With the limit lifted, the parser's own stack takes the depth; a recursive parser
    // would overflow the machine's stack here.
    const std::string deep(100'000, '[');
    const auto e = error_of(deep, limits{.max_depth = 200'000});
    EXPECT_EQ(e.message, "expected a value, found the end of the input");
    EXPECT_EQ(error_of(deep).message, "nesting deeper than 128 arrays and objects");
    std::string nested;
    for (int i = 0; i < 10'000; ++i) nested += "{a:";
    nested += "1" + std::string(10'000, '}');
    EXPECT_EQ(parse(nested, "d", limits{.max_depth = 10'000}).size(), 1u);
}

TEST(Limits, Size) {
    EXPECT_EQ(parse(" 1 ", "s", limits{.max_bytes = 3}), 1);
    const auto e = error_of("  1 ", limits{.max_bytes = 3});
    EXPECT_EQ(std::string(e.what()), "in.json5:1:1: the text is 4 bytes, over the limit of 3");
}

class Files : public testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("json5_files_" + std::to_string(::getpid()) + "_" +
                                            testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path write(const std::string& name, const std::string& text) {
        const auto p = dir_ / name;
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    fs::path dir_;
};

TEST_F(Files, ParsesAFile) {
    EXPECT_EQ(parse_file(write("a.json5", "{port: 8883, // MQTT over TLS\n}")), json::parse(R"({"port":8883})"));
}

TEST_F(Files, ErrorsNameThePath) {
    const auto p = write("bad.json5", "{\n  port: 88 83,\n}");
    try {
        (void)parse_file(p);
        FAIL();
    } catch (const parse_error& e) {
        EXPECT_EQ(std::string(e.what()), p.string() + ":2:12: expected ',' or '}' after a member, found '8'");
    }
}

TEST_F(Files, MissingFileIsAParseErrorWithTheReason) {
    const auto p = dir_ / "missing.json5";
    try {
        (void)parse_file(p);
        FAIL();
    } catch (const parse_error& e) {
        EXPECT_EQ(std::string(e.what()), p.string() + ":1:1: cannot open: No such file or directory");
    }
}

TEST_F(Files, DirectoryIsAParseError) {
    try {
        (void)parse_file(dir_);
        FAIL();
    } catch (const parse_error& e) {
        EXPECT_EQ(e.message, "cannot read: it is a directory");
    }
}

TEST_F(Files, UnreadableFileIsAParseError) {
    const auto p = write("secret.json5", "1");
    fs::permissions(p, fs::perms::none);
    if (std::ifstream(p).good()) GTEST_SKIP() << "running as root: permissions do not stop reading";
    try {
        (void)parse_file(p);
        FAIL();
    } catch (const parse_error& e) {
        EXPECT_EQ(e.message, "cannot open: Permission denied");
    }
}

TEST_F(Files, OversizedFileIsRefusedBeforeReading) {
    const auto p = write("big.json5", std::string(100, ' ') + "1");
    try {
        (void)parse_file(p, limits{.max_bytes = 100});
        FAIL();
    } catch (const parse_error& e) {
        EXPECT_EQ(e.message, "the file is 101 bytes, over the limit of 100");
    }
    EXPECT_EQ(parse_file(p, limits{.max_bytes = 101}), 1);
}

TEST_F(Files, EmptyFile) {
    try {
        (void)parse_file(write("empty.json5", ""));
        FAIL();
    } catch (const parse_error& e) {
        EXPECT_EQ(e.message, "expected a value, found the end of the input");
    }
}

}  // namespace
}  // namespace tether::json5
