// xl.cfg lexer and parser: turns text into XlSettings, with line numbers for every error.
#include "dom0-tools/pvctl/xl_cfg_syntax.h"

#include <cctype>
#include <cstdio>

namespace pvhv::dom0 {

const char* XlValue::kind_name() const {
    switch (kind) {
        case Kind::String:
            return "a string";
        case Kind::Number:
            return "a number";
        case Kind::List:
            return "a list";
    }
    return "a value";
}

const XlSetting* XlSettings::find(std::string_view key) const {
    for (const auto& s : settings_)
        if (s.key == key) return &s;
    return nullptr;
}

std::expected<void, std::string> XlSettings::add(XlSetting setting, bool append) {
    for (auto& old : settings_) {
        if (old.key != setting.key) continue;
        if (append) {
            const bool old_list = old.value.kind == XlValue::Kind::List;
            const bool new_list = setting.value.kind == XlValue::Kind::List;
            if (old_list != new_list)
                return std::unexpected("cannot append " + std::string(setting.value.kind_name()) +
                                       " to " + old.value.kind_name() + " (key '" + setting.key +
                                       "')");
            if (new_list) {
                for (auto& item : setting.value.items) old.value.items.push_back(std::move(item));
            } else {
                old.value.text += setting.value.text;
                old.value.kind = XlValue::Kind::String;
            }
            old.source = setting.source;
            old.line = setting.line;
            old.from_command_line = setting.from_command_line;
            return {};
        }
        // Overriding on the command line is the point of overrides; twice in one file is
        // more likely a mistake, so say which one wins.
        if (!setting.from_command_line && !old.from_command_line && old.source == setting.source)
            notes_.push_back(setting.source + ":" + std::to_string(setting.line) +
                             ": warning: key '" + setting.key + "' was already set on line " +
                             std::to_string(old.line) + "; this later value is used");
        old = std::move(setting);
        return {};
    }
    settings_.push_back(std::move(setting));
    return {};
}

namespace {

enum class Tok {
    Ident,
    Number,
    String,
    Assign,
    Append,
    LBracket,
    RBracket,
    Comma,
    Newline,
    Semicolon,
    End
};

struct Token {
    Tok kind = Tok::End;
    std::string text;
    int line = 1;
};

const char* describe(Tok t) {
    switch (t) {
        case Tok::Ident:
            return "a key";
        case Tok::Number:
            return "a number";
        case Tok::String:
            return "a string";
        case Tok::Assign:
            return "'='";
        case Tok::Append:
            return "'+='";
        case Tok::LBracket:
            return "'['";
        case Tok::RBracket:
            return "']'";
        case Tok::Comma:
            return "','";
        case Tok::Newline:
            return "end of line";
        case Tok::Semicolon:
            return "';'";
        case Tok::End:
            return "end of file";
    }
    return "?";
}

class Lexer {
  public:
    explicit Lexer(std::string_view text) : s_(text) {}

    // Returns the next token, or an error message (line() says where).
    std::expected<Token, std::string> next() {
        skip_blanks_and_comments();
        Token t;
        t.line = line_;
        if (i_ >= s_.size()) return t;
        const char c = s_[i_];
        if (c == '\n' || c == ';') {
            t.kind = c == '\n' ? Tok::Newline : Tok::Semicolon;
            if (c == '\n') ++line_;
            ++i_;
            return t;
        }
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            size_t j = i_;
            while (j < s_.size() &&
                   (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_'))
                ++j;
            t.kind = Tok::Ident;
            t.text = std::string(s_.substr(i_, j - i_));
            i_ = j;
            return t;
        }
        if (std::isdigit(static_cast<unsigned char>(c))) {
            // Like libxlu, a number token is loose ([0-9][0-9a-fx]*); reading it as an
            // integer later gives the precise error.
            size_t j = i_;
            while (j < s_.size() && (std::isxdigit(static_cast<unsigned char>(s_[j])) ||
                                     s_[j] == 'x' || s_[j] == 'X'))
                ++j;
            t.kind = Tok::Number;
            t.text = std::string(s_.substr(i_, j - i_));
            i_ = j;
            return t;
        }
        switch (c) {
            case '"':
                return double_quoted(t);
            case '\'':
                return single_quoted(t);
            case '=':
                ++i_;
                t.kind = Tok::Assign;
                return t;
            case '[':
                ++i_;
                t.kind = Tok::LBracket;
                return t;
            case ']':
                ++i_;
                t.kind = Tok::RBracket;
                return t;
            case ',':
                ++i_;
                t.kind = Tok::Comma;
                return t;
            case '+':
                if (i_ + 1 < s_.size() && s_[i_ + 1] == '=') {
                    i_ += 2;
                    t.kind = Tok::Append;
                    return t;
                }
                break;
            default:
                break;
        }
        return std::unexpected(std::string("unexpected character ") + printable(c));
    }

    int line() const { return line_; }

  private:
    static std::string printable(char c) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isprint(u)) return std::string("'") + c + "'";
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", u);
        return buf;
    }

