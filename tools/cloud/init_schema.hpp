#pragma once
// The device schema `tether-cloud init` writes (PROTOCOL.md §6), so that a new deployment
// computes a metric from the first Store writes with no hand editing.

#include <string>

namespace tether::tools::cloud {

// The JSON5 text of DIR/schema.json5: one metric, CPU (namespace Embedthis/Device), fed by
// Store writes of key "cpu", one series per device and one fleet-wide.
[[nodiscard]] std::string default_device_schema();

}  // namespace tether::tools::cloud
