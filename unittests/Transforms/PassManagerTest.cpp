//===- PassManagerTest.cpp - When the verifier runs ------------------------===//
//
// The PassManager verifies the plan after every pass by default, so a pass that breaks an invariant is caught
// where it did; with setVerifyEach(false), as the strategy search runs its candidates, once after the last pass,
// where the same break is still caught before the plan is used.
//
//===----------------------------------------------------------------------===//
#include "moec/Frontend/Frontend.h"
#include "moec/IR/Plan.h"
#include "moec/Transforms/Pass.h"
#include "moec/Transforms/PlacementInputs.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

using namespace moec;

namespace {

const char *kSpec = R"(
gpu G { memory = 80 GB; compute = 989 TFLOPS; mem_bandwidth = 3.35 TB/s; }
model M { layers = 2; hidden = 256; precision = bf16;
  attention { kind = mha; heads = 4; head_dim = 64; }
  moe { experts = 8; top_k = 2; expert_hidden = 128; activation = silu; } }
cluster C { nodes = 1; gpus_per_node = 4; gpu = G; intra_node { bandwidth = 450 GB/s; latency = 2 us; } }
strategy S { ep = 4; dp = 1; tp = 1; pp = 1; placement = contiguous; }
workload W { phase = prefill; micro_batch = 1; seq = 16; }
deploy D { model = M; cluster = C; strategy = S; workload = W; }
)";

/// Takes expert 1 of the first MoE layer off every GPU, as test-unplace-expert does.
class UnplacePass : public Pass {
public:
  llvm::StringRef getName() const override { return "unplace"; }
  llvm::LogicalResult run(ir::Plan &plan, PassContext &) override {
    plan.placement.layers.at(0).replicas.at(1).clear();
    return llvm::success();
  }
};

/// Counts how often it runs.
class CountPass : public Pass {
public:
  explicit CountPass(int &runs) : runs(runs) {}
  llvm::StringRef getName() const override { return "count"; }
  llvm::LogicalResult run(ir::Plan &, PassContext &) override {
    ++runs;
    return llvm::success();
  }

private:
  int &runs;
};

struct Fixture : test::Diags {
  FrontendResult front;
  std::unique_ptr<ir::Plan> plan;

  Fixture() {
    FrontendOptions options;
    options.allowFileImports = false;
    front = runFrontendOnText(kSpec, "pm.moe", options, diags);
    const DeploySpec &deploy = *front.spec->deploys.front();
    plan = ir::lowerToPlan(deploy);
    plan->placementInputs = std::make_shared<const PlacementInputs>(*readPlacementInputs(deploy, diags));
  }

  /// Runs expert-placement, the break, then the counter; returns how often the counter ran.
  int run(bool verifyEach, bool &failed) {
    PassManager pm;
    std::string error;
    EXPECT_TRUE(pm.parsePipeline("expert-placement", error)) << error;
    pm.addPass(std::make_unique<UnplacePass>());
    int runs = 0;
    pm.addPass(std::make_unique<CountPass>(runs));
    pm.setVerifyEach(verifyEach);
    PassContext ctx{diags};
    failed = llvm::failed(pm.run(*plan, ctx));
    return runs;
  }
};

TEST(PassManagerTest, VerifiesAfterEveryPass) {
  Fixture f;
  ASSERT_EQ(f.front.status, FrontendStatus::Ok) << f.messages;
  bool failed = false;
  EXPECT_EQ(f.run(true, failed), 0); // stopped where the break happened
  EXPECT_TRUE(failed);
  EXPECT_NE(f.messages.find("expert 1 is not placed"), std::string::npos) << f.messages;
}

TEST(PassManagerTest, WithoutVerifyEachVerifiesAfterTheLastPass) {
  Fixture f;
  ASSERT_EQ(f.front.status, FrontendStatus::Ok) << f.messages;
  bool failed = false;
  EXPECT_EQ(f.run(false, failed), 1); // ran on, and the last check still caught it
  EXPECT_TRUE(failed);
  EXPECT_NE(f.messages.find("expert 1 is not placed"), std::string::npos) << f.messages;
}

} // namespace
