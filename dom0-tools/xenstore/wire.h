// The xs_wire protocol: message headers, typed requests parsed from untrusted payloads, replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dom0-tools/xenstore/perms.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv::xs {

// struct xsd_sockmsg, decoded.
struct MsgHeader {
    uint32_t type = 0;
    uint32_t req_id = 0;
    uint32_t tx_id = 0;
    uint32_t len = 0;
};
inline constexpr size_t kHeaderSize = 16;

// Decodes a header. A payload length above XENSTORE_PAYLOAD_MAX cannot be skipped safely
// (xenstored drops such clients), so it fails and the connection must be closed.
Result<MsgHeader> parse_header(std::span<const uint8_t, kHeaderSize> bytes);

namespace req {
struct Read { std::string path; };
struct Directory { std::string path; };
struct DirectoryPart { std::string path; uint32_t offset = 0; };
struct GetPerms { std::string path; };
struct SetPerms { std::string path; Perms perms; };
struct Write { std::string path; std::string value; };
struct Mkdir { std::string path; };
struct Rm { std::string path; };
struct Watch { std::string path; std::string token; };
struct Unwatch { std::string path; std::string token; };
struct ResetWatches {};
struct TransactionStart {};
struct TransactionEnd { bool commit = false; };
struct GetDomainPath { DomId domid; };
// CONTROL, INTRODUCE, RELEASE, IS_DOMAIN_INTRODUCED, RESUME, SET_TARGET: toolstack
// operations. Guests get EACCES; our toolstack uses the C++ API instead (ENOSYS on the wire).
struct Privileged { uint32_t type = 0; };
}  // namespace req

using RequestBody =
    std::variant<req::Read, req::Directory, req::DirectoryPart, req::GetPerms, req::SetPerms,
                 req::Write, req::Mkdir, req::Rm, req::Watch, req::Unwatch, req::ResetWatches,
                 req::TransactionStart, req::TransactionEnd, req::GetDomainPath, req::Privileged>;

// Parses the payload of a message of `type`, copying what it keeps. Unknown types and
// types a client may not send (WATCH_EVENT, ERROR) fail with ENOSYS; arguments that are
// missing, lack their NUL, carry extra strings or do not parse fail with EINVAL.
Result<RequestBody> parse_request(uint32_t type, std::span<const uint8_t> payload);

// A whole message: header then payload.
std::vector<uint8_t> encode_message(uint32_t type, uint32_t req_id, uint32_t tx_id, std::string_view payload);

// "READ", "WATCH_EVENT", ...; "UNKNOWN" otherwise. For logs.
std::string_view type_name(uint32_t type);

}  // namespace pvhv::xs
