#include "init_schema.hpp"

namespace tether::tools::cloud {

std::string default_device_schema() {
    return R"(// The device schema (PROTOCOL.md section 6), written by tether-cloud init and named by
// cloud.json5's `schema`. Store writes whose item matches a metric's `where` feed it.
{
    Store: {
        enable: 'both',
        sync: 'up',
        notify: 'default',
        metrics: [
            {
                namespace: 'Embedthis/Device',
                // The metric CPU takes the written value: `tether device set DIR cpu 42 --type number`.
                fields: [{CPU: 'value'}],
                where: 'key == "cpu"',
                // One series per device, and one for the whole fleet.
                dimensions: [{Device: 'deviceId'}, {}],
            },
        ],
    },
}
)";
}

}  // namespace tether::tools::cloud
