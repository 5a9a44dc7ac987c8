#include "storage/database.hpp"

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
        in_transaction([&](connection& c) {
            detail::write_devices(c, b.devices);
            detail::write_seen(c, b.seen);
            detail::write_store(c, b.store);
            detail::write_currents(c, b.currents);
            detail::write_points(c, b.points);
        });
    } catch (const failure& e) {
        return error{e.what()};
    }
    return {};
}

}  // namespace tether::cloud::storage
