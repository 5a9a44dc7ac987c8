// A minimal MQTT 3.1.1 server for benchmarks: one connection at a time, answers CONNECT
// with CONNACK, PUBLISH QoS 1 with PUBACK, QoS 2 with PUBREC, PUBREL with PUBCOMP,
// SUBSCRIBE with SUBACK, PINGREQ with PINGRESP, and discards everything else. Answers to
// one read go out in one write, so the sink costs as little as a server can.
//
//   sink PORT        (0: pick a free port and print it)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

void serve(int fd) {
    std::vector<std::uint8_t> in;
    std::vector<std::uint8_t> out;
    std::uint8_t buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return;
        in.insert(in.end(), buf, buf + n);
        std::size_t at = 0;
        out.clear();
        for (;;) {
            // Fixed header: type and flags, then 1..4 bytes of remaining length.
            if (in.size() - at < 2) break;
            std::uint32_t length = 0;
            std::size_t i = 1;
            bool complete = false;
            for (; i < 5 && at + i < in.size(); ++i) {
                length |= static_cast<std::uint32_t>(in[at + i] & 0x7F) << (7 * (i - 1));
                if ((in[at + i] & 0x80) == 0) {
                    complete = true;
                    break;
                }
            }
            if (!complete) {
                if (i == 5) return;  // malformed: drop the client
                break;
            }
            const std::size_t header = i + 1;
            if (in.size() - at < header + length) break;
            const std::uint8_t* body = in.data() + at + header;
            const unsigned type = in[at] >> 4;
            const unsigned qos = (in[at] >> 1) & 3;
            auto ack = [&](std::uint8_t first, const std::uint8_t* id) {
                out.insert(out.end(), {first, 0x02, id[0], id[1]});
            };
            switch (type) {
            case 1: out.insert(out.end(), {0x20, 0x02, 0x00, 0x00}); break;  // CONNECT -> CONNACK
            case 3:                                                           // PUBLISH
                if (qos != 0) {
                    const std::size_t topic = static_cast<std::size_t>(body[0] << 8 | body[1]);
                    ack(qos == 1 ? 0x40 : 0x50, body + 2 + topic);
                }
                break;
            case 6: ack(0x70, body); break;  // PUBREL -> PUBCOMP
            case 8: {                        // SUBSCRIBE -> SUBACK, granting what was asked
                std::vector<std::uint8_t> codes;
                for (std::size_t p = 2; p + 2 < length;) {
                    const std::size_t f = static_cast<std::size_t>(body[p] << 8 | body[p + 1]);
                    codes.push_back(body[p + 2 + f]);
                    p += 3 + f;
                }
                out.insert(out.end(), {0x90, static_cast<std::uint8_t>(2 + codes.size()), body[0], body[1]});
                out.insert(out.end(), codes.begin(), codes.end());
                break;
            }
            case 12: out.insert(out.end(), {0xD0, 0x00}); break;  // PINGREQ -> PINGRESP
            case 14: return;                                      // DISCONNECT
            default: break;
            }
            at += header + length;
        }
        in.erase(in.begin(), in.begin() + static_cast<long>(at));
        for (std::size_t w = 0; w < out.size();) {
            const ssize_t m = ::write(fd, out.data() + w, out.size() - w);
            if (m <= 0) return;
            w += static_cast<std::size_t>(m);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    const int port = argc > 1 ? std::atoi(argv[1]) : 0;
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    socklen_t len = sizeof addr;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 16) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::perror("sink: listen");
        return 1;
    }
    std::printf("%d\n", ntohs(addr.sin_port));
    std::fflush(stdout);
    for (;;) {
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) continue;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        serve(fd);
        ::close(fd);
    }
}
