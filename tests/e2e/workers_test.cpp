// Two `tether-cloud run --worker` processes on one PostgreSQL share the ingest through the
// broker's shared subscription while a device streams QoS 1 Store writes; one worker is
// killed with SIGKILL mid-run and started again under its name (as a supervisor would),
// which resumes its session and the messages the broker kept for it. Every write the
// device saw acknowledged must then be in the database.

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "cloud_run.hpp"
#include "postgres.hpp"
#include "write_stream.hpp"

namespace tether::e2e {
namespace {

TEST(Workers, TwoWorkersOneKilledMidRunLoseNoAcknowledgedWrite) {
    two_workers d("workers");
    cloud_run& c = d.c;
    const std::string& url = d.url;
    auto& w1 = d.w1;
    // Provisioning goes through the workers too (its two requests may meet different ones).
    const auto provisioned = c.device("set", {"model", "Acme Rocket"});
    ASSERT_EQ(provisioned.status, 0) << provisioned.err;

    write_stream writes(c.device_dir());
    const bool started = writes.wait_acked(100);
    w1->kill(SIGKILL);
    (void)w1->wait();
    const int at_kill = writes.acked();
    // w2 goes on; the broker keeps w1's share for its session meanwhile.
    const bool went_on = writes.wait_acked(at_kill + 100);
    w1 = c.worker("w1");
    const bool resumed = writes.wait_acked(at_kill + 200, 120s);
    const bool finished = writes.stop(120s);

    ASSERT_TRUE(writes.start_error().empty()) << writes.start_error();
    EXPECT_TRUE(started && went_on && resumed) << "writes stalled: " << writes.acked() << " acknowledged";
    ASSERT_TRUE(finished);
    const std::vector<int>& acknowledged = writes.acknowledged();
    std::vector<int> missing;
    const bool all = wait_until(
        [&] {
            const auto keys = stored_keys(url);
            missing.clear();
            for (const int i : acknowledged) {
                if (!keys.contains("w" + std::to_string(i))) missing.push_back(i);
            }
            return missing.empty();
        },
        120s);
    EXPECT_TRUE(all) << missing.size() << " of " << acknowledged.size() << " acknowledged writes missing, the first w"
                     << missing.front();
    EXPECT_GE(acknowledged.size(), 200u);
    std::printf("%zu writes acknowledged, worker w1 killed after %d\n", acknowledged.size(), at_kill);
}

}  // namespace
}  // namespace tether::e2e
