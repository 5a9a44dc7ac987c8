// The server on a free loopback port, asked over HTTP by httplib's client: what needs a
// session, the login and its cookie, the limits on bodies and attempts, CSRF refusals,
// the actions, and the event stream.

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "provisioning/keys.hpp"
#include "provisioning/password_hash.hpp"
#include "web/server.hpp"
#include "web_fixture.hpp"

namespace tether::cloud::web {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string password = "correct horse battery";

// The hash is computed once: scrypt costs 0.1 s.
const std::string& password_hash() {
    static const std::string h = provisioning::hash_password(password);
    return h;
}

struct running_server {
    explicit running_server(server_settings s = {}, actions a = {}) {
        s.listen = "127.0.0.1";
        s.port = 0;
        s.admin_password_hash = password_hash();
        srv = std::make_unique<server>(s, *f.db, [] { return std::make_shared<const metrics::schema>(); }, changes,
                                       std::move(a));
        auto p = srv->start();
        if (!p) throw std::runtime_error(p.err().message);
        port = p.value();
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(30, 0);
        return c;
    }
    // Logs in; returns the Cookie header value.
    std::string login() const {
        auto c = client();
        const json body{{"user", "admin"}, {"password", password}};
        auto r = c.Post("/login", body.dump(), "application/json");
        if (!r || r->status != 200) throw std::runtime_error("login failed");
        const auto set = r->get_header_value("Set-Cookie");
        return set.substr(0, set.find(';'));
    }

    test::web_fixture f;
    notifier changes;
    std::unique_ptr<server> srv;
    std::uint16_t port = 0;
};

TEST(WebServer, TheApiWithoutASessionAnswers401Json) {
    running_server s;
    auto c = s.client();
    for (const char* path : {"/api/devices", "/api/devices/dev1/store", "/api/schema", "/api/metrics?metric=CPU",
                             "/api/events", "/api/nothing"}) {
        // Reads the body up to 4 KiB: an event stream opened by mistake would never end.
        std::string body;
        auto r = c.Get(path, [&](const char* data, std::size_t n) {
            body.append(data, n);
            return body.size() < 4096 && body.find("\n\n") == std::string::npos;
        });
        ASSERT_TRUE(r) << path;
        EXPECT_EQ(r->status, 401) << path;
        EXPECT_EQ(json::parse(body, nullptr, false).value("error", ""), "log in first") << path;
        EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    }
    auto post = c.Post("/api/devices/dev1/revoke", "{}", "application/json");
    ASSERT_TRUE(post);
    EXPECT_EQ(post->status, 401);
    // A made-up cookie is no session either.
    auto forged = c.Get("/api/devices", {{"Cookie", "tether_session=" + std::string(64, 'a')}});
    ASSERT_TRUE(forged);
    EXPECT_EQ(forged->status, 401);
}

TEST(WebServer, PagesWithoutASessionRedirectToLoginWhichIsPublic) {
    running_server s;
    auto c = s.client();
    for (const char* path : {"/", "/assets/app.js", "/assets/chart.js"}) {
        auto r = c.Get(path);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 303) << path;
        EXPECT_EQ(r->get_header_value("Location"), "/login") << path;
    }
    for (const char* path : {"/login", "/assets/login.js", "/assets/style.css"}) {
        auto r = c.Get(path);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200) << path;
        EXPECT_FALSE(r->body.empty());
    }
    auto page = c.Get("/login");
    EXPECT_NE(page->body.find("id=\"password\""), std::string::npos);
    EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
    EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
}

TEST(WebServer, AWrongPasswordOrUserIsRefusedAndTheRightOneGivesAStrictHttpOnlyCookie) {
    running_server s;
    auto c = s.client();
    auto wrong = c.Post("/login", json{{"user", "admin"}, {"password", "guess"}}.dump(), "application/json");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    EXPECT_FALSE(wrong->has_header("Set-Cookie"));
    auto wrong_user = c.Post("/login", json{{"user", "root"}, {"password", password}}.dump(), "application/json");
    ASSERT_TRUE(wrong_user);
    EXPECT_EQ(wrong_user->status, 401);
    auto malformed = c.Post("/login", R"({"user":"admin"})", "application/json");
    ASSERT_TRUE(malformed);
    EXPECT_EQ(malformed->status, 400);

    auto right = c.Post("/login", json{{"user", "admin"}, {"password", password}}.dump(), "application/json");
    ASSERT_TRUE(right);
    ASSERT_EQ(right->status, 200);
    const std::string cookie = right->get_header_value("Set-Cookie");
    EXPECT_TRUE(cookie.starts_with("tether_session=")) << cookie;
    const std::string id = cookie.substr(15, cookie.find(';') - 15);
    EXPECT_EQ(id.size(), 64u);
    EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("; Path=/"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("; Max-Age="), std::string::npos) << cookie;
    EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "plain HTTP: a Secure cookie would never come back";
    EXPECT_EQ(right->get_header_value("Cache-Control"), "no-store");

    const httplib::Headers with{{"Cookie", "theme=dark; tether_session=" + id}};
    auto devices = c.Get("/api/devices", with);
    ASSERT_TRUE(devices);
    EXPECT_EQ(devices->status, 200);
    EXPECT_TRUE(json::parse(devices->body)["devices"].is_array());
    auto page = c.Get("/", with);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    EXPECT_NE(page->body.find("/assets/app.js"), std::string::npos);

    auto out = c.Post("/logout", with, "{}", "application/json");
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, 200);
    EXPECT_NE(out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
    auto after = c.Get("/api/devices", with);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->status, 401);
}

