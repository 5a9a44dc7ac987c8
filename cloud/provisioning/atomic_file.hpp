#pragma once
// Writes a file so that a reader (mosquitto reading its CRL, the cloud reading its
// settings) sees the old content or the new, never half of it: a temporary file in the
// same folder, flushed to disk, then renamed over the old one.

#include <filesystem>
#include <string_view>

namespace tether::cloud::provisioning {

// Replaces `path` with `content`, with permission bits `mode` (set before any byte is
// written, so a key is never readable by others, not even briefly). Throws
// std::system_error (with the path) if any step fails; the old file is then untouched and
// the temporary file removed.
void write_file_atomically(const std::filesystem::path& path, std::string_view content, std::filesystem::perms mode);

}  // namespace tether::cloud::provisioning
