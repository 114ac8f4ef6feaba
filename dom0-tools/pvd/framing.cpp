// Length-prefixed framing of control messages: encoder and incremental decoder.
#include "dom0-tools/pvd/framing.h"

namespace pvhv::dom0 {

Result<std::string> encode_frame(const google::protobuf::MessageLite& msg) {
    const size_t len = msg.ByteSizeLong();
    if (len > kMaxFrameBytes)
        return fail(XEN_E2BIG, "control message of " + std::to_string(len) + " bytes exceeds the " +
                                   std::to_string(kMaxFrameBytes) + "-byte limit");
    std::string out(kFrameHeaderBytes + len, '\0');
    for (size_t i = 0; i < kFrameHeaderBytes; ++i)
        out[i] = static_cast<char>((len >> (8 * i)) & 0xff);
    if (len > 0 && !msg.SerializeToArray(out.data() + kFrameHeaderBytes, static_cast<int>(len)))
        return fail(XEN_EINVAL, "cannot serialize control message");
    return out;
}

void FrameDecoder::feed(std::span<const char> bytes) {
    if (broken_) return;
    // Compact before growing so a long-lived stream does not keep consumed bytes around.
    if (pos_ > 0 && pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    } else if (pos_ > 64 * 1024) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    buf_.append(bytes.data(), bytes.size());
}

Result<std::optional<std::string>> FrameDecoder::next() {
    if (broken_) return fail(XEN_EINVAL, "control stream is broken by an oversized frame");
    if (buffered() < kFrameHeaderBytes) return std::optional<std::string>{};
    uint32_t len = 0;
    for (size_t i = 0; i < kFrameHeaderBytes; ++i)
        len |= uint32_t{static_cast<unsigned char>(buf_[pos_ + i])} << (8 * i);
    if (len > kMaxFrameBytes) {
        broken_ = true;
        buf_.clear();
        pos_ = 0;
        return fail(XEN_E2BIG, "peer announced a " + std::to_string(len) +
                                   "-byte control message; the limit is " +
                                   std::to_string(kMaxFrameBytes));
    }
    if (buffered() < kFrameHeaderBytes + len) return std::optional<std::string>{};
    std::string body = buf_.substr(pos_ + kFrameHeaderBytes, len);
    pos_ += kFrameHeaderBytes + len;
    return std::optional<std::string>{std::move(body)};
}

}  // namespace pvhv::dom0
