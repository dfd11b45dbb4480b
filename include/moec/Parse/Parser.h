//===- Parser.h - Parse a .moe buffer into an AST ---------------*- C++ -*-===//
//
// The only entry point to the ANTLR-generated parser. Nothing outside lib/Parse sees an ANTLR type: the parse
// tree is turned into the AST by one typed builder, and every syntax error becomes a located diagnostic.
//
// Before ANTLR sees a byte, a cheap pre-scan enforces the limits that keep the generated parser and the 4.9
// runtime safe: the file size, valid UTF-8 (the runtime terminates the process on a bad byte), bracket nesting
// depth (the generated parser recurses and overflows the stack on deep nesting, and its recovery on unclosed
// brackets is quadratic), operators per statement, and terminated comments and strings.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_PARSE_PARSER_H
#define MOEC_PARSE_PARSER_H

#include "moec/AST/AST.h"
#include "moec/Support/Diagnostics.h"

#include <cstddef>
#include <memory>

namespace moec {

/// Limits on one input file. Each is reported as a located error naming the limit.
struct ParseLimits {
  size_t maxFileBytes = 4u << 20;       ///< 4 MiB: real specs are a few kilobytes.
  unsigned maxNesting = 64;             ///< Brackets of any kind, nested.
  unsigned maxOperatorsPerStatement = 1000;
};

/// Parse buffer \p bufferId of the DiagEngine's SourceMgr. Returns null when the buffer had any error (all of
/// them reported, as many as can be found in one pass); the module otherwise.
std::unique_ptr<Module> parseBuffer(unsigned bufferId, DiagEngine &diags, const ParseLimits &limits = {});

} // namespace moec

#endif // MOEC_PARSE_PARSER_H
