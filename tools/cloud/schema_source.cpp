#include "schema_source.hpp"

#include <exception>

#include "tether/json5/json5.hpp"

namespace tether::tools::cloud {

std::optional<std::string> schema_source::load() {
    if (file_.empty()) return std::nullopt;
    try {
        auto loaded = tether::cloud::metrics::schema::load(tether::json5::parse_file(file_));
        if (!loaded) return file_.string() + ": " + loaded.err().message;
        auto next = std::make_shared<const tether::cloud::metrics::schema>(std::move(loaded).value());
        std::lock_guard lock(mutex_);
        current_ = std::move(next);
        return std::nullopt;
    } catch (const std::exception& e) {
        // parse_file throws for a file that cannot be read or is not JSON5 (FILE:LINE:COL).
        return std::string(e.what());
    }
}

std::shared_ptr<const tether::cloud::metrics::schema> schema_source::current() const {
    std::lock_guard lock(mutex_);
    return current_;
}

}  // namespace tether::tools::cloud
