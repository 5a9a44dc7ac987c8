#include "provisioning/random.hpp"

#include <openssl/rand.h>

#include <climits>
#include <stdexcept>

#include "provisioning/handles.hpp"

namespace tether::cloud::provisioning {

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (n > static_cast<std::size_t>(INT_MAX) ||
        RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        throw std::runtime_error("random generator failed: " + take_openssl_errors());
    }
    return out;
}

std::string random_hex(std::size_t n) {
    const std::string bytes = random_bytes(n);
    return to_hex({reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()});
}

std::string to_hex(std::span<const unsigned char> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

}  // namespace tether::cloud::provisioning
