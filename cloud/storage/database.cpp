#include "storage/database.hpp"

#include "storage/change_feed.hpp"
#include "storage/schema.hpp"
#include "storage/writers.hpp"

namespace tether::cloud::storage {

result<std::unique_ptr<database>> database::open(std::string_view url) {
    auto c = connect(url);
    if (!c) return c.err();
    return open(std::move(c).value());
}

result<std::unique_ptr<database>> database::open(std::unique_ptr<connection> c) {
    try {
        migrate(*c);
    } catch (const failure& e) {
        return error{std::string("cannot open the database: ") + e.what()};
    }
    return std::unique_ptr<database>(new database(std::move(c)));
}

result<void> database::apply(const batch& b) {
    if (b.empty()) return {};
    try {
        // The same order of tables in every transaction, for the same reason as lock_order.
        // Every row checked and its statement made before the transaction begins; then all
        // of them at once (one round trip on PostgreSQL).
        std::vector<statement> all;
        all.reserve(b.devices.size() + b.seen.size() + b.store.size() + b.currents.size() + 2 * b.points.size() + 1);
        detail::write_devices(*connection_, b.devices, all);
        detail::write_seen(*connection_, b.seen, all);
        detail::write_store(*connection_, b.store, all);
        detail::write_currents(*connection_, b.currents, all);
        detail::write_points(*connection_, b.points, all);
        // Delivered at commit, in commit order; never for a batch rolled back.
        if (announce_ && kind() == engine::postgresql) {
            for (std::string& payload : notification_payloads(live_changes(b))) {
                all.push_back({"SELECT pg_notify($1, $2)", {std::string(change_channel), std::move(payload)}});
            }
        }
        in_transaction([&](connection& c) { c.execute_all(all); });
    } catch (const failure& e) {
        return error{e.what()};
    }
    return {};
}

}  // namespace tether::cloud::storage
