#include "web/server.hpp"

#include <httplib.h>
#include <openssl/crypto.h>

#include <fstream>
#include <sstream>

#include "provisioning/password_hash.hpp"
#include "web/assets.hpp"
#include "web/json_body.hpp"

namespace tether::cloud::web {

namespace {

using nlohmann::json;
using HandlerResponse = httplib::Server::HandlerResponse;

constexpr std::string_view cookie_name = "tether_session";
constexpr std::size_t max_password_bytes = 1024;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void send(httplib::Response& res, const reply& r) {
    res.status = r.status;
    res.set_content(r.body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, std::string message) {
    send(res, error_reply(status, std::move(message)));
}

// The session id in `Cookie: a=b; tether_session=ID`, or empty.
std::string_view session_cookie(std::string_view header) {
    while (!header.empty()) {
        const auto semi = header.find(';');
        std::string_view part = header.substr(0, semi);
        header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        if (part.starts_with(cookie_name) && part.size() > cookie_name.size() && part[cookie_name.size()] == '=') {
            return part.substr(cookie_name.size() + 1);
        }
    }
    return {};
}

bool is_public(const httplib::Request& req) {
    if (req.method == "GET" || req.method == "HEAD") {
        return req.path == "/login" || req.path == "/assets/login.js" || req.path == "/assets/style.css" ||
               req.path == "/favicon.ico";
    }
    return req.method == "POST" && req.path == "/login";
}

// Same-origin check for POSTs: a browser names the page's origin in Origin; it must be
// this server's (scheme and Host header). No Origin (curl, old browsers): SameSite=Strict
// and the JSON content type carry the defence.
bool same_origin(const httplib::Request& req) {
    if (!req.has_header("Origin")) return true;
    const std::string origin = req.get_header_value("Origin");
    const std::string host = req.get_header_value("Host");
    return !host.empty() && (origin == "http://" + host || origin == "https://" + host);
}

void serve_asset(httplib::Response& res, std::string_view name) {
    const auto a = find_asset(name);
    if (!a) {
        send_error(res, 404, "not found");
        return;
    }
    res.set_content(std::string(a->content), std::string(a->content_type));
}

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return {};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

std::filesystem::path found_chart_js() {
    for (const char* p : {"/usr/share/javascript/chart.js/chart.umd.js", "/usr/share/javascript/chart.js/chart.min.js"}) {
        std::error_code ec;
        if (std::filesystem::is_regular_file(p, ec)) return p;
    }
    return {};
}

server::server(server_settings settings, const storage::database& db, schema_source schema, notifier& changes,
               actions act)
    : settings_(std::move(settings)),
      db_(db),
      schema_(std::move(schema)),
      changes_(changes),
      actions_(std::move(act)),
      sessions_(settings_.sessions),
      limiter_(settings_.login_limits),
      http_(settings_.tls_cert.empty() ? std::make_unique<httplib::Server>()
                                       : std::make_unique<httplib::SSLServer>(settings_.tls_cert.c_str(),
                                                                              settings_.tls_key.c_str())) {
    const auto chart = settings_.chart_js.empty() ? found_chart_js() : settings_.chart_js;
    if (!chart.empty()) chart_js_ = read_all(chart);
    routes();
}

server::~server() { stop(); }

std::optional<std::string> server::session_user(const httplib::Request& req) {
    const std::string header = req.get_header_value("Cookie");
    const auto id = session_cookie(header);
    if (id.empty()) return std::nullopt;
    return sessions_.check(id, session_store::clock::now());
}

void server::routes() {
    auto& h = *http_;
    // Streams and keep-alive connections each hold a thread: room for both.
    const std::size_t threads = settings_.max_streams + 8;
    h.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    h.set_payload_max_length(settings_.max_body);
    h.set_read_timeout(10, 0);
    h.set_write_timeout(10, 0);

    h.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (req.method == "POST") {
            const std::string type = req.get_header_value("Content-Type");
            if (!type.starts_with("application/json")) {
                res.set_header("Connection", "close");
                send_error(res, 415, "POST bodies must be application/json");
                return HandlerResponse::Handled;
            }
            if (!same_origin(req)) {
                res.set_header("Connection", "close");
                send_error(res, 403, "cross-origin request refused");
                return HandlerResponse::Handled;
            }
        }
        if (is_public(req) || session_user(req)) return HandlerResponse::Unhandled;
        res.set_header("Connection", "close");
        if (req.path.starts_with("/api/")) {
            send_error(res, 401, "log in first");
        } else {
            res.set_redirect("/login", 303);
        }
        return HandlerResponse::Handled;
    });
    h.set_post_routing_handler([secure = secure_cookie()](const httplib::Request& req, httplib::Response& res) {
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_header("X-Frame-Options", "DENY");
        res.set_header("Referrer-Policy", "no-referrer");
        res.set_header("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
                       "base-uri 'none'; form-action 'self'");
        if (secure) res.set_header("Strict-Transport-Security", "max-age=31536000");
        if (req.path.starts_with("/api/") || req.path == "/login") res.set_header("Cache-Control", "no-store");
    });
    // Named, so that the overload taking a handler with a response is the one chosen.
    const httplib::Server::HandlerWithResponse on_error = [](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return HandlerResponse::Unhandled;
        std::string message = res.status == 413 ? "body larger than the limit" : res.status == 404 ? "not found" : "error";
        send_error(res, res.status, std::move(message));
        return HandlerResponse::Handled;
    };
    h.set_error_handler(on_error);