    void skip_blanks_and_comments() {
        while (i_ < s_.size()) {
            const char c = s_[i_];
            if (c == ' ' || c == '\t' || c == '\r') {
                ++i_;
            } else if (c == '#') {
                while (i_ < s_.size() && s_[i_] != '\n') ++i_;
            } else {
                break;
            }
        }
    }

    std::expected<Token, std::string> single_quoted(Token t) {
        // 'string': no escapes and no newlines (libxlu's rule).
        size_t j = i_ + 1;
        while (j < s_.size() && s_[j] != '\'' && s_[j] != '\n') ++j;
        if (j >= s_.size() || s_[j] != '\'') return std::unexpected("unterminated 'string'");
        t.kind = Tok::String;
        t.text = std::string(s_.substr(i_ + 1, j - i_ - 1));
        i_ = j + 1;
        return t;
    }

    std::expected<Token, std::string> double_quoted(Token t) {
        // "string": C escapes (\n \t \\ \" \' \a \b \f \r \v, \xHH, \NNN octal); may span
        // lines, as in libxlu.
        std::string out;
        size_t j = i_ + 1;
        const int start_line = line_;
        for (;;) {
            if (j >= s_.size()) {
                line_ = start_line;
                return std::unexpected("unterminated \"string\"");
            }
            const char c = s_[j];
            if (c == '"') break;
            if (c == '\n') ++line_;
            if (c != '\\') {
                out += c;
                ++j;
                continue;
            }
            if (++j >= s_.size()) continue;  // reported as unterminated above
            const char e = s_[j++];
            switch (e) {
                case 'n':
                    out += '\n';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 'a':
                    out += '\a';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'v':
                    out += '\v';
                    break;
                case '\\':
                case '"':
                case '\'':
                    out += e;
                    break;
                case 'x': {
                    int v = 0, n = 0;
                    while (n < 2 && j < s_.size() &&
                           std::isxdigit(static_cast<unsigned char>(s_[j]))) {
                        v = v * 16 +
                            (std::isdigit(static_cast<unsigned char>(s_[j]))
                                 ? s_[j] - '0'
                                 : (std::tolower(static_cast<unsigned char>(s_[j])) - 'a' + 10));
                        ++j;
                        ++n;
                    }
                    if (n != 2) return std::unexpected("\\x escape needs two hex digits");
                    out += static_cast<char>(v);
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        int v = e - '0', n = 1;
                        while (n < 3 && j < s_.size() && s_[j] >= '0' && s_[j] <= '7') {
                            v = v * 8 + (s_[j] - '0');
                            ++j;
                            ++n;
                        }
                        if (v > 255) return std::unexpected("octal escape out of range");
                        out += static_cast<char>(v);
                        break;
                    }
                    return std::unexpected(std::string("unknown escape \\") + e + " in \"string\"");
            }
        }
        t.kind = Tok::String;
        t.text = std::move(out);
        i_ = j + 1;
        return t;
    }

    std::string_view s_;
    size_t i_ = 0;
    int line_ = 1;
};

class Parser {
  public:
    Parser(std::string_view text, const std::string& source, bool cmdline, XlSettings& into)
        : lex_(text), source_(source), cmdline_(cmdline), into_(into) {}

