//===- Diagnostics.h - Located diagnostics for moec -------------*- C++ -*-===//
//
// Every user error moec reports goes through one DiagEngine: `file:line:col: error: message`, the source line
// and a caret, printed by llvm::SourceMgr. The engine counts errors, turns warnings into errors under -Werror,
// and stops reporting after an error limit (like compilers do) so that a hopeless input does not drown the
// terminal. Nothing in the libraries prints by itself or exits: they report here and return failure.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_SUPPORT_DIAGNOSTICS_H
#define MOEC_SUPPORT_DIAGNOSTICS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace moec {

enum class Severity { Error, Warning, Note, Remark };

/// One diagnostic as it was reported (after -Werror promotion), kept for tools such as --verify-diagnostics
/// and for the unit tests.
struct Diagnostic {
  Severity severity;
  llvm::SMLoc loc;
  std::string message;
  std::vector<llvm::SMRange> ranges;
};

class DiagEngine {
public:
  /// Diagnostics print to \p os (stderr by default) with colors when \p os supports them.
  explicit DiagEngine(llvm::SourceMgr &srcMgr, llvm::raw_ostream &os = llvm::errs());

  llvm::SourceMgr &getSourceMgr() { return srcMgr; }

  /// Report a diagnostic. Errors past the limit are counted but not printed; a note is printed only when the
  /// diagnostic it belongs to was.
  void report(Severity severity, llvm::SMLoc loc, const llvm::Twine &message,
              llvm::ArrayRef<llvm::SMRange> ranges = {});
  void error(llvm::SMLoc loc, const llvm::Twine &message, llvm::ArrayRef<llvm::SMRange> ranges = {}) {
    report(Severity::Error, loc, message, ranges);
  }
  void warning(llvm::SMLoc loc, const llvm::Twine &message, llvm::ArrayRef<llvm::SMRange> ranges = {}) {
    report(Severity::Warning, loc, message, ranges);
  }
  void note(llvm::SMLoc loc, const llvm::Twine &message) { report(Severity::Note, loc, message); }
  void remark(llvm::SMLoc loc, const llvm::Twine &message) { report(Severity::Remark, loc, message); }

  unsigned getNumErrors() const { return numErrors; }
  unsigned getNumWarnings() const { return numWarnings; }
  bool hasErrors() const { return numErrors != 0; }

  /// Warnings become errors (the -Werror option).
  void setWarningsAsErrors(bool value) { warningsAsErrors = value; }
  /// Stop printing after this many errors; 0 means no limit.
  void setErrorLimit(unsigned limit) { errorLimit = limit; }
  /// Do not print, only record (used by --verify-diagnostics and unit tests).
  void setSilent(bool value) { silent = value; }

  const std::vector<Diagnostic> &getDiagnostics() const { return diagnostics; }

  /// Hold diagnostics back until flushSorted(), which prints them in source order (each with its notes). Sema
  /// checks definitions kind by kind, but people read a file top to bottom.
  void beginSorted() { sorting = true; }
  void flushSorted();

  /// Print "N errors, M warnings generated." when anything was reported, like clang.
  void printSummary();

private:
  llvm::SourceMgr &srcMgr;
  llvm::raw_ostream &os;
  std::vector<Diagnostic> diagnostics;
  unsigned numErrors = 0;
  unsigned numWarnings = 0;
  unsigned printedErrors = 0;
  unsigned errorLimit = 20;
  bool warningsAsErrors = false;
  bool silent = false;
  bool lastPrinted = true;
  bool limitAnnounced = false;
  bool sorting = false;
  /// While sorting: each held diagnostic with the notes that follow it.
  std::vector<std::vector<Diagnostic>> held;
  /// Errors and warnings already reported, by location and text: one problem found twice is reported once.
  std::set<std::pair<const char *, std::string>> seen;
  bool dropping = false;

  void emit(const Diagnostic &d);
};

} // namespace moec

#endif // MOEC_SUPPORT_DIAGNOSTICS_H
