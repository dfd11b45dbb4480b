//===- Lower.cpp - Lower a checked deploy to the Plan IR ------------------===//
//
// Lowering builds what follows directly from the spec: the devices and their coordinates, the process groups of
// the rank order, the pipeline stages, and the compute ops of each program at the granularity of the reference
// DAGs. Every op gets its role and the part of the model it belongs to, and projections their TP split: the
// passes read those, never the op's name. Placement, shapes and communication are the passes' work
// (lib/Transforms).
//
//===----------------------------------------------------------------------===//
#include "moec/IR/Plan.h"

#include <cmath>

using namespace moec;
using namespace moec::ir;

namespace {

class Lowering {
public:
  explicit Lowering(Plan &plan) : plan(plan), m(plan.model()), s(plan.strategy()) {}

  void run() {
    computeSizes();
    buildDevices();
    buildGroups();
    buildStages();
    if (m.vocab) {
      plan.prologue = Program();
      buildPrologue(*plan.prologue);
      plan.epilogue = Program();
      buildEpilogue(*plan.epilogue);
    }
    plan.dense.name = "dense";
    plan.dense.kind = ProgramKind::Dense;
    plan.moe.name = "moe";
    plan.moe.kind = ProgramKind::MoE;
    if (m.denseLayerCount() > 0)
      buildLayer(plan.dense, LayerKind::Dense);
    if (m.moeLayers() > 0)
      buildLayer(plan.moe, LayerKind::MoE);
  }

private:
  /// The derived sizes every later stage reads (PlanSizes).
  void computeSizes() {
    const WorkloadSpec &w = plan.workload();
    PlanSizes &z = plan.sizes;
    z.tokensPerGroup = w.phase == Phase::Prefill ? w.microBatch * w.seq : w.microBatch;
    int64_t split = s.tp / s.etp();
    z.routedTokensPerRank = s.folded() ? (z.tokensPerGroup + split - 1) / split : z.tokensPerGroup;
    const AttentionSpec &a = m.attention;
    z.headsPerRank = a.heads / s.tp;
    z.kvHeadsPerRank = a.kind == AttentionKind::MLA ? z.headsPerRank : std::max<int64_t>(1, a.kvHeads / s.tp);
    z.assignmentsPerGroup = double(s.ep) * double(z.routedTokensPerRank) * double(m.moe.topK);
    double perExpert = z.assignmentsPerGroup / double(m.moe.experts);
    if (m.moe.capacityFactor)
      perExpert *= *m.moe.capacityFactor;
    z.expertTokens = std::max<int64_t>(1, int64_t(std::ceil(perExpert)));
    // FP8 on the wire carries one FP32 scale per 128 channels (DeepEP's H + H/128 * 4 bytes a token).
    z.dispatchBytesPerElement = quantizedBytesPerElement(dispatchPrecisionOf(m, s));
    z.combineBytesPerElement = quantizedBytesPerElement(combinePrecisionOf(m, s));
    z.dispatchMode = s.dispatchMode.value_or(w.phase == Phase::Prefill ? DispatchMode::Normal
                                                                        : DispatchMode::LowLatency);
  }

  void buildDevices() {
    const ClusterSpec &c = plan.cluster();
    plan.devices.reserve(c.world());
    for (int64_t r = 0; r < c.world(); ++r)
      plan.devices.push_back({r, r / c.gpusPerNode, r % c.gpusPerNode, plan.layout.coords(r)});
  }

  void buildGroups() {
    const RankLayout &layout = plan.layout;
    // The order frameworks create them in: tensor, expert, expert-data, pipeline, then attention data parallel.
    // Folded (etp set), the tensor groups are attention's and the expert tensor groups follow them.
    // Each group is built once, at its first rank (the one whose coordinates along it are 0).
    auto add = [&](GroupKind kind, llvm::function_ref<bool(int64_t)> leads,
                   llvm::function_ref<std::vector<int64_t>(int64_t)> groupOf) {
      int64_t index = 0;
      for (int64_t r = 0; r < layout.world(); ++r)
        if (leads(r))
          plan.groups.push_back({kind, index++, groupOf(r)});
    };
    add(GroupKind::TP, [&](int64_t r) { return layout.attentionTpRank(r) == 0; },
        [&](int64_t r) { return layout.attentionTpGroup(r); });
    for (auto [kind, axis] : {std::pair{GroupKind::ExpertTP, Axis::TP}, {GroupKind::EP, Axis::EP},
                              {GroupKind::DP, Axis::DP}, {GroupKind::PP, Axis::PP}}) {
      if (kind == GroupKind::ExpertTP && !layout.folded())
        continue; // unfolded, the expert TP groups are the TP groups
      add(kind, [&, axis = axis](int64_t r) { return layout.coords(r)[axis] == 0; },
          [&, axis = axis](int64_t r) { return layout.group(axis, r); });
    }
    add(GroupKind::AttentionDP,
        [&](int64_t r) {
          if (layout.folded())
            return layout.attentionDpRank(r) == 0;
          Coords c = layout.coords(r);
          return c[Axis::EP] == 0 && c[Axis::DP] == 0;
        },
        [&](int64_t r) { return layout.attentionDpGroup(r); });
  }

