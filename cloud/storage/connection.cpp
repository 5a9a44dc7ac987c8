#include "storage/connection.hpp"

#include <algorithm>

#include "storage/postgres_connection.hpp"
#include "storage/sqlite_connection.hpp"

namespace tether::cloud::storage {

result<std::unique_ptr<connection>> connect(std::string_view url) {
    try {
        if (url.starts_with("sqlite:")) {
            const std::string path(url.substr(7));
            if (path.empty()) return error{"storage URL 'sqlite:' has no path: expected sqlite:PATH"};
            return std::unique_ptr<connection>(std::make_unique<sqlite_connection>(path));
        }
        if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
            return std::unique_ptr<connection>(std::make_unique<postgres_connection>(std::string(url)));
        }
    } catch (const failure& e) {
        return error{e.what()};
    }
    // Only the scheme: the rest may hold a password.
    const auto colon = url.find(':');
    const std::string scheme(colon == std::string_view::npos ? std::string_view("(none)") : url.substr(0, std::min<std::size_t>(colon, 32)));
    return error{"storage URL scheme '" + scheme + "' is unknown: expected sqlite:PATH or postgresql://..."};
}

}  // namespace tether::cloud::storage
