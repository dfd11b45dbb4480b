//===- TestPasses.cpp - Passes that break a plan, for the verifier's tests -===//
//
// Each breaks exactly one invariant, so that a lit test can show the verifier's diagnostic for it (as MLIR's
// test passes do). They live outside the production libraries: the driver registers them, so -passes accepts
// them, but they are not listed in its help and no real pipeline uses them.
//
//===----------------------------------------------------------------------===//
#include "moec/TestPasses/TestPasses.h"
#include "moec/Transforms/Pass.h"

using namespace moec;
using namespace moec::ir;

namespace {
template <typename Fn> class TestPass : public Pass {
public:
  TestPass(llvm::StringRef name, Fn fn) : name(name), fn(fn) {}
  llvm::StringRef getName() const override { return name; }
  llvm::LogicalResult run(Plan &plan, PassContext &) override {
    fn(plan);
    return llvm::success();
  }

private:
  llvm::StringRef name;
  Fn fn;
};

template <typename Fn> std::unique_ptr<Pass> make(llvm::StringRef name, Fn fn) {
  return std::make_unique<TestPass<Fn>>(name, fn);
}

std::unique_ptr<Pass> createTestBreakShapePass() {
  return make("test-break-shape", [](Plan &plan) {
    Program &p = plan.moe.ops.empty() ? plan.dense : plan.moe;
    for (Op &op : p.ops)
      if (op.kind == OpKind::Add) {
        p.tensors[op.inputs[1]].shape.back().size += 1;
        return;
      }
  });
}

std::unique_ptr<Pass> createTestBreakOpShapePass() {
  return make("test-break-op-shape", [](Plan &plan) {
    Program &p = plan.moe.ops.empty() ? plan.dense : plan.moe;
    for (Op &op : p.ops)
      if (op.kind == OpKind::Linear) {
        p.tensors[op.outputs.front()].shape.back().size *= 2; // twice the features its weight makes
        return;
      }
  });
}

std::unique_ptr<Pass> createTestBreakOrderPass() {
  return make("test-break-order", [](Plan &plan) {
    Program &p = plan.moe.ops.empty() ? plan.dense : plan.moe;
    // The first op reads the last op's output: a cycle through the whole layer.
    p.ops.front().inputs.push_back(p.ops.back().outputs.front());
  });
}

std::unique_ptr<Pass> createTestDropCommPass() {
  return make("test-drop-comm", [](Plan &plan) {
    Program &p = plan.moe;
    for (Op &op : p.ops)
      if (op.kind == OpKind::Combine)
        for (Op &consumer : p.ops)
          for (unsigned &in : consumer.inputs)
            if (in == op.outputs.front())
              in = op.inputs.front();
  });
}

std::unique_ptr<Pass> createTestUnplaceExpertPass() {
  return make("test-unplace-expert", [](Plan &plan) {
    if (!plan.placement.layers.empty() && plan.placement.layers[0].replicas.size() > 1)
      plan.placement.layers[0].replicas[1].clear();
  });
}

std::unique_ptr<Pass> createTestStackExpertsPass() {
  return make("test-stack-experts", [](Plan &plan) {
    if (plan.placement.layers.empty())
      return;
    for (auto &reps : plan.placement.layers[0].replicas)
      reps = {0};
  });
}

std::unique_ptr<Pass> createTestBreakDevicePass() {
  return make("test-break-device", [](Plan &plan) {
    if (!plan.devices.empty())
      plan.devices.back().node = plan.cluster().nodes; // one node past the cluster
  });
}

} // namespace

void moec::registerTestPasses() {
  static const bool registered = [] {
    registerPass({"test-break-shape", "(test) give one tensor a wrong shape", createTestBreakShapePass, true});
    registerPass({"test-break-op-shape", "(test) double the output features of the first projection",
                  createTestBreakOpShapePass, true});
    registerPass({"test-break-order", "(test) make an op read a tensor produced after it", createTestBreakOrderPass,
                  true});
    registerPass({"test-drop-comm", "(test) remove the combine op, leaving a cross-device edge",
                  createTestDropCommPass, true});
    registerPass({"test-unplace-expert", "(test) remove every replica of expert 1 in the first MoE layer",
                  createTestUnplaceExpertPass, true});
    registerPass({"test-stack-experts", "(test) move every expert of the first MoE layer to position 0",
                  createTestStackExpertsPass, true});
    registerPass({"test-break-device", "(test) put the last rank on a node outside the cluster",
                  createTestBreakDevicePass, true});
    return true;
  }();
  (void)registered;
}
