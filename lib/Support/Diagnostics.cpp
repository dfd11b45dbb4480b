//===- Diagnostics.cpp - Located diagnostics for moec ---------------------===//
//
// Printing goes through SourceMgr::PrintMessage so that every diagnostic has the clang layout:
// `file:line:col: error: message`, the source line and a caret under the column.
//
//===----------------------------------------------------------------------===//
#include "moec/Support/Diagnostics.h"

using namespace moec;

DiagEngine::DiagEngine(llvm::SourceMgr &srcMgr, llvm::raw_ostream &os) : srcMgr(srcMgr), os(os) {}

static llvm::SourceMgr::DiagKind toKind(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return llvm::SourceMgr::DK_Error;
  case Severity::Warning:
    return llvm::SourceMgr::DK_Warning;
  case Severity::Note:
    return llvm::SourceMgr::DK_Note;
  case Severity::Remark:
    return llvm::SourceMgr::DK_Remark;
  }
  llvm_unreachable("unknown severity");
}

void DiagEngine::report(Severity severity, llvm::SMLoc loc, const llvm::Twine &message,
                        llvm::ArrayRef<llvm::SMRange> ranges) {
  std::string text = message.str();
  if (severity == Severity::Warning && warningsAsErrors) {
    severity = Severity::Error;
    text += " [-Werror]";
  }
  diagnostics.push_back({severity, loc, text});

  bool print = !silent;
  switch (severity) {
  case Severity::Error:
    ++numErrors;
    if (errorLimit != 0 && numErrors > errorLimit) {
      print = false;
      if (!limitAnnounced && !silent) {
        limitAnnounced = true;
        os << "moec: error: too many errors emitted (limit " << errorLimit
           << "), stopping now; use -error-limit=0 to see them all\n";
      }
    }
    lastPrinted = print;
    break;
  case Severity::Warning:
    ++numWarnings;
    if (limitAnnounced)
      print = false;
    lastPrinted = print;
    break;
  case Severity::Note:
    print = print && lastPrinted;
    break;
  case Severity::Remark:
    lastPrinted = print;
    break;
  }
  if (!print)
    return;
  if (loc.isValid() && srcMgr.FindBufferContainingLoc(loc) != 0)
    srcMgr.PrintMessage(os, loc, toKind(severity), text, ranges);
  else
    srcMgr.PrintMessage(os, llvm::SMDiagnostic("moec", toKind(severity), text));
}

void DiagEngine::printSummary() {
  if (silent || (numErrors == 0 && numWarnings == 0))
    return;
  auto plural = [](unsigned n, const char *word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  if (numWarnings != 0 && numErrors != 0)
    os << plural(numWarnings, "warning") << " and " << plural(numErrors, "error") << " generated.\n";
  else if (numErrors != 0)
    os << plural(numErrors, "error") << " generated.\n";
  else
    os << plural(numWarnings, "warning") << " generated.\n";
}
