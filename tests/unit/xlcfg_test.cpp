// Unit tests of the xl.cfg parser: syntax, value forms, errors with lines, keys, overrides.
#include <gtest/gtest.h>

#include "dom0-tools/pvctl/xl_cfg.h"
#include "dom0-tools/pvctl/xl_cfg_syntax.h"

namespace pvhv::dom0 {
namespace {

constexpr const char* kMinimal = "name = \"g\"\nkernel = \"/boot/vmlinuz\"\n";

XlCfgResult parse_ok(const std::string& text, std::vector<std::string> overrides = {},
                     const std::string& path = "/etc/pvhv/guest.cfg") {
    auto r = parse_xl_cfg(XlCfgInput{text, path, std::move(overrides), "/home/u"});
    if (!r) {
        std::string all;
        for (const auto& e : r.error().errors) all += e + "\n";
        ADD_FAILURE() << "unexpected errors:\n" << all;
        return {};
    }
    return *r;
}

std::vector<std::string> parse_errors(const std::string& text,
                                      std::vector<std::string> overrides = {},
                                      const std::string& path = "guest.cfg") {
    auto r = parse_xl_cfg(XlCfgInput{text, path, std::move(overrides), "/home/u"});
    if (r) {
        ADD_FAILURE() << "expected an error";
        return {};
    }
    return r.error().errors;
}

bool contains(const std::vector<std::string>& v, const std::string& needle) {
    for (const auto& s : v)
        if (s.find(needle) != std::string::npos) return true;
    return false;
}

// --- syntax ------------------------------------------------------------------------------

TEST(XlCfgSyntax, ValueForms) {
    XlSettings s;
    ASSERT_TRUE(parse_xl_settings("a = \"dq\"\nb = 'sq'\nc = 42\nd = 0x1F\ne = [ \"x\", 'y', 3 ]\n",
                                  "f", false, s));
    EXPECT_EQ(s.find("a")->value.kind, XlValue::Kind::String);
    EXPECT_EQ(s.find("a")->value.text, "dq");
    EXPECT_EQ(s.find("b")->value.text, "sq");
    EXPECT_EQ(s.find("c")->value.kind, XlValue::Kind::Number);
    EXPECT_EQ(s.find("c")->value.text, "42");
    EXPECT_EQ(s.find("d")->value.text, "0x1F");
    const auto& e = s.find("e")->value;
    ASSERT_EQ(e.kind, XlValue::Kind::List);
    ASSERT_EQ(e.items.size(), 3u);
    EXPECT_EQ(e.items[1].text, "y");
    EXPECT_EQ(e.items[2].kind, XlValue::Kind::Number);
}

TEST(XlCfgSyntax, EscapesInDoubleQuotesOnly) {
    XlSettings s;
    ASSERT_TRUE(parse_xl_settings(R"(a = "t\tn\n\"q\" \x41\101\\"
b = 'no\escape')",
                                  "f", false, s));
    EXPECT_EQ(s.find("a")->value.text, "t\tn\n\"q\" AA\\");
    EXPECT_EQ(s.find("b")->value.text, "no\\escape");
}

TEST(XlCfgSyntax, MultiLineListsCommentsSemicolonsTrailingComma) {
    XlSettings s;
    ASSERT_TRUE(
        parse_xl_settings("# header\n"
                          "disk = [ 'a',   # first\n"
                          "         'b',\n"
                          "\n"
                          "       ]\n"
                          "x = 1; y = 2 ; z = [] # trailing\n"
                          "nested = [ [ 1, 2 ], [ 3 ] ]\n",
                          "f", false, s));
    EXPECT_EQ(s.find("disk")->value.items.size(), 2u);
    EXPECT_EQ(s.find("disk")->line, 2);
    EXPECT_EQ(s.find("y")->value.text, "2");
    EXPECT_EQ(s.find("y")->line, 6);
    EXPECT_TRUE(s.find("z")->value.items.empty());
    EXPECT_EQ(s.find("nested")->value.items[0].items.size(), 2u);
}

TEST(XlCfgSyntax, CrLfAndNoFinalNewline) {
    XlSettings s;
    ASSERT_TRUE(parse_xl_settings("a = 1\r\nb = 'x'", "f", false, s));
    EXPECT_EQ(s.find("b")->line, 2);
}

TEST(XlCfgSyntax, ErrorsCarryFileAndLine) {
    struct Case {
        const char* text;
        const char* expect;
    } cases[] = {
        {"a = 1\nb 2\n", "f:2: expected '=' after 'b'"},
        {"a = 1\n\nb = \"open\n", "f:3: unterminated \"string\""},
        {"a = 'x\n'", "f:1: unterminated 'string'"},
        {"a = 1\nb = [ 1,\n 2\n", "f:2: unterminated [ list ]"},
        {"a = [ 1 2 ]", "f:1: expected ',' or ']'"},
        {"a = 1 2", "f:1: expected end of line or ';'"},
        {"a =\n", "f:1: expected a value"},
        {"a = 1\n  = 3", "f:2: expected a key"},
        {"a = %", "f:1: unexpected character '%'"},
        {"a = \"\\q\"", "f:1: unknown escape \\q"},
        {"a = [ 1; 2 ]", "f:1: expected ',' or ']'"},
    };
    for (const auto& c : cases) {
        XlSettings s;
        auto r = parse_xl_settings(c.text, "f", false, s);
        ASSERT_FALSE(r) << c.text;
        EXPECT_NE(r.error().find(c.expect), std::string::npos) << c.text << " gave: " << r.error();
    }
}

TEST(XlCfgSyntax, AppendConcatenatesStringsAndLists) {
    XlSettings s;
    ASSERT_TRUE(
        parse_xl_settings("e = 'a'\ne += 'b'\nl = [1]\nl += [2, 3]\nn += 'new'\n", "f", false, s));
    EXPECT_EQ(s.find("e")->value.text, "ab");
    EXPECT_EQ(s.find("l")->value.items.size(), 3u);
    EXPECT_EQ(s.find("n")->value.text, "new");
    XlSettings bad;
    auto r = parse_xl_settings("l = [1]\nl += 'x'\n", "f", false, bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("f:2: cannot append a string to a list"), std::string::npos);
}

// --- semantics ----------------------------------------------------------------------------

TEST(XlCfg, MinimalDefaults) {
    auto r = parse_ok(kMinimal);
    EXPECT_EQ(r.config.name, "g");
    EXPECT_EQ(r.config.kernel, "/boot/vmlinuz");
    EXPECT_EQ(r.config.type, GuestType::Pvh);
    EXPECT_EQ(r.config.memory_mib, 128u);
    EXPECT_EQ(r.config.vcpus, 1u);
    EXPECT_TRUE(r.config.xen_cpuid);
    EXPECT_EQ(r.config.on_poweroff, ShutdownAction::Destroy);
    EXPECT_EQ(r.config.on_reboot, ShutdownAction::Restart);
    EXPECT_EQ(r.config.on_crash, ShutdownAction::Destroy);
    EXPECT_TRUE(r.warnings.empty());
}

TEST(XlCfg, AllSupportedKeys) {
    auto r = parse_ok(std::string(kMinimal) +
                      "type = 'hvm'\nmemory = 0x100\nvcpus = '4'\nramdisk = 'initrd.img'\n"
                      "cmdline = 'console=hvc0'\non_poweroff = 'preserve'\non_reboot = 'destroy'\n"
                      "on_crash = 'rename-restart'\nxen_cpuid = 1\n");
    EXPECT_EQ(r.config.type, GuestType::Hvm);
    EXPECT_EQ(r.config.memory_mib, 256u);
    EXPECT_EQ(r.config.vcpus, 4u);  // xl reads numbers from strings, too
    EXPECT_EQ(r.config.ramdisk, "/etc/pvhv/initrd.img");
    EXPECT_EQ(r.config.cmdline, "console=hvc0");
    EXPECT_EQ(r.config.on_poweroff, ShutdownAction::Preserve);
    EXPECT_EQ(r.config.on_reboot, ShutdownAction::Destroy);
    EXPECT_EQ(r.config.on_crash, ShutdownAction::RenameRestart);
    EXPECT_TRUE(r.config.xen_cpuid);
}

TEST(XlCfg, XenCpuidDefaultsByTypeAndCanBeTurnedOff) {
    EXPECT_FALSE(parse_ok(std::string(kMinimal) + "type = 'hvm'\n").config.xen_cpuid);
    EXPECT_FALSE(parse_ok(std::string(kMinimal) + "xen_cpuid = 0\n").config.xen_cpuid);
    EXPECT_TRUE(contains(parse_errors(std::string(kMinimal) + "xen_cpuid = 2\n"),
                         "guest.cfg:3: xen_cpuid = 2 is out of range"));
}

TEST(XlCfg, OctalLikeXl) {
    EXPECT_EQ(parse_ok(std::string(kMinimal) + "memory = 010\n").config.memory_mib, 8u);
}

TEST(XlCfg, PvIsRefusedClearly) {
    auto e = parse_errors(std::string(kMinimal) + "type = \"pv\"\n");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_NE(e[0].find("guest.cfg:3: type \"pv\""), std::string::npos);
    EXPECT_NE(e[0].find("not supported by pvhv"), std::string::npos);
}

TEST(XlCfg, BadValuesAreErrorsWithLines) {
    auto e = parse_errors(
        "name = 'g'\nkernel = '/k'\nmemory = 'lots'\nvcpus = 0\non_crash = 'explode'\n"
        "type = 'xen'\nkernel_extra = 1\ncmdline = [ 'a' ]\n");
    EXPECT_TRUE(contains(e, "guest.cfg:3: memory expects a non-negative integer, got \"lots\""));
    EXPECT_TRUE(contains(e, "guest.cfg:4: vcpus = 0 is out of range (1..128)"));
    EXPECT_TRUE(contains(e, "guest.cfg:5: on_crash must be one of destroy, restart"));
    EXPECT_TRUE(contains(e, "guest.cfg:6: type must be \"pvh\" or \"hvm\""));
    EXPECT_TRUE(contains(e, "guest.cfg:8: cmdline expects a string, not a list"));
    EXPECT_EQ(e.size(), 5u);  // all reported at once, not one per run
}

TEST(XlCfg, MissingRequiredKeys) {
    auto e = parse_errors("memory = 64\n");
    EXPECT_TRUE(contains(e, "guest.cfg: no name given"));
    EXPECT_TRUE(contains(e, "guest.cfg: no kernel given"));
}

TEST(XlCfg, NameRules) {
    EXPECT_TRUE(contains(parse_errors("name = '12'\nkernel = '/k'\n"),
                         "guest.cfg:1: the domain name must not be a number"));
    EXPECT_TRUE(contains(parse_errors("name = 'a/b'\nkernel = '/k'\n"), "may only contain"));
    EXPECT_TRUE(contains(parse_errors("name = ''\nkernel = '/k'\n"), "empty"));
    EXPECT_EQ(parse_ok("name = 'web-1.example_2'\nkernel = '/k'\n").config.name, "web-1.example_2");
}

TEST(XlCfg, UnsupportedAndUnknownKeysWarnWithLines) {
    auto r = parse_ok(std::string(kMinimal) +
                      "vtpm = [ 'backend=0' ]\nvfb = []\nmaxmem = 512\n"
                      "builder = 'hvm'\nfrobnicate = 1\n");
    ASSERT_EQ(r.warnings.size(), 5u);
    EXPECT_EQ(r.warnings[0],
              "/etc/pvhv/guest.cfg:3: warning: key vtpm is not supported yet, ignored");
    EXPECT_TRUE(
        contains(r.warnings, "guest.cfg:6: warning: key builder is not supported yet, ignored"));
    EXPECT_EQ(r.warnings[4], "/etc/pvhv/guest.cfg:7: warning: unknown key frobnicate");
}

TEST(XlCfg, DuplicateKeyInFileWarnsAndLastWins) {
    auto r = parse_ok(std::string(kMinimal) + "memory = 64\nmemory = 96\n");
    EXPECT_EQ(r.config.memory_mib, 96u);
    EXPECT_TRUE(
        contains(r.warnings, "guest.cfg:4: warning: key 'memory' was already set on line 3"));
}

TEST(XlCfg, CoredumpActionsWarn) {
    auto r = parse_ok(std::string(kMinimal) + "on_crash = 'coredump-restart'\n");
    EXPECT_EQ(r.config.on_crash, ShutdownAction::CoredumpRestart);
    EXPECT_TRUE(contains(r.warnings, "does not write core dumps yet; acts as restart"));
}

TEST(XlCfg, RootAndExtraFollowXl) {
    EXPECT_EQ(parse_ok(std::string(kMinimal) + "root = '/dev/xvda1 ro'\nextra = 'console=hvc0'\n")
                  .config.cmdline,
              "root=/dev/xvda1 ro console=hvc0");
    EXPECT_EQ(parse_ok(std::string(kMinimal) + "root = '/dev/xvda1'\n").config.cmdline,
              "root=/dev/xvda1");
    EXPECT_EQ(parse_ok(std::string(kMinimal) + "extra = 'quiet'\n").config.cmdline, "quiet");
    EXPECT_EQ(parse_ok(kMinimal).config.cmdline, "");
    auto r = parse_ok(std::string(kMinimal) + "cmdline = 'a=b'\nroot = '/dev/x'\nextra = 'q'\n");
    EXPECT_EQ(r.config.cmdline, "a=b");
    EXPECT_TRUE(contains(r.warnings, "ignoring root= and extra= in favour of cmdline="));
}

TEST(XlCfg, RelativePathsResolveAgainstCfgDirectory) {
    // Absolute cfg path: its directory.
    auto a =
        parse_ok("name='g'\nkernel='../k/vmlinux'\nramdisk='./i.img'\n", {}, "/srv/guests/g.cfg");
    EXPECT_EQ(a.config.kernel, "/srv/k/vmlinux");
    EXPECT_EQ(a.config.ramdisk, "/srv/guests/i.img");
    // Relative cfg path: relative to cwd first.
    auto b = parse_ok("name='g'\nkernel='vmlinux'\n", {}, "cfgs/g.cfg");
    EXPECT_EQ(b.config.kernel, "/home/u/cfgs/vmlinux");
    // Absolute kernel stays (normalised).
    EXPECT_EQ(parse_ok("name='g'\nkernel='/boot//x'\n").config.kernel, "/boot/x");
}

TEST(XlCfg, OverridesWinAndResolveAgainstCwd) {
    auto r =
        parse_ok(std::string(kMinimal) + "memory = 128\n",
                 {"memory=64", "kernel='bzImage'", "extra=\"console=hvc0\"", "extra+=' quiet'"},
                 "/etc/pvhv/guest.cfg");
    EXPECT_EQ(r.config.memory_mib, 64u);
    EXPECT_EQ(r.config.kernel, "/home/u/bzImage");
    EXPECT_EQ(r.config.cmdline, "console=hvc0 quiet");
    EXPECT_TRUE(r.warnings.empty());  // overriding is not a duplicate
}

TEST(XlCfg, OverrideErrorsNameTheirPosition) {
    auto e = parse_errors(kMinimal, {"memory=64", "name=bare"});
    ASSERT_EQ(e.size(), 1u);
    EXPECT_NE(e[0].find("command line:2: "), std::string::npos) << e[0];
    EXPECT_NE(e[0].find("in override 'name=bare'"), std::string::npos) << e[0];
    auto v = parse_errors(kMinimal, {"vcpus=999"});
    EXPECT_TRUE(contains(v, "command line:1: vcpus = 999 is out of range"));
    auto u = parse_xl_cfg(XlCfgInput{kMinimal, "g.cfg", {"bogus=1"}, "/"});
    ASSERT_TRUE(u);
    EXPECT_TRUE(contains(u->warnings, "command line:1: warning: unknown key bogus"));
}

TEST(XlCfg, SyntaxErrorStopsButKeepsEarlierWarnings) {
    auto r = parse_xl_cfg(XlCfgInput{"name = 'g'\nkernel = '/k'\nmemory = [\n", "g.cfg", {}, "/"});
    ASSERT_FALSE(r);
    ASSERT_EQ(r.error().errors.size(), 1u);
    EXPECT_NE(r.error().errors[0].find("g.cfg:3: unterminated [ list ]"), std::string::npos)
        << r.error().errors[0];
}

}  // namespace
}  // namespace pvhv::dom0
