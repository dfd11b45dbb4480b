//===- PreScan.cpp - Byte-level checks before ANTLR sees the input --------===//
//
// The ANTLR 4.9 C++ runtime has hazards that a compiler cannot leave to chance (see docs/reliability.md):
// a byte that is not UTF-8 throws std::range_error from a noexcept path and terminates the process; deep
// nesting overflows the stack of the recursive-descent parser; recovery from thousands of unclosed brackets is
// quadratic. This scan runs in one linear pass over the bytes, tracking just enough lexical state (comments,
// strings) to know which brackets are real, and rejects such input with located errors before parsing.
//
//===----------------------------------------------------------------------===//
#include "PreScan.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FormatVariadic.h"

using namespace moec;

unsigned moec::validUtf8Length(llvm::StringRef s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(0);
  if (b0 < 0x80)
    return 1;
  unsigned len;
  uint32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() < len)
    return 0;
  for (unsigned i = 1; i < len; ++i) {
    if ((byte(i) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (byte(i) & 0x3F);
  }
  static const uint32_t minForLen[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < minForLen[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

namespace {
struct OpenBracket {
  char ch;
  const char *loc;
};

char closerOf(char open) { return open == '(' ? ')' : open == '[' ? ']' : '}'; }
} // namespace

bool moec::preScan(llvm::StringRef buf, DiagEngine &diags, const ParseLimits &limits) {
  auto at = [](const char *p) { return llvm::SMLoc::getFromPointer(p); };
  if (buf.size() > limits.maxFileBytes) {
    diags.error(at(buf.begin()), llvm::Twine("file is ") + llvm::Twine(buf.size()) +
                                     " bytes, larger than the limit of " + llvm::Twine(limits.maxFileBytes) +
                                     " bytes");
    return false;
  }

  // UTF-8 first: nothing else is meaningful past a bad byte, and SourceMgr can still print the location.
  for (size_t i = 0; i < buf.size();) {
    unsigned len = validUtf8Length(buf.substr(i));
    if (len == 0) {
      diags.error(at(buf.begin() + i),
                  llvm::formatv("invalid UTF-8 byte 0x{0:x-2}; moec sources must be UTF-8",
                                static_cast<unsigned>(static_cast<unsigned char>(buf[i]))));
      return false;
    }
    i += len;
  }

  bool ok = true;
  llvm::SmallVector<OpenBracket, 16> stack;
  unsigned operators = 0;
  bool reportedComplexity = false;
  bool brokenString = false; // its brackets cannot be trusted to balance
  const char *p = buf.begin(), *end = buf.end();
  while (p < end) {
    char c = *p;
    if (c == '/' && p + 1 < end && p[1] == '/') {
      while (p < end && *p != '\n')
        ++p;
      continue;
    }
    if (c == '/' && p + 1 < end && p[1] == '*') {
      const char *open = p;
      p += 2;
      while (p + 1 < end && !(p[0] == '*' && p[1] == '/'))
        ++p;
      if (p + 1 >= end) {
        diags.error(at(open), "unterminated /* comment");
        return false;
      }
      p += 2;
      continue;
    }
    if (c == '"') {
      const char *open = p++;
      while (p < end && *p != '"' && *p != '\n' && *p != '\r') {
        if (*p == '\\' && p + 1 < end && p[1] != '\n' && p[1] != '\r')
          ++p;
        ++p;
      }
      if (p >= end || *p != '"') {
        diags.error(at(open), "unterminated string literal");
        ok = false;
        brokenString = true;
        continue;
      }
      ++p;
      continue;
    }
    switch (c) {
    case '(':
    case '[':
    case '{':
      if (stack.size() >= limits.maxNesting) {
        diags.error(at(p), llvm::Twine("brackets nested deeper than the limit of ") +
                               llvm::Twine(limits.maxNesting) + " levels");
        return false;
      }
      stack.push_back({c, p});
      break;
    case ')':
    case ']':
    case '}':
      if (stack.empty()) {
        diags.error(at(p), llvm::Twine("unmatched '") + llvm::Twine(c) + "'");
        ok = false;
      } else if (closerOf(stack.back().ch) != c) {
        diags.error(at(p), llvm::Twine("expected '") + llvm::Twine(closerOf(stack.back().ch)) +
                               "' before '" + llvm::Twine(c) + "'");
        diags.note(at(stack.back().loc), llvm::Twine("to match this '") + llvm::Twine(stack.back().ch) + "'");
        return false;
      } else {
        stack.pop_back();
      }
      break;
    case '+':
    case '-':
    case '*':
    case '/':
    case '<':
    case '>':
    case '=':
    case '!':
    case '&':
    case '|':
      if (++operators > limits.maxOperatorsPerStatement && !reportedComplexity) {
        diags.error(at(p), llvm::Twine("statement has more than ") +
                                            llvm::Twine(limits.maxOperatorsPerStatement) +
                                            " operators, the limit of one statement");
        reportedComplexity = true;
        ok = false;
      }
      break;
    case ';':
      operators = 0;
      reportedComplexity = false;
      break;
    default:
      break;
    }
    ++p;
  }
  for (const OpenBracket &open : stack) {
    if (brokenString)
      break;
    diags.error(at(open.loc), llvm::Twine("unclosed '") + llvm::Twine(open.ch) + "'");
    ok = false;
  }
  return ok;
}
