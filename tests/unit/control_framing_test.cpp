// Unit tests of the control-protocol framing: round trips, partial reads, size limits.
#include <gtest/gtest.h>

#include "control.pb.h"
#include "dom0-tools/pvd/framing.h"

namespace pvhv::dom0 {
namespace {

control::Request sample() {
    control::Request r;
    r.mutable_destroy()->mutable_domain()->set_name("guest-1");
    return r;
}

TEST(ControlFraming, HeaderIsLittleEndianLength) {
    auto f = encode_frame(sample());
    ASSERT_TRUE(f);
    const size_t body = f->size() - kFrameHeaderBytes;
    EXPECT_EQ(static_cast<unsigned char>((*f)[0]), body & 0xff);
    EXPECT_EQ((*f)[1], 0);
    EXPECT_EQ((*f)[2], 0);
    EXPECT_EQ((*f)[3], 0);
}

TEST(ControlFraming, RoundTripOneByteAtATime) {
    auto a = encode_frame(sample());
    control::Request second;
    second.mutable_list();
    auto b = encode_frame(second);  // an empty body: 4 zero bytes
    ASSERT_TRUE(a && b);
    const std::string stream = *a + *b;
    FrameDecoder d;
    std::vector<std::string> got;
    for (char c : stream) {
        d.feed(std::span<const char>(&c, 1));
        for (;;) {
            auto f = d.next();
            ASSERT_TRUE(f);
            if (!*f) break;
            got.push_back(**f);
        }
    }
    ASSERT_EQ(got.size(), 2u);
    control::Request r;
    ASSERT_TRUE(r.ParseFromString(got[0]));
    EXPECT_EQ(r.destroy().domain().name(), "guest-1");
    ASSERT_TRUE(r.ParseFromString(got[1]));
    EXPECT_TRUE(r.has_list());
    EXPECT_EQ(d.buffered(), 0u);
}

TEST(ControlFraming, SeveralFramesInOneRead) {
    std::string stream;
    for (int i = 0; i < 100; ++i) stream += *encode_frame(sample());
    FrameDecoder d;
    d.feed(stream);
    int n = 0;
    while (auto f = d.next()) {
        if (!*f) break;
        ++n;
    }
    EXPECT_EQ(n, 100);
}

TEST(ControlFraming, IncompleteHeaderAndBodyWait) {
    auto a = encode_frame(sample());
    FrameDecoder d;
    d.feed(std::span<const char>(a->data(), 3));
    EXPECT_FALSE(*d.next());
    d.feed(std::span<const char>(a->data() + 3, a->size() - 4));
    EXPECT_FALSE(*d.next());
    d.feed(std::span<const char>(a->data() + a->size() - 1, 1));
    EXPECT_TRUE(*d.next());
}

TEST(ControlFraming, OversizeLengthIsRefusedBeforeTheBody) {
    FrameDecoder d;
    const uint32_t len = kMaxFrameBytes + 1;
    const char hdr[4] = {static_cast<char>(len & 0xff), static_cast<char>((len >> 8) & 0xff),
                         static_cast<char>((len >> 16) & 0xff), static_cast<char>(len >> 24)};
    d.feed(hdr);
    auto f = d.next();
    ASSERT_FALSE(f);
    EXPECT_NE(f.error().message.find("limit"), std::string::npos);
    // Sticky: the stream cannot be resynchronised.
    d.feed(*encode_frame(sample()));
    EXPECT_FALSE(d.next());
}

TEST(ControlFraming, MaximumSizeIsAccepted) {
    control::Response r;
    r.mutable_console_data()->set_data(std::string(kMaxFrameBytes - 16, 'x'));
    auto f = encode_frame(r);
    ASSERT_TRUE(f);
    ASSERT_LE(f->size() - kFrameHeaderBytes, kMaxFrameBytes);
    FrameDecoder d;
    d.feed(*f);
    auto got = d.next();
    ASSERT_TRUE(got && *got);
}

TEST(ControlFraming, EncoderRefusesOversizeMessages) {
    control::Response r;
    r.mutable_console_data()->set_data(std::string(kMaxFrameBytes + 1, 'x'));
    EXPECT_FALSE(encode_frame(r));
}

}  // namespace
}  // namespace pvhv::dom0
