#pragma once
// The Device Manager's own files (assets/), compiled into the program by CMake
// (embed_assets.cmake), so that a deployment needs no web folder beside the binary.

#include <optional>
#include <string_view>

namespace tether::cloud::web {

struct asset {
    std::string_view content;
    std::string_view content_type;
};

// "login.html", "index.html", "app.js", "login.js", "style.css"; nullopt for any other name.
[[nodiscard]] std::optional<asset> find_asset(std::string_view name);

}  // namespace tether::cloud::web
