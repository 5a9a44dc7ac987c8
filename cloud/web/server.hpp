#pragma once
// The Device Manager over HTTP (Debian's cpp-httplib): the login page, the page, its
// assets and the JSON API of api.hpp, on threads of its own. The server only reads the
// database (thread-safe), waits on the notifier for live changes, and asks `actions` to
// release or revoke a device; it never touches the io thread's state itself.
//
//     web::server s(settings, db, [&] { return schema; }, changes, actions);
//     auto port = s.start();            // binds, then serves on its own threads
//     if (!port) { std::cerr << port.err().message; }
//     ...
//     s.stop();                         // ends event streams, then the server
//
// Security model (docs/CLOUD.md, "Web"): every route but GET /login, POST /login and the
// login page's assets needs a session cookie (API: 401 JSON; pages: 303 to /login); the
// cookie is HttpOnly, SameSite=Strict (and Secure under HTTPS); login attempts are
// rate-limited per address and overall; POSTs must be application/json (a cross-site form
// cannot send that) and, when the browser sends Origin, come from this host; bodies over
// max_body are refused (413) and JSON deeper than 8 levels (400).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <semaphore>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.hpp"
#include "metrics/schema.hpp"
#include "storage/database.hpp"
#include "web/api.hpp"
#include "web/notifier.hpp"
#include "web/rate_limiter.hpp"
#include "web/session_store.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace tether::cloud::web {

struct server_settings {
    std::string listen = "127.0.0.1";
    std::uint16_t port = 8080;             // 0: any free port (start() returns it)
    std::string admin_user = "admin";
    std::string admin_password_hash;       // provisioning/password_hash.hpp; empty: no login succeeds
    session_limits sessions{};
    rate_limits login_limits{};
    std::size_t max_body = 16 * 1024;
    std::chrono::milliseconds keepalive{15'000};  // an event stream's comment line when idle
    std::size_t max_streams = 8;           // threads kept for /api/events; give the notifier this limit
    std::filesystem::path chart_js{};      // empty: Debian's libjs-chart.js (found_chart_js())
    // HTTPS when both are set (PEM files: the deployment's CA-signed server certificate
    // and its key); the cookie is then Secure and HSTS is sent.
    std::filesystem::path tls_cert{}, tls_key{};
};

// What the API's POSTs do; each returns the reply to send. Called on an HTTP thread.
struct actions {
    std::function<reply(std::string_view device_id)> release{};
    std::function<reply(std::string_view device_id)> revoke{};
};

// Debian's Chart.js: chart.umd.js (4.x) or chart.min.js (3.x); empty when neither exists.
[[nodiscard]] std::filesystem::path found_chart_js();

class server {
public:
    using schema_source = std::function<std::shared_ptr<const metrics::schema>()>;

    // `db` and `changes` must outlive the server.
    server(server_settings settings, const storage::database& db, schema_source schema, notifier& changes,
           actions act);
    ~server();  // stop()s
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds and starts serving on a thread of its own. Returns the port. Errors: the
    // address cannot be bound ("web: cannot listen on 127.0.0.1:8080"), started twice.
    [[nodiscard]] result<std::uint16_t> start();

    // Ends every event stream (the notifier is closed), stops accepting, and waits for the
    // server's threads. Idempotent.
    void stop();

    [[nodiscard]] std::uint64_t logins_refused() const noexcept { return logins_refused_; }
    [[nodiscard]] bool secure_cookie() const noexcept { return !settings_.tls_cert.empty(); }

private:
    void routes();
    [[nodiscard]] std::optional<std::string> session_user(const httplib::Request& req);
    void login(const httplib::Request& req, httplib::Response& res);
    void events(const httplib::Request& req, httplib::Response& res);

    server_settings settings_;
    const storage::database& db_;
    schema_source schema_;
    notifier& changes_;
    actions actions_;
    session_store sessions_;
    rate_limiter limiter_;
    std::counting_semaphore<2> scrypt_slots_{2};  // each check holds 32 MiB
    std::string chart_js_;
    std::unique_ptr<httplib::Server> http_;
    std::thread thread_;
    std::atomic<std::uint64_t> logins_refused_{0};
    bool started_ = false;
};

}  // namespace tether::cloud::web
