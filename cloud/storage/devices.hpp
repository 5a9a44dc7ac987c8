#pragma once
// Devices as the cloud has seen them: when first and last, and whether connected.

#include <cstdint>
#include <string>

namespace tether::cloud::storage {

// A connection or disconnection (online false) of a device at a time. The last one by time
// decides the online flag, whatever order workers record them in.
struct device_event {
    std::string device_id;
    bool online = false;
    std::int64_t time_ms = 0;
};

// A message from a device at a time: moves its last_seen (and first_seen) but says nothing
// about whether it is still connected (a message queued at the broker while the cloud was
// away may arrive after its sender left), so the online flag is left as it is.
struct device_seen {
    std::string device_id;
    std::int64_t time_ms = 0;
};

struct device_record {
    std::string device_id;
    std::int64_t first_seen_ms = 0;
    std::int64_t last_seen_ms = 0;
    bool online = false;
    friend bool operator==(const device_record&, const device_record&) = default;
};

}  // namespace tether::cloud::storage
