#pragma once
// The cloud's one result type (common/result.hpp), under this part's namespace.

#include "common/result.hpp"

namespace tether::cloud::metrics {
using cloud::error;
using cloud::result;
}  // namespace tether::cloud::metrics
