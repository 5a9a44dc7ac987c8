#pragma once
// The tables, the same on both engines, and their version. A database records the
// version of its schema in schema_version; opening one brings an older schema up to date,
// step by step, and refuses a newer one (a newer program wrote it: an older one must not
// guess at its meaning).
//
// Times are milliseconds since the epoch (BIGINT), booleans 0 and 1, Store values JSON
// text. Adding a version: append a step to `steps` in schema.cpp; never edit a step that
// has shipped.

#include "storage/connection.hpp"

namespace tether::cloud::storage {

inline constexpr int schema_version = 2;

// In one transaction (one migrator at a time, also across processes): creates the tables
// or brings them to schema_version. Throws failure when the database's version is newer
// than schema_version, when schema_version holds other than one row, or when the engine
// fails.
void migrate(connection& c);

// The version the database records (0 for a database without tables). Throws failure.
[[nodiscard]] int stored_schema_version(connection& c);

}  // namespace tether::cloud::storage