    std::expected<void, std::string> run() {
        if (auto r = advance(); !r) return r;
        for (;;) {
            if (tok_.kind == Tok::End) return {};
            if (tok_.kind == Tok::Newline || tok_.kind == Tok::Semicolon) {
                if (auto r = advance(); !r) return r;
                continue;
            }
            if (auto r = setting(); !r) return r;
            if (tok_.kind != Tok::Newline && tok_.kind != Tok::Semicolon && tok_.kind != Tok::End)
                return error(tok_.line, std::string("expected end of line or ';' after the value, "
                                                    "found ") +
                                            describe(tok_.kind));
        }
    }

  private:
    std::unexpected<std::string> error(int line, const std::string& msg) const {
        return std::unexpected(source_ + ":" + std::to_string(line) + ": " + msg);
    }

    std::expected<void, std::string> advance() {
        auto t = lex_.next();
        if (!t) return error(lex_.line(), t.error());
        tok_ = std::move(*t);
        return {};
    }

    std::expected<void, std::string> setting() {
        if (tok_.kind != Tok::Ident)
            return error(tok_.line, std::string("expected a key, found ") + describe(tok_.kind));
        XlSetting s;
        s.key = tok_.text;
        s.line = tok_.line;
        s.source = source_;
        s.from_command_line = cmdline_;
        if (auto r = advance(); !r) return r;
        if (tok_.kind != Tok::Assign && tok_.kind != Tok::Append)
            return error(tok_.line,
                         "expected '=' after '" + s.key + "', found " + describe(tok_.kind));
        const bool append = tok_.kind == Tok::Append;
        if (auto r = advance(); !r) return r;
        auto v = value(0);
        if (!v) return std::unexpected(v.error());
        s.value = std::move(*v);
        const int line = s.line;
        if (auto r = into_.add(std::move(s), append); !r) return error(line, r.error());
        return {};
    }

    std::expected<XlValue, std::string> value(int depth) {
        XlValue v;
        v.line = tok_.line;
        if (tok_.kind == Tok::String || tok_.kind == Tok::Number) {
            v.kind = tok_.kind == Tok::String ? XlValue::Kind::String : XlValue::Kind::Number;
            v.text = tok_.text;
            if (auto r = advance(); !r) return std::unexpected(r.error());
            return v;
        }
        if (tok_.kind != Tok::LBracket)
            return error(tok_.line, std::string("expected a value (\"string\", 'string', number "
                                                "or [ list ]), found ") +
                                        describe(tok_.kind));
        if (depth >= 8) return error(tok_.line, "lists nested too deeply");
        v.kind = XlValue::Kind::List;
        // Lists may span lines: newlines inside [ ] separate nothing. ';' is still an error.
        if (auto r = advance_in_list(v.line); !r) return std::unexpected(r.error());
        while (tok_.kind != Tok::RBracket) {
            auto item = value(depth + 1);
            if (!item) return item;
            v.items.push_back(std::move(*item));
            if (auto r = skip_list_newlines(v.line); !r) return std::unexpected(r.error());
            if (tok_.kind == Tok::Comma) {
                if (auto r = advance_in_list(v.line); !r) return std::unexpected(r.error());
            } else if (tok_.kind != Tok::RBracket) {
                return error(tok_.line,
                             std::string("expected ',' or ']' in the list started on line ") +
                                 std::to_string(v.line) + ", found " + describe(tok_.kind));
            }
        }
        if (auto r = advance(); !r) return std::unexpected(r.error());
        return v;
    }

    std::expected<void, std::string> advance_in_list(int open_line) {
        if (auto r = advance(); !r) return r;
        return skip_list_newlines(open_line);
    }

    // The end of the file inside a list is reported where the list opened: that is
    // where the missing ']' belongs.
    std::expected<void, std::string> skip_list_newlines(int open_line) {
        while (tok_.kind == Tok::Newline || tok_.kind == Tok::End) {
            if (tok_.kind == Tok::End)
                return error(open_line, "unterminated [ list ] (no closing ']')");
            if (auto r = advance(); !r) return r;
        }
        return {};
    }

    Lexer lex_;
    const std::string& source_;
    bool cmdline_;
    XlSettings& into_;
    Token tok_;
};

}  // namespace

std::expected<void, std::string> parse_xl_settings(std::string_view text, const std::string& source,
                                                   bool from_command_line, XlSettings& into) {
    return Parser(text, source, from_command_line, into).run();
}

}  // namespace pvhv::dom0
