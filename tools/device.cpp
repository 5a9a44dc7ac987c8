// tether device: one-shot Store and metric commands with a device's configuration
// directory (PROTOCOL.md §5), provisioning on first use.
//
//   tether device set DIR KEY VALUE [--type string|number|boolean]
//   tether device get DIR KEY
//   tether device metric DIR NAME VALUE
//   tether device metric-get DIR NAME [--statistic avg] [--period 300]
//   tether device run DIR
// Values print as JSON values; an error is one line on stderr and exit status 1.

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <cmath>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "tether/device/device.hpp"

namespace tether::tools {
namespace {

using nlohmann::json;

constexpr const char* device_usage =
    "Usage: tether device set DIR KEY VALUE [--type string|number|boolean]\n"
    "       tether device get DIR KEY\n"
    "       tether device metric DIR NAME VALUE\n"
    "       tether device metric-get DIR NAME [--statistic avg] [--period 300]\n"
    "       tether device run DIR\n";

std::optional<double> number_of(const std::string& text) {
    double d = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(d)) return std::nullopt;
    return d;
}

// Pulls "--name VALUE" out of args; false with `error` set if the flag has no value.
bool take_flag(std::vector<std::string>& args, const std::string& name, std::string& value, std::string& error) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] != name) continue;
        if (i + 1 >= args.size()) {
            error = name + " needs a value";
            return false;
        }
        value = args[i + 1];
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(i), args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
        return true;
    }
    return true;
}

int fail(const std::string& message) {
    std::cerr << "Error: " << message << "\n";
    return 1;
}

std::string describe(const std::error_code& ec, const std::string& detail) {
    return ec.message() + (detail.empty() ? "" : ": " + detail);
}

}  // namespace

int run_device(const std::vector<std::string>& all) {
    if (all.empty() || all[0] == "--help" || all[0] == "help") {
        std::cout << device_usage;
        return all.empty() ? 1 : 0;
    }
    const std::string command = all[0];
    std::vector<std::string> args(all.begin() + 1, all.end());
    std::string type, statistic = "avg", period_text = "300", error;
    if (!take_flag(args, "--type", type, error) || !take_flag(args, "--statistic", statistic, error) ||
        !take_flag(args, "--period", period_text, error)) {
        return fail(error);
    }
    const std::size_t wanted = command == "set" || command == "metric" ? 3 : command == "run" ? 1 : 2;
    if ((command != "set" && command != "get" && command != "metric" && command != "metric-get" && command != "run") ||
        args.size() != wanted) {
        std::cerr << device_usage;
        return 1;
    }

    // The value to set, checked before connecting.
    device::store_value value;
    if (command == "set") {
        const std::string& text = args[2];
        if (type.empty()) type = "string";
        if (type == "string") {
            value = text;
        } else if (type == "number") {
            const auto d = number_of(text);
            if (!d) return fail("not a number: '" + text + "'");
            value = *d;
        } else if (type == "boolean") {
            if (text != "true" && text != "false") return fail("not a boolean (true or false): '" + text + "'");
            value = text == "true";
        } else {
            return fail("--type must be string, number or boolean, not '" + type + "'");
        }
    }
    std::optional<double> metric_value;
    if (command == "metric") {
        metric_value = number_of(args[2]);
        if (!metric_value) return fail("not a number: '" + args[2] + "'");
    }
    std::uint32_t period = 0;
    {
        const auto p = number_of(period_text);
        if (!p || *p < 1 || *p > 31'622'400 || std::trunc(*p) != *p) return fail("--period must be 1 to 31622400 seconds");
        period = static_cast<std::uint32_t>(*p);
    }

    asio::io_context io;
    int status = 1;
    device::device_options options;
    options.provision_attempts = 3;  // a one-shot command does not retry for ever
    options.on_provision = [](const device::provision_report& r) {
        if (r.ec) std::cerr << "provisioning: " << r.text() << "\n";
    };
    device::device dev(io.get_executor(), args[0], options);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            if (const auto ec = co_await dev.start()) {
                status = fail("cannot start the device: " + ec.message());
                co_return;
            }
            if (command == "set") {
                const auto ec = co_await dev.set(args[1], value, client::wait::ack);
                status = ec ? fail(ec.message()) : 0;
            } else if (command == "get") {
                const auto r = co_await dev.get<json>(args[1]);
                if (r) {
                    std::cout << r.value->dump() << "\n";
                    status = 0;
                } else {
                    status = fail(args[1] + ": " + describe(r.ec, r.error_message));
                }
            } else if (command == "metric") {
                const auto ec = co_await dev.set_metric(args[1], *metric_value, nullptr, {}, client::wait::ack);
                status = ec ? fail(ec.message()) : 0;
            } else if (command == "metric-get") {
                const auto r = co_await dev.get_metric(args[1], nullptr, statistic, period);
                if (r) {
                    std::cout << device::json_number(*r.value).dump() << "\n";  // 30, not 30.0
                    status = 0;
                } else {
                    status = fail(args[1] + ": " + describe(r.ec, r.error_message));
                }
            } else {  // run: stay connected until SIGINT or SIGTERM
                std::cerr << "connected as " << dev.id() << "\n";
                asio::signal_set signals(io, SIGINT, SIGTERM);
                (void)co_await signals.async_wait(asio::use_awaitable);
                status = 0;
            }
            co_await dev.stop();
        },
        [&](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                status = fail(x.what());
            }
        });
    io.run();
    return status;
}

}  // namespace tether::tools
