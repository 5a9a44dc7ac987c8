#pragma once
// What both libpq users of this layer (postgres_connection, change_listener) do with the
// server's words: messages without libpq's trailing newline, and notices dropped rather
// than printed ("relation already exists, skipping").

#include <string>

namespace tether::cloud::storage::detail {

inline void ignore_notice(void*, const char*) {}

inline std::string trimmed(const char* message) {
    std::string s = message ? message : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace tether::cloud::storage::detail
