#include "web_wiring.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <future>
#include <stdexcept>

#include "device_actions.hpp"

namespace tether::tools::cloud {

namespace {

namespace fs = std::filesystem;
namespace web = tether::cloud::web;
using nlohmann::json;

// How long an HTTP request waits for the io thread to do a release or a revoke.
constexpr auto io_limit = std::chrono::seconds(10);

template <class T>
T setting(const json& web, const char* name, T fallback) {
    const auto it = web.find(name);
    if (it == web.end()) return fallback;
    try {
        return it->get<T>();
    } catch (const json::exception&) {
        throw std::runtime_error(std::string("cloud.json5: web.") + name + " has the wrong type");
    }
}

// Runs `fn` on the io thread and waits for its reply; 503 when the io thread does not get
// to it in time (stopping, or stuck).
web::reply on_io(asio::io_context& io, std::function<web::reply()> fn) {
    auto task = std::make_shared<std::packaged_task<web::reply()>>(std::move(fn));
    auto done = task->get_future();
    asio::post(io, [task] { (*task)(); });
    if (done.wait_for(io_limit) != std::future_status::ready) {
        return web::error_reply(503, "the service did not answer in time");
    }
    try {
        return done.get();
    } catch (const std::exception& e) {
        return web::error_reply(500, e.what());
    }
}

}  // namespace

web::server_settings web_settings(const json& settings, const fs::path& dir) {
    web::server_settings s;
    const json web = settings.value("web", json::object());
    if (!web.is_object()) throw std::runtime_error("cloud.json5: web must be an object");
    s.listen = setting<std::string>(web, "listen", "127.0.0.1");
    const int port = setting<int>(web, "port", 8080);
    if (port < 0 || port > 65535) throw std::runtime_error("cloud.json5: web.port must be 0..65535");
    s.port = static_cast<std::uint16_t>(port);
    if (setting<bool>(web, "tls", false)) {
        s.tls_cert = dir / setting<std::string>(web, "cert", "broker/broker.crt");
        s.tls_key = dir / setting<std::string>(web, "key", "broker/broker.key");
    }
    const int session_minutes = setting<int>(web, "sessionMinutes", 720);
    const int idle_minutes = setting<int>(web, "idleMinutes", 30);
    if (session_minutes < 1 || idle_minutes < 1) {
        throw std::runtime_error("cloud.json5: web.sessionMinutes and web.idleMinutes must be at least 1");
    }
    s.sessions.lifetime = std::chrono::minutes(session_minutes);
    s.sessions.idle = std::chrono::minutes(idle_minutes);
    const json admin = settings.value("admin", json::object());
    if (admin.is_object()) {
        s.admin_user = setting<std::string>(admin, "user", "admin");
        s.admin_password_hash = setting<std::string>(admin, "passwordHash", "");
    }
    return s;
}

web::actions service_actions(service_inputs in) {
    web::actions act;
    // Both as `tether-cloud release|revoke` do them (device_actions.hpp).
    act.release = [in](std::string_view id) {
        return on_io(in.io, [in, device = std::string(id)] {
            const auto released = release_and_write_crl(in.provisioning, in.layout, device);
            if (!released) return web::error_reply(404, "no device named " + device);
            if (!released->revoked.empty() && in.reload_broker) in.reload_broker();
            // A device away (or refused, revoked) provisions at its next attempt without it.
            const auto& m = released->release;
            if (const auto ec = in.service.mqtt().publish_now(m.topic, m.payload, tether::core::qos::at_least_once)) {
                return web::error_reply(503, "released, but cannot publish the release: " + ec.message());
            }
            return web::reply{200, json{{"device", device}, {"message", "Release sent to " + device + "."}}};
        });
    };
    act.revoke = [in](std::string_view id) {
        return on_io(in.io, [in, device = std::string(id)] {
            const auto revoked = revoke_and_write_crl(in.provisioning, in.registry, in.layout, device);
            if (!revoked) return web::error_reply(404, "no active device named " + device);
            if (in.revoked) in.revoked(device);
            if (in.reload_broker) in.reload_broker();
            // After the SIGHUP: the device's next handshake meets the new CRL.
            asio::co_spawn(in.io, close_device_connection(in.io.get_executor(),
                                                          service_client_options(in.settings, in.layout, ""), device),
                           asio::detached);
            return web::reply{200, json{{"device", device},
                                        {"certificates", revoked->revoked.size()},
                                        {"message", device + " is revoked; the broker's CRL is rewritten."}}};
        });
    };
    return act;
}

web::actions standalone_actions(standalone_inputs in) {
    // The provisioning service and the CRL file are this process's to change one at a time.
    auto one_at_a_time = std::make_shared<std::mutex>();
    web::actions act;
    act.release = [in, one_at_a_time](std::string_view id) {
        std::lock_guard lock(*one_at_a_time);
        const std::string device(id);
        try {
            const auto released = release_and_write_crl(in.provisioning, in.layout, device);
            if (!released) return web::error_reply(404, "no device named " + device);
            std::string note;
            if (!released->revoked.empty() && !reload_running_broker(in.layout)) {
                note = " No broker started by tether-cloud run was found: the broker must re-read the CRL (SIGHUP).";
            }
            if (const auto ec = publish_as_service(in.settings, in.layout, released->release)) {
                return web::error_reply(503, "released, but cannot publish the release: " + ec.message() + "." + note);
            }
            return web::reply{200, json{{"device", device}, {"message", "Release sent to " + device + "." + note}}};
        } catch (const std::exception& e) {
            return web::error_reply(500, e.what());
        }
    };
    act.revoke = [in, one_at_a_time](std::string_view id) {
        std::lock_guard lock(*one_at_a_time);
        const std::string device(id);
        try {
            const auto revoked = revoke_and_write_crl(in.provisioning, in.registry, in.layout, device);
            if (!revoked) return web::error_reply(404, "no active device named " + device);
            std::string message = device + " is revoked; the broker's CRL is rewritten.";
            if (!reload_running_broker(in.layout)) {
                message += " No broker started by tether-cloud run was found: the broker must re-read the CRL (SIGHUP).";
            }
            // After the SIGHUP: the device's next handshake meets the new CRL.
            const auto service = service_client_options(in.settings, in.layout, "");
            if (const auto ec = on_own_io([&](asio::any_io_executor ex) { return close_device_connection(ex, service, device); })) {
                message += " Its open connection could not be closed: " + ec.message() + ".";
            }
            return web::reply{200, json{{"device", device}, {"certificates", revoked->revoked.size()}, {"message", message}}};
        } catch (const std::exception& e) {
            return web::error_reply(500, e.what());
        }
    };
    return act;
}

web_part::web_part(web_inputs in, web::actions act)
    : in_(std::move(in)),
      settings_(web_settings(in_.settings, in_.layout.dir)),
      // No more streams than the server keeps threads for, so the API always has some.
      changes_({.queue_limit = 256, .max_subscribers = settings_.max_streams}) {
    enabled_ = setting<bool>(in_.settings.value("web", json::object()), "enabled", true);
    if (!enabled_) return;
    server_ = std::make_unique<web::server>(
        settings_, in_.db, [&schema = in_.schema] { return schema.current(); }, changes_, std::move(act));
}

web_part::~web_part() { stop(); }

std::string web_part::start() {
    if (!enabled_) return "disabled (web.enabled is false)";
    auto port = server_->start();
    if (!port) throw std::runtime_error(port.err().message);
    const bool tls = !settings_.tls_cert.empty();
    return std::string(tls ? "https://" : "http://") + settings_.listen + ":" + std::to_string(port.value()) + "/";
}

void web_part::stop() {
    if (server_) server_->stop();
}

}  // namespace tether::tools::cloud
