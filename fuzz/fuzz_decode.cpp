// libFuzzer: any bytes into the frame-header and packet decoders. Nothing may crash, read
// out of bounds, or hand back a view that leaves the input.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "tether/core/decode.hpp"
#include "tether/core/topic.hpp"

namespace {

void check_inside(tether::core::bytes view, const std::uint8_t* data, std::size_t size) {
    if (view.empty()) return;
    if (view.data() < data || view.data() + view.size() > data + size) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace tether::core;
    const std::span<const std::uint8_t> in{data, size};
    frame_header h;
    if (decode_frame_header(in, h) == error::none && h.total_size() <= size) {
        incoming_packet p;
        if (decode_packet(in.first(h.total_size()), p) == error::none) {
            check_inside(p.publish.payload, data, size);
            check_inside(p.return_codes, data, size);
            if (p.type == packet_type::publish) {
                const bytes topic{reinterpret_cast<const std::uint8_t*>(p.publish.topic.data()), p.publish.topic.size()};
                check_inside(topic, data, size);
                // A topic the decoder accepted is a valid name, and matches itself and '#'
                // unless it starts with '$' [MQTT-4.7.2-1].
                if (validate_topic_name(p.publish.topic) != error::none) std::abort();
                if (!topic_matches(p.publish.topic, p.publish.topic)) std::abort();
                if (topic_matches("#", p.publish.topic) == (p.publish.topic[0] == '$')) std::abort();
            }
        }
    }
    // The whole input as one packet too (length mismatches, trailing bytes).
    incoming_packet p;
    (void)decode_packet(in, p);
    return 0;
}
