//===- Frontend.h - Load, parse and check a .moe file and its imports -*- C++ -*-===//
//
// The front half of the pipeline, assembled here so that the driver stays thin: read the main file, resolve
// and read its imports (next to the importing file, then each -I directory, then moec's bundled library),
// parse every file, and run Sema over all of them.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_FRONTEND_FRONTEND_H
#define MOEC_FRONTEND_FRONTEND_H

#include "moec/Parse/Parser.h"
#include "moec/Sema/Sema.h"
#include "moec/Support/Diagnostics.h"

#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>
#include <vector>

namespace moec {

struct FrontendOptions {
  std::vector<std::string> includeDirs;
  ParseLimits limits;
  unsigned maxImportDepth = 16;
  unsigned maxModules = 256;
  /// Imports may read files; off, only moec's bundled library is reachable (the fuzzer's setting).
  bool allowFileImports = true;
  /// When set, Sema checks only this deploy (the one being compiled); the others are listed, not checked.
  std::string onlyDeploy;
};

enum class FrontendStatus {
  Ok,         ///< Parsed and checked without errors.
  InputError, ///< The input was diagnosed as wrong (exit code 1).
  IoError,    ///< The main file could not be read (exit code 2).
};

struct FrontendResult {
  FrontendStatus status = FrontendStatus::Ok;
  std::unique_ptr<Spec> spec; ///< Set when parsing succeeded, even if Sema reported errors.
};

/// Load \p path (or "-" for standard input) and everything it imports, parse and check.
FrontendResult runFrontend(llvm::StringRef path, const FrontendOptions &options, DiagEngine &diags);
/// The same for a spec already in memory, named \p name in diagnostics.
FrontendResult runFrontendOnText(llvm::StringRef text, llvm::StringRef name, const FrontendOptions &options,
                                 DiagEngine &diags);

/// The files of moec's bundled library, by import name ("gpus.moe"), with their text.
llvm::ArrayRef<std::pair<llvm::StringRef, llvm::StringRef>> bundledLibrary();

/// -emit=ast: every module with locations and evaluated values, then each deploy with its derived values.
void printSpec(const Spec &spec, const llvm::SourceMgr &srcMgr, llvm::raw_ostream &os);

} // namespace moec

#endif // MOEC_FRONTEND_FRONTEND_H
