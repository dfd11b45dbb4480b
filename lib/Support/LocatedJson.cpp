//===- LocatedJson.cpp - JSON whose every value knows where it is ---------===//
#include "moec/Support/LocatedJson.h"

#include <cmath>
#include <cstdlib>

using namespace moec;

const JsonValue *JsonValue::get(llvm::StringRef key) const {
  for (const JsonMember &m : members)
    if (m.key == key)
      return &m.value;
  return nullptr;
}

llvm::StringRef JsonValue::describe() const {
  switch (kind) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "a boolean";
  case Kind::Number:
    return "a number";
  case Kind::String:
    return "a string";
  case Kind::Array:
    return "an array";
  case Kind::Object:
    return "an object";
  }
  return "a value";
}

namespace {

constexpr unsigned kMaxDepth = 64;

class Reader {
public:
  explicit Reader(llvm::StringRef text) : p(text.begin()), end(text.end()) {}

  bool document(JsonValue &out) {
    if (!value(out, 0))
      return false;
    skip();
    if (p != end)
      return fail("end of file after the top-level value");
    return true;
  }

  const char *errorAt = nullptr;
  std::string error;

private:
  bool fail(const std::string &expected) {
    errorAt = p;
    error = "expected " + expected;
    return false;
  }

  void skip() {
    while (p != end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
      ++p;
  }

  bool literal(llvm::StringRef word) {
    if (llvm::StringRef(p, end - p).starts_with(word)) {
      p += word.size();
      return true;
    }
    return false;
  }

  bool value(JsonValue &out, unsigned depth) {
    skip();
    if (p == end)
      return fail("a value");
    if (depth > kMaxDepth)
      return fail("at most " + std::to_string(kMaxDepth) + " levels of nesting");
    out.where = p;
    switch (*p) {
    case '{':
      return object(out, depth);
    case '[':
      return array(out, depth);
    case '"':
      out.kind = JsonValue::Kind::String;
      return string(out.string);
    case 't':
    case 'f':
      out.kind = JsonValue::Kind::Bool;
      out.boolean = *p == 't';
      return literal(out.boolean ? "true" : "false") || fail("a value");
    case 'n':
      out.kind = JsonValue::Kind::Null;
      return literal("null") || fail("a value");
    default:
      return number(out);
    }
  }

  bool number(JsonValue &out) {
    const char *start = p;
    if (p != end && *p == '-')
      ++p;
    if (p == end || !(*p >= '0' && *p <= '9'))
      return fail("a value");
    bool integral = true;
    while (p != end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
                        (*p == '-' && (p[-1] == 'e' || p[-1] == 'E')))) {
      if (*p == '.' || *p == 'e' || *p == 'E')
        integral = false;
      ++p;
    }
    std::string text(start, p);
    char *stop = nullptr;
    double v = std::strtod(text.c_str(), &stop);
    if (stop != text.c_str() + text.size() || !std::isfinite(v)) {
      p = start;
      return fail("a number");
    }
    out.kind = JsonValue::Kind::Number;
    out.number = v;
    out.integral = integral;
    return true;
  }

  bool string(std::string &out) {
    ++p; // the opening quote
    while (p != end && *p != '"') {
      unsigned char c = static_cast<unsigned char>(*p);
      if (c < 0x20)
        return fail("a closing '\"' before the end of the line");
      if (c == '\\') {
        ++p;
        if (p == end)
          return fail("an escape");
        switch (*p) {
        case '"':
        case '\\':
        case '/':
          out += *p;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (end - p < 5)
            return fail("four hex digits");
          unsigned code = 0;
          for (int i = 1; i <= 4; ++i) {
            char h = p[i];
            code = code * 16 + unsigned(h >= '0' && h <= '9'   ? h - '0'
                                        : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                        : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                               : 99);
            if (code > 0xFFFF)
              return fail("four hex digits");
          }
          // Keys and values moec reads are ASCII; keep others as '?', never as invalid UTF-8.
          out += code < 0x80 ? char(code) : '?';
          p += 4;
          break;
        }
        default:
          return fail("an escape such as \\n or \\\"");
        }
        ++p;
        continue;
      }
      out += *p++;
    }
    if (p == end)
      return fail("a closing '\"'");
    ++p;
    return true;
  }

  bool array(JsonValue &out, unsigned depth) {
    out.kind = JsonValue::Kind::Array;
    ++p;
    skip();
    if (p != end && *p == ']') {
      ++p;
      return true;
    }
    for (;;) {
      JsonValue item;
      if (!value(item, depth + 1))
        return false;
      out.items.push_back(std::move(item));
      skip();
      if (p != end && *p == ',') {
        ++p;
        continue;
      }
      if (p != end && *p == ']') {
        ++p;
        return true;
      }
      return fail("',' or ']'");
    }
  }

  bool object(JsonValue &out, unsigned depth) {
    out.kind = JsonValue::Kind::Object;
    ++p;
    skip();
    if (p != end && *p == '}') {
      ++p;
      return true;
    }
    for (;;) {
      skip();
      if (p == end || *p != '"')
        return fail("a key in double quotes");
      const char *keyWhere = p;
      std::string key;
      if (!string(key))
        return false;
      skip();
      if (p == end || *p != ':')
        return fail("':' after the key");
      ++p;
      JsonValue v;
      if (!value(v, depth + 1))
        return false;
      v.keyWhere = keyWhere;
      out.members.push_back({std::move(key), std::move(v)});
      skip();
      if (p != end && *p == ',') {
        ++p;
        continue;
      }
      if (p != end && *p == '}') {
        ++p;
        return true;
      }
      return fail("',' or '}'");
    }
  }

  const char *p, *end;
};

} // namespace

bool moec::parseJson(llvm::StringRef text, JsonValue &out, const char *&errorAt, std::string &error) {
  Reader reader(text);
  out = JsonValue();
  if (reader.document(out))
    return true;
  errorAt = reader.errorAt;
  error = reader.error;
  return false;
}
