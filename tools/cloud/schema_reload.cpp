#include "schema_reload.hpp"

#include <csignal>
#include <iostream>

namespace tether::tools::cloud {

schema_reload::schema_reload(asio::io_context& io, schema_source& schema, on_replaced replaced)
    : hangups_(io, SIGHUP), schema_(schema), replaced_(std::move(replaced)) {
    wait();
}

void schema_reload::cancel() {
    std::error_code ignored;
    hangups_.cancel(ignored);
}

void schema_reload::wait() {
    hangups_.async_wait([this](const std::error_code& ec, int) {
        if (ec) return;  // cancelled
        if (auto e = schema_.load()) {
            std::cerr << "schema not replaced: " << *e << "\n";
        } else {
            if (replaced_) replaced_(schema_.current());
            std::cerr << "schema replaced from " << schema_.file().string() << "\n";
        }
        wait();
    });
}

}  // namespace tether::tools::cloud
