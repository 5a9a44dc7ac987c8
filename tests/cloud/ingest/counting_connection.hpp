#pragma once
// A connection that counts the statements it runs, by their text, and hands each to the
// real connection beneath: how tests see how many row updates a batch cost.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/connection.hpp"

namespace tether::cloud::ingest::test {

class counting_connection : public storage::connection {
public:
    explicit counting_connection(std::unique_ptr<storage::connection> real) : real_(std::move(real)) {}

    [[nodiscard]] storage::engine kind() const noexcept override { return real_->kind(); }
    storage::rows execute(std::string_view sql, const std::vector<storage::sql_value>& params) override {
        ++counts_[std::string(sql)];
        return real_->execute(sql, params);
    }
    // Counted one by one, then handed on whole: the real connection's pipeline runs them.
    void execute_all(const std::vector<storage::statement>& statements) override {
        for (const auto& s : statements) ++counts_[s.sql];
        real_->execute_all(statements);
    }
    void begin() override { real_->begin(); }
    void commit() override { real_->commit(); }
    void rollback() noexcept override { real_->rollback(); }
    [[nodiscard]] std::string_view least() const noexcept override { return real_->least(); }
    [[nodiscard]] std::string_view greatest() const noexcept override { return real_->greatest(); }

    // Statements run so far whose text begins with `prefix`.
    [[nodiscard]] std::size_t executed(std::string_view prefix) const {
        std::size_t n = 0;
        for (const auto& [sql, count] : counts_) {
            if (std::string_view(sql).starts_with(prefix)) n += count;
        }
        return n;
    }
    void reset() { counts_.clear(); }

private:
    std::unique_ptr<storage::connection> real_;
    std::map<std::string, std::size_t> counts_;
};

}  // namespace tether::cloud::ingest::test