    h.Get("/login", [](const httplib::Request&, httplib::Response& res) { serve_asset(res, "login.html"); });
    h.Get("/", [](const httplib::Request&, httplib::Response& res) { serve_asset(res, "index.html"); });
    h.Get(R"(/assets/(login\.js|app\.js|style\.css))",
          [](const httplib::Request& req, httplib::Response& res) { serve_asset(res, req.matches[1].str()); });
    h.Get("/assets/chart.js", [this](const httplib::Request&, httplib::Response& res) {
        if (chart_js_.empty()) {
            send_error(res, 404, "Chart.js is not installed (apt-get install libjs-chart.js)");
            return;
        }
        res.set_header("Cache-Control", "max-age=3600");
        res.set_content(chart_js_, "text/javascript; charset=utf-8");
    });

    h.Post("/login", [this](const httplib::Request& req, httplib::Response& res) { login(req, res); });
    h.Post("/logout", [this](const httplib::Request& req, httplib::Response& res) {
        sessions_.end(session_cookie(req.get_header_value("Cookie")));
        res.set_header("Set-Cookie", std::string(cookie_name) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                         (secure_cookie() ? "; Secure" : ""));
        send(res, {200, json{{"ok", true}}});
    });

    h.Get("/api/session", [this](const httplib::Request& req, httplib::Response& res) {
        send(res, {200, json{{"user", session_user(req).value_or("")}}});
    });
    h.Get("/api/devices", [this](const httplib::Request&, httplib::Response& res) { send(res, devices_reply(db_, now_ms())); });
    h.Get(R"(/api/devices/([^/]+)/store)", [this](const httplib::Request& req, httplib::Response& res) {
        send(res, store_reply(db_, req.matches[1].str(), now_ms()));
    });
    h.Get("/api/schema", [this](const httplib::Request&, httplib::Response& res) {
        const auto s = schema_ ? schema_() : nullptr;
        send(res, schema_reply(s ? *s : metrics::schema{}));
    });
    h.Get("/api/metrics", [this](const httplib::Request& req, httplib::Response& res) {
        std::map<std::string, std::string, std::less<>> query;
        for (const auto& [k, v] : req.params) query[k] = v;
        const auto s = schema_ ? schema_() : nullptr;
        send(res, metrics_reply(db_, s ? *s : metrics::schema{}, query, now_ms()));
    });
    const auto action = [this](std::function<reply(std::string_view)> actions::*which) {
        return [this, which](const httplib::Request& req, httplib::Response& res) {
            const std::string id = req.matches[1].str();
            if (id.empty() || id.size() > storage::max_device_id_bytes) {
                send_error(res, 400, "device: expected an id of 1 to 128 bytes");
                return;
            }
            if (!req.body.empty()) {
                auto body = parse_json_body(req.body);
                if (!body) {
                    send_error(res, 400, body.err().message);
                    return;
                }
            }
            const auto& fn = actions_.*which;
            if (!fn) {
                send_error(res, 503, "not available: the server runs without the MQTT service");
                return;
            }
            send(res, fn(id));
        };
    };
    h.Post(R"(/api/devices/([^/]+)/release)", action(&actions::release));
    h.Post(R"(/api/devices/([^/]+)/revoke)", action(&actions::revoke));
    h.Get("/api/events", [this](const httplib::Request& req, httplib::Response& res) { events(req, res); });
}

void server::login(const httplib::Request& req, httplib::Response& res) {
    if (const auto wait = limiter_.take(req.remote_addr, session_store::clock::now())) {
        ++logins_refused_;
        res.set_header("Retry-After", std::to_string(wait->count()));
        send_error(res, 429, "too many login attempts: try again in " + std::to_string(wait->count()) + " s");
        return;
    }
    auto body = parse_json_body(req.body);
    if (!body) {
        send_error(res, 400, body.err().message);
        return;
    }
    const json& b = body.value();
    if (!b.is_object() || !b.contains("user") || !b["user"].is_string() || !b.contains("password") ||
        !b["password"].is_string()) {
        send_error(res, 400, "body: expected {\"user\": string, \"password\": string}");
        return;
    }
    const auto& user = b["user"].get_ref<const std::string&>();
    const auto& password = b["password"].get_ref<const std::string&>();
    if (password.size() > max_password_bytes) {
        send_error(res, 400, "password: longer than 1024 bytes");
        return;
    }
    // The hash is checked whatever the user name, so that timing does not tell a wrong
    // name from a wrong password.
    bool ok = false;
    {
        scrypt_slots_.acquire();
        ok = provisioning::verify_password(password, settings_.admin_password_hash);
        scrypt_slots_.release();
    }
    const bool user_ok = user.size() == settings_.admin_user.size() &&
                         CRYPTO_memcmp(user.data(), settings_.admin_user.data(), user.size()) == 0;
    if (!ok || !user_ok || settings_.admin_password_hash.empty()) {
        ++logins_refused_;
        send_error(res, 401, "wrong user name or password");
        return;
    }
    std::string id;
    try {
        id = sessions_.create(user, session_store::clock::now());
    } catch (const std::exception&) {
        send_error(res, 500, "cannot make a session: the random generator failed");
        return;
    }
    res.set_header("Set-Cookie", std::string(cookie_name) + "=" + id + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                     std::to_string(settings_.sessions.lifetime.count()) +
                                     (secure_cookie() ? "; Secure" : ""));
    send(res, {200, json{{"user", user}}});
}

void server::events(const httplib::Request& req, httplib::Response& res) {
    const std::string device = req.get_param_value("device");
    if (device.size() > storage::max_device_id_bytes) {
        send_error(res, 400, "device: longer than 128 bytes");
        return;
    }
    auto sub = changes_.subscribe(device);
    if (!sub) {
        res.set_header("Retry-After", "5");
        send_error(res, 503, "too many event streams open");
        return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    auto first = std::make_shared<bool>(true);
    res.set_chunked_content_provider(
        "text/event-stream",
        [sub, first, keepalive = settings_.keepalive](std::size_t, httplib::DataSink& sink) {
            if (*first) {
                *first = false;
                const std::string hello = "retry: 2000\n: connected\n\n";
                return sink.write(hello.data(), hello.size());
            }
            auto got = sub->wait(keepalive);
            if (got.state == wait_state::ended) {
                sink.done();
                return true;
            }
            std::string out;
            if (got.state == wait_state::idle) {
                out = ": keep-alive\n\n";
            } else {
                for (const auto& c : got.changes) out += "data: " + c.json + "\n\n";
            }
            // false: the browser went away; the stream ends and `sub` with it.
            return sink.write(out.data(), out.size());
        });
}

result<std::uint16_t> server::start() {
    if (started_) return error{"web: started twice"};
    if (!http_->is_valid()) {
        return error{"web: cannot use the TLS certificate " + settings_.tls_cert.string() + " and its key"};
    }
    int port = 0;
    if (settings_.port == 0) {
        port = http_->bind_to_any_port(settings_.listen);
    } else if (http_->bind_to_port(settings_.listen, settings_.port)) {
        port = settings_.port;
    }
    if (port <= 0) {
        return error{"web: cannot listen on " + settings_.listen + ":" + std::to_string(settings_.port)};
    }
    started_ = true;
    thread_ = std::thread([this] { (void)http_->listen_after_bind(); });
    return static_cast<std::uint16_t>(port);
}

void server::stop() {
    changes_.close();
    if (!started_) return;
    http_->stop();
    if (thread_.joinable()) thread_.join();
    started_ = false;
}

}  // namespace tether::cloud::web
