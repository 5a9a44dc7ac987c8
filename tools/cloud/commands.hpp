#pragma once
// The commands of `tether-cloud`, each taking the arguments after its name and returning
// the process exit status. Errors are one line on stderr.

#include <string>
#include <vector>

namespace tether::tools::cloud {

// tether-cloud init DIR [--port N] [--bind ADDR] [--host NAME]... [--web-port N] [--force]
int run_init(const std::vector<std::string>& args);

// tether-cloud run DIR [--broker-running | --worker NAME]
int run_run(const std::vector<std::string>& args);

// tether-cloud web DIR: the Device Manager alone, beside run --worker processes (web.cpp)
int run_web(const std::vector<std::string>& args);

// tether-cloud revoke DIR THING, tether-cloud release DIR THING (revoke.cpp)
int run_revoke(const std::vector<std::string>& args);
int run_release(const std::vector<std::string>& args);

}  // namespace tether::tools::cloud
