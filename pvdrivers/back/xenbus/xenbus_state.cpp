// Parsing and naming of xenbus states.
#include "pvdrivers/back/xenbus/xenbus_state.h"

namespace pvhv::back {

std::optional<XenbusState> parse_xenbus_state(std::string_view value) {
    if (value.size() != 1 || value[0] < '0' || value[0] > '8') return std::nullopt;
    return static_cast<XenbusState>(value[0] - '0');
}

std::string xenbus_state_value(XenbusState s) {
    return std::to_string(static_cast<int>(s));
}

const char* xenbus_state_name(XenbusState s) {
    switch (s) {
        case XenbusStateUnknown:
            return "Unknown";
        case XenbusStateInitialising:
            return "Initialising";
        case XenbusStateInitWait:
            return "InitWait";
        case XenbusStateInitialised:
            return "Initialised";
        case XenbusStateConnected:
            return "Connected";
        case XenbusStateClosing:
            return "Closing";
        case XenbusStateClosed:
            return "Closed";
        case XenbusStateReconfiguring:
            return "Reconfiguring";
        case XenbusStateReconfigured:
            return "Reconfigured";
    }
    return "Unknown";
}

}  // namespace pvhv::back
