//===- TestUtil.h - Helpers shared by the unit tests ------------*- C++ -*-===//
#ifndef MOEC_UNITTESTS_TESTUTIL_H
#define MOEC_UNITTESTS_TESTUTIL_H

#include "moec/Parse/Parser.h"
#include "moec/Support/Diagnostics.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <memory>
#include <string>

namespace moec::test {

/// A SourceMgr and a DiagEngine that writes into `messages`.
struct Diags {
  llvm::SourceMgr srcMgr;
  std::string messages;
  llvm::raw_string_ostream os{messages};
  DiagEngine diags{srcMgr, os};
};

/// The same over one in-memory buffer.
struct Source : Diags {
  unsigned bufferId;

  explicit Source(llvm::StringRef text, llvm::StringRef name = "test.moe") {
    bufferId = srcMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, name), llvm::SMLoc());
  }
  std::unique_ptr<Module> parse(const ParseLimits &limits = {}) { return parseBuffer(bufferId, diags, limits); }
  /// The first diagnostic's message, or "".
  std::string firstMessage() const {
    return diags.getDiagnostics().empty() ? "" : diags.getDiagnostics().front().message;
  }
};

} // namespace moec::test

#endif
