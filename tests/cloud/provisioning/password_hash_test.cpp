// The administrator's password hash: salted scrypt that verifies the password and nothing
// else, and survives no tampering.

#include <gtest/gtest.h>

#include "provisioning/password_hash.hpp"

namespace tether::cloud::provisioning {
namespace {

TEST(PasswordHash, VerifiesThePasswordAndNoOther) {
    const std::string stored = hash_password("correct horse");
    EXPECT_TRUE(stored.starts_with("$scrypt$ln=15,r=8,p=1$")) << stored;
    EXPECT_EQ(stored.find("correct horse"), std::string::npos);
    EXPECT_TRUE(verify_password("correct horse", stored));
    EXPECT_FALSE(verify_password("correct horsE", stored));
    EXPECT_FALSE(verify_password("", stored));
    EXPECT_NE(hash_password("correct horse"), stored);  // a fresh salt each time
}

TEST(PasswordHash, RefusesMalformedOrCostlyStoredValues) {
    const std::string stored = hash_password("pw");
    std::string wrong_hash = stored;
    wrong_hash[wrong_hash.size() - 3] = wrong_hash[wrong_hash.size() - 3] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verify_password("pw", wrong_hash));
    std::string costly = stored;
    costly.replace(costly.find("ln=15"), 5, "ln=30");  // 2^30 * 1 KiB: refused, not computed
    EXPECT_FALSE(verify_password("pw", costly));
    for (const std::string& bad : std::vector<std::string>{"", "pw", "$scrypt$", "$scrypt$ln=15,r=8,p=1$", "$scrypt$ln=15,r=8,p=1$AAAA$AAAA",
                                  "$pbkdf2$ln=15,r=8,p=1$" + stored.substr(22)}) {
        EXPECT_FALSE(verify_password("pw", bad)) << bad;
    }
}

TEST(PasswordHash, GeneratedPasswordsUseTheAlphabetWithoutLookAlikes) {
    const std::string a = generate_password(), b = generate_password();
    EXPECT_EQ(a.size(), 20u);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.find_first_of("0O1lI"), std::string::npos) << a;
}

}  // namespace
}  // namespace tether::cloud::provisioning
