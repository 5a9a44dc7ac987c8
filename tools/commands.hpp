#pragma once
// The sub-commands of `tether`, each returning the process exit status.

#include <functional>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "tether/client/client.hpp"

namespace tether::tools {

int run_pub(const cli_options& o);
int run_sub(const cli_options& o);
int run_bench(const std::vector<std::string>& args);  // tether bench pub ...
// tether bench devices --cloud DIR ...; built only with the device layer and the cloud (bench_devices.hpp).
int run_bench_devices(const std::vector<std::string>& args);
int run_config(const std::vector<std::string>& args);  // tether config print FILE
// tether device set|get|metric|metric-get|run DIR ...; built only with the device layer.
int run_device(const std::vector<std::string>& args);

// -d: one line on stderr per connection event. Never prints credentials.
std::function<void(const client::connection_event&)> debug_printer(std::string client_id);

}  // namespace tether::tools