TEST(WebServer, AnOversizedBodyIsRefusedWith413) {
    running_server s;
    auto c = s.client();
    const std::string big = json{{"user", "admin"}, {"password", std::string(20'000, 'x')}}.dump();
    auto r = c.Post("/login", big, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    const std::string cookie = s.login();
    auto api = c.Post("/api/devices/dev1/release", {{"Cookie", cookie}}, std::string(17 * 1024, ' '), "application/json");
    ASSERT_TRUE(api);
    EXPECT_EQ(api->status, 413);
}

TEST(WebServer, DeepJsonIsRefusedWith400) {
    bool called = false;
    running_server s({}, {.release = [&](std::string_view) { called = true; return reply{200, json::object()}; }});
    auto c = s.client();
    const std::string deep = std::string(50, '[') + std::string(50, ']');
    auto login = c.Post("/login", deep, "application/json");
    ASSERT_TRUE(login);
    EXPECT_EQ(login->status, 400);
    EXPECT_EQ(json::parse(login->body)["error"], "body: nested deeper than 8 levels");
    auto release = c.Post("/api/devices/dev1/release", {{"Cookie", s.login()}}, deep, "application/json");
    ASSERT_TRUE(release);
    EXPECT_EQ(release->status, 400);
    EXPECT_FALSE(called);
}

TEST(WebServer, PostsMustBeJsonAndSameOrigin) {
    bool called = false;
    running_server s({}, {.revoke = [&](std::string_view) { called = true; return reply{200, json::object()}; }});
    auto c = s.client();
    const std::string cookie = s.login();
    // What a cross-site HTML form can send.
    auto form = c.Post("/api/devices/dev1/revoke", {{"Cookie", cookie}}, "a=b", "application/x-www-form-urlencoded");
    ASSERT_TRUE(form);
    EXPECT_EQ(form->status, 415);
    auto text = c.Post("/api/devices/dev1/revoke", {{"Cookie", cookie}}, "{}", "text/plain");
    ASSERT_TRUE(text);
    EXPECT_EQ(text->status, 415);
    auto cross = c.Post("/api/devices/dev1/revoke", {{"Cookie", cookie}, {"Origin", "http://evil.example"}}, "{}",
                        "application/json");
    ASSERT_TRUE(cross);
    EXPECT_EQ(cross->status, 403);
    EXPECT_FALSE(called);
    const std::string origin = "http://127.0.0.1:" + std::to_string(s.port);
    auto same = c.Post("/api/devices/dev1/revoke", {{"Cookie", cookie}, {"Origin", origin}}, "{}", "application/json");
    ASSERT_TRUE(same);
    EXPECT_EQ(same->status, 200);
    EXPECT_TRUE(called);
}

TEST(WebServer, LoginAttemptsAreRateLimitedEvenWithTheRightPassword) {
    server_settings settings;
    settings.login_limits = {.per_address_burst = 3, .per_address_refill = 3600s, .overall_burst = 100,
                             .overall_refill = 1s};
    running_server s(settings);
    auto c = s.client();
    for (int i = 0; i < 3; ++i) {
        auto r = c.Post("/login", json{{"user", "admin"}, {"password", "guess"}}.dump(), "application/json");
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 401) << i;
    }
    auto limited = c.Post("/login", json{{"user", "admin"}, {"password", password}}.dump(), "application/json");
    ASSERT_TRUE(limited);
    EXPECT_EQ(limited->status, 429);
    EXPECT_FALSE(limited->has_header("Set-Cookie"));
    // An hour per attempt, less the time the three attempts took (however slow the machine).
    const int retry_after = std::stoi(limited->get_header_value("Retry-After"));
    EXPECT_LE(retry_after, 3600);
    EXPECT_GT(retry_after, 3000);
    EXPECT_EQ(s.srv->logins_refused(), 4u);
}

TEST(WebServer, ReleaseAndRevokeReachTheActionsWithTheDeviceId) {
    std::string released, revoked;
    running_server s({}, {.release = [&](std::string_view id) { released = id; return reply{200, json{{"ok", 1}}}; },
                          .revoke = [&](std::string_view id) { revoked = id; return reply{404, json{{"error", "x"}}}; }});
    auto c = s.client();
    const httplib::Headers h{{"Cookie", s.login()}};
    auto r1 = c.Post("/api/devices/dev1/release", h, "{}", "application/json");
    ASSERT_TRUE(r1);
    EXPECT_EQ(r1->status, 200);
    EXPECT_EQ(released, "dev1");
    auto r2 = c.Post("/api/devices/dev2/revoke", h, "", "application/json");
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->status, 404);
    EXPECT_EQ(revoked, "dev2");
    auto r3 = c.Post("/api/devices/" + std::string(200, 'd') + "/revoke", h, "{}", "application/json");
    ASSERT_TRUE(r3);
    EXPECT_EQ(r3->status, 400);
}

TEST(WebServer, TheEventStreamSendsAChangeOfItsDevice) {
    running_server s;
    const std::string cookie = s.login();
    std::string received;
    std::atomic<bool> done{false};
    std::thread reader([&] {
        auto c = s.client();
        (void)c.Get("/api/events?device=dev1", {{"Cookie", cookie}}, [&](const char* data, std::size_t n) {
            received.append(data, n);
            const bool got = received.find("\"mine\"") != std::string::npos;
            if (got) done = true;
            return !got;
        });
        done = true;
    });
    // The stream has subscribed once the notifier counts it; then publish.
    for (int i = 0; i < 3000 && s.changes.subscribers() == 0; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(s.changes.subscribers(), 1u);
    s.changes.publish({"dev2", "\"other\""});
    s.changes.publish({"dev1", "\"mine\""});
    reader.join();
    EXPECT_TRUE(done);
    EXPECT_EQ(received.find("other"), std::string::npos);
    EXPECT_NE(received.find("data: \"mine\"\n\n"), std::string::npos) << received;
}

TEST(WebServer, StoppingEndsAnOpenEventStream) {
    running_server s;
    const std::string cookie = s.login();
    std::thread reader([&] {
        auto c = s.client();
        (void)c.Get("/api/events", {{"Cookie", cookie}}, [&](const char*, std::size_t) { return true; });
    });
    for (int i = 0; i < 3000 && s.changes.subscribers() == 0; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(s.changes.subscribers(), 1u);
    s.srv->stop();  // would hang here if the stream held its thread
    reader.join();
    EXPECT_EQ(s.changes.subscribers(), 0u);
}

TEST(WebServer, UnderHttpsTheCertificateVerifiesAndTheCookieIsSecure) {
    test::web_fixture f;
    auto key = provisioning::generate_p256_key();
    const auto issued = f.ca.issue(*key, {.kind = provisioning::certificate_kind::server, .common_name = "localhost",
                                          .names = {"localhost", "127.0.0.1"}},
                                   std::chrono::system_clock::now());
    std::ofstream(f.dir / "web.crt") << issued.pem;
    std::ofstream(f.dir / "web.key") << provisioning::private_key_pem(*key);
    std::ofstream(f.dir / "ca.crt") << f.ca.certificate_pem();
    server_settings settings;
    settings.port = 0;
    settings.admin_password_hash = password_hash();
    settings.tls_cert = f.dir / "web.crt";
    settings.tls_key = f.dir / "web.key";
    notifier changes;
    server srv(settings, *f.db, nullptr, changes, {});
    const auto port = srv.start();
    ASSERT_TRUE(port) << port.err().message;

    httplib::SSLClient c("127.0.0.1", port.value());
    c.set_ca_cert_path((f.dir / "ca.crt").c_str());
    c.enable_server_certificate_verification(true);
    auto r = c.Post("/login", json{{"user", "admin"}, {"password", password}}.dump(), "application/json");
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->get_header_value("Set-Cookie").find("; Secure"), std::string::npos);
    EXPECT_TRUE(r->has_header("Strict-Transport-Security"));

    // A client that trusts another CA refuses the server.
    const auto other = provisioning::certificate_authority::create("other CA", std::chrono::system_clock::now());
    std::ofstream(f.dir / "other.crt") << other.certificate_pem();
    httplib::SSLClient stranger("127.0.0.1", port.value());
    stranger.set_ca_cert_path((f.dir / "other.crt").c_str());
    stranger.enable_server_certificate_verification(true);
    EXPECT_FALSE(stranger.Get("/login"));
}

TEST(WebServer, AMissingTlsCertificateIsAClearStartError) {
    test::web_fixture f;
    server_settings settings;
    settings.port = 0;
    settings.tls_cert = f.dir / "missing.crt";
    settings.tls_key = f.dir / "missing.key";
    notifier changes;
    server srv(settings, *f.db, nullptr, changes, {});
    const auto port = srv.start();
    ASSERT_FALSE(port);
    EXPECT_NE(port.err().message.find("missing.crt"), std::string::npos) << port.err().message;
}

}  // namespace
}  // namespace tether::cloud::web
