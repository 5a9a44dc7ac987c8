#include "provisioning/handles.hpp"

#include <openssl/err.h>

#include <climits>
#include <new>

namespace tether::cloud::provisioning {

std::string take_openssl_errors() {
    std::string text;
    while (const unsigned long code = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        if (!text.empty()) text += "; ";
        text += buf;
    }
    return text.empty() ? "unknown OpenSSL error" : text;
}

void clear_openssl_errors() { ERR_clear_error(); }

bio_ptr memory_bio(std::string_view text) {
    // BIO_new_mem_buf takes an int length: larger input is refused here, not truncated.
    if (text.size() > static_cast<std::size_t>(INT_MAX)) throw std::bad_alloc();
    bio_ptr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (!bio) throw std::bad_alloc();
    return bio;
}

std::string bio_text(BIO& bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(&bio, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace tether::cloud::provisioning
