#pragma once
// A value or the reason there is none, for every part of the cloud. Configuration and
// input from outside (a schema, a request body, a database's answer) fail as values with a
// one-line message that names the place, never as exceptions: "where: 1:12: expected ')'",
// "store write of 'cpu' for device 'd1': type must be string, number or boolean".

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tether::cloud {

struct error {
    std::string message;
};

template <class T>
class [[nodiscard]] result {
public:
    result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    result(error e) : state_(std::in_place_index<1>, std::move(e)) {}

    [[nodiscard]] bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    // Only when ok().
    [[nodiscard]] T& value() & { return std::get<0>(state_); }
    [[nodiscard]] const T& value() const& { return std::get<0>(state_); }
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(state_)); }

    // Only when !ok().
    [[nodiscard]] const error& err() const& { return std::get<1>(state_); }

private:
    std::variant<T, error> state_;
};

// Success without a value, or the reason for the failure.
template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(error e) : error_(std::move(e)) {}

    [[nodiscard]] bool ok() const noexcept { return !error_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    // Only when !ok().
    [[nodiscard]] const error& err() const& { return *error_; }

private:
    std::optional<error> error_;
};

}  // namespace tether::cloud
