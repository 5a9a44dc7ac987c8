#pragma once
// Reads a journal's bytes into the state they describe. Pure: no I/O, so the fuzzer and the
// tests drive it with any bytes. Every length is checked against what is left before use.

#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

#include "journal_state.hpp"

namespace tether::client::detail {

struct journal_read {
    // A header problem: journal_errc::not_a_journal, newer_format, other_client,
    // corrupt_header. Nothing else is filled then. Damaged records are not an error.
    std::error_code error;
    std::size_t header_size = 0;
    std::uint16_t version = 0;  // of the header
    std::size_t records = 0;    // intact records applied
    std::size_t valid_end = 0;  // the offset just past the last intact record
    // Why reading stopped before the end of the bytes, if it did: only zeros follow (space
    // the writer reserved and never used: no damage), a record cut short (power loss
    // mid-write) or one whose checksum, type, length or meaning is wrong.
    enum class stop { end, zero_tail, short_record, bad_record } stopped = stop::end;
};

// Reads `bytes` as the journal of `client_id` into `state` (which must be fresh).
// Stops at the first short or bad record; everything before it is applied.
[[nodiscard]] journal_read read_journal(std::span<const std::uint8_t> bytes, std::string_view client_id,
                                        journal_state& state);

// The header for `client_id` (at most 65,535 bytes), appended to `out`.
void write_journal_header(std::string_view client_id, std::vector<std::uint8_t>& out);

}  // namespace tether::client::detail
