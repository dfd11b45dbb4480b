//===- Strings.h - Rules for user strings, and quoting per target language -*- C++ -*-===//
//
// A spec is often written by one person and launched by another, so every user string that reaches a generated
// file is checked where it is written (Sema calls the check* functions, which say what is wrong and where) and
// quoted where it is emitted, by one helper per target language, even after validation, so that a future field
// cannot reopen the hole. docs/launchers.md states the rules.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_SUPPORT_STRINGS_H
#define MOEC_SUPPORT_STRINGS_H

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace moec {

/// Why a string breaks its rule: a message and the index of the offending character (npos: the string as a whole).
struct StringProblem {
  std::string message;
  size_t index = std::string::npos;
};

/// A host name: an RFC 1123 host name (dot-separated labels of 1 to 63 letters, digits and hyphens, not starting
/// or ending with a hyphen, 253 characters in all), an IPv4 address (four decimal octets) or an IPv6 address
/// (hexadecimal groups and colons, optionally with one `::`).
std::optional<StringProblem> checkHostName(llvm::StringRef host);

/// A network interface name as Linux takes it: 1 to 15 letters, digits, `_`, `.`, `-` or `:`, not starting with
/// `-`.
std::optional<StringProblem> checkInterfaceName(llvm::StringRef name);

/// "1 node", "3 nodes": \p n with \p one, or \p many (default: \p one + "s") when n is not 1.
std::string plural(int64_t n, llvm::StringRef one, llvm::StringRef many = {});

/// \p text as one word of POSIX shell: single-quoted, each `'` written as `'\''`. A plain word (letters, digits
/// and `_./:=@%+,-`, not starting with `-`) is returned as it is.
std::string shellQuote(llvm::StringRef text);

/// \p text as a YAML double-quoted scalar: `"`, `\` and control characters escaped.
std::string yamlQuote(llvm::StringRef text);

/// \p text made safe inside a one-line comment of a shell script, a YAML file or a hostfile: control
/// characters (a newline above all, which would end the comment) are written as `\xNN`.
std::string commentText(llvm::StringRef text);

} // namespace moec

#endif // MOEC_SUPPORT_STRINGS_H
