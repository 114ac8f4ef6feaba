// Xen's xenbus device states (<xen/io/xenbus.h>) as read from and written to xenstore.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <xen/io/xenbus.h>

namespace pvhv::back {

// The decimal a "state" node must hold: "0".."8", nothing else (no sign, blanks or leading
// zeros). A peer's state is guest data: anything else is nullopt, never a guess.
std::optional<XenbusState> parse_xenbus_state(std::string_view value);
// "4" for writing a state node.
std::string xenbus_state_value(XenbusState s);
// "Connected", "Closing" ... for logs and pvctl; "Unknown" for out-of-range values.
const char* xenbus_state_name(XenbusState s);

}  // namespace pvhv::back
