#pragma once
// The device schema `tether-cloud run` serves (cloud.json5's `schema:` file), replaceable
// while it runs: SIGHUP reads the file again. A schema that does not load (bad JSON5, a bad
// `where`) is a clear error and the one in use stays. Read by the ingest on the io thread
// and by the web part's HTTP threads, hence the lock.

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "metrics/schema.hpp"

namespace tether::tools::cloud {

class schema_source {
public:
    // `file` empty: no schema (Store writes feed no metric; metric/set works either way).
    explicit schema_source(std::filesystem::path file) : file_(std::move(file)) {}

    // Loads the file, and on success makes it the one in use. Returns the error (naming the
    // file), or nullopt on success; the schema in use is unchanged after an error.
    [[nodiscard]] std::optional<std::string> load();

    [[nodiscard]] std::shared_ptr<const tether::cloud::metrics::schema> current() const;
    [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }

private:
    std::filesystem::path file_;
    mutable std::mutex mutex_;
    std::shared_ptr<const tether::cloud::metrics::schema> current_ =
        std::make_shared<const tether::cloud::metrics::schema>();
};

}  // namespace tether::tools::cloud
