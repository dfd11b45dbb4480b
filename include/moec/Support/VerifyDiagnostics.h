//===- VerifyDiagnostics.h - --verify-diagnostics -----------------*- C++ -*-===//
//
// Like clang's -verify and MLIR's --verify-diagnostics: a bad-input test states the diagnostics it expects in
// comments next to the lines that cause them, and moec checks that exactly those were reported.
//
//   // expected-error {{text}}        on this line
//   // expected-warning@+1 {{text}}   on the next line (@-2: two lines up; @7: line 7; @*: any line, or none)
//   // expected-note@-1 {{text}}
//
// A diagnostic matches an expectation of its severity, on its line, whose text is part of its message.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_SUPPORT_VERIFYDIAGNOSTICS_H
#define MOEC_SUPPORT_VERIFYDIAGNOSTICS_H

#include "moec/Support/Diagnostics.h"

namespace moec {

/// Compare the diagnostics \p diags recorded with the expectations written in its source buffers. Prints every
/// unmet expectation and every unexpected diagnostic to \p os; true when they agree exactly.
bool verifyDiagnostics(const DiagEngine &diags, llvm::raw_ostream &os);

} // namespace moec

#endif // MOEC_SUPPORT_VERIFYDIAGNOSTICS_H
