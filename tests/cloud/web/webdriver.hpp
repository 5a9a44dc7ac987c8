#pragma once
// A WebDriver session (W3C protocol, JSON over HTTP) with Debian's chromedriver driving
// headless Chromium: only the commands the browser tests use. Chromium runs as root here,
// so it needs --no-sandbox (RECIPES.md).

#include <httplib.h>
#include <openssl/evp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "../../support/broker.hpp"
#include "../../support/process.hpp"

namespace tether::cloud::web::test {

class webdriver {
public:
    webdriver() : port_(tether::test::free_port()) {
        driver_ = std::make_unique<tether::test::process>(
            std::vector<std::string>{"/usr/bin/chromedriver", "--port=" + std::to_string(port_)});
        if (!tether::test::wait_for_port(port_, std::chrono::seconds(30))) {
            throw std::runtime_error("chromedriver did not start: " + driver_->err());
        }
        http_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
        http_->set_read_timeout(120, 0);
        const nlohmann::json caps{
            {"capabilities",
             {{"alwaysMatch",
               {{"browserName", "chrome"},
                {"goog:chromeOptions",
                 {{"binary", "/usr/bin/chromium"},
                  {"args", {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--window-size=1280,900", "--lang=en-US"}}}}}}}}};
        const auto v = call("POST", "/session", caps);
        session_ = v.at("sessionId").get<std::string>();
    }
    ~webdriver() {
        if (!session_.empty() && http_) (void)http_->Delete("/session/" + session_);
        if (driver_) driver_->kill(15);
        if (driver_) (void)driver_->wait();
    }
    webdriver(const webdriver&) = delete;
    webdriver& operator=(const webdriver&) = delete;

    void go(const std::string& url) { (void)command("POST", "/url", {{"url", url}}); }

    // The element's id for `css`; throws when there is none.
    std::string find(const std::string& css) {
        const auto v = command("POST", "/element", {{"using", "css selector"}, {"value", css}});
        return v.at("element-6066-11e4-a52e-4f735466cecf").get<std::string>();
    }
    void type(const std::string& css, const std::string& text) {
        (void)command("POST", "/element/" + find(css) + "/value", {{"text", text}});
    }
    void click(const std::string& css) { (void)command("POST", "/element/" + find(css) + "/click", nlohmann::json::object()); }

    // Runs `script` (a function body; `return` gives the result) in the page.
    nlohmann::json run(const std::string& script) {
        return command("POST", "/execute/sync", {{"script", script}, {"args", nlohmann::json::array()}});
    }

    // Polls `script` until it returns true or `limit` passes; returns whether it did.
    bool wait_until(const std::string& script, std::chrono::seconds limit = std::chrono::seconds(60)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            try {
                if (run(script) == true) return true;
            } catch (const std::exception&) {
                // A page in the middle of loading: ask again.
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }

    // Saves a PNG of the window.
    void screenshot(const std::filesystem::path& file) {
        const auto b64 = command("GET", "/screenshot", nullptr).get<std::string>();
        std::string png(b64.size() / 4 * 3 + 3, '\0');
        const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(png.data()),
                                      reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
        if (n < 0) throw std::runtime_error("screenshot: bad base64");
        std::size_t size = static_cast<std::size_t>(n);
        if (b64.ends_with("==")) size -= 2;
        else if (b64.ends_with("=")) size -= 1;
        png.resize(size);
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << png;
    }

private:
    nlohmann::json command(const std::string& method, const std::string& path, const nlohmann::json& body) {
        return call(method, "/session/" + session_ + path, body);
    }
    nlohmann::json call(const std::string& method, const std::string& path, const nlohmann::json& body) {
        httplib::Result r = method == "GET" ? http_->Get(path) : http_->Post(path, body.dump(), "application/json");
        if (!r) throw std::runtime_error("webdriver: no answer to " + path);
        const auto j = nlohmann::json::parse(r->body, nullptr, false);
        if (r->status != 200 || j.is_discarded()) {
            throw std::runtime_error("webdriver: " + path + " answered " + std::to_string(r->status) + ": " +
                                     r->body.substr(0, 400));
        }
        return j.at("value");
    }

    std::uint16_t port_;
    std::unique_ptr<tether::test::process> driver_;
    std::unique_ptr<httplib::Client> http_;
    std::string session_;
};

}  // namespace tether::cloud::web::test