  void buildStages() {
    // Contiguous layers per stage; the first `layers % pp` stages take one more.
    int64_t base = m.layers / s.pp, extra = m.layers % s.pp, first = 0;
    for (int64_t i = 0; i < s.pp; ++i) {
      int64_t n = base + (i < extra ? 1 : 0);
      plan.stages.push_back({i, first, n});
      for (int64_t l = first; l < first + n; ++l) {
        plan.layerKinds.push_back(m.isMoeLayer(l) ? LayerKind::MoE : LayerKind::Dense);
        plan.layerStage.push_back(i);
      }
      first += n;
    }
  }

  /// Add an op of the part being built.
  unsigned op(Program &p, OpKind kind, OpRole role, std::string name, llvm::ArrayRef<unsigned> inputs,
              llvm::SMLoc loc, OpSite site = OpSite::Rank) {
    return p.add({kind, role, part}, std::move(name), inputs, loc, site);
  }

  void buildPrologue(Program &p) {
    p.name = "embedding";
    p.kind = ProgramKind::Embedding;
    part = OpPart::Embedding;
    p.input = p.addTensor("token_ids", ~0u).id;
    p.output = op(p, OpKind::Embedding, OpRole::Embedding, "embedding", {p.input}, m.locOf("vocab"));
  }

  void buildEpilogue(Program &p) {
    p.name = "lm_head";
    p.kind = ProgramKind::LmHead;
    part = OpPart::LmHead;
    p.input = p.addTensor("input", ~0u).id;
    unsigned norm = op(p, OpKind::LayerNorm, OpRole::FinalNorm, "final_norm", {p.input}, m.locOf("vocab"));
    p.output = linear(p, OpRole::LmHead, "lm_head", norm, m.locOf("vocab"), ParallelSplit::Column);
  }

  /// The attention half of every layer; returns the residual stream after it.
  unsigned buildAttention(Program &p, unsigned x) {
    const AttentionSpec &a = m.attention;
    llvm::SMLoc loc = a.loc;
    constexpr ParallelSplit replicated = ParallelSplit::Replicated, column = ParallelSplit::Column;
    part = OpPart::Attention;
    unsigned norm = op(p, OpKind::LayerNorm, OpRole::AttnNorm, "attn_norm", {x}, loc);
    unsigned q, k, v;
    if (a.kind == AttentionKind::MLA) {
      if (a.qLoraRank) {
        unsigned qa = linear(p, OpRole::QDownProj, "q_down_proj", norm, a.locOf("q_lora_rank"), replicated);
        unsigned qn = op(p, OpKind::LayerNorm, OpRole::QNorm, "q_norm", {qa}, a.locOf("q_lora_rank"));
        q = linear(p, OpRole::QUpProj, "q_up_proj", qn, a.locOf("q_lora_rank"), column);
      } else {
        q = linear(p, OpRole::QProj, "q_proj", norm, a.locOf("heads"), column);
      }
      unsigned kva = linear(p, OpRole::KvDownProj, "kv_down_proj", norm, a.locOf("kv_lora_rank"), replicated);
      unsigned kvn = op(p, OpKind::LayerNorm, OpRole::KvNorm, "kv_norm", {kva}, a.locOf("kv_lora_rank"));
      unsigned ku = linear(p, OpRole::KUpProj, "k_up_proj", kvn, a.locOf("kv_lora_rank"), column);
      v = linear(p, OpRole::VUpProj, "v_up_proj", kvn, a.locOf("kv_lora_rank"), column);
      q = op(p, OpKind::Rope, OpRole::QRope, "q_rope", {q}, a.locOf("rope_head_dim"));
      k = op(p, OpKind::Rope, OpRole::KRope, "k_rope", {ku, kva}, a.locOf("rope_head_dim"));
    } else {
      llvm::SMLoc kvLoc = a.locOf(a.kind == AttentionKind::GQA ? "kv_heads" : "heads");
      q = linear(p, OpRole::QProj, "q_proj", norm, a.locOf("heads"), column);
      k = linear(p, OpRole::KProj, "k_proj", norm, kvLoc, column);
      v = linear(p, OpRole::VProj, "v_proj", norm, kvLoc, column);
      if (a.qkNorm) {
        q = op(p, OpKind::LayerNorm, OpRole::QHeadNorm, "q_head_norm", {q}, a.locOf("qk_norm"));
        k = op(p, OpKind::LayerNorm, OpRole::KHeadNorm, "k_head_norm", {k}, a.locOf("qk_norm"));
      }
    }
    unsigned scaled = op(p, OpKind::Scale, OpRole::ScaleQ, "scale", {q}, a.locOf("head_dim"));
    unsigned scores = op(p, OpKind::Matmul, OpRole::Scores, "qk_matmul", {scaled, k}, loc);
    unsigned probs = op(p, OpKind::Softmax, OpRole::Softmax, "softmax", {scores}, loc);
    if (m.dropout > 0)
      probs = op(p, OpKind::Dropout, OpRole::AttnDropout, "attn_dropout", {probs}, m.locOf("dropout"));
    unsigned ctx = op(p, OpKind::Matmul, OpRole::Context, "attn_v_matmul", {probs, v}, loc);
    unsigned out = linear(p, OpRole::OutProj, "out_proj", ctx, loc, ParallelSplit::Row);
    return op(p, OpKind::Add, OpRole::AttnResidual, "attn_residual", {x, out}, loc);
  }

