// Conversions between hv types (DomainConfig, states, reasons) and control.proto messages.
#pragma once

#include <optional>
#include <string_view>

#include "control.pb.h"
#include "dom0-tools/pvd/device_config.h"
#include "dom0-tools/pvd/domain_devices.h"
#include "hv/domain/domain.h"
#include "hv/domain/domain_config.h"

namespace pvhv::dom0 {

control::DomainConfig to_proto(const DomainConfig& c);
// Field-by-field copy; unknown enum values fall back to the safe choice (pvh, destroy).
// Callers still validate_domain_config() the result.
DomainConfig from_proto(const control::DomainConfig& p);

// The PV devices travel in control::DomainConfig next to the hv core's fields. Empty proto
// fields take DiskSpec/VifSpec's defaults (bridge xenbr0, mtu 1500). Callers validate.
control::DiskSpec to_proto(const back::DiskSpec& d);
control::VifSpec to_proto(const back::VifSpec& v);
back::DiskSpec from_proto(const control::DiskSpec& p);
back::VifSpec from_proto(const control::VifSpec& p);
void devices_to_proto(const DeviceConfig& c, control::DomainConfig& p);
DeviceConfig devices_from_proto(const control::DomainConfig& p);

control::DeviceKind to_proto(DeviceKind k);
DeviceKind from_proto(control::DeviceKind k);  // unknown values: vbd
control::DeviceInfo to_proto(const DeviceStatus& s);

control::DomainState to_proto(DomainState s);
control::ShutdownReason to_proto(ShutdownReason r);
std::optional<ShutdownReason> from_proto(control::ShutdownReason r);
DomainState from_proto(control::DomainState s);

// DOMAIN as typed by the user: all digits is a domid (as in xl), anything else a name.
// nullopt for an empty string or a number beyond the domid range.
std::optional<control::DomainRef> parse_domain_ref(std::string_view arg);

}  // namespace pvhv::dom0
