#include "cli_options.hpp"

#include <unistd.h>

#include <charconv>
#include <filesystem>

namespace tether::tools {

namespace {

bool parse_number(const std::string& text, long low, long high, long& out) {
    long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < low || value > high) return false;
    out = value;
    return true;
}

bool parse_qos(const std::string& text, client::qos& out) {
    long v = 0;
    if (!parse_number(text, 0, 2, v)) return false;
    out = static_cast<client::qos>(v);
    return true;
}

}  // namespace

std::string usage(mode m) {
    const std::string common =
        "  -h host        broker host (default localhost)\n"
        "  -p port        broker port (default 1883, or 8883 with TLS)\n"
        "  -i id          client id (default tether_pub_/tether_sub_ and the process id)\n"
        "  -k seconds     keep-alive (default 60)\n"
        "  -q qos         quality of service 0, 1 or 2 (default 0)\n"
        "  -c             persistent session (clean session off; needs -i)\n"
        "  -u user        user name\n"
        "  -P password    password\n"
        "  -d             debug: connection events on stderr\n"
        "  --will-topic t --will-payload p --will-qos q --will-retain\n"
        "  --cafile file  trusted CA certificates (PEM); turns TLS on\n"
        "  --cert file    client certificate (PEM) for mutual TLS; --key file its key\n"
        "  --alpn proto   offer this ALPN protocol (repeatable; also --tls-alpn)\n"
        "  --insecure     do not check the server's host name against its certificate\n"
        "  --tls-skip-verify-dangerous  do not verify the server certificate at all\n";
    if (m == mode::pub) {
        return "Usage: tether pub -t topic {-m message | -n | -l | -s} [options]\n"
               "  -t topic       topic to publish to\n"
               "  -m message     message payload\n"
               "  -n             send an empty message\n"
               "  -l             one message per line of stdin\n"
               "  -s             all of stdin as one message\n"
               "  -r             retain the message\n" +
               common;
    }
    return "Usage: tether sub {-t filter ... | -U filter ...} [options]\n"
           "  -t filter      subscribe to this filter (repeatable)\n"
           "  -U filter      unsubscribe from this filter first (repeatable)\n"
           "  -v             print \"topic payload\"\n"
           "  -C count       exit after this many messages\n"
           "  -E             exit once every subscribe and unsubscribe is acknowledged\n"
           "  -W seconds     exit after this long (exit status 27)\n"
           "  -N             no newline after each payload\n" +
           common;
}

