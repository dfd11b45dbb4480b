//===- PreScan.h - Byte-level checks before ANTLR sees the input -*- C++ -*-===//
#ifndef MOEC_LIB_PARSE_PRESCAN_H
#define MOEC_LIB_PARSE_PRESCAN_H

#include "moec/Parse/Parser.h"

namespace moec {

/// Check the raw bytes of \p buffer against \p limits: size, UTF-8, terminated comments and strings, balanced
/// and bounded brackets, operators per statement. Reports every problem it finds; returns true when the buffer
/// is safe to hand to the generated parser.
bool preScan(llvm::StringRef buffer, DiagEngine &diags, const ParseLimits &limits);

/// Length of the valid UTF-8 sequence at the start of \p s, or 0 when it is not valid (overlong forms,
/// surrogates and code points past U+10FFFF are invalid, as the ANTLR runtime treats them).
unsigned validUtf8Length(llvm::StringRef s);

} // namespace moec

#endif
