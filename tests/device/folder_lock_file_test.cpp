// The lock file itself (device/src/folder_lock.hpp), without a device: its mode whatever
// the umask and whatever an older version left, and two holders in one process.

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include "folder_lock.hpp"
#include "test_files.hpp"
#include "tether/device/error.hpp"

namespace tether::device {
namespace {

// The process's umask for the life of one test.
class umask_for_test {
public:
    explicit umask_for_test(mode_t mask) : saved_(::umask(mask)) {}
    ~umask_for_test() { ::umask(saved_); }
    umask_for_test(const umask_for_test&) = delete;
    umask_for_test& operator=(const umask_for_test&) = delete;

private:
    mode_t saved_;
};

TEST(FolderLockFile, MadeWithMode0600EvenUnderAnOpenUmask) {
    test::temp_dir t;
    const umask_for_test open_mask(0);
    detail::folder_lock lock;
    ASSERT_FALSE(lock.take(t.path));
    EXPECT_EQ(test::mode_of(t.path / "device.lock"), 0600u);
}

// A lock file another version left readable and writable by everyone is set to 0600: its
// other users could otherwise take the lock and keep the device from starting.
TEST(FolderLockFile, AFileLeftWithAnotherModeIsSetTo0600) {
    test::temp_dir t;
    const umask_for_test open_mask(0);
    { std::ofstream(t.path / "device.lock") << ""; }
    ASSERT_EQ(::chmod((t.path / "device.lock").c_str(), 0666), 0);
    detail::folder_lock lock;
    ASSERT_FALSE(lock.take(t.path));
    EXPECT_EQ(test::mode_of(t.path / "device.lock"), 0600u);
}

TEST(FolderLockFile, ASecondHolderIsRefusedUntilTheFirstReleases) {
    test::temp_dir t;
    detail::folder_lock first, second;
    ASSERT_FALSE(first.take(t.path));
    EXPECT_EQ(second.take(t.path), make_error_code(errc::folder_in_use));
    EXPECT_FALSE(second.held());
    first.release();
    EXPECT_FALSE(second.take(t.path));
    EXPECT_TRUE(second.held());
}

}  // namespace
}  // namespace tether::device