std::optional<cli_options> parse_cli(mode m, const std::vector<std::string>& args, std::string& error) {
    cli_options o;
    o.connection.client_id = std::string(m == mode::pub ? "tether_pub_" : "tether_sub_") + std::to_string(::getpid());
    bool port_given = false;
    bool id_given = false;
    std::optional<std::string> will_payload;
    std::optional<client::qos> will_qos;
    bool will_retain = false;
    int sources = 0;  // -m -n -l -s

    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        // Flags that take a value: fetch it, or fail with mosquitto's wording.
        auto value = [&](std::string& out) {
            if (i + 1 >= args.size()) {
                error = "Error: " + a + " argument given but no value specified.";
                return false;
            }
            out = args[++i];
            return true;
        };
        std::string v;
        long n = 0;
        if (a == "-h") {
            if (!value(o.connection.host)) return std::nullopt;
        } else if (a == "-p") {
            if (!value(v)) return std::nullopt;
            if (!parse_number(v, 1, 65535, n)) return error = "Error: Invalid port given: " + v, std::nullopt;
            o.connection.port = static_cast<std::uint16_t>(n);
            port_given = true;
        } else if (a == "-i") {
            if (!value(o.connection.client_id)) return std::nullopt;
            id_given = true;
        } else if (a == "-k") {
            if (!value(v)) return std::nullopt;
            if (!parse_number(v, 0, 65535, n)) return error = "Error: Invalid keepalive given: " + v, std::nullopt;
            o.connection.keep_alive_s = static_cast<std::uint16_t>(n);
        } else if (a == "-q") {
            if (!value(v)) return std::nullopt;
            if (!parse_qos(v, o.qos)) return error = "Error: Invalid QoS given: " + v, std::nullopt;
        } else if (a == "-c") {
            o.connection.clean_session = false;
        } else if (a == "-u") {
            if (!value(v)) return std::nullopt;
            o.connection.user_name = v;
        } else if (a == "-P") {
            if (!value(v)) return std::nullopt;
            o.connection.password = v;
        } else if (a == "-d") {
            o.debug = true;
        } else if (a == "-t") {
            if (!value(v)) return std::nullopt;
            o.topics.push_back(v);
        } else if (a == "--will-topic") {
            if (!value(v)) return std::nullopt;
            o.connection.will = client::will_options{.topic = v};
        } else if (a == "--will-payload") {
            if (!value(v)) return std::nullopt;
            will_payload = v;
        } else if (a == "--will-qos") {
            if (!value(v)) return std::nullopt;
            client::qos q{};
            if (!parse_qos(v, q)) return error = "Error: Invalid will QoS " + v + ".", std::nullopt;
            will_qos = q;
        } else if (a == "--will-retain") {
            will_retain = true;
        } else if (a == "--cafile") {
            if (!value(o.connection.tls.ca_file)) return std::nullopt;
            o.connection.tls.enabled = true;
        } else if (a == "--cert") {
            if (!value(o.connection.tls.cert_file)) return std::nullopt;
            o.connection.tls.enabled = true;
        } else if (a == "--key") {
            if (!value(o.connection.tls.key_file)) return std::nullopt;
        } else if (a == "--alpn" || a == "--tls-alpn") {
            if (!value(v)) return std::nullopt;
            o.connection.tls.alpn.push_back(v);
        } else if (a == "--insecure") {
            o.connection.tls.insecure_skip_host_name_check = true;
        } else if (a == "--tls-skip-verify-dangerous") {
            o.connection.tls.insecure_skip_verify_dangerous = true;
            o.connection.tls.enabled = true;
        } else if (m == mode::pub && a == "-m") {
            if (!value(v)) return std::nullopt;
            o.message = v;
            ++sources;
        } else if (m == mode::pub && a == "-n") {
            o.message = std::string();
            ++sources;
        } else if (m == mode::pub && a == "-l") {
            o.lines = true;
            ++sources;
        } else if (m == mode::pub && a == "-s") {
            o.stdin_whole = true;
            ++sources;
        } else if (m == mode::pub && a == "-r") {
            o.retain = true;
        } else if (m == mode::sub && a == "-v") {
            o.verbose = true;
        } else if (m == mode::sub && a == "-C") {
            if (!value(v)) return std::nullopt;
            if (!parse_number(v, 1, 1'000'000'000, o.count)) return error = "Error: Invalid message count " + v, std::nullopt;
        } else if (m == mode::sub && a == "-E") {
            o.exit_when_acked = true;
        } else if (m == mode::sub && a == "-U") {
            if (!value(v)) return std::nullopt;
            o.unsubscribe.push_back(v);
        } else if (m == mode::sub && a == "-W") {
            if (!value(v)) return std::nullopt;
            if (!parse_number(v, 1, 3600 * 24 * 365, o.timeout_s)) return error = "Error: Invalid timeout " + v, std::nullopt;
        } else if (m == mode::sub && a == "-N") {
            o.no_newline = true;
        } else {
            error = "Error: Unknown option '" + a + "'.";
            return std::nullopt;
        }
    }

    if (will_payload || will_qos || will_retain) {
        if (!o.connection.will) return error = "Error: Will payload, QoS or retain given, but no will topic.", std::nullopt;
    }
    if (o.connection.will) {
        o.connection.will->payload = will_payload.value_or("");
        o.connection.will->qos = will_qos.value_or(client::qos::at_most_once);
        o.connection.will->retain = will_retain;
    }
    if (!o.connection.clean_session && !id_given) {
        return error = "Error: You must provide a client id if you are using the -c option.", std::nullopt;
    }
    if (o.connection.password && !o.connection.user_name) {
        return error = "Error: A password needs a user name (-u).", std::nullopt;  // [MQTT-3.1.2-22]
    }
    if (o.connection.tls.enabled && !port_given) o.connection.port = 8883;
    for (const std::string& f : {o.connection.tls.ca_file, o.connection.tls.cert_file, o.connection.tls.key_file}) {
        if (!f.empty() && !std::filesystem::is_regular_file(f)) return error = "Error: Cannot read file '" + f + "'.", std::nullopt;
    }
    if (!o.connection.tls.cert_file.empty() != !o.connection.tls.key_file.empty()) {
        return error = "Error: Both --cert and --key are needed for a client certificate.", std::nullopt;
    }
    if (m == mode::pub) {
        if (o.topics.size() != 1 || sources != 1) {
            return error = o.topics.size() > 1 ? "Error: Only one topic can be given (-t)."
                           : sources > 1      ? "Error: Only one of -m, -n, -l and -s can be given."
                                              : "Error: Both topic and message must be supplied.",
                   std::nullopt;
        }
    } else if (o.topics.empty() && o.unsubscribe.empty()) {
        return error = "Error: You must specify a topic to subscribe to (-t) or unsubscribe from (-U).", std::nullopt;
    }
    return o;
}

}  // namespace tether::tools
