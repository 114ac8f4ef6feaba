// Length-prefixed framing of control messages (abi/control.proto): 4-byte LE length + body.
#pragma once

#include <google/protobuf/message_lite.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "hv/error.h"

namespace pvhv::dom0 {

// Larger than any request or console chunk pvd produces; small enough that a hostile or
// confused peer cannot make either side allocate much. Documented in abi/control.proto.
inline constexpr uint32_t kMaxFrameBytes = 1u << 20;
inline constexpr size_t kFrameHeaderBytes = 4;

// Serializes `msg` into one frame; fails if the body would exceed kMaxFrameBytes.
Result<std::string> encode_frame(const google::protobuf::MessageLite& msg);

// Reassembles frames from a byte stream that arrives in arbitrary pieces.
class FrameDecoder {
  public:
    // Appends received bytes. Cheap: bodies are only parsed by the caller.
    void feed(std::span<const char> bytes);

    // The next complete frame body, nullopt if more bytes are needed, or an error once a
    // header announces more than kMaxFrameBytes. Errors are sticky: the stream is lost.
    Result<std::optional<std::string>> next();

    size_t buffered() const { return buf_.size() - pos_; }

  private:
    std::string buf_;  // unconsumed bytes start at pos_
    size_t pos_ = 0;
    bool broken_ = false;
};

}  // namespace pvhv::dom0
