#include "provisioning/broker_config.hpp"

#include <sstream>

namespace tether::cloud::provisioning {

std::string mosquitto_conf(const broker_settings& s) {
    std::ostringstream out;
    out << "# The deployment's broker, written by tether-cloud init (PROTOCOL.md section 4).\n"
           "per_listener_settings false\n"
           "allow_anonymous false\n";
    if (!s.run_as_user.empty()) out << "user " << s.run_as_user << "\n";
    out << "listener " << s.port << " " << s.bind_address << "\n"
        << "cafile " << s.ca_file.string() << "\n"
        << "certfile " << s.cert_file.string() << "\n"
        << "keyfile " << s.key_file.string() << "\n"
        << "crlfile " << s.crl_file.string() << "\n"
        << "tls_version tlsv1.2\n"
           "require_certificate true\n"
           "# The certificate's CN is the user name the ACL file sees.\n"
           "use_identity_as_username true\n"
        << "acl_file " << s.acl_file.string() << "\n";
    // mosquitto keeps 1,000 messages per client beyond those in flight by default and drops
    // the rest, after acknowledging them to their publisher: a burst of device writes
    // faster than the cloud commits would be lost (tests/e2e/burst_test.cpp). A million
    // holds any burst a deployment on one machine sees (memory grows while the database is
    // slower than the devices). Not 0, "no limit": with it mosquitto 2.0.11 closes a
    // client's link at its second publish that the ACL refuses.
    out << "max_queued_messages 1000000\n";
    // The cloud service acknowledges a message only once its batch has committed (group
    // commit, cloud/ingest/service.hpp), so a batch holds at most what mosquitto sends
    // before it has PUBACKs: max_inflight_messages, 20 by default. At 20 every commit (an
    // fsync) carried at most 20 writes. The ingest commits up to its batch limit (256) at
    // once; let that many through. Devices are sent few messages, so their links see no
    // change.
    out << "max_inflight_messages " << s.max_inflight_messages << "\n";
    if (!s.persistence_dir.empty()) {
        out << "persistence true\npersistence_location " << s.persistence_dir.string() << "/\n";
    } else {
        out << "persistence false\n";
    }
    out << "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n"
           "# Also on $SYS/broker/log/N, where the cloud service learns of devices connecting and\n"
           "# disconnecting (cloud/ingest/presence.hpp).\n"
           "log_dest topic\n"
           "connection_messages true\n";
    return out.str();
}

std::string acl_text() {
    std::ostringstream out;
    out << "# PROTOCOL.md section 4, written by tether-cloud init. The user name is the CN of the\n"
           "# client's certificate; a client id or CN holding '/', '+' or '#' gets nothing.\n"
           "\n"
           "# The cloud service may do everything ('#' does not cover topics that begin with '$').\n"
           "user "
        << service_common_name
        << "\n"
           "topic readwrite #\n"
           "topic readwrite $aws/#\n"
           "# The broker's notices: clients connecting and disconnecting.\n"
           "topic read $SYS/broker/log/N\n"
           "\n"
           "# The claim identity shipped with devices: it may only provision (the pattern below);\n"
           "# the device patterns would otherwise give it ioto/service/"
        << claim_common_name
        << "/ and ioto/account/all/.\n"
           "user "
        << claim_common_name
        << "\n"
           "topic deny ioto/#\n"
           "topic deny $aws/#\n"
           "\n"
           "# Every certificate: a device's CN is its id.\n"
           "pattern write ioto/service/%u/#\n"
           "pattern write $aws/rules/+/ioto/service/%u/#\n"
           "pattern read ioto/device/%u/#\n"
           "pattern read ioto/account/all/#\n"
           "# Provisioning (client id claim-<random>): the requester's own request and reply topics.\n"
           "pattern readwrite tether/provision/%c/#\n";
    return out.str();
}

}  // namespace tether::cloud::provisioning
