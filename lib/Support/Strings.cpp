//===- Strings.cpp - Rules for user strings, and quoting per target language -===//
#include "moec/Support/Strings.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

#include "fmt/format.h"

using namespace moec;

namespace {
std::string describeChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u < 0x20 || u == 0x7f)
    return fmt::format("the control character \\x{:02x}", u);
  if (u >= 0x80)
    return "a non-ASCII byte";
  if (c == ' ')
    return "a space";
  if (c == '\'')
    return "a single quote";
  if (c == '"')
    return "a double quote";
  return fmt::format("'{}'", c);
}

bool isIpv4(llvm::StringRef s) {
  llvm::SmallVector<llvm::StringRef, 4> parts;
  s.split(parts, '.', -1, /*KeepEmpty=*/true);
  if (parts.size() != 4)
    return false;
  for (llvm::StringRef p : parts) {
    unsigned v;
    if (p.empty() || p.size() > 3 || !llvm::all_of(p, llvm::isDigit) || p.getAsInteger(10, v) || v > 255)
      return false;
  }
  return true;
}

bool isIpv6(llvm::StringRef s) {
  if (s.size() < 2 || s.size() > 39 || !s.contains(':'))
    return false;
  if (!llvm::all_of(s, [](char c) { return llvm::isHexDigit(c) || c == ':'; }))
    return false;
  size_t gap = s.find("::");
  if (gap != llvm::StringRef::npos && s.find("::", gap + 1) != llvm::StringRef::npos)
    return false;
  llvm::SmallVector<llvm::StringRef, 8> groups;
  s.split(groups, ':', -1, /*KeepEmpty=*/true);
  size_t nonEmpty = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].size() > 4)
      return false;
    if (groups[i].empty()) {
      // Only the `::` gap (and its ends at the string's start or end) may leave groups empty.
      if (gap == llvm::StringRef::npos)
        return false;
      continue;
    }
    ++nonEmpty;
  }
  return gap == llvm::StringRef::npos ? groups.size() == 8 : nonEmpty < 8;
}

bool plainShellChar(char c) { return llvm::isAlnum(c) || llvm::StringRef("_./:=@%+,-").contains(c); }
} // namespace

std::optional<StringProblem> moec::checkHostName(llvm::StringRef host) {
  if (host.empty())
    return StringProblem{"it is empty"};
  if (isIpv4(host) || isIpv6(host))
    return std::nullopt;
  for (size_t i = 0; i < host.size(); ++i)
    if (!llvm::isAlnum(host[i]) && host[i] != '-' && host[i] != '.')
      return StringProblem{describeChar(host[i]) + " is not allowed in an RFC 1123 host name (letters, digits, "
                                                   "'-' and '.') or an IP address",
                           i};
  if (host.size() > 253)
    return StringProblem{"it has " + std::to_string(host.size()) + " characters; an RFC 1123 host name has at most 253"};
  size_t start = 0;
  while (start <= host.size()) {
    size_t end = host.find('.', start);
    if (end == llvm::StringRef::npos)
      end = host.size();
    llvm::StringRef label = host.slice(start, end);
    if (label.empty())
      return StringProblem{"it has an empty label (two dots in a row, or a dot at an end)",
                           start < host.size() ? start : host.size() - 1};
    if (label.size() > 63)
      return StringProblem{"its label '" + label.str() + "' has more than 63 characters", start};
    if (label.front() == '-')
      return StringProblem{"a label of an RFC 1123 host name cannot start with '-'", start};
    if (label.back() == '-')
      return StringProblem{"a label of an RFC 1123 host name cannot end with '-'", end - 1};
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<StringProblem> moec::checkInterfaceName(llvm::StringRef name) {
  if (name.empty())
    return StringProblem{"it is empty"};
  if (name.size() > 15)
    return StringProblem{"it has " + std::to_string(name.size()) + " characters; Linux allows at most 15"};
  if (name.front() == '-')
    return StringProblem{"it cannot start with '-'", 0};
  for (size_t i = 0; i < name.size(); ++i)
    if (!llvm::isAlnum(name[i]) && !llvm::StringRef("_.-:").contains(name[i]))
      return StringProblem{describeChar(name[i]) + " is not allowed in a network interface name (letters, digits, "
                                                   "'_', '.', '-' and ':')",
                           i};
  return std::nullopt;
}

std::string moec::plural(int64_t n, llvm::StringRef one, llvm::StringRef many) {
  return std::to_string(n) + " " + (n == 1 ? one.str() : many.empty() ? one.str() + "s" : many.str());
}

std::string moec::shellQuote(llvm::StringRef text) {
  if (!text.empty() && text.front() != '-' && llvm::all_of(text, plainShellChar))
    return text.str();
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string moec::yamlQuote(llvm::StringRef text) {
  std::string out = "\"";
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string moec::commentText(llvm::StringRef text) {
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else
      out += c;
  }
  return out;
}
