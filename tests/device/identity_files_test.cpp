// Saving the provisioned identity: the files, their modes, and crash safety — a process
// that dies between any two steps leaves the old identity or the new one, whole.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_files.hpp"
#include "tether/device/configuration.hpp"
#include "tether/device/identity_files.hpp"

namespace tether::device {
namespace {

identity make_identity(const std::string& tag) {
    return {.thing = "thing-" + tag, .endpoint = "broker-" + tag, .port = 8883,
            .key_pem = "KEY " + tag, .certificate_pem = "CERT " + tag};
}

void write_kit(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir / "config");
    test::write_text(dir / "config" / "ioto.json5",
                     "{ mqtt: { endpoint: 'localhost', cert: 'auto', key: 'auto', client: 'auto' } }");
}

// Which identity the configuration now holds: "old", "new", "none", or "MIXED..." when the
// files it names do not belong together.
std::string identity_in_force(const std::filesystem::path& dir) {
    const auto c = load_configuration(dir);
    if (!c.provision.provisioned) return "none";
    const std::string key = test::read_text(c.mqtt.key.value), cert = test::read_text(c.mqtt.cert.value);
    for (const char* tag : {"old", "new"}) {
        const auto id = make_identity(tag);
        if (key == id.key_pem && cert == id.certificate_pem && c.mqtt.client_id.value == id.thing &&
            c.mqtt.host.value == id.endpoint) {
            if (test::mode_of(c.mqtt.key.value) != 0600u) return "key not 0600";
            return tag;
        }
    }
    return "MIXED key=" + key + " cert=" + cert + " id=" + c.mqtt.client_id.value;
}

TEST(IdentityFiles, SaveWritesTheKey0600AndTheConfigurationResolvesAuto) {
    test::temp_dir t;
    write_kit(t.path);
    EXPECT_EQ(identity_in_force(t.path), "none");
    save_identity(t.path, make_identity("new"));
    EXPECT_EQ(identity_in_force(t.path), "new");
    const auto c = load_configuration(t.path);
    EXPECT_FALSE(c.mqtt.cert.is_auto);
    EXPECT_EQ(c.mqtt.port.value, 8883);
}

TEST(IdentityFiles, ASecondSaveReplacesTheFirstAndRemovesItsFiles) {
    test::temp_dir t;
    write_kit(t.path);
    save_identity(t.path, make_identity("old"));
    const auto old_key = load_configuration(t.path).mqtt.key.value;
    save_identity(t.path, make_identity("new"));
    EXPECT_EQ(identity_in_force(t.path), "new");
    EXPECT_FALSE(std::filesystem::exists(old_key));
}

TEST(IdentityFiles, ForgetReturnsToAuto) {
    test::temp_dir t;
    write_kit(t.path);
    save_identity(t.path, make_identity("old"));
    const auto key = load_configuration(t.path).mqtt.key.value;
    forget_identity(t.path);
    EXPECT_EQ(identity_in_force(t.path), "none");
    EXPECT_TRUE(load_configuration(t.path).mqtt.cert.is_auto);
    EXPECT_FALSE(std::filesystem::exists(key));
    forget_identity(t.path);  // nothing to forget: not an error
}

// A child process saves the new identity over the old one and dies (_exit, no cleanup)
// right after step N; whatever N, the identity in force is the old or the new one.
TEST(IdentityFiles, AProcessKilledBetweenAnyTwoStepsLeavesTheOldIdentityOrTheNew) {
    for (int step = 1; step <= 4; ++step) {
        test::temp_dir t;
        write_kit(t.path);
        save_identity(t.path, make_identity("old"));
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            save_identity(t.path, make_identity("new"), [step](int done) {
                if (done == step) ::_exit(0);
            });
            ::_exit(0);
        }
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        const std::string in_force = identity_in_force(t.path);
        EXPECT_EQ(in_force, step < 3 ? "old" : "new") << "killed after step " << step;
        // The next save cleans what the dead one left behind.
        save_identity(t.path, make_identity("new"));
        std::size_t files = 0;
        for (const auto& e : std::filesystem::directory_iterator(t.path / "certs")) files += e.is_regular_file();
        EXPECT_EQ(files, 2u) << "leftovers after step " << step;
    }
}

TEST(IdentityFiles, RefusesAnEmptyIdentity) {
    test::temp_dir t;
    EXPECT_THROW(save_identity(t.path, identity{}), std::invalid_argument);
}

}  // namespace
}  // namespace tether::device
