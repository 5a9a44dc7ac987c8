#include "journal_error.hpp"

#include <string>

namespace tether::client::detail {

namespace {

class journal_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "tether.journal"; }
    std::string message(int value) const override {
        switch (static_cast<journal_errc>(value)) {
        case journal_errc::not_a_journal: return "journal: the file is not a tether journal";
        case journal_errc::newer_format: return "journal: written by a newer format version than this tether reads";
        case journal_errc::other_client: return "journal: the directory belongs to another client id";
        case journal_errc::corrupt_header: return "journal: the header is corrupt";
        case journal_errc::broken:
            return "journal: not open, or an earlier write or sync failed and could not be undone; reopen it";
        case journal_errc::unknown_message: return "journal: no unacknowledged message with this id";
        case journal_errc::packet_id_in_use: return "journal: the packet id belongs to another unacknowledged message";
        case journal_errc::invalid_argument: return "journal: invalid argument (QoS 0, packet id 0 or topic too long)";
        case journal_errc::message_too_large: return "journal: message larger than MQTT allows";
        case journal_errc::in_use: return "journal: the directory is in use by another client (locked)";
        }
        return "journal: unknown error " + std::to_string(value);
    }
};

}  // namespace

const std::error_category& journal_category() noexcept {
    static const journal_category_impl instance;
    return instance;
}

}  // namespace tether::client::detail
