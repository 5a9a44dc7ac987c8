#include "provisioning/deployment.hpp"

namespace tether::cloud::provisioning {

bool deployment_layout::exists() const {
    std::error_code ec;
    // A half-made deployment (init interrupted) counts too: overwriting its CA would
    // orphan every certificate it signed.
    for (const auto& p : {settings(), ca_dir(), broker_dir(), service_dir(), kit_dir()}) {
        if (std::filesystem::exists(p, ec)) return true;
    }
    return false;
}

}  // namespace tether::cloud::provisioning
