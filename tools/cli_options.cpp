#include "cli_options.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <openssl/ssl.h>

#include "tether/core/topic.hpp"

namespace tether::tools {

namespace {

bool parse_number(const std::string& text, long low, long high, long& out) {
    long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < low || value > high) return false;
    out = value;
    return true;
}

bool parse_decimal(const std::string& text, double& out) {
    if (text.empty()) return false;
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size() && std::isfinite(out);
}

// True if OpenSSL takes at least one cipher from `list` (a TLS 1.2 cipher list, as
// --ciphers gives it). Checked here so that a typo is one clear line before connecting,
// rather than the client's bare invalid_argument at connect().
bool openssl_knows_ciphers(const std::string& list) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) return true;  // out of memory: connect() reports what goes wrong
    const bool known = SSL_CTX_set_cipher_list(ctx, list.c_str()) == 1;
    SSL_CTX_free(ctx);
    return known;
}

bool parse_qos(const std::string& text, client::qos& out) {
    long v = 0;
    if (!parse_number(text, 0, 2, v)) return false;
    out = static_cast<client::qos>(v);
    return true;
}

// What mosquitto says is missing after each flag that takes a value ("Error: -t argument
// given but no topic specified.").
const std::map<std::string, std::string>& value_names() {
    static const std::map<std::string, std::string> names{
        {"-A", "address"}, {"--cafile", "file"}, {"--capath", "directory"}, {"--cert", "file"},
        {"--ciphers", "ciphers"}, {"-C", "count"}, {"-f", "file"}, {"-F", "format"}, {"-h", "host"},
        {"-i", "id"}, {"-I", "id prefix"}, {"-k", "keepalive"}, {"--key", "file"}, {"--keyform", "keyform"},
        {"-L", "URL"}, {"-m", "message"}, {"-M", "max_inflight"}, {"-p", "port"}, {"-P", "password"},
        {"--persist", "directory"},
        {"-q", "QoS"}, {"--random-filter", "chance"}, {"--repeat", "count"}, {"--repeat-delay", "time"},
        {"-t", "topic"}, {"-T", "topic filter"}, {"--tls-alpn", "protocol"}, {"--tls-version", "version"},
        {"-u", "username"}, {"-U", "unsubscribe topic"}, {"--unix", "socket path"}, {"-V", "version"},
        {"-W", "timeout"}, {"--will-payload", "will payload"}, {"--will-qos", "will QoS"},
        {"--will-topic", "will topic"},
    };
    return names;
}

// Long spellings of mosquitto's short flags.
const std::map<std::string, std::string>& long_names() {
    static const std::map<std::string, std::string> names{
        {"--disable-clean-session", "-c"}, {"--debug", "-d"}, {"--file", "-f"}, {"--host", "-h"},
        {"--id", "-i"}, {"--id-prefix", "-I"}, {"--keepalive", "-k"}, {"--url", "-L"},
        {"--stdin-line", "-l"}, {"--message", "-m"}, {"--null-message", "-n"}, {"--port", "-p"},
        {"--pw", "-P"}, {"--qos", "-q"}, {"--retain", "-r"}, {"--stdin-file", "-s"}, {"--topic", "-t"},
        {"--filter-out", "-T"}, {"--username", "-u"}, {"--unsubscribe", "-U"}, {"--protocol-version", "-V"},
        {"--verbose", "-v"}, {"--alpn", "--tls-alpn"}, {"--property", "-D"},
    };
    return names;
}

// Flags that exist in mosquitto's clients but that tether does not carry out, each with the
// reason, so that a script learns at once why it fails.
const std::map<std::string, std::string>& refused_flags() {
    static const std::map<std::string, std::string> refused{
        {"-x", "-x (session expiry interval) is an MQTT v5 option; tether speaks MQTT 3.1.1 only"},
        {"-D", "-D (properties) is an MQTT v5 option; tether speaks MQTT 3.1.1 only"},
        {"--retain-as-published", "--retain-as-published is an MQTT v5 option; tether speaks MQTT 3.1.1 only"},
        {"-S", "-S (DNS SRV lookup) is not supported; give the broker with -h"},
        {"--proxy", "--proxy (SOCKS5) is not supported"},
        {"--psk", "--psk (TLS-PSK) is not supported; use certificates"},
        {"--psk-identity", "--psk-identity (TLS-PSK) is not supported; use certificates"},
        {"--tls-engine", "--tls-engine (OpenSSL engines) is not supported"},
        {"--tls-engine-kpass-sha1", "--tls-engine-kpass-sha1 (OpenSSL engines) is not supported"},
        {"--ws", "--ws (MQTT over WebSockets) is not supported"},
    };
    return refused;
}

