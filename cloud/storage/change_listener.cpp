#include "storage/change_listener.hpp"
#include "storage/postgres_text.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace tether::cloud::storage {

namespace {

using detail::ignore_notice;
using detail::trimmed;

constexpr auto first_backoff = std::chrono::milliseconds(200);
constexpr auto most_backoff = std::chrono::milliseconds(5'000);
// A poll without news this long just polls again (keep-alives watch the link meanwhile).
constexpr auto idle_poll = std::chrono::milliseconds(60'000);

}  // namespace

change_listener::change_listener(std::string url, changes_function on_changes, gap_function on_gap)
    : url_(std::move(url)), on_changes_(std::move(on_changes)), on_gap_(std::move(on_gap)) {}

change_listener::~change_listener() { stop(); }

pg_conn* change_listener::connect(std::string& problem) const {
    // The URI expands into the parameters; keep-alives added beside it (seconds).
    const char* keys[] = {"dbname", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
                          "connect_timeout", nullptr};
    const char* values[] = {url_.c_str(), "1", "10", "5", "3", "10", nullptr};
    pg_conn* c = PQconnectdbParams(keys, values, 1);
    if (c == nullptr) {
        problem = "postgresql: out of memory";
        return nullptr;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        problem = "postgresql: cannot connect: " + trimmed(PQerrorMessage(c));
        PQfinish(c);
        return nullptr;
    }
    PQsetNoticeProcessor(c, ignore_notice, nullptr);
    const std::string listen = "LISTEN " + std::string(change_channel);
    PGresult* r = PQexec(c, listen.c_str());
    const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) problem = "postgresql: LISTEN failed: " + trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(c));
    PQclear(r);
    if (!ok) {
        PQfinish(c);
        return nullptr;
    }
    return c;
}

result<void> change_listener::start() {
    if (thread_.joinable() || wake_ >= 0) return error{"change listener: started twice"};
    std::string problem;
    conn_ = connect(problem);
    if (conn_ == nullptr) return error{problem};
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_ < 0) {
        PQfinish(conn_);
        conn_ = nullptr;
        return error{"change listener: eventfd failed"};
    }
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
    return {};
}

void change_listener::stop() {
    stopping_ = true;
    if (wake_ >= 0) {
        const std::uint64_t one = 1;
        (void)!::write(wake_, &one, sizeof one);
    }
    if (thread_.joinable()) thread_.join();
    if (conn_ != nullptr) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
    if (wake_ >= 0) {
        ::close(wake_);
        wake_ = -1;
    }
}

bool change_listener::wait_readable(int fd, std::chrono::milliseconds limit) {
    pollfd fds[2] = {{wake_, POLLIN, 0}, {fd, POLLIN, 0}};
    const nfds_t count = fd >= 0 ? 2 : 1;
    const int r = ::poll(fds, count, static_cast<int>(limit.count()));
    if (r < 0) return !stopping_;  // EINTR: look again
    return !stopping_ && (fds[0].revents & POLLIN) == 0;
}

void change_listener::deliver() {
    while (PGnotify* n = PQnotifies(conn_)) {
        auto changes = parse_notification(n->extra != nullptr ? n->extra : "");
        PQfreemem(n);
        if (!changes) {
            ++malformed_;
        } else if (!changes.value().empty() && on_changes_) {
            on_changes_(std::move(changes).value());
        }
    }
}

void change_listener::run() {
    auto backoff = first_backoff;
    while (!stopping_) {
        if (conn_ == nullptr) {
            if (!wait_readable(-1, backoff)) return;
            std::string problem;
            conn_ = connect(problem);
            if (conn_ == nullptr) {
                backoff = std::min(backoff * 2, std::chrono::duration_cast<std::chrono::milliseconds>(most_backoff));
                continue;
            }
            backoff = first_backoff;
            // What was committed while away was not heard: the state must be read again.
            if (on_gap_) on_gap_();
        }
        if (!wait_readable(PQsocket(conn_), idle_poll)) return;
        if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
            deliver();  // what arrived before the loss
            PQfinish(conn_);
            conn_ = nullptr;
            ++reconnections_;
            continue;
        }
        deliver();
    }
}

}  // namespace tether::cloud::storage
