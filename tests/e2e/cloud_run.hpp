#pragma once
// The real programs, end to end: a deployment made by `tether-cloud init` in a temporary
// folder, `tether-cloud run` serving it (it starts its own mosquitto), and a device folder
// copied from the deployment's kit, driven by `tether device ...`.

#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker.hpp"
#include "postgres.hpp"
#include "process.hpp"
#include "tether/json5/json5.hpp"

namespace tether::e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Polls `cond` every 10 ms until it holds or `limit` passes: the condition decides, the
// limit only keeps a broken build from hanging.
template <class Cond>
bool wait_until(Cond cond, std::chrono::milliseconds limit = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

inline bool alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

class cloud_run {
public:
    cloud_run() : port_(test::free_port()), web_port_(test::free_port()) {
        char tmpl[] = "/tmp/tether-e2e-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        root_ = tmpl;
        // mosquitto, started as root, runs as its own user: it must be able to reach DIR.
        fs::permissions(root_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        const auto r = test::run({TETHER_CLOUD_BINARY, "init", dir().string(), "--port", std::to_string(port_),
                                  "--web-port", std::to_string(web_port_)},
                                 {}, 120s);
        if (r.status != 0) throw std::runtime_error("tether-cloud init failed: " + r.err);
        init_out_ = r.out;
        fs::copy(dir() / "kit", device_dir(), fs::copy_options::recursive);
    }
    ~cloud_run() {
        // A run killed on purpose leaves its broker: stop it as the next run would.
        if (run_) run_->kill(SIGKILL);
        if (const pid_t b = broker_pid(); alive(b)) {
            ::kill(b, SIGTERM);
            (void)wait_until([&] { return !alive(b); }, 10s);
        }
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }
    cloud_run(const cloud_run&) = delete;
    cloud_run& operator=(const cloud_run&) = delete;

    [[nodiscard]] fs::path dir() const { return root_ / "cloud"; }
    [[nodiscard]] fs::path device_dir() const { return root_ / "device"; }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::uint16_t web_port() const { return web_port_; }
    // The Device Manager's admin password, as init printed it (shown only then).
    [[nodiscard]] std::string admin_password() const {
        const std::string tag = "admin password (shown only now, stored as a hash): ";
        const auto at = init_out_.find(tag);
        if (at == std::string::npos) throw std::runtime_error("init printed no admin password");
        const auto start = at + tag.size();
        return init_out_.substr(start, init_out_.find('\n', start) - start);
    }
    [[nodiscard]] const std::string& init_out() const { return init_out_; }
    [[nodiscard]] test::process& process() { return *run_; }

    // `tether-cloud run DIR`, waiting (up to 60 s) until it says it is running. Throws
    // with what it wrote when it does not get there.
    void start() {
        run_ = std::make_unique<test::process>(std::vector<std::string>{TETHER_CLOUD_BINARY, "run", dir().string()});
        if (!wait_until([&] { return run_->out().find("tether-cloud running") != std::string::npos; }, 60s)) {
            const int status = run_->wait(1ms);
            throw std::runtime_error("tether-cloud run did not start (status " + std::to_string(status) +
                                     "): " + run_->err());
        }
    }

    // Points cloud.json5's database at `url` (postgresql://...) instead of the SQLite file.
    void use_database(const std::string& url) {
        const fs::path file = dir() / "cloud.json5";
        nlohmann::json settings = json5::parse_file(file);
        settings["database"] = {{"engine", "postgresql"}, {"url", url}};
        std::ofstream(file) << settings.dump(2);  // JSON is JSON5; the comments go
    }

    // `tether-cloud run DIR --worker NAME` (the broker runs already), waiting (up to 60 s)
    // until it says it is running. Throws with what it wrote when it does not get there.
    std::unique_ptr<test::process> worker(const std::string& name) {
        auto w = std::make_unique<test::process>(
            std::vector<std::string>{TETHER_CLOUD_BINARY, "run", dir().string(), "--worker", name});
        if (!wait_until([&] { return w->out().find("tether-cloud running") != std::string::npos; }, 60s)) {
            const int status = w->wait(1ms);
            throw std::runtime_error("worker " + name + " did not start (status " + std::to_string(status) +
                                     "): " + w->err());
        }
        return w;
    }

    // `tether-cloud web DIR` (the Device Manager beside the workers), waiting (up to 60 s)
    // until it says it is running. Throws with what it wrote when it does not get there.
    std::unique_ptr<test::process> web() {
        auto w = std::make_unique<test::process>(std::vector<std::string>{TETHER_CLOUD_BINARY, "web", dir().string()});
        if (!wait_until([&] { return w->out().find("tether-cloud web running") != std::string::npos; }, 60s)) {
            const int status = w->wait(1ms);
            throw std::runtime_error("tether-cloud web did not start (status " + std::to_string(status) + "): " + w->err());
        }
        return w;
    }

    // The broker `run` started, from the pid file it keeps; -1 when none.
    [[nodiscard]] pid_t broker_pid() const {
        std::ifstream in(dir() / "broker" / "mosquitto.pid");
        long pid = -1;
        return (in >> pid) ? static_cast<pid_t>(pid) : -1;
    }

    // `tether device ARGS...` on the device folder: tether device COMMAND DIR REST...
    test::run_result device(const std::string& command, std::vector<std::string> rest) {
        std::vector<std::string> argv{TETHER_BINARY, "device", command, device_dir().string()};
        argv.insert(argv.end(), rest.begin(), rest.end());
        return test::run(argv, {}, 120s);
    }

private:
    fs::path root_;
    std::uint16_t port_;
    std::uint16_t web_port_;
    std::string init_out_;
    std::unique_ptr<test::process> run_;
};

// Debian's mosquitto, for a broker started by hand (workers start none).
inline std::string mosquitto_path() {
    for (const char* p : {"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto"}) {
        if (::access(p, X_OK) == 0) return p;
    }
    throw std::runtime_error("mosquitto is not installed");
}

// The Store keys the PostgreSQL database at `url` holds, of `device` or ("") of every
// device; empty when it cannot tell (callers wait and ask again).
inline std::set<std::string> stored_keys(const std::string& url, const std::string& device = "") {
    std::set<std::string> keys;
    PGconn* c = PQconnectdb(url.c_str());
    if (PQstatus(c) == CONNECTION_OK) {
        const char* params[] = {device.c_str()};
        PGresult* r = PQexecParams(c, "SELECT item_key FROM store_items WHERE $1 = '' OR device_id = $1", 1, nullptr,
                                   params, nullptr, nullptr, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            for (int i = 0; i < PQntuples(r); ++i) keys.insert(PQgetvalue(r, i, 0));
        }
        PQclear(r);
    }
    PQfinish(c);
    return keys;
}

// The worker tests' deployment: a private PostgreSQL with a database `database` of its own,
// the deployment pointed at it, its mosquitto started by hand, and workers w1 and w2
// running. Throws when any of it does not start.
struct two_workers {
    explicit two_workers(const std::string& database) : url(pg.create_database(database)) {
        c.use_database(url);
        broker = std::make_unique<test::process>(
            std::vector<std::string>{mosquitto_path(), "-c", (c.dir() / "broker" / "mosquitto.conf").string()});
        if (!test::wait_for_port(c.port(), 10s)) throw std::runtime_error("mosquitto did not start: " + broker->err());
        w1 = c.worker("w1");
        w2 = c.worker("w2");
    }
    test::postgres_server pg;
    std::string url;
    cloud_run c;
    std::unique_ptr<test::process> broker, w1, w2;
};

}  // namespace tether::e2e