// "host", "host:port", "[v6]:port" or a bare IPv6 address.
bool split_host_port(const std::string& text, std::string& host, std::optional<std::uint16_t>& port) {
    std::string port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos) return false;
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') return false;
            port_text = text.substr(close + 2);
            if (port_text.empty()) return false;
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        const auto colon = text.find(':');
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
        if (port_text.empty()) return false;
    } else {
        host = text;
    }
    if (host.empty()) return false;
    if (!port_text.empty()) {
        long n = 0;
        if (!parse_number(port_text, 1, 65535, n)) return false;
        port = static_cast<std::uint16_t>(n);
    }
    return true;
}

struct url_parts {
    std::string host;
    std::uint16_t port = 1883;
    bool tls = false;
    std::string topic;
    std::optional<std::string> user, password;
};

// mqtt(s)://[username[:password]@]host[:port]/topic, as mosquitto reads it (the scheme in
// any case; the topic is everything after the first '/').
bool parse_url(const std::string& url, url_parts& out, std::string& error) {
    auto starts = [&](std::string_view scheme) {
        if (url.size() < scheme.size()) return false;
        for (std::size_t i = 0; i < scheme.size(); ++i) {
            if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return false;
        }
        return true;
    };
    std::string rest;
    if (starts("mqtt://")) {
        rest = url.substr(7);
    } else if (starts("mqtts://")) {
        rest = url.substr(8);
        out.tls = true;
        out.port = 8883;
    } else if (starts("ws://") || starts("wss://")) {
        error = "Error: MQTT over WebSockets (ws://, wss://) is not supported.";
        return false;
    } else {
        error = "Error: Unsupported URL scheme.";
        return false;
    }
    const auto slash = rest.find('/');
    if (slash == std::string::npos) {
        error = "Error: Invalid URL for -L argument specified - topic missing.";
        return false;
    }
    out.topic = rest.substr(slash + 1);
    std::string authority = rest.substr(0, slash);
    if (const auto at = authority.find('@'); at != std::string::npos) {
        const std::string userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        if (const auto colon = userinfo.find(':'); colon != std::string::npos) {
            out.user = userinfo.substr(0, colon);
            out.password = userinfo.substr(colon + 1);
        } else {
            out.user = userinfo;
        }
    }
    std::optional<std::uint16_t> port;
    if (!split_host_port(authority, out.host, port)) {
        error = "Error: Invalid host or port in URL '" + url + "'.";
        return false;
    }
    if (port) out.port = *port;
    return true;
}

}  // namespace

