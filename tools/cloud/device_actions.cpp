#include "device_actions.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>

#include "provisioning/atomic_file.hpp"
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

}  // namespace tether::tools::cloud
