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
  if (severity != Severity::Note)
    dropping = !seen.insert({loc.getPointer(), text}).second;
  if (dropping)
    return; // a repeat, with its notes
  if (severity == Severity::Error)
    ++numErrors;
  else if (severity == Severity::Warning)
    ++numWarnings;
  Diagnostic d{severity, loc, std::move(text), std::vector<llvm::SMRange>(ranges.begin(), ranges.end())};
  if (!sorting) {
    emit(d);
    return;
  }
  if (severity == Severity::Note && !held.empty())
    held.back().push_back(std::move(d));
  else
    held.push_back({std::move(d)});
}

void DiagEngine::flushSorted() {
  sorting = false;
  auto key = [&](const Diagnostic &d) {
    unsigned buffer = d.loc.isValid() ? srcMgr.FindBufferContainingLoc(d.loc) : 0;
    return std::make_pair(buffer, d.loc.getPointer());
  };
  std::stable_sort(held.begin(), held.end(),
                   [&](const auto &a, const auto &b) { return key(a.front()) < key(b.front()); });
  std::vector<std::vector<Diagnostic>> groups = std::move(held);
  held.clear();
  for (const auto &group : groups)
    for (const Diagnostic &d : group)
      emit(d);
}

void DiagEngine::emit(const Diagnostic &d) {
  diagnostics.push_back(d);
  bool print = !silent;
  switch (d.severity) {
  case Severity::Error:
    if (errorLimit != 0 && ++printedErrors > errorLimit) {
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
  if (d.loc.isValid() && srcMgr.FindBufferContainingLoc(d.loc) != 0)
    srcMgr.PrintMessage(os, d.loc, toKind(d.severity), d.message, d.ranges);
  else
    srcMgr.PrintMessage(os, llvm::SMDiagnostic("moec", toKind(d.severity), d.message));
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
