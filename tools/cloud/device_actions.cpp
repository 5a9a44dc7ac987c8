#include "device_actions.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include "broker_process.hpp"
#include "provisioning/atomic_file.hpp"
#include "provisioning/random.hpp"
#include "tether/client/client.hpp"

namespace tether::tools::cloud {

namespace fs = std::filesystem;
namespace prov = tether::cloud::provisioning;

std::string database_url(const nlohmann::json& settings, const fs::path& dir) {
    const auto& db = settings.at("database");
    const std::string engine = db.value("engine", "sqlite");
    if (engine == "sqlite") return "sqlite:" + (dir / db.at("path").get<std::string>()).string();
    if (engine == "postgresql") return db.at("url").get<std::string>();
    throw std::runtime_error("cloud.json5: database.engine must be 'sqlite' or 'postgresql', found '" + engine + "'");
}

std::string without_password(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    const auto host_start = scheme + 3;
    const auto at = url.find('@', host_start);
    const auto slash = url.find('/', host_start);
    if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
    const auto colon = url.find(':', host_start);
    if (colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon) + url.substr(at);
}

tether::client::options service_client_options(const nlohmann::json& settings, const prov::deployment_layout& layout,
                                               std::string client_id) {
    const auto& broker = settings.at("broker");
    tether::client::options o;
    o.host = broker.value("endpoint", "localhost");
    o.port = broker.value<std::uint16_t>("port", 8883);
    o.client_id = std::move(client_id);
    o.clean_session = true;
    o.tls.enabled = true;
    o.tls.ca_file = layout.service_ca().string();
    o.tls.cert_file = layout.service_cert().string();
    o.tls.key_file = layout.service_key().string();
    o.reconnect.enabled = false;
    return o;
}

namespace {

// Held while a revocation or release commits, builds its CRL from the registry and writes
// it. Two processes (`tether-cloud revoke` beside the Device Manager of `run`) or two web
// requests could otherwise each build a CRL from what was committed when they looked, and
// the later write could lack the other's certificate: a revoked device let back in. An
// flock on a file of its own (per open file description, so threads exclude each other
// too); released when the descriptor closes. Throws std::system_error when it cannot be
// opened or locked.
class crl_lock {
public:
    explicit crl_lock(const prov::deployment_layout& layout) {
        const auto path = layout.broker_dir() / "crl.lock";
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path.string());
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            ::close(fd_);
            throw std::system_error(e, std::generic_category(), "cannot lock " + path.string());
        }
    }
    ~crl_lock() { ::close(fd_); }
    crl_lock(const crl_lock&) = delete;
    crl_lock& operator=(const crl_lock&) = delete;

private:
    int fd_ = -1;
};

// The CRL is read by mosquitto, which runs as its own user: readable by all (it is public).
void write_crl(const prov::deployment_layout& layout, const std::string& pem) {
    prov::write_file_atomically(layout.crl(), pem,
                                fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                    fs::perms::others_read);
}

}  // namespace

std::optional<prov::revocation> revoke_and_write_crl(prov::provisioning_service& provisioning,
                                                     const prov::registry& registry,
                                                     const prov::deployment_layout& layout, std::string_view thing) {
    const crl_lock lock(layout);
    const auto known = registry.find_thing(thing);
    if (!known || known->revoked) return std::nullopt;
    auto revoked = provisioning.revoke_thing(thing, std::chrono::system_clock::now());
    write_crl(layout, revoked.crl_pem);
    return revoked;
}

std::optional<prov::revocation> release_and_write_crl(prov::provisioning_service& provisioning,
                                                      const prov::deployment_layout& layout, std::string_view thing) {
    const crl_lock lock(layout);
    auto released = provisioning.release_thing(thing, std::chrono::system_clock::now());
    if (!released) return std::nullopt;
    write_crl(layout, released->crl_pem);
    return released;
}

asio::awaitable<std::error_code> close_device_connection(asio::any_io_executor executor,
                                                         tether::client::options service, std::string thing) {
    service.client_id = std::move(thing);
    service.clean_session = true;
    service.reconnect.enabled = false;
    tether::client::client taker(executor, service);
    if (auto ec = co_await taker.connect()) co_return ec;
    co_return co_await taker.disconnect(std::chrono::seconds(5));
}

bool reload_running_broker(const prov::deployment_layout& layout) {
    const pid_t pid = running_broker(layout.broker_dir() / "mosquitto.pid", layout.broker_conf());
    return pid > 0 && ::kill(pid, SIGHUP) == 0;
}

std::error_code on_own_io(const std::function<asio::awaitable<std::error_code>(asio::any_io_executor)>& op) {
    // How long the broker may take to let the service's identity in and out.
    constexpr auto broker_limit = std::chrono::seconds(30);
    asio::io_context io;
    auto done = asio::co_spawn(io, op(io.get_executor()), asio::use_future);
    io.run_for(broker_limit);
    if (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        return make_error_code(tether::client::errc::timeout);
    }
    return done.get();
}

std::error_code publish_as_service(const nlohmann::json& settings, const prov::deployment_layout& layout,
                                   const prov::message& m) {
    auto service = service_client_options(settings, layout, "tether-cloud-release-" + prov::random_hex(8));
    return on_own_io([&](asio::any_io_executor ex) -> asio::awaitable<std::error_code> {
        tether::client::client c(ex, service);
        if (auto ec = co_await c.connect()) co_return ec;
        const auto published =
            co_await c.publish(m.topic, m.payload, tether::client::qos::at_least_once, tether::client::wait::ack);
        (void)co_await c.disconnect(std::chrono::seconds(5));
        co_return published;
    });
}

}  // namespace tether::tools::cloud
