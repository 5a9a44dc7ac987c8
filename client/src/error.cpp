#include "tether/client/error.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <asio/ssl/error.hpp>
#include <string>

namespace tether::client {

namespace {

class client_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "tether"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::unacceptable_protocol_version: return "connection refused: unacceptable protocol version";
        case errc::identifier_rejected: return "connection refused: client identifier rejected";
        case errc::server_unavailable: return "connection refused: server unavailable";
        case errc::bad_user_name_or_password: return "connection refused: bad user name or password";
        case errc::not_authorized: return "connection refused: not authorized";
        case errc::not_connected: return "not connected";
        case errc::already_connected: return "already connected";
        case errc::timeout: return "timed out";
        case errc::queue_full: return "offline queue full";
        case errc::message_dropped: return "message dropped from a full offline queue";
        case errc::subscription_refused: return "subscription refused by the server";
        case errc::connection_lost: return "connection lost";
        case errc::client_stopped: return "client stopped";
        case errc::invalid_argument: return "invalid argument";
        case errc::message_too_large: return "message too large";
        case errc::publish_refused:
            return "the broker refuses this message: it closed the connection each time the message was sent "
                   "(a broker without QoS 2, or a topic it does not allow)";
        case errc::message_rejected:
            return "a handler rejected a message: the connection was closed so that the server sends it again";
        case errc::too_many_pending_acks:
            return "too many messages awaiting their acknowledgement (options::max_pending_acks)";
        }
        return "unknown tether error " + std::to_string(value);
    }
};

class core_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "tether.core"; }
    std::string message(int value) const override {
        using core::error;
        switch (static_cast<error>(value)) {
        case error::none: return "no error";
        case error::incomplete: return "incomplete packet";
        case error::buffer_too_small: return "buffer too small";
        case error::packet_too_large: return "packet too large";
        case error::invalid_topic_name: return "invalid topic name";
        case error::invalid_topic_filter: return "invalid topic filter";
        case error::invalid_string: return "invalid UTF-8 string";
        case error::invalid_qos: return "invalid QoS";
        case error::invalid_packet_id: return "invalid packet id";
        case error::no_topic_filters: return "no topic filters";
        case error::password_without_user_name: return "password without user name";
        case error::empty_client_id_requires_clean_session: return "an empty client id requires a clean session";
        case error::not_connected: return "not connected";
        case error::window_full: return "window of messages in flight full";
        case error::packet_ids_exhausted: return "no free packet id";
        case error::malformed_remaining_length: return "protocol error: malformed remaining length";
        case error::unexpected_packet_type: return "protocol error: unexpected packet type";
        case error::invalid_flags: return "protocol error: invalid fixed-header flags";
        case error::invalid_length: return "protocol error: invalid packet length";
        case error::zero_packet_id: return "protocol error: packet id 0";
        case error::invalid_connack: return "protocol error: invalid CONNACK";
        case error::invalid_suback_code: return "protocol error: invalid SUBACK return code";
        case error::suback_count_mismatch: return "protocol error: SUBACK return codes do not match the filters";
        case error::protocol_violation: return "protocol error: packet out of order";
        case error::connection_refused: return "connection refused";
        case error::keep_alive_timeout: return "keep-alive timeout: the server stopped answering";
        case error::connack_timeout: return "no CONNACK from the server in time";
        case error::inbound_qos2_full: return "too many QoS 2 messages awaiting release";
        case error::qos2_answered_with_puback:
            return "the broker has no QoS 2: it answered a QoS 2 publish with PUBACK and delivers it at QoS 1 "
                   "(at least once, not exactly once)";
        }
        return "unknown core error " + std::to_string(value);
    }
};

}  // namespace

const std::error_category& client_category() noexcept {
    static const client_category_impl instance;
    return instance;
}

const std::error_category& core_category() noexcept {
    static const core_category_impl instance;
    return instance;
}

bool is_permanent(const std::error_code& ec) noexcept {
    if (ec.category() == client_category()) {
        const auto e = static_cast<errc>(ec.value());
        return e == errc::unacceptable_protocol_version || e == errc::identifier_rejected ||
               e == errc::bad_user_name_or_password || e == errc::not_authorized || e == errc::invalid_argument;
    }
    // A certificate that does not verify will not verify on the next try either.
    if (ec.category() == asio::error::get_ssl_category()) {
        const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
        return reason == SSL_R_CERTIFICATE_VERIFY_FAILED;
    }
    return false;
}

}  // namespace tether::client
