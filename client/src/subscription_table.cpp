#include "subscription_table.hpp"

#include <algorithm>

#include "filter_cover.hpp"

namespace tether::client::detail {

namespace {

bool pending(const server_filter& f) {
    return f.st == server_filter::state::wanted || f.st == server_filter::state::sent;
}

// The QoS a server filter is known (granted) or expected (asked, SUBACK pending) to serve.
core::qos serving_qos(const server_filter& f) {
    return f.st == server_filter::state::granted ? f.granted : f.wanted;
}

}  // namespace

server_filter* subscription_table::find(std::string_view filter) {
    for (auto& f : server_) {
        if (f.filter == filter) return &f;
    }
    return nullptr;
}

const server_filter* subscription_table::serving(std::string_view filter, core::qos q) const {
    for (const auto& f : server_) {
        if (f.filter == filter && f.st != server_filter::state::refused) return &f;  // its own, whatever the grant
    }
    for (const auto& f : server_) {
        if (f.st == server_filter::state::refused || serving_qos(f) < q) continue;
        if (filter_covers(f.filter, filter)) return &f;
    }
    return nullptr;
}

server_filter& subscription_table::want(std::string_view filter, core::qos q, const asio::any_io_executor& ex) {
    server_filter* f = find(filter);
    if (f == nullptr) {
        server_.push_back({.filter = std::string(filter), .wanted = q, .settled = nullptr});
        f = &server_.back();
    } else if (f->st == server_filter::state::refused) {
        f->wanted = q;  // asked again: the server may say yes this time
    } else {
        f->wanted = std::max(f->wanted, q);
    }
    f->st = server_filter::state::wanted;
    if (!f->settled || f->settled->done()) f->settled = std::make_shared<signal>(ex);
    return *f;
}

std::vector<std::shared_ptr<signal>> subscription_table::add(const std::vector<subscription>& subs,
                                                             const asio::any_io_executor& ex) {
    const std::uint64_t group = next_group_++;
    std::vector<std::shared_ptr<signal>> waits;
    for (const auto& s : subs) {
        const server_filter* by = s.always_at_server ? find(s.filter) : serving(s.filter, s.max_qos);
        if (by != nullptr && by->st == server_filter::state::refused) by = nullptr;
        // Its own filter at a lower QoS than now asked: ask the server again, higher.
        const bool upgrade = by != nullptr && by->filter == s.filter && by->wanted < s.max_qos;
        if (by == nullptr || upgrade) by = &want(s.filter, s.max_qos, ex);
        if (pending(*by) && (!by->settled || by->settled->done())) {
            // Still to be sent (e.g. after a stop failed its earlier waiters): a fresh wait
            // for the SUBACK to come, not the error of one gone.
            find(by->filter)->settled = std::make_shared<signal>(ex);
        }
        waits.push_back(pending(*by) ? by->settled : nullptr);
        locals_.push_back({s.filter, s.max_qos, group, std::make_shared<const message_handler>(s.handler),
                           std::make_shared<const async_message_handler>(s.async_handler)});
    }
    return waits;
}

void subscription_table::remove(const std::vector<std::string>& filters, const asio::any_io_executor& ex) {
    for (const auto& filter : filters) {
        std::erase_if(locals_, [&](const local_subscription& l) { return l.filter == filter; });
        if (server_filter* f = find(filter)) {
            if (f->settled) f->settled->set();  // nobody is left to wait for it
            std::erase_if(server_, [&](const server_filter& s) { return s.filter == filter; });
        }
    }
    ensure_served(ex);  // what a removed master served needs a filter of its own
}

void subscription_table::ensure_served(const asio::any_io_executor& ex) {
    for (const auto& l : locals_) {
        if (serving(l.filter, l.max_qos) == nullptr) want(l.filter, l.max_qos, ex);
    }
}

void subscription_table::connection_started() {
    for (auto& f : server_) {
        if (f.st == server_filter::state::granted) f.st = server_filter::state::wanted;
    }
}

std::vector<std::string> subscription_table::take_wanted() {
    std::vector<std::string> out;
    for (auto& f : server_) {
        if (f.st != server_filter::state::wanted) continue;
        f.st = server_filter::state::sent;
        out.push_back(f.filter);
    }
    return out;
}

core::qos subscription_table::wanted_qos(std::string_view filter) const {
    for (const auto& f : server_) {
        if (f.filter == filter) return f.wanted;
    }
    return core::qos::at_most_once;
}

void subscription_table::sent_in(const std::vector<std::string>& filters, std::uint16_t packet_id) {
    for (const auto& name : filters) {
        if (server_filter* f = find(name)) f->packet_id = packet_id;
    }
}

void subscription_table::on_suback(const std::vector<std::string>& filters, std::span<const std::uint8_t> codes,
                                   std::uint16_t packet_id, const asio::any_io_executor& ex) {
    for (std::size_t i = 0; i < filters.size() && i < codes.size(); ++i) {
        server_filter* f = find(filters[i]);
        // Gone (unsubscribed meanwhile), or sent again since (wanted, or in a later
        // SUBSCRIBE): this SUBACK is not the word on it.
        if (f == nullptr || f->st != server_filter::state::sent || f->packet_id != packet_id) continue;
        if (codes[i] == core::suback_failure) {
            f->st = server_filter::state::refused;
            std::erase_if(locals_, [&](const local_subscription& l) { return l.filter == f->filter; });
        } else {
            f->st = server_filter::state::granted;
            f->granted = static_cast<core::qos>(codes[i]);
        }
        if (f->settled) f->settled->set();
    }
    ensure_served(ex);  // a master granted less than assumed serves less
}

void subscription_table::fail_waiters(std::error_code ec) {
    for (auto& f : server_) {
        if (f.settled) f.settled->set(ec);
        if (f.st == server_filter::state::sent) f.st = server_filter::state::wanted;
    }
}

std::shared_ptr<signal> subscription_table::unsettled(const subscription& s) {
    const server_filter* by = serving(s.filter, s.max_qos);
    if (by == nullptr) by = find(s.filter);
    // A signal already set while the filter is still pending was failed (a stop): nothing
    // to wait for, its error was reported.
    if (by == nullptr || !pending(*by) || !by->settled || by->settled->done()) return nullptr;
    return by->settled;
}

std::uint8_t subscription_table::served_code(const subscription& s) {
    const server_filter* by = serving(s.filter, s.max_qos);
    if (by == nullptr) {
        // Perhaps served at a lower QoS than asked by its own filter (the server's grant).
        const server_filter* own = find(s.filter);
        if (own == nullptr || own->st == server_filter::state::refused) return core::suback_failure;
        by = own;
    }
    return static_cast<std::uint8_t>(std::min(serving_qos(*by), s.max_qos));
}

}  // namespace tether::client::detail
