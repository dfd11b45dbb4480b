//===- Pass.h - Passes over the Plan IR and their manager -------*- C++ -*-===//
//
// A pass is one class in one file, with a name, a factory and a doc comment that states its algorithm. The
// PassManager runs a pipeline, verifies the plan after every pass, and can print the IR after each pass
// (-print-ir-after-all) and time them (-time-passes).
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_TRANSFORMS_PASS_H
#define MOEC_TRANSFORMS_PASS_H

#include "moec/IR/Plan.h"
#include "moec/Support/Diagnostics.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/LogicalResult.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace moec {

struct PassContext {
  DiagEngine &diags;
};

class Pass {
public:
  virtual ~Pass() = default;
  virtual llvm::StringRef getName() const = 0;
  virtual llvm::LogicalResult run(ir::Plan &plan, PassContext &ctx) = 0;
};

std::unique_ptr<Pass> createExpertPlacementPass();
std::unique_ptr<Pass> createShapeInferencePass();
std::unique_ptr<Pass> createCommInsertionPass();
std::unique_ptr<Pass> createCostModelPass();
std::unique_ptr<Pass> createMemoryCheckPass();
std::unique_ptr<Pass> createVerifyPass();
std::unique_ptr<Pass> createCheckRequirementsPass();

struct PassInfo {
  llvm::StringRef name;
  llvm::StringRef description;
  std::function<std::unique_ptr<Pass>()> create;
  bool testOnly; ///< Passes that break a plan on purpose, for the verifier's tests (not in -passes' help).
};

/// Every pass -passes= accepts: the pipeline's, then those registered by other libraries (the test passes).
llvm::ArrayRef<PassInfo> registeredPasses();
/// Make \p info known to parsePipeline; a second registration of a name is ignored. Not thread-safe: register
/// before compiling.
void registerPass(PassInfo info);

class PassManager {
public:
  void addPass(std::unique_ptr<Pass> pass) { passes.push_back(std::move(pass)); }
  /// Print the IR after each pass to \p os.
  void enablePrintIRAfterAll(llvm::raw_ostream &os, const llvm::SourceMgr &srcMgr) {
    printStream = &os;
    printSrcMgr = &srcMgr;
  }
  /// Collect wall time and peak memory per pass (getTimings(); printTimings() prints them).
  void enableTiming() { timing = true; }
  /// Verify the plan after every pass (the default), or, with false, once after the last: a strategy search runs
  /// the same pipeline on thousands of candidates and needs each checked, not each step of each.
  void setVerifyEach(bool each) { verifyEach = each; }
  struct Timing {
    std::string name;
    double seconds;
    size_t peakBytes;
  };
  llvm::ArrayRef<Timing> getTimings() const { return timings; }

  /// Run every pass, verifying the plan after each (or after the last, see setVerifyEach); stop at the first
  /// failure.
  llvm::LogicalResult run(ir::Plan &plan, PassContext &ctx);

  /// Add the passes named in \p pipeline ("a,b,c"). False with \p error set for an unknown name.
  bool parsePipeline(llvm::StringRef pipeline, std::string &error);

private:
  std::vector<std::unique_ptr<Pass>> passes;
  llvm::raw_ostream *printStream = nullptr;
  const llvm::SourceMgr *printSrcMgr = nullptr;
  bool timing = false;
  bool verifyEach = true;
  std::vector<Timing> timings;
};

/// The -time-passes table of \p timings.
void printTimings(llvm::ArrayRef<PassManager::Timing> timings, llvm::raw_ostream &os);

/// Check the plan's invariants that hold at its stage of the pipeline (docs/ir.md lists them); report each
/// violation as a located diagnostic.
llvm::LogicalResult verifyPlan(const ir::Plan &plan, DiagEngine &diags);

} // namespace moec

#endif // MOEC_TRANSFORMS_PASS_H
