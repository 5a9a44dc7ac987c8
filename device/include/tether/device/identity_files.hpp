#pragma once
// The provisioned identity on disk (PROTOCOL.md §5), saved so that a crash at any moment
// leaves the old identity or the new one, never a mix:
//
//   1. the key (0600) and the certificate go to new files of their own,
//      certs/device-<generation>.key and .crt, each written to a temporary name, flushed
//      and renamed, and the folder flushed;
//   2. config/provision.json5, which names those two files, replaces the old one the same
//      way. This rename is the moment of commitment: before it the old provision.json5 (and
//      the old files it names) are untouched; after it the new ones are complete on disk;
//   3. key and certificate files that provision.json5 no longer names are removed.
// A crash after 1 leaves unreferenced files, removed by the next save or forget.
//
//   tether::device::save_identity(dir, {.thing = "dev-7", .endpoint = "mqtt.example.com",
//                                       .port = 8883, .key_pem = k, .certificate_pem = c});

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace tether::device {

struct identity {
    std::string thing;            // the thing name: the device id, client id and CN
    std::string endpoint;         // where to connect with it; empty: keep the mqtt section's
    std::uint16_t port = 0;       // 0: keep the mqtt section's
    std::string key_pem;
    std::string certificate_pem;
};

// Called after each durable step of save_identity (1: key file, 2: certificate file,
// 3: provision.json5 committed, 4: old files removed); tests use it to stop a process
// between steps. Empty: nothing.
using save_step_hook = std::function<void(int step)>;

// Saves `id` in DIR as described at the top of this file; creates DIR/certs and DIR/config
// if needed. Throws std::system_error naming the path if a write, flush or rename fails
// (the old identity is then still the one in force), std::invalid_argument for an empty
// thing, key or certificate.
void save_identity(const std::filesystem::path& dir, const identity& id, const save_step_hook& hook = {});

// Forgets the provisioned identity: removes config/provision.json5 (one unlink, flushed:
// the commit) and then the key and certificate files it named. Afterwards the 'auto'
// values of the configuration are unresolved again, so the next start provisions. Throws
// std::system_error if the removal fails; a missing provision.json5 is not an error.
void forget_identity(const std::filesystem::path& dir);

// Writes `content` to `path` through a temporary file in the same folder: created with
// `mode` (so a key is never readable by others, even briefly), flushed, renamed over
// `path`, and the folder flushed. Throws std::system_error naming the path; the old file
// is then untouched and the temporary removed.
void write_file_durably(const std::filesystem::path& path, const std::string& content, std::filesystem::perms mode);

}  // namespace tether::device
