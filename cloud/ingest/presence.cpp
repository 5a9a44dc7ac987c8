#include "ingest/presence.hpp"

#include <array>

#include "storage/store.hpp"

namespace tether::cloud::ingest {
namespace {

bool take_prefix(std::string_view& s, std::string_view prefix) {
    if (!s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    return true;
}

// Without `log_timestamp false` each line begins with "<seconds>: ". Takes it off `line`.
std::optional<std::int64_t> take_timestamp(std::string_view& line) {
    std::size_t i = 0;
    std::int64_t seconds = 0;
    // 18 digits at most: no overflow, and far past any real time.
    while (i < line.size() && i < 18 && line[i] >= '0' && line[i] <= '9') seconds = seconds * 10 + (line[i++] - '0');
    if (i == 0 || !line.substr(i).starts_with(": ")) return std::nullopt;
    line.remove_prefix(i + 2);
    return seconds;
}

}  // namespace

std::optional<presence> parse_presence(std::string_view line) noexcept {
    std::string_view s = line;
    const std::optional<std::int64_t> time_s = take_timestamp(s);
    const auto checked = [&](presence p) -> std::optional<presence> {
        if (p.client_id.empty() || p.client_id.size() > storage::max_device_id_bytes) return std::nullopt;
        p.time_s = time_s;
        return p;
    };
    if (take_prefix(s, "New client connected from ")) {
        // "<address> as <id> (p2, c1, k60, u'<user>')." The address holds no space; the id
        // is up to the " (" that opens the flags (mosquitto writes it as it came).
        const std::size_t as = s.find(" as ");
        if (as == std::string_view::npos) return std::nullopt;
        s.remove_prefix(as + 4);
        const std::size_t open = s.rfind(" (");
        if (open == std::string_view::npos || !s.ends_with(").")) return std::nullopt;
        presence p{s.substr(0, open), true, {}, {}};
        const std::string_view flags = s.substr(open + 2, s.size() - open - 4);
        if (const std::size_t u = flags.find("u'"); u != std::string_view::npos && flags.ends_with("'")) {
            p.user_name = flags.substr(u + 2, flags.size() - u - 3);
        }
        return checked(p);
    }
    if (take_prefix(s, "Bad socket read/write on client ")) {
        // "<id>: <reason>." A TLS link closed without DISCONNECT reads so.
        const std::size_t colon = s.rfind(": ");
        if (colon == std::string_view::npos) return std::nullopt;
        return checked({s.substr(0, colon), false, {}, {}});
    }
    if (take_prefix(s, "Socket error on client ")) {
        if (!s.ends_with(", disconnecting.")) return std::nullopt;
        return checked({s.substr(0, s.size() - 16), false, {}, {}});
    }
    if (take_prefix(s, "Client ")) {
        static constexpr std::array<std::string_view, 5> endings{
            " disconnected.", " closed its connection.", " has exceeded timeout, disconnecting.",
            " disconnected, not authorised.", " disconnected due to protocol error."};
        for (const std::string_view e : endings) {
            if (s.ends_with(e)) return checked({s.substr(0, s.size() - e.size()), false, {}, {}});
        }
    }
    return std::nullopt;
}

}  // namespace tether::cloud::ingest