std::string usage(mode m) {
    const std::string common =
        "  -h host[:port] broker host (default localhost). Repeat -h (or -L) to name several\n"
        "                 brokers of one cluster: the first is tried first; when it cannot be\n"
        "                 reached or the connection is lost, the next one in turn\n"
        "  -p port        port of every -h without its own (default 1883, or 8883 with TLS)\n"
        "  -L url         mqtt(s)://[user[:password]@]host[:port]/topic (repeatable, as -h)\n"
        "  --unix path    connect to a broker's Unix-domain socket instead\n"
        "  -A address     connect from this local address\n"
        "  -i id          client id (default tether_pub_/tether_sub_ and the process id)\n"
        "  -I prefix      client id: this prefix and the process id\n"
        "  -k seconds     keep-alive (default 60)\n"
        "  -q qos         quality of service 0, 1 or 2 (default 0)\n"
        "  -c             persistent session (clean session off; needs -i)\n"
        "  -u user        user name\n"
        "  -P password    password\n"
        "  -M count       most QoS 1/2 messages in flight at once (default 64)\n"
        "  -V mqttv311    the protocol: MQTT 3.1.1 only (mqttv31 and mqttv5 are refused)\n"
        "  -d             debug: connection events on stderr\n"
        "  --quiet        no error messages once running\n"
        "  --nodelay      accepted: tether always turns Nagle's algorithm off\n"
        "  --will-topic t --will-payload p --will-qos q --will-retain\n"
        "  --cafile file  trusted CA certificates (PEM); turns TLS on\n"
        "  --capath dir   a directory of trusted CA certificates (openssl rehash); turns TLS on\n"
        "  --tls-use-os-certs  also trust the system's CA certificates; turns TLS on\n"
        "  --cert file    client certificate (PEM) for mutual TLS; --key file its key\n"
        "  --ciphers list OpenSSL cipher list for TLS 1.2\n"
        "  --tls-version v  lowest TLS version: tlsv1.2 (default) or tlsv1.3\n"
        "  --tls-alpn p   offer this ALPN protocol (repeatable; also --alpn)\n"
        "  --insecure     do not check the server's host name against its certificate\n"
        "  --tls-skip-verify-dangerous  do not verify the server certificate at all\n"
        "  --version      print the version\n";
    if (m == mode::pub) {
        return "Usage: tether pub {-t topic | -L url} {-m message | -f file | -n | -l | -s} [options]\n"
               "  -t topic       topic to publish to\n"
               "  -m message     message payload\n"
               "  -f file        the contents of a file as the payload\n"
               "  -n             send an empty message\n"
               "  -l             one message per line of stdin\n"
               "  -s             all of stdin as one message\n"
               "  -r             retain the message\n"
               "  --repeat n     publish the message n times\n"
               "  --repeat-delay s  seconds between repeats (decimals allowed)\n"
               "  --persist dir  journal QoS 1/2 messages in dir until acknowledged (needs -i); a\n"
               "                 later run with the same -i and dir sends what this one could not\n" +
               common;
    }
    return "Usage: tether sub {-t filter ... | -L url | -U filter ...} [options]\n"
           "  -t filter      subscribe to this filter (repeatable)\n"
           "  -T filter      do not print messages whose topic matches (repeatable)\n"
           "  -U filter      unsubscribe from this filter (repeatable)\n"
           "  -v             print \"topic payload\"\n"
           "  -F format      print as this format (mosquitto_sub's %, @ and \\ sequences)\n"
           "  --pretty       lay out -F %j and %J output over several lines\n"
           "  -N             no newline after each message\n"
           "  -C count       exit after printing this many messages\n"
           "  -R             do not print retained messages\n"
           "  --retained-only  print only retained messages; exit at the first other one\n"
           "  --remove-retained  clear every retained message received\n"
           "  --random-filter percent  print only this share of messages, at random\n"
           "  -E             exit once every subscribe and unsubscribe is acknowledged\n"
           "  -W seconds     exit after this long (exit status 27)\n" +
           common;
}

