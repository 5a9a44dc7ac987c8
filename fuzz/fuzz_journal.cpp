// libFuzzer: any bytes as a journal (client/src/journal_reader.hpp). Nothing may crash or
// read out of bounds; what the reader accepts must be self-consistent, and reading its
// intact prefix again must give the same result with nothing cut.
//
// The first byte picks how the rest is used, so that the fuzzer gets past the checksums:
//   0: the bytes as they are (headers of every kind);
//   1: a valid header for "fuzz", then the bytes as records;
//   2: the same, with each record's checksum made right, so that the meaning of records
//      (unknown messages, ids in use, PUBREC at QoS 1) is explored.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "journal_crc32c.hpp"
#include "journal_format.hpp"
#include "journal_reader.hpp"

namespace {

using namespace tether::client::detail;
namespace jf = journal_format;

void fix_checksums(std::vector<std::uint8_t>& b, std::size_t at) {
    while (b.size() - at >= jf::record_head) {
        const std::size_t len = jf::get32(b.data() + at + 1);
        if (len > b.size() - at - jf::record_head) return;
        std::uint32_t crc = crc32c({b.data() + at, 5});
        crc = crc32c({b.data() + at + jf::record_head, len}, crc);
        jf::put32(b.data() + at + 5, crc);
        at += jf::record_head + len;
    }
}

void check(const std::vector<std::uint8_t>& b) {
    journal_state state;
    const journal_read r = read_journal(b, "fuzz", state);
    if (r.error) {
        if (r.records != 0 || state.live_count() != 0) std::abort();
        return;
    }
    if (r.valid_end > b.size() || r.valid_end < r.header_size) std::abort();
    if ((r.valid_end == b.size()) != (r.stopped == journal_read::stop::end)) std::abort();
    // A tail taken for reserved space is zeros, all of it.
    if (r.stopped == journal_read::stop::zero_tail) {
        for (std::size_t i = r.valid_end; i < b.size(); ++i) {
            if (b[i] != 0) std::abort();
        }
    }
    std::size_t live = 0;
    std::uint64_t last = 0;
    state.for_each([&](const journal_entry& e) {
        // Each live message points at its own intact publish record.
        if (e.seq <= last || e.offset < r.header_size || e.size > r.valid_end - e.offset) std::abort();
        if (b[e.offset] != static_cast<std::uint8_t>(jf::record::publish)) std::abort();
        if (jf::get64(b.data() + e.offset + jf::record_head) != e.seq) std::abort();
        if (e.released && (e.qos != 2 || e.packet_id == 0)) std::abort();
        if (e.packet_id != 0 && state.find_id(e.packet_id) != &e) std::abort();
        last = e.seq;
        ++live;
    });
    if (live != state.live_count()) std::abort();
    std::size_t inbound = 0;
    state.for_each_inbound([&](std::uint16_t id) {
        if (id == 0 || !state.inbound_held(id)) std::abort();
        ++inbound;
    });
    if (inbound != state.inbound_count()) std::abort();

    // The intact prefix reads the same, to its end.
    journal_state again;
    const journal_read r2 = read_journal({b.data(), r.valid_end}, "fuzz", again);
    if (r2.error || r2.records != r.records || r2.valid_end != r.valid_end || r2.stopped != journal_read::stop::end ||
        again.live_count() != state.live_count() || again.inbound_count() != state.inbound_count()) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t mode = data[0] % 3;
    std::vector<std::uint8_t> b;
    if (mode != 0) write_journal_header("fuzz", b);
    const std::size_t header = b.size();
    b.insert(b.end(), data + 1, data + size);
    if (mode == 2) fix_checksums(b, header);
    check(b);
    return 0;
}
