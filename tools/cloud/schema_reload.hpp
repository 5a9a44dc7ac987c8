#pragma once
// SIGHUP reads the device schema again, in `tether-cloud run` and `tether-cloud web` alike:
// on success the new schema is the one schema_source serves (the web part reads it there)
// and `replaced` is told of it (run hands it to the ingest); a schema that does not load
// leaves the one in use and says why. One line on stderr either way, which the e2e tests
// and an operator watch for.
//
//     schema_reload reload(io, schema, [&](auto s) { handler.replace_schema(std::move(s)); });
//     ...
//     reload.cancel();  // at shutdown, so that io.run() can return

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <functional>
#include <memory>

#include "metrics/schema.hpp"
#include "schema_source.hpp"

namespace tether::tools::cloud {

class schema_reload {
public:
    // Called on the io_context's thread with the schema just loaded. Must not throw.
    using on_replaced = std::function<void(std::shared_ptr<const tether::cloud::metrics::schema>)>;

    // Watches SIGHUP on `io` from now until cancel() or destruction. `schema` must outlive
    // this; `replaced` may be empty (nothing to tell beyond `schema` itself).
    // Throws std::system_error when the signal cannot be watched (asio::signal_set).
    schema_reload(asio::io_context& io, schema_source& schema, on_replaced replaced = {});

    // Stops watching: io.run() no longer waits for a SIGHUP.
    void cancel();

private:
    void wait();

    asio::signal_set hangups_;
    schema_source& schema_;
    on_replaced replaced_;
};

}  // namespace tether::tools::cloud
