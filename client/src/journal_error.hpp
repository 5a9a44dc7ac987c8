#pragma once
// Errors of the durable outbox's journal, category "tether.journal". Errors of the disk
// itself (ENOSPC, EROFS, EACCES, EIO) come back as std::system_category codes, compare equal
// to std::errc::no_space_on_device and its kin, and say so in their message.

#include <system_error>

namespace tether::client::detail {

enum class journal_errc {
    not_a_journal = 1,  // the file does not start with the journal's magic bytes
    newer_format,       // written by a newer tether: its format version is above ours
    other_client,       // the directory holds the journal of another client id
    corrupt_header,     // the header's checksum or lengths are wrong
    broken,             // not open, or an earlier write or sync failed and could not be undone
    unknown_message,    // no unacknowledged message has this sequence number or packet id
    packet_id_in_use,   // the packet id is bound to another unacknowledged message
    invalid_argument,   // QoS 0, packet id 0, a topic longer than 65,535 bytes
    message_too_large,  // larger than MQTT's 268,435,455 bytes
    in_use,             // another journal object or process has the directory open
};

[[nodiscard]] const std::error_category& journal_category() noexcept;

[[nodiscard]] inline std::error_code make_error_code(journal_errc e) noexcept {
    return {static_cast<int>(e), journal_category()};
}

}  // namespace tether::client::detail

template <>
struct std::is_error_code_enum<tether::client::detail::journal_errc> : std::true_type {};
