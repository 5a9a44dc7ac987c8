#pragma once
// Everything in the tether core: the sans-I/O MQTT 3.1.1 protocol.

#include "tether/core/decode.hpp"
#include "tether/core/encode.hpp"
#include "tether/core/error.hpp"
#include "tether/core/packet.hpp"
#include "tether/core/session.hpp"
#include "tether/core/topic.hpp"
#include "tether/core/utf8.hpp"