std::optional<cli_options> parse_cli(mode m, const std::vector<std::string>& args, std::string& error) {
    cli_options o;
    struct host_arg {
        client::endpoint at;
        bool port_given;
    };
    std::vector<host_arg> hosts;
    std::optional<std::uint16_t> port_flag;
    std::optional<std::string> id, id_prefix;
    std::optional<std::string> will_topic, will_payload;
    std::optional<client::qos> will_qos;
    bool will_retain = false;
    bool tls_by_url = false;
    int sources = 0;  // -m -n -l -s -f
    auto fail = [&](std::string text) {
        error = std::move(text);
        return std::nullopt;
    };
    auto bad_topic = [&](const std::string& what, const std::string& t, bool is_filter) {
        return std::string("Error: Invalid ") + what + " '" + t +
               (is_filter ? "', are all '+' and '#' wildcards correct?" : "', does it contain '+' or '#'?");
    };
    auto add_topic = [&](const std::string& t) -> bool {
        if (m == mode::pub) {
            if (core::validate_topic_name(t) != core::error::none) return error = bad_topic("publish topic", t, false), false;
            if (!o.topics.empty() && o.topics.front() != t) return error = "Error: Only one topic can be given (-t).", false;
            if (o.topics.empty()) o.topics.push_back(t);
        } else {
            if (core::validate_topic_filter(t) != core::error::none) return error = bad_topic("subscription topic", t, true), false;
            o.topics.push_back(t);
        }
        return true;
    };

    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& given = args[i];
        const auto alias = long_names().find(given);
        const std::string a = alias == long_names().end() ? given : alias->second;
        if (const auto r = refused_flags().find(a); r != refused_flags().end()) return fail("Error: " + r->second + ".");
        // Flags that take a value: fetch it, or fail with mosquitto's wording.
        std::string v;
        if (const auto name = value_names().find(a); name != value_names().end()) {
            if (i + 1 >= args.size()) return fail("Error: " + a + " argument given but no " + name->second + " specified.");
            v = args[++i];
        }
        long n = 0;
        const bool pub = m == mode::pub;
        if (a == "-h") {
            host_arg h{};
            std::optional<std::uint16_t> p;
            if (!split_host_port(v, h.at.host, p)) return fail("Error: Invalid host given: " + v);
            h.port_given = p.has_value();
            if (p) h.at.port = *p;
            hosts.push_back(h);
        } else if (a == "-p") {
            if (!parse_number(v, 1, 65535, n)) return fail("Error: Invalid port given: " + v);
            port_flag = static_cast<std::uint16_t>(n);
        } else if (a == "-L") {
            url_parts u;
            if (!parse_url(v, u, error)) return std::nullopt;
            if (!add_topic(u.topic)) return std::nullopt;
            hosts.push_back({{u.host, u.port}, true});
            if (u.user) o.connection.user_name = u.user;
            if (u.password) o.connection.password = u.password;
            tls_by_url = tls_by_url || u.tls;
        } else if (a == "--unix") {
            o.connection.unix_socket = v;
        } else if (a == "-A") {
            o.connection.bind_address = v;
        } else if (a == "-i") {
            if (id_prefix) return fail("Error: -i and -I argument cannot be used together.");
            id = v;
        } else if (a == "-I") {
            if (id) return fail("Error: -i and -I argument cannot be used together.");
            id_prefix = v;
        } else if (a == "-k") {
            if (!parse_number(v, 0, 65535, n)) return fail("Error: Invalid keepalive given: " + v);
            o.connection.keep_alive_s = static_cast<std::uint16_t>(n);
        } else if (a == "-q") {
            if (!parse_qos(v, o.qos)) return fail("Error: Invalid QoS given: " + v);
        } else if (a == "-M") {
            if (!parse_number(v, 1, 65535, n)) return fail("Error: Maximum inflight messages must be between 1 and 65535.");
            o.connection.window = static_cast<std::uint16_t>(n);
        } else if (a == "-V") {
            if (v == "mqttv5" || v == "5") {
                return fail("Error: MQTT v5 is not supported (-V " + v + "); tether speaks MQTT 3.1.1 only (-V mqttv311).");
            }
            if (v == "mqttv31" || v == "31") {
                return fail("Error: MQTT 3.1 is not supported (-V " + v + "); tether speaks MQTT 3.1.1 only (-V mqttv311).");
            }
            if (v != "mqttv311" && v != "311") return fail("Error: Invalid protocol version argument given.");
        } else if (a == "-c") {
            o.connection.clean_session = false;
        } else if (a == "-u") {
            o.connection.user_name = v;
        } else if (a == "-P") {
            o.connection.password = v;
        } else if (a == "-d") {
            o.debug = true;
        } else if (a == "--quiet") {
            o.quiet = true;
        } else if (a == "--nodelay") {
            // tether sets TCP_NODELAY on every connection already.
        } else if (a == "-t") {
            if (!add_topic(v)) return std::nullopt;
        } else if (a == "--will-topic") {
            if (core::validate_topic_name(v) != core::error::none) return fail(bad_topic("will topic", v, false));
            will_topic = v;
        } else if (a == "--will-payload") {
            will_payload = v;
        } else if (a == "--will-qos") {
            client::qos q{};
            if (!parse_qos(v, q)) return fail("Error: Invalid will QoS " + v + ".");
            will_qos = q;
        } else if (a == "--will-retain") {
            will_retain = true;
        } else if (a == "--cafile") {
            o.connection.tls.ca_file = v;
            o.connection.tls.enabled = true;
        } else if (a == "--capath") {
            o.connection.tls.ca_path = v;
            o.connection.tls.enabled = true;
        } else if (a == "--tls-use-os-certs") {
            o.connection.tls.use_os_certs = true;
            o.connection.tls.enabled = true;
        } else if (a == "--cert") {
            o.connection.tls.cert_file = v;
            o.connection.tls.enabled = true;
        } else if (a == "--key") {
            o.connection.tls.key_file = v;
        } else if (a == "--keyform") {
            if (v != "pem") return fail("Error: --keyform " + v + " is not supported; keys are PEM files.");
        } else if (a == "--ciphers") {
            o.connection.tls.ciphers = v;
        } else if (a == "--tls-version") {
            if (v != "tlsv1.2" && v != "tlsv1.3") {
                return fail("Error: --tls-version " + v + " is not supported (tlsv1.2 or tlsv1.3).");
            }
            o.connection.tls.version = v;
        } else if (a == "--tls-alpn") {
            o.connection.tls.alpn.push_back(v);
        } else if (a == "--insecure") {
            o.connection.tls.insecure_skip_host_name_check = true;
        } else if (a == "--tls-skip-verify-dangerous") {
            o.connection.tls.insecure_skip_verify_dangerous = true;
            o.connection.tls.enabled = true;
        } else if (pub && (a == "-m" || a == "-n" || a == "-l" || a == "-s" || a == "-f")) {
            if (++sources > 1) return fail("Error: Only one type of message can be sent at once.");
            if (a == "-m") o.message = v;
            if (a == "-n") o.message = std::string();
            if (a == "-l") o.lines = true;
            if (a == "-s") o.stdin_whole = true;
            if (a == "-f") o.file = v;
        } else if (pub && a == "-r") {
            o.retain = true;
        } else if (pub && a == "--persist") {
            o.connection.persistence.directory = v;
        } else if (pub && a == "--repeat") {
            if (!parse_number(v, 1, 1'000'000'000, o.repeat)) return fail("Error: --repeat argument must be >0.");
        } else if (pub && a == "--repeat-delay") {
            double seconds = 0;
            if (!parse_decimal(v, seconds) || seconds < 0 || seconds > 86400.0 * 365) {
                return fail("Error: --repeat-delay argument must be >=0.0.");
            }
            o.repeat_delay = std::chrono::microseconds(static_cast<long long>(seconds * 1e6));
        } else if (!pub && a == "-v") {
            o.print.verbose = true;
        } else if (!pub && a == "-N") {
            o.print.eol = false;
        } else if (!pub && a == "--pretty") {
            o.print.pretty = true;
        } else if (!pub && a == "-F") {
            if (const std::string e = check_format(v); !e.empty()) return fail(e);
            o.print.format = v;
            o.print.has_format = true;
        } else if (!pub && a == "-C") {
            if (!parse_number(v, 1, 1'000'000'000, o.count)) return fail("Error: Invalid message count \"" + v + "\".");
        } else if (!pub && a == "-E") {
            o.exit_when_acked = true;
        } else if (!pub && a == "-U") {
            if (core::validate_topic_filter(v) != core::error::none) return fail(bad_topic("unsubscribe topic", v, true));
            o.unsubscribe.push_back(v);
        } else if (!pub && a == "-T") {
            if (core::validate_topic_filter(v) != core::error::none) return fail(bad_topic("filter topic", v, true));
            o.filter_out.push_back(v);
        } else if (!pub && a == "-R") {
            o.skip_retained = true;
        } else if (!pub && a == "--retained-only") {
            o.retained_only = true;
        } else if (!pub && a == "--remove-retained") {
            o.remove_retained = true;
        } else if (!pub && a == "--random-filter") {
            if (!parse_decimal(v, o.random_filter_percent) || o.random_filter_percent < 0.1 ||
                o.random_filter_percent > 100.0) {
                return fail("Error: --random-filter chance must be between 0.1-100.0");
            }
        } else if (!pub && a == "-W") {
            if (!parse_number(v, 1, 3600L * 24 * 365, o.timeout_s)) return fail("Error: Invalid timeout \"" + v + "\".");
        } else {
            return fail("Error: Unknown option '" + given + "'.");
        }
    }

    if (will_payload && !will_topic) return fail("Error: Will payload given, but no will topic given.");
    if (will_retain && !will_topic) return fail("Error: Will retain given, but no will topic given.");
    if (will_qos && !will_topic) return fail("Error: Will QoS given, but no will topic given.");
    if (will_topic) {
        o.connection.will = client::will_options{.topic = *will_topic,
                                                 .payload = will_payload.value_or(""),
                                                 .qos = will_qos.value_or(client::qos::at_most_once),
                                                 .retain = will_retain};
    }
    if (!o.connection.clean_session && !id) {
        return fail("Error: You must provide a client id if you are using the -c option.");
    }
    if (!o.connection.persistence.directory.empty() && !id) {
        // The journal belongs to one client id: a generated one would orphan it.
        return fail("Error: --persist needs a client id (-i).");
    }
    const std::string role = m == mode::pub ? "tether_pub_" : "tether_sub_";
    o.connection.client_id = id ? *id : id_prefix.value_or(role) + std::to_string(::getpid());
    if (o.connection.password && !o.connection.user_name) {
        return fail("Error: A password needs a user name (-u).");  // [MQTT-3.1.2-22]
    }
    if ((o.connection.tls.cert_file.empty()) != (o.connection.tls.key_file.empty())) {
        return fail("Error: Both certfile and keyfile must be provided if one of them is set.");
    }
    for (const std::string& f : {o.connection.tls.ca_file, o.connection.tls.cert_file, o.connection.tls.key_file}) {
        if (!f.empty() && !std::filesystem::is_regular_file(f)) return fail("Error: Cannot read file '" + f + "'.");
    }
    if (!o.connection.tls.ca_path.empty() && !std::filesystem::is_directory(o.connection.tls.ca_path)) {
        return fail("Error: Cannot read directory '" + o.connection.tls.ca_path + "'.");
    }
    if (!o.connection.tls.ciphers.empty() && !openssl_knows_ciphers(o.connection.tls.ciphers)) {
        return fail("Error: --ciphers '" + o.connection.tls.ciphers + "' names no cipher OpenSSL knows.");
    }
    if (!o.connection.unix_socket.empty() && o.connection.tls.enabled) {
        return fail("Error: TLS runs over TCP only; it cannot be used with --unix.");
    }

    // Endpoints: each -h / -L in order. A TLS option makes 8883 the default port; port 8883
    // with no TLS option turns TLS on with the system's CAs, and so does mqtts:// (as
    // mosquitto does).
    const bool tls_options_given = o.connection.tls.enabled;
    const std::uint16_t default_port = port_flag.value_or(tls_options_given ? 8883 : 1883);
    if (hosts.empty()) hosts.push_back({client::endpoint{"localhost", default_port}, false});
    for (auto& h : hosts) {
        if (!h.port_given) h.at.port = default_port;
    }
    const bool any_8883 = std::any_of(hosts.begin(), hosts.end(), [](const host_arg& h) { return h.at.port == 8883; });
    if (o.connection.unix_socket.empty() && !tls_options_given && (tls_by_url || any_8883)) {
        o.connection.tls.enabled = true;
        o.connection.tls.use_os_certs = true;
    }
    o.connection.host = hosts.front().at.host;
    o.connection.port = hosts.front().at.port;
    for (std::size_t i = 1; i < hosts.size(); ++i) o.connection.more_endpoints.push_back(hosts[i].at);

    if (m == mode::pub) {
        if (o.topics.empty() || sources != 1) {
            return fail(sources > 1 ? "Error: Only one type of message can be sent at once."
                                    : "Error: Both topic and message must be supplied.");
        }
    } else {
        if (o.topics.empty() && o.unsubscribe.empty()) {
            return fail("Error: You must specify a topic to subscribe to (-t) or unsubscribe from (-U).");
        }
        if (o.skip_retained && o.retained_only) return fail("Error: Combining '-R' and '--retained-only' makes no sense.");
    }
    return o;
}

}  // namespace tether::tools
