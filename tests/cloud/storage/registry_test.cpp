// provisioning::registry in the database: the semantics memory_registry has, kept across
// connections, and one registration per token when two connections race.
#include <atomic>
#include <latch>
#include <thread>

#include "storage/sql_registry.hpp"
#include "storage_fixture.hpp"

namespace tether::cloud::storage::test {
namespace {

using namespace provisioning;
using std::chrono::milliseconds;

const time_point t0{milliseconds(1'700'000'000'000)};

certificate_record pending(const std::string& id, const std::string& fingerprint) {
    return {id, "SERIAL" + id, "pending-" + id, "PEM " + id, fingerprint, certificate_status::pending, t0, {}, ""};
}

certificate_record active(const std::string& id, const std::string& fingerprint, const std::string& thing) {
    return {id, "SERIAL" + id, thing, "PEM " + id, fingerprint, certificate_status::active, t0, {}, thing};
}

token_record token(const std::string& t, const std::string& certificate_id, time_point expires = t0 + std::chrono::hours(1)) {
    return {t, certificate_id, "CSR " + t, expires, false};
}

TEST_P(storage_test, PendingCertificateAndTokenAreFoundAgain) {
    auto db = open();
    ASSERT_TRUE(db);
    sql_registry r(*db);
    r.add_pending(pending("p1", "fpA"), token("tok1", "p1"));
    const auto t = r.find_token("tok1");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->certificate_id, "p1");
    EXPECT_EQ(t->csr_pem, "CSR tok1");
    EXPECT_EQ(t->expires_at, t0 + std::chrono::hours(1));
    EXPECT_FALSE(t->used);
    const auto c = r.find_certificate("p1");
    ASSERT_TRUE(c);
    expect_same(*c, pending("p1", "fpA"));
    EXPECT_FALSE(r.find_token("nope"));
    EXPECT_FALSE(r.find_certificate("nope"));
    EXPECT_FALSE(r.find_thing("nope"));
}

TEST_P(storage_test, DuplicatePendingIsRefusedAndChangesNothing) {
    auto db = open();
    ASSERT_TRUE(db);
    sql_registry r(*db);
    r.add_pending(pending("p1", "fpA"), token("tok1", "p1"));
    // Same token, new certificate: the certificate must not stay behind either.
    EXPECT_THROW(r.add_pending(pending("p2", "fpA"), token("tok1", "p2")), std::runtime_error);
    EXPECT_FALSE(r.find_certificate("p2"));
}

TEST_P(storage_test, RegisterThingChecksInOrderAndChangesNothingUnlessRegistered) {
    auto db = open();
    ASSERT_TRUE(db);
    sql_registry r(*db);
    r.add_pending(pending("p1", "fpA"), token("tokA", "p1"));
    r.add_pending(pending("p2", "fpB"), token("tokB", "p2"));
    r.add_pending(pending("p3", "fpA"), token("tokA2", "p3"));
    r.add_pending(pending("p4", "fpC"), token("old", "p4", t0));

    EXPECT_EQ(r.register_thing("none", active("a1", "fpA", "dev1"), t0), register_outcome::token_unknown);
    EXPECT_EQ(r.register_thing("old", active("a1", "fpC", "dev1"), t0), register_outcome::token_expired);
    EXPECT_EQ(r.register_thing("tokA", active("a1", "fpA", "dev1"), t0), register_outcome::registered);
    EXPECT_EQ(r.register_thing("tokA", active("a9", "fpA", "dev9"), t0), register_outcome::token_used);
    // Another key may not take the name...
    EXPECT_EQ(r.register_thing("tokB", active("b1", "fpB", "dev1"), t0), register_outcome::name_taken);
    EXPECT_FALSE(r.find_token("tokB")->used);
    EXPECT_FALSE(r.find_certificate("b1"));
    // ...the same key, retrying with a new token, may.
    EXPECT_EQ(r.register_thing("tokA2", active("a2", "fpA", "dev1"), t0 + milliseconds(5)), register_outcome::registered);

    const auto thing = r.find_thing("dev1");
    ASSERT_TRUE(thing);
    EXPECT_EQ(thing->certificate_id, "a2");
    EXPECT_EQ(thing->provisioned_at, t0 + milliseconds(5));
    EXPECT_FALSE(thing->revoked);
    EXPECT_TRUE(r.find_token("tokA")->used);
    ASSERT_TRUE(r.find_certificate("a1"));
    EXPECT_EQ(r.find_certificate("a1")->status, certificate_status::active);
    EXPECT_FALSE(r.find_certificate("a9"));
}

TEST_P(storage_test, RevokingAThingRevokesItsCertificatesAndHoldsTheNameUntilReleased) {
    auto db = open();
    ASSERT_TRUE(db);
    sql_registry r(*db);
    r.add_pending(pending("p1", "fpA"), token("tokA", "p1"));
    r.add_pending(pending("p2", "fpB"), token("tokB", "p2"));
    ASSERT_EQ(r.register_thing("tokA", active("a1", "fpA", "dev1"), t0), register_outcome::registered);

    const time_point later = t0 + std::chrono::minutes(1);
    const auto revoked = r.revoke_thing("dev1", later);
    ASSERT_EQ(revoked.size(), 1u);
    EXPECT_EQ(revoked[0].certificate_id, "a1");
    EXPECT_EQ(revoked[0].status, certificate_status::revoked);
    EXPECT_EQ(revoked[0].revoked_at, later);
    EXPECT_TRUE(r.find_thing("dev1")->revoked);
    EXPECT_TRUE(r.revoke_thing("dev1", later).empty());
    EXPECT_TRUE(r.revoke_thing("unknown", later).empty());

    const auto crl = r.revoked_certificates();
    ASSERT_EQ(crl.size(), 1u);
    EXPECT_EQ(crl[0].serial, "SERIALa1");

    // A revoked thing is refused, whatever the key, and the token kept; released, it may register.
    EXPECT_EQ(r.register_thing("tokB", active("b1", "fpB", "dev1"), later), register_outcome::thing_revoked);
    EXPECT_FALSE(r.find_token("tokB")->used);
    EXPECT_FALSE(r.release_thing("unknown", later));
    const auto released = r.release_thing("dev1", later);
    ASSERT_TRUE(released);
    EXPECT_TRUE(released->empty());
    EXPECT_EQ(r.register_thing("tokB", active("b1", "fpB", "dev1"), later), register_outcome::registered);
    EXPECT_EQ(r.find_thing("dev1")->certificate_id, "b1");
    EXPECT_FALSE(r.find_thing("dev1")->revoked);
}

// Releasing a thing that is not revoked revokes its active certificate, so a new key may
// take the name.
TEST_P(storage_test, ReleasingAnActiveThingRevokesItsCertificate) {
    auto db = open();
    ASSERT_TRUE(db);
    sql_registry r(*db);
    r.add_pending(pending("p1", "fpA"), token("tokA", "p1"));
    r.add_pending(pending("p2", "fpB"), token("tokB", "p2"));
    ASSERT_EQ(r.register_thing("tokA", active("a1", "fpA", "dev1"), t0), register_outcome::registered);
    EXPECT_EQ(r.register_thing("tokB", active("b1", "fpB", "dev1"), t0), register_outcome::name_taken);
    const auto released = r.release_thing("dev1", t0);
    ASSERT_TRUE(released);
    ASSERT_EQ(released->size(), 1u);
    EXPECT_EQ((*released)[0].certificate_id, "a1");
    EXPECT_EQ(r.find_certificate("a1")->status, certificate_status::revoked);
    EXPECT_EQ(r.register_thing("tokB", active("b1", "fpB", "dev1"), t0), register_outcome::registered);
}

// Two connections present each token at once: exactly one registration per token.
TEST_P(storage_test, TokenPresentedTwiceAtOnceRegistersOnce) {
    auto db1 = open();
    auto db2 = open();
    ASSERT_TRUE(db1 && db2);
    sql_registry r1(*db1), r2(*db2);
    constexpr int tokens = 30;
    for (int i = 0; i < tokens; ++i) {
        r1.add_pending(pending("p" + std::to_string(i), "fp"), token("tok" + std::to_string(i), "p" + std::to_string(i)));
    }
    std::vector<register_outcome> out1(tokens), out2(tokens);
    std::latch start(2);
    std::atomic<bool> threw{false};
    const auto race = [&](sql_registry& r, std::vector<register_outcome>& out, const std::string& side) {
        start.arrive_and_wait();
        try {
            for (int i = 0; i < tokens; ++i) {
                // Different thing names: only the token decides.
                out[static_cast<std::size_t>(i)] =
                    r.register_thing("tok" + std::to_string(i),
                                     active(side + std::to_string(i), "fp" + side, side + "dev" + std::to_string(i)), t0);
            }
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
            threw = true;
        }
    };
    std::thread a(race, std::ref(r1), std::ref(out1), "x");
    std::thread b(race, std::ref(r2), std::ref(out2), "y");
    a.join();
    b.join();
    ASSERT_FALSE(threw);
    for (int i = 0; i < tokens; ++i) {
        const auto o1 = out1[static_cast<std::size_t>(i)], o2 = out2[static_cast<std::size_t>(i)];
        EXPECT_TRUE((o1 == register_outcome::registered && o2 == register_outcome::token_used) ||
                    (o2 == register_outcome::registered && o1 == register_outcome::token_used))
            << "token " << i << ": " << static_cast<int>(o1) << " and " << static_cast<int>(o2);
        const bool x_won = o1 == register_outcome::registered;
        EXPECT_EQ(r1.find_certificate("x" + std::to_string(i)).has_value(), x_won);
        EXPECT_EQ(r1.find_certificate("y" + std::to_string(i)).has_value(), !x_won);
    }
}

// Two keys claim each name at once with tokens of their own: one wins, the other is told
// the name is taken.
TEST_P(storage_test, OneNameClaimedTwiceAtOnceGoesToOneKey) {
    auto db1 = open();
    auto db2 = open();
    ASSERT_TRUE(db1 && db2);
    sql_registry r1(*db1), r2(*db2);
    constexpr int names = 30;
    for (int i = 0; i < names; ++i) {
        const std::string n = std::to_string(i);
        r1.add_pending(pending("px" + n, "fpx"), token("tx" + n, "px" + n));
        r1.add_pending(pending("py" + n, "fpy"), token("ty" + n, "py" + n));
    }
    std::vector<register_outcome> out1(names), out2(names);
    std::latch start(2);
    std::atomic<bool> threw{false};
    const auto race = [&](sql_registry& r, std::vector<register_outcome>& out, const std::string& side) {
        start.arrive_and_wait();
        try {
            for (int i = 0; i < names; ++i) {
                const std::string n = std::to_string(i);
                out[static_cast<std::size_t>(i)] =
                    r.register_thing("t" + side + n, active(side + n, "fp" + side, "dev" + n), t0);
            }
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
            threw = true;
        }
    };
    std::thread a(race, std::ref(r1), std::ref(out1), "x");
    std::thread b(race, std::ref(r2), std::ref(out2), "y");
    a.join();
    b.join();
    ASSERT_FALSE(threw);
    for (int i = 0; i < names; ++i) {
        const auto o1 = out1[static_cast<std::size_t>(i)], o2 = out2[static_cast<std::size_t>(i)];
        EXPECT_TRUE((o1 == register_outcome::registered && o2 == register_outcome::name_taken) ||
                    (o2 == register_outcome::registered && o1 == register_outcome::name_taken))
            << "name " << i << ": " << static_cast<int>(o1) << " and " << static_cast<int>(o2);
        const auto thing = r1.find_thing("dev" + std::to_string(i));
        ASSERT_TRUE(thing);
        EXPECT_EQ(thing->certificate_id, (o1 == register_outcome::registered ? "x" : "y") + std::to_string(i));
    }
}

}  // namespace
}  // namespace tether::cloud::storage::test
