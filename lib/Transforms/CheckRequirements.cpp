//===- CheckRequirements.cpp - The strategy's `require` lines on the final plan -===//
//
// Sema checks every `require` with the values it derives; this pass checks them again with what the plan
// measured, which can differ: after placement, experts_per_gpu is the most expert slots any GPU holds. The
// expressions stay with the front end; the pass calls the deploy's RequirementChecker.
//
//===----------------------------------------------------------------------===//
#include "moec/Transforms/Pass.h"

using namespace moec;
using namespace moec::ir;

namespace {
class CheckRequirementsPass : public Pass {
public:
  llvm::StringRef getName() const override { return "check-requirements"; }
  llvm::LogicalResult run(Plan &plan, PassContext &ctx) override {
    const RequirementChecker *checker = plan.deploy->requirements;
    if (!checker || plan.strategy().requires_.empty())
      return llvm::success();
    llvm::StringMap<int64_t> measured;
    if (plan.placed)
      measured["experts_per_gpu"] = plan.maxSlotsPerGpu();
    return llvm::success(checker->check(*plan.deploy, measured, ctx.diags));
  }
};
} // namespace

std::unique_ptr<Pass> moec::createCheckRequirementsPass() { return std::make_unique<CheckRequirementsPass>(); }
