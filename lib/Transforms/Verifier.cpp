//===- Verifier.cpp - Invariants of the Plan IR ---------------------------===//
//
// verifyPlan checks what must hold at the plan's stage of the pipeline; the PassManager runs it after every
// pass, and the verify pass runs it once more on its own (for a pipeline that names it).
//   Always:       every device is a concrete GPU (node and local index inside the cluster); every layer belongs
//                 to a stage; the ops of each program are in topological order (every input is produced by an
//                 earlier op or is the program's input, and no tensor has two producers), so each program is
//                 acyclic.
//   Placed:       every expert of every MoE layer has 1 + its redundant replicas, on distinct positions of its EP
//                 group, with as many slots in all as the strategy declares and at most experts_per_gpu per GPU.
//   Shaped:       every tensor that an op reads has a shape; every op's output has the shape that its inputs and
//                 the model give it (shape inference run again on a copy of the program, compared op by op);
//                 and the shapes of a residual add agree.
//   Communicated: every edge between an op on a rank's own tokens and an op on routed expert tokens passes through
//                 dispatch or combine, every partial sum is read only by an all-reduce, and with pp > 1 the
//                 stages are joined by send/recv.
// Each violation is an error at the source location of the declaration behind it.
//
//===----------------------------------------------------------------------===//
#include "moec/Transforms/Pass.h"
#include "Shapes.h"

using namespace moec;
using namespace moec::ir;

namespace {

class Verifier {
public:
  Verifier(const Plan &plan, DiagEngine &diags) : plan(plan), diags(diags) {}

  bool run() {
    checkDevices();
    for (const Program *p : plan.programs())
      checkProgram(*p);
    if (plan.placed)
      checkPlacement();
    if (plan.communicated && plan.strategy().pp > 1 && !plan.boundary)
      fail(plan.strategy().locOf("pp"), "stages are not joined by send/recv");
    return ok;
  }

private:
  void fail(llvm::SMLoc loc, const std::string &msg) {
    ok = false;
    diags.error(loc, "invalid plan: " + msg);
  }

  void checkDevices() {
    const ClusterSpec &c = plan.cluster();
    if (int64_t(plan.devices.size()) != c.world())
      fail(c.loc, std::to_string(plan.devices.size()) + " devices for a cluster of " + std::to_string(c.world()));
    for (const Device &d : plan.devices)
      if (d.node < 0 || d.node >= c.nodes || d.localGpu < 0 || d.localGpu >= c.gpusPerNode) {
        fail(c.loc, "rank " + std::to_string(d.rank) + " is not on a GPU of the cluster");
        return;
      }
    if (int64_t(plan.layerStage.size()) != plan.model().layers)
      fail(plan.model().loc, "not every layer belongs to a pipeline stage");
  }

  void checkProgram(const Program &p) {
    std::vector<int> produced(p.tensors.size(), 0);
    for (size_t i = 0; i < p.ops.size(); ++i) {
      const Op &op = p.ops[i];
      for (unsigned in : op.inputs) {
        if (in >= p.tensors.size()) {
          fail(op.loc, "op '" + op.name + "' reads a tensor that does not exist");
          return;
        }
        const Tensor &t = p.tensors[in];
        if (in != p.input && (t.producer == ~0u || t.producer >= i)) {
          fail(op.loc, "op '" + op.name + "' in program '" + p.name + "' reads '" + t.name +
                           "' before it is produced: the program has a cycle or is out of order");
          return;
        }
        if (plan.shaped && !t.hasShape())
          fail(op.loc, "op '" + op.name + "' reads '" + t.name + "', which has no shape");
      }
      for (unsigned o : op.outputs)
        if (++produced[o] > 1)
          fail(op.loc, "tensor '" + p.tensors[o].name + "' has two producers");
      if (plan.shaped && op.kind == OpKind::Add && op.inputs.size() == 2) {
        const Tensor &a = p.tensors[op.inputs[0]], &b = p.tensors[op.inputs[1]];
        if (a.numElements() != b.numElements() || a.shape.size() != b.shape.size())
          fail(op.loc, "'" + op.name + "' adds tensors of different shapes");
      }
      if (plan.communicated)
        checkEdges(p, op);
    }
    if (ok && plan.shaped)
      checkShapes(p);
  }

