#include "rabbitmq.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "broker.hpp"

namespace tether::test {

pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const std::filesystem::path& output) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::setpgid(0, 0);  // its own group: end_process reaches the VM under the script too
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        const int in = ::open("/dev/null", O_RDONLY);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid);  // also here, so that it holds before the child runs
    return pid;
}

void end_process(pid_t pid, int signal, std::chrono::milliseconds grace) {
    if (pid <= 0) return;
    ::kill(pid, signal);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(-pid, SIGKILL);  // whatever of its group is left (the Erlang VM's helpers)
}

rabbitmq_node::rabbitmq_node() {
    char tmpl[] = "/tmp/tether-rabbitmq-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    amqp_port_ = free_port();
    mqtt_port_ = free_port();
    dist_port_ = free_port();
    epmd_port_ = free_port();
    std::ofstream(dir_ / "enabled_plugins") << "[rabbitmq_mqtt].\n";
    std::ofstream conf(dir_ / "rabbitmq.conf");
    conf << "listeners.tcp.default = 127.0.0.1:" << amqp_port_ << "\n"
         << "mqtt.listeners.tcp.default = 127.0.0.1:" << mqtt_port_ << "\n"
         << "mqtt.allow_anonymous = true\n"
         << "loopback_users = none\n";
    conf.close();
    try {
        start();
    } catch (...) {
        // No destructor runs for a constructor that throws.
        end_process(epmd_pid_, SIGKILL, std::chrono::seconds(5));
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        throw;
    }
}

rabbitmq_node::~rabbitmq_node() {
    try {
        stop();
    } catch (...) {
    }
    if (epmd_pid_ > 0) end_process(epmd_pid_, SIGKILL, std::chrono::seconds(5));
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void rabbitmq_node::start() {
    if (pid_ > 0) return;
    const std::string d = dir_.string();
    if (epmd_pid_ <= 0) {
        // Our own port mapper on a port of its own, in the foreground so that it stays our
        // child: RabbitMQ would otherwise start a daemon on 4369 that outlives the test.
        epmd_pid_ = spawn({"/usr/bin/epmd", "-port", std::to_string(epmd_port_)}, {}, dir_ / "epmd.log");
        if (!wait_for_port(epmd_port_, std::chrono::seconds(10))) throw std::runtime_error("epmd did not start");
    }
    const std::vector<std::string> env{
        "RABBITMQ_NODENAME=tether" + std::to_string(dist_port_) + "@localhost",
        "RABBITMQ_MNESIA_BASE=" + d + "/mnesia",
        "RABBITMQ_LOG_BASE=" + d + "/log",
        "RABBITMQ_ENABLED_PLUGINS_FILE=" + d + "/enabled_plugins",
        "RABBITMQ_CONFIG_FILE=" + d + "/rabbitmq",
        "RABBITMQ_DIST_PORT=" + std::to_string(dist_port_),
        "ERL_EPMD_PORT=" + std::to_string(epmd_port_),
        "HOME=" + d,
    };
    const auto out = dir_ / "stdout.log";
    std::filesystem::remove(out);
    pid_ = spawn({"/usr/lib/rabbitmq/bin/rabbitmq-server"}, env, out);
    // Ready when it says so; the MQTT listener opens just before.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    for (;;) {
        std::ifstream in(out);
        std::stringstream text;
        text << in.rdbuf();
        if (text.str().find("completed with") != std::string::npos && wait_for_port(mqtt_port_, std::chrono::seconds(5))) {
            return;
        }
        int status = 0;
        const bool exited = ::waitpid(pid_, &status, WNOHANG) == pid_;
        if (exited || std::chrono::steady_clock::now() >= deadline) {
            if (!exited) end_process(pid_, SIGKILL, std::chrono::seconds(5));
            pid_ = -1;
            const std::string said = text.str();
            throw std::runtime_error("rabbitmq did not start; it said: " +
                                     said.substr(said.size() > 400 ? said.size() - 400 : 0));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void rabbitmq_node::stop() {
    if (pid_ <= 0) return;
    // The script turns SIGTERM into a clean shutdown of the Erlang VM and waits for it.
    end_process(pid_, SIGTERM, std::chrono::seconds(60));
    pid_ = -1;
}

}  // namespace tether::test
