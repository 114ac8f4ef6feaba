// xl.cfg syntax: KEY = VALUE settings with strings, numbers and lists (man xl.cfg).
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace pvhv::dom0 {

// One value as written. Atoms keep their text: like libxlu, an integer key accepts "64"
// and a string key accepts 64, so the consumer decides how to read it.
struct XlValue {
    enum class Kind { String, Number, List };
    Kind kind = Kind::String;
    std::string text;            // String (unescaped) or Number (as written)
    std::vector<XlValue> items;  // List
    int line = 0;                // where the value starts

    const char* kind_name() const;
};

struct XlSetting {
    std::string key;
    XlValue value;
    std::string source;  // file name as the user wrote it, or "command line"
    int line = 0;        // line of the key
    bool from_command_line = false;
};

// The settings of a cfg file plus its overrides. Later settings win (as in xl); `KEY +=
// VALUE` appends to the current value (string concatenation or list append).
class XlSettings {
  public:
    const XlSetting* find(std::string_view key) const;
    const std::vector<XlSetting>& all() const { return settings_; }
    // Warnings about keys set twice in one source, "file:line: ..." formatted.
    const std::vector<std::string>& notes() const { return notes_; }

    // Returns an error message (without location) if an append mixes strings and lists.
    std::expected<void, std::string> add(XlSetting setting, bool append);

  private:
    std::vector<XlSetting> settings_;  // at most one per key, in order of first appearance
    std::vector<std::string> notes_;
};

// Parses `text` and adds its settings to `into`. Stops at the first syntax error and
// returns it as "source:line: message". Overrides use from_command_line = true; the
// caller joins them with newlines, so their line number is the override's position.
std::expected<void, std::string> parse_xl_settings(std::string_view text, const std::string& source,
                                                   bool from_command_line, XlSettings& into);

}  // namespace pvhv::dom0
