// The simulated devices' identities: each a device directory of its own, provisioned
// through the cloud's real claim flow (PROTOCOL.md §3) the first time and cached, so that
// the broker's ACL and the ingest's registry check see real devices and reruns start at
// once. Minting certificates with DIR's CA directly would be faster the first time, but
// would have to write the registry behind the cloud's back; provisioning costs about a
// minute for 10,000 devices, once.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include "bench_devices.hpp"
#include "tether/device/configuration.hpp"
#include "tether/device/provisioning.hpp"

namespace tether::tools {

namespace {

namespace fs = std::filesystem;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw fs::filesystem_error("cannot write", p, std::make_error_code(std::errc::io_error));
}

fs::path device_dir(const fs::path& folder, long i) { return folder / ("d" + std::to_string(i)); }

// The serial number is the thing name the cloud's default template gives.
std::string serial(long i) { return "bench-" + std::to_string(i); }

// A fresh device directory for device i: the kit's files, with its own serial number.
void make_device_dir(const fs::path& kit, const fs::path& dir, long i) {
    fs::remove_all(dir);
    fs::create_directories(dir / "config");
    fs::create_directories(dir / "certs");
    fs::copy_file(kit / "config" / "ioto.json5", dir / "config" / "ioto.json5");
    for (const char* f : {"ca.crt", "claim.crt", "claim.key"}) fs::copy_file(kit / "certs" / f, dir / "certs" / f);
    fs::permissions(dir / "certs" / "claim.key", fs::perms::owner_read | fs::perms::owner_write);
    write_file(dir / "config" / "device.json5", "{id: 'auto', serialNumber: '" + serial(i) + "'}\n");
}

// The identity of a provisioned device directory, or an empty thing when it has none.
device_identity identity_of(const fs::path& dir) {
    const auto c = device::load_configuration(dir);
    if (!c.provision.provisioned || c.mqtt.cert.is_auto || c.mqtt.client_id.is_auto) return {};
    device_identity id;
    id.thing = c.mqtt.client_id.value;
    auto& o = id.options;
    o.host = c.mqtt.host.value.empty() ? "localhost" : c.mqtt.host.value;
    o.port = c.mqtt.port.value;
    o.client_id = id.thing;
    o.tls.enabled = c.mqtt.tls;
    o.tls.ca_file = c.mqtt.ca.string();
    o.tls.cert_file = c.mqtt.cert.value.string();
    o.tls.key_file = c.mqtt.key.value.string();
    o.tls.alpn = c.mqtt.alpn;
    o.reconnect.enabled = false;  // a lost connection is an error here, not something to hide
    return id;
}

struct provisioning_run {
    const fs::path* folder;
    std::vector<long> todo;
    std::size_t next = 0;
    long busy = 0;
    std::string first_error;
    long done = 0;
};

asio::awaitable<void> provisioner(provisioning_run& r, asio::steady_timer& all_done) {
    const auto executor = co_await asio::this_coro::executor;
    while (r.next < r.todo.size() && r.first_error.empty()) {
        const long i = r.todo[r.next++];
        const fs::path dir = device_dir(*r.folder, i);
        const auto config = device::load_configuration(dir);
        const device::provision_options options{};
        const auto report = co_await device::provision(executor, config, options);
        if (report.ec) {
            if (r.first_error.empty()) r.first_error = "device " + serial(i) + ": " + report.text();
            break;
        }
        ++r.done;
    }
    if (--r.busy == 0) all_done.cancel();
}

}  // namespace

asio::awaitable<std::vector<device_identity>> prepare_identities(asio::any_io_executor executor,
                                                                 const fs::path& cloud_dir, const fs::path& folder,
                                                                 long count, long concurrency,
                                                                 identities_report& report) {
    const auto t0 = std::chrono::steady_clock::now();
    const fs::path kit = cloud_dir / "kit";
    // The cache is good for one CA only: a deployment made again has a new CA, whose broker
    // would refuse every cached certificate.
    const std::string ca = read_file(cloud_dir / "ca" / "ca.crt");
    if (ca.empty()) throw fs::filesystem_error("cannot read the CA certificate", cloud_dir / "ca" / "ca.crt",
                                               std::make_error_code(std::errc::no_such_file_or_directory));
    if (fs::exists(folder) && read_file(folder / "ca.crt") != ca) fs::remove_all(folder);
    fs::create_directories(folder);
    write_file(folder / "ca.crt", ca);

    std::vector<device_identity> out;
    out.reserve(static_cast<std::size_t>(count));
    provisioning_run r;
    r.folder = &folder;
    for (long i = 0; i < count; ++i) {
        const fs::path dir = device_dir(folder, i);
        if (fs::exists(dir / "config" / "provision.json5")) continue;
        make_device_dir(kit, dir, i);
        r.todo.push_back(i);
    }
    report.cached = count - static_cast<long>(r.todo.size());
    if (!r.todo.empty()) {
        asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
        r.busy = std::min<long>(concurrency, static_cast<long>(r.todo.size()));
        const long workers = r.busy;
        for (long w = 0; w < workers; ++w) asio::co_spawn(executor, provisioner(r, all_done), asio::detached);
        while (r.busy != 0) co_await all_done.async_wait(use_tuple);
    }
    report.provisioned = r.done;
    report.error = r.first_error;
    for (long i = 0; i < count && report.error.empty(); ++i) {
        auto id = identity_of(device_dir(folder, i));
        if (id.thing.empty()) {
            report.error = "device " + serial(i) + " has no identity after provisioning";
            break;
        }
        out.push_back(std::move(id));
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    co_return out;
}

}  // namespace tether::tools
