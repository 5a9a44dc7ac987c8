#include "journal_reader.hpp"

#include <algorithm>
#include <cstring>

#include "journal_crc32c.hpp"
#include "journal_error.hpp"
#include "journal_format.hpp"

namespace tether::client::detail {

namespace jf = journal_format;

namespace {

// Whether seq .. seq + count - 1 are all live: a run record applies to all of them or to
// none (a damaged run must change nothing). `count` is at most the live messages, so a
// damaged length cannot make this loop long.
bool all_live(std::uint64_t seq, std::uint64_t count, journal_state& state) {
    if (count < 2 || count > state.live_count() || seq > UINT64_MAX - count) return false;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (state.find(seq + i) == nullptr) return false;
    }
    return true;
}

// Applies one intact record; false when its body does not fit its type or the state.
// Run records exist from version 2 on: in an older file they are damage.
bool apply(jf::record type, std::span<const std::uint8_t> body, std::uint64_t offset, bool runs,
           journal_state& state) {
    const std::uint8_t* p = body.data();
    switch (type) {
    case jf::record::publish: {
        if (body.size() < jf::publish_fixed) return false;
        const std::uint8_t flags = p[8];
        const std::uint8_t q = flags & 3;
        if ((flags & ~7u) != 0 || (q != 1 && q != 2)) return false;
        const std::size_t topic_len = jf::get16(p + 9);
        if (topic_len > body.size() - jf::publish_fixed) return false;
        if (body.size() - jf::publish_fixed - topic_len > jf::max_payload) return false;
        journal_entry e;
        e.seq = jf::get64(p);
        e.offset = offset;
        e.size = static_cast<std::uint32_t>(jf::record_head + body.size());
        e.qos = q;
        e.retain = (flags & 4) != 0;
        return e.seq != 0 && state.add(e);
    }
    case jf::record::bind_id:
        return body.size() == 10 && state.bind(jf::get64(p), jf::get16(p + 8));
    case jf::record::pubrec:
        return body.size() == 8 && state.release(jf::get64(p));
    case jf::record::remove:
        return body.size() == 8 && state.remove(jf::get64(p));
    case jf::record::inbound_hold:
        return body.size() == 2 && state.hold_inbound(jf::get16(p));
    case jf::record::inbound_release:
        return body.size() == 2 && state.release_inbound(jf::get16(p));
    case jf::record::remove_run: {
        if (!runs || body.size() != jf::run_body) return false;
        const std::uint64_t seq = jf::get64(p);
        const std::uint32_t count = jf::get32(p + 8);
        if (!all_live(seq, count, state)) return false;
        for (std::uint32_t i = 0; i < count; ++i) (void)state.remove(seq + i);
        return true;
    }
    case jf::record::bind_run: {
        if (!runs || body.size() != jf::run_body) return false;
        const std::uint64_t seq = jf::get64(p);
        const std::uint16_t id = jf::get16(p + 8);
        const std::uint16_t count = jf::get16(p + 10);
        if (id == 0 || std::uint32_t{id} + count - 1 > 0xFFFF || !all_live(seq, count, state)) return false;
        // Each is live, so each bind holds (one may take its id from a stale holder).
        for (std::uint16_t i = 0; i < count; ++i) {
            (void)state.bind(seq + i, static_cast<std::uint16_t>(id + i));
        }
        return true;
    }
    }
    return false;  // an unknown type: a newer format would have said so in the header
}

}  // namespace

void write_journal_header(std::string_view client_id, std::vector<std::uint8_t>& out) {
    const std::size_t start = out.size();
    out.resize(start + jf::header_fixed + client_id.size() + jf::header_crc);
    std::uint8_t* p = out.data() + start;
    std::memcpy(p, jf::magic, sizeof jf::magic);
    jf::put16(p + 8, jf::version);
    jf::put16(p + 10, 0);
    jf::put16(p + 12, static_cast<std::uint16_t>(client_id.size()));
    std::memcpy(p + jf::header_fixed, client_id.data(), client_id.size());
    const std::size_t crc_at = jf::header_fixed + client_id.size();
    jf::put32(p + crc_at, crc32c({p, crc_at}));
}

journal_read read_journal(std::span<const std::uint8_t> bytes, std::string_view client_id, journal_state& state) {
    journal_read r;
    const std::uint8_t* p = bytes.data();
    if (bytes.size() < sizeof jf::magic || std::memcmp(p, jf::magic, sizeof jf::magic) != 0) {
        r.error = make_error_code(journal_errc::not_a_journal);
        return r;
    }
    if (bytes.size() < jf::header_fixed) {
        r.error = make_error_code(journal_errc::corrupt_header);
        return r;
    }
    const std::size_t id_len = jf::get16(p + 12);
    if (bytes.size() - jf::header_fixed < id_len + jf::header_crc) {
        r.error = make_error_code(journal_errc::corrupt_header);
        return r;
    }
    const std::size_t crc_at = jf::header_fixed + id_len;
    if (jf::get32(p + crc_at) != crc32c({p, crc_at})) {
        r.error = make_error_code(journal_errc::corrupt_header);
        return r;
    }
    // The version is checked only once the checksum says the header is intact, so that a
    // damaged byte is reported as damage, not as a newer format.
    if (jf::get16(p + 8) > jf::version) {
        r.error = make_error_code(journal_errc::newer_format);
        return r;
    }
    if (jf::get16(p + 8) == 0 || jf::get16(p + 10) != 0) {
        r.error = make_error_code(journal_errc::corrupt_header);
        return r;
    }
    if (std::string_view(reinterpret_cast<const char*>(p + jf::header_fixed), id_len) != client_id) {
        r.error = make_error_code(journal_errc::other_client);
        return r;
    }
    r.header_size = crc_at + jf::header_crc;
    r.version = jf::get16(p + 8);
    const bool runs = r.version >= jf::first_version_with_runs;

    std::size_t at = r.header_size;
    while (at < bytes.size()) {
        const std::size_t left = bytes.size() - at;
        // Zeros to the end where a record would start: space the writer reserved and never
        // used (type 0 is no record), not damage. Zeros followed by anything are damage.
        if (p[at] == 0 && std::all_of(p + at, p + bytes.size(), [](std::uint8_t b) { return b == 0; })) {
            r.stopped = journal_read::stop::zero_tail;
            break;
        }
        if (left < jf::record_head) {
            r.stopped = journal_read::stop::short_record;
            break;
        }
        const auto type = static_cast<jf::record>(p[at]);
        const std::size_t len = jf::get32(p + at + 1);
        if (len > jf::max_body) {
            r.stopped = journal_read::stop::bad_record;
            break;
        }
        if (len > left - jf::record_head) {
            r.stopped = journal_read::stop::short_record;
            break;
        }
        std::uint32_t crc = crc32c({p + at, 5});
        crc = crc32c({p + at + jf::record_head, len}, crc);
        if (crc != jf::get32(p + at + 5) || !apply(type, {p + at + jf::record_head, len}, at, runs, state)) {
            r.stopped = journal_read::stop::bad_record;
            break;
        }
        ++r.records;
        at += jf::record_head + len;
    }
    r.valid_end = at;
    return r;
}

}  // namespace tether::client::detail
