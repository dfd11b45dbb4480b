//===- VerifyDiagnostics.cpp - --verify-diagnostics -----------------------===//
#include "moec/Support/VerifyDiagnostics.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Regex.h"

using namespace moec;

namespace {

struct Expectation {
  Severity severity;
  unsigned buffer;
  int64_t line; ///< -1: any line
  std::string text;
  llvm::SMLoc loc;
  bool met = false;
};

llvm::StringRef spellSeverity(Severity s) {
  switch (s) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  case Severity::Remark:
    return "remark";
  }
  return "error";
}

} // namespace

bool moec::verifyDiagnostics(const DiagEngine &diags, llvm::raw_ostream &os) {
  const llvm::SourceMgr &srcMgr = const_cast<DiagEngine &>(diags).getSourceMgr();
  std::vector<Expectation> expected;
  llvm::Regex pattern("expected-(error|warning|note|remark)(@([+-]?[0-9]+|\\*))? *\\{\\{(.*)\\}\\}");
  bool ok = true;
  for (unsigned id = 1; id <= srcMgr.getNumBuffers(); ++id) {
    llvm::StringRef text = srcMgr.getMemoryBuffer(id)->getBuffer();
    int64_t lineNo = 0;
    while (!text.empty()) {
      auto [line, rest] = text.split('\n');
      text = rest;
      ++lineNo;
      llvm::StringRef remaining = line;
      llvm::SmallVector<llvm::StringRef, 5> m;
      while (pattern.match(remaining, &m)) {
        // Several expectations may share a line: take the first `}}` as the end of this one's text.
        llvm::StringRef body = m[4];
        size_t close = body.find("}}");
        if (close != llvm::StringRef::npos)
          body = body.take_front(close);
        Expectation e;
        e.severity = m[1] == "error" ? Severity::Error : m[1] == "warning" ? Severity::Warning
                     : m[1] == "note"  ? Severity::Note
                                       : Severity::Remark;
        e.buffer = id;
        e.line = lineNo;
        if (m[3] == "*")
          e.line = -1;
        else if (!m[3].empty()) {
          llvm::StringRef number = m[3];
          bool relative = number.front() == '+' || number.front() == '-';
          bool negative = number.consume_front("-");
          number.consume_front("+");
          int64_t value = 0;
          number.getAsInteger(10, value);
          e.line = relative ? lineNo + (negative ? -value : value) : value;
        }
        e.text = body.str();
        e.loc = llvm::SMLoc::getFromPointer(m[0].data());
        expected.push_back(std::move(e));
        remaining = remaining.drop_front(m[0].data() - remaining.data() + 1);
      }
    }
  }
  for (const Diagnostic &d : diags.getDiagnostics()) {
    unsigned buffer = d.loc.isValid() ? srcMgr.FindBufferContainingLoc(d.loc) : 0;
    int64_t line = buffer ? int64_t(srcMgr.getLineAndColumn(d.loc, buffer).first) : -1;
    Expectation *match = nullptr;
    for (Expectation &e : expected)
      if (!e.met && e.severity == d.severity && llvm::StringRef(d.message).contains(e.text) &&
          (e.line == -1 || (e.buffer == buffer && e.line == line))) {
        match = &e;
        break;
      }
    if (match) {
      match->met = true;
      continue;
    }
    ok = false;
    std::string msg = "unexpected " + spellSeverity(d.severity).str() + ": " + d.message;
    if (buffer)
      srcMgr.PrintMessage(os, d.loc, llvm::SourceMgr::DK_Error, msg);
    else
      os << "moec: error: " << msg << "\n";
  }
  for (const Expectation &e : expected)
    if (!e.met) {
      ok = false;
      srcMgr.PrintMessage(os, e.loc, llvm::SourceMgr::DK_Error,
                          "expected " + spellSeverity(e.severity) + " \"" + e.text + "\" was not produced" +
                              (e.line >= 0 ? " on line " + std::to_string(e.line) : ""));
    }
  return ok;
}