  /// Every op's output against what its inputs give it, in program order: the first op that differs is reported.
  void checkShapes(const Program &p) {
    std::optional<Program> expected = reinferShapes(plan, p, diags.getSourceMgr());
    if (!expected) {
      fail(p.ops.empty() ? plan.model().loc : p.ops.front().loc,
           "the shapes of program '" + p.name + "' are not consistent with its ops");
      return;
    }
    for (const Op &op : p.ops)
      for (unsigned o : op.outputs) {
        const Tensor &have = p.tensors[o], &want = expected->tensors[o];
        bool same = have.shape.size() == want.shape.size();
        for (size_t i = 0; same && i < have.shape.size(); ++i)
          same = have.shape[i].size == want.shape[i].size && have.shape[i].name == want.shape[i].name;
        if (!same) {
          fail(op.loc, "'" + op.name + "' produces '" + have.name + "' of shape " + formatSizes(have) +
                           ", but its inputs give " + formatSizes(want));
          return;
        }
      }
  }

  void checkEdges(const Program &p, const Op &op) {
    bool isComm = classify(op.kind) == OpClass::Communication;
    for (unsigned in : op.inputs) {
      const Tensor &t = p.tensors[in];
      if (t.producer == ~0u)
        continue;
      const Op &producer = p.ops[t.producer];
      bool producerComm = classify(producer.kind) == OpClass::Communication;
      if (producer.site != op.site && !isComm && !producerComm)
        fail(op.loc, "the edge from '" + producer.name + "' to '" + op.name +
                         "' crosses devices without a communication op");
      if (t.partial && op.kind != OpKind::AllReduce && !carriesPartial(plan, p, op))
        fail(op.loc, "'" + op.name + "' reads the partial sum '" + t.name + "' without an all-reduce");
    }
  }

  void checkPlacement() {
    const StrategySpec &s = plan.strategy();
    const ModelSpec &m = plan.model();
    int64_t experts = m.moe.experts, slots = experts + s.redundantExperts;
    int64_t limit = plan.deploy->derived.expertsPerGpu;
    llvm::SMLoc loc = s.locOf(s.placement == PlacementPolicy::Explicit ? "placement_file" : "placement");
    if (plan.numMoeLayers() != m.moeLayers()) {
      fail(loc, "the placement covers " + std::to_string(plan.numMoeLayers()) + " of the " +
                    std::to_string(m.moeLayers()) + " MoE layers");
      return;
    }
    for (const LayerPlacement &lp : plan.placement.layers) {
      std::string layer = "layer " + std::to_string(lp.layer) + ": ";
      if (int64_t(lp.replicas.size()) != experts) {
        fail(loc, layer + "the placement lists " + std::to_string(lp.replicas.size()) + " of " +
                      std::to_string(experts) + " experts");
        return;
      }
      std::vector<int64_t> perPosition(s.ep, 0);
      int64_t total = 0;
      for (int64_t e = 0; e < experts; ++e) {
        const auto &reps = lp.replicas[e];
        if (reps.empty())
          fail(loc, layer + "expert " + std::to_string(e) + " is not placed");
        for (size_t i = 0; i < reps.size(); ++i) {
          if (reps[i] < 0 || reps[i] >= s.ep) {
            fail(loc, layer + "expert " + std::to_string(e) + " is placed outside the EP group");
            return;
          }
          ++perPosition[reps[i]];
          for (size_t j = 0; j < i; ++j)
            if (reps[j] == reps[i])
              fail(loc, layer + "expert " + std::to_string(e) + " has two replicas on GPU " +
                            std::to_string(reps[i]) + " of its EP group");
        }
        total += int64_t(reps.size());
      }
      if (total != slots)
        fail(loc, layer + std::to_string(total) + " replicas placed, but the strategy has " +
                      std::to_string(slots) + " expert slots");
      for (int64_t p = 0; p < s.ep; ++p)
        if (perPosition[p] > limit) {
          fail(loc, layer + "GPU " + std::to_string(p) + " of the EP group holds " +
                        std::to_string(perPosition[p]) + " experts, more than experts_per_gpu = " +
                        std::to_string(limit));
          break;
        }
      if (!ok)
        return; // one broken layer says enough
    }
  }

  const Plan &plan;
  DiagEngine &diags;
  bool ok = true;
};

class VerifyPass : public Pass {
public:
  llvm::StringRef getName() const override { return "verify"; }
  llvm::LogicalResult run(Plan &plan, PassContext &ctx) override { return verifyPlan(plan, ctx.diags); }
};

} // namespace

llvm::LogicalResult moec::verifyPlan(const Plan &plan, DiagEngine &diags) {
  return llvm::success(Verifier(plan, diags).run());
}

std::unique_ptr<Pass> moec::createVerifyPass() { return std::make_unique<VerifyPass>(); }
