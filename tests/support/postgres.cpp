#include "postgres.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "broker.hpp"    // free_port
#include "process.hpp"   // run
#include "rabbitmq.hpp"  // end_process

namespace tether::test {

namespace {

const std::filesystem::path bin = "/usr/lib/postgresql/15/bin";

std::string log_tail(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const std::string all = text.str();
    return all.substr(all.size() > 600 ? all.size() - 600 : 0);
}

// Starts `argv` as user `pw` (when we are root), output to `log`, in its own process group,
// killed when the test process dies.
pid_t spawn_as(const passwd* pw, const std::vector<std::string>& argv, const std::filesystem::path& log) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::setpgid(0, 0);
        const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        const int in = ::open("/dev/null", O_RDONLY);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        if (pw != nullptr) {
            if (::initgroups(pw->pw_name, pw->pw_gid) != 0 || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) {
                ::_exit(126);
            }
        }
        // After setuid, which clears it.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid);
    return pid;
}

}  // namespace

postgres_server::postgres_server() {
    char tmpl[] = "/tmp/tether-postgres-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    try {
        const passwd* pw = ::geteuid() == 0 ? ::getpwnam("postgres") : nullptr;
        if (::geteuid() == 0 && pw == nullptr) throw std::runtime_error("running as root and there is no user postgres");
        if (pw != nullptr && ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
            throw std::runtime_error("cannot give " + dir_.string() + " to postgres");
        }
        const std::string data = (dir_ / "data").string();
        std::vector<std::string> initdb{(bin / "initdb").string(), "-D", data, "-A", "trust", "-U", "tether",
                                        "-E", "UTF8", "--locale=C", "--no-sync"};
        if (pw != nullptr) initdb.insert(initdb.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
        const run_result made = run(initdb, {}, std::chrono::seconds(120));
        if (made.status != 0) throw std::runtime_error("initdb failed: " + made.err.substr(0, 600));

        port_ = free_port();
        // -F: no fsync (a test cluster is thrown away); -k: the socket in our folder, not
        // in /var/run/postgresql, which may not exist.
        pid_ = spawn_as(pw,
                        {(bin / "postgres").string(), "-D", data, "-h", "127.0.0.1", "-p", std::to_string(port_), "-k",
                         dir_.string(), "-F"},
                        dir_ / "server.log");
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        for (;;) {
            const run_result ready = run({(bin / "pg_isready").string(), "-q", "-h", "127.0.0.1", "-p",
                                          std::to_string(port_), "-U", "tether", "-d", "postgres"});
            if (ready.status == 0) break;
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("postgres exited: " + log_tail(dir_ / "server.log"));
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                throw std::runtime_error("postgres did not accept connections: " + log_tail(dir_ / "server.log"));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    } catch (...) {
        if (pid_ > 0) end_process(pid_, SIGKILL, std::chrono::seconds(5));
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        throw;
    }
}

postgres_server::~postgres_server() {
    if (pid_ > 0) end_process(pid_, SIGINT, std::chrono::seconds(30));
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string postgres_server::create_database(const std::string& name) {
    for (const char ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') {
            throw std::runtime_error("create_database: bad name '" + name + "'");
        }
    }
    const run_result made = run({(bin / "createdb").string(), "-h", "127.0.0.1", "-p", std::to_string(port_), "-U",
                                 "tether", name});
    if (made.status != 0) throw std::runtime_error("createdb " + name + " failed: " + made.err);
    return "postgresql://tether@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

}  // namespace tether::test