  unsigned linear(Program &p, OpRole role, std::string name, unsigned in, llvm::SMLoc loc, ParallelSplit split,
                  OpSite site = OpSite::Rank) {
    unsigned out = op(p, OpKind::Linear, role, std::move(name), {in}, loc, site);
    p.ops.back().split = split;
    return out;
  }

  /// An FFN (dense, expert or shared: the part being built) on \p in: fc1, activation, fc2; gate/up/down for
  /// SwiGLU.
  unsigned buildFfn(Program &p, llvm::StringRef prefix, unsigned in, Activation act, llvm::SMLoc loc,
                    OpSite site) {
    std::string pre = prefix.empty() ? "" : prefix.str() + "_";
    constexpr ParallelSplit column = ParallelSplit::Column;
    unsigned hidden;
    if (act == Activation::SwiGLU) {
      unsigned gate = linear(p, OpRole::FfnIn, pre + "gate_proj", in, loc, column, site);
      unsigned up = linear(p, OpRole::FfnUp, pre + "up_proj", in, loc, column, site);
      hidden = op(p, OpKind::Activation, OpRole::FfnAct, pre + "swiglu", {gate, up}, loc, site);
    } else {
      unsigned fc1 = linear(p, OpRole::FfnIn, pre + "fc1", in, loc, column, site);
      hidden = op(p, OpKind::Activation, OpRole::FfnAct, pre + spell(act).str(), {fc1}, loc, site);
    }
    p.ops.back().activation = act;
    return linear(p, OpRole::FfnOut, pre + (act == Activation::SwiGLU ? "down_proj" : "fc2"), hidden, loc,
                  ParallelSplit::Row, site);
  }

  void buildLayer(Program &p, LayerKind kind) {
    p.input = p.addTensor("input", ~0u).id;
    unsigned x = buildAttention(p, p.input);
    if (kind == LayerKind::Dense) {
      assert(m.mlp && "Sema requires an mlp block when there are dense layers");
      Activation act = m.mlp->activation;
      llvm::SMLoc loc = m.mlp->loc;
      part = OpPart::DenseFfn;
      unsigned norm = op(p, OpKind::LayerNorm, OpRole::FfnNorm, "ffn_norm", {x}, loc);
      unsigned out = buildFfn(p, "", norm, act, loc, OpSite::Rank);
      p.output = op(p, OpKind::Add, OpRole::FfnResidual, "ffn_residual", {x, out}, loc);
      return;
    }
    const MoeSpec &moe = m.moe;
    part = OpPart::MoeBlock;
    unsigned norm = op(p, OpKind::LayerNorm, OpRole::MoeNorm, "moe_norm", {x}, moe.loc);
    part = OpPart::Router;
    unsigned scores = op(p, OpKind::Gate, OpRole::Gate, "gate", {norm}, moe.locOf("experts"));
    unsigned routes = op(p, OpKind::TopK, OpRole::TopK, "top_k", {scores}, moe.locOf("top_k"));
    part = OpPart::RoutedExperts;
    unsigned expertOut = buildFfn(p, "expert", norm, moe.activation, moe.locOf("expert_hidden"), OpSite::Expert);
    part = OpPart::MoeBlock;
    unsigned combined =
        op(p, OpKind::WeightedSum, OpRole::WeightedSum, "weighted_sum", {expertOut, routes}, moe.locOf("top_k"));
    if (moe.sharedExperts > 0) {
      part = OpPart::SharedExperts;
      unsigned shared = buildFfn(p, "shared", norm, moe.activation, moe.locOf("shared_experts"), OpSite::Rank);
      combined = op(p, OpKind::Add, OpRole::SharedAdd, "shared_add", {combined, shared}, moe.locOf("shared_experts"));
    }
    part = OpPart::MoeBlock;
    p.output = op(p, OpKind::Add, OpRole::MoeResidual, "moe_residual", {x, combined}, moe.loc);
  }

  Plan &plan;
  OpPart part = OpPart::Attention; ///< The part the ops being added belong to.
  const ModelSpec &m;
  const StrategySpec &s;
};

} // namespace

std::unique_ptr<Plan> ir::lowerToPlan(const DeploySpec &deploy) {
  auto plan = std::make_unique<Plan>(deploy);
  Lowering(*plan).run();
  return plan;
}
