#include "provisioning/deployment.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

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

std::string read_deployment_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) throw std::runtime_error("cannot read " + p.string());
    return s.str();
}

}  // namespace tether::cloud::provisioning
