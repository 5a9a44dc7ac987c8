#pragma once
// Runs a program for a test: arguments without a shell, standard input from a string,
// standard output and error captured, a time limit, and SIGKILL if it overstays.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace tether::test {

class process {
public:
    process(std::vector<std::string> argv, std::string stdin_text = {});
    ~process();  // kills it if still running
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    // Waits for it to exit; returns the exit status, 128 + signal if killed by one, or -1
    // if it was still running after `limit` (it is then killed).
    int wait(std::chrono::milliseconds limit = std::chrono::seconds(20));
    void kill(int signal);
    [[nodiscard]] std::string out() const;  // what it wrote to stdout so far
    [[nodiscard]] std::string err() const;

private:
    std::filesystem::path dir_;
    pid_t pid_ = -1;
    int status_ = -1;
};

// Runs to completion: {status, stdout, stderr}.
struct run_result {
    int status;
    std::string out;
    std::string err;
};
run_result run(std::vector<std::string> argv, std::string stdin_text = {},
               std::chrono::milliseconds limit = std::chrono::seconds(20));

}  // namespace tether::test
