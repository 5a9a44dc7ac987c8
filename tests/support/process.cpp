#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tether::test {

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

process::process(std::vector<std::string> argv, std::string stdin_text) {
    char tmpl[] = "/tmp/tether-proc-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::ofstream(dir_ / "stdin", std::ios::binary) << stdin_text;
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        const int in = ::open((dir_ / "stdin").c_str(), O_RDONLY);
        const int out = ::open((dir_ / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int err = ::open((dir_ / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
}

process::~process() {
    if (pid_ > 0) kill(SIGKILL);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

int process::wait(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return status_;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return status_;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            kill(SIGKILL);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void process::kill(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    if (signal == SIGKILL) {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        status_ = 128 + SIGKILL;
    }
}

std::string process::out() const { return slurp(dir_ / "stdout"); }
std::string process::err() const { return slurp(dir_ / "stderr"); }

run_result run(std::vector<std::string> argv, std::string stdin_text, std::chrono::milliseconds limit) {
    process p(std::move(argv), std::move(stdin_text));
    const int status = p.wait(limit);
    return {status, p.out(), p.err()};
}

}  // namespace tether::test
