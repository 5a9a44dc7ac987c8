#pragma once
// A value or the reason there is none. Loading a schema or parsing a request body is
// configuration and input from outside: its failures are values with a message that
// names where the problem is, never exceptions.

#include <string>
#include <utility>
#include <variant>

namespace tether::cloud::metrics {

// What went wrong, in one line that names the place: "where: 1:12: expected ')'",
// "Store.metrics[0].buffer.count: expected a whole number from 1 to 1000000".
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

}  // namespace tether::cloud::metrics
