//===- Lower.cpp - Lower a checked deploy to the Plan IR ------------------===//
//
// Lowering builds what follows directly from the spec: the devices and their coordinates, the process groups of
// the rank order, the pipeline stages, and the compute ops of each program at the granularity of the reference
// DAGs. Placement, shapes and communication are the passes' work (lib/Transforms).
//
//===----------------------------------------------------------------------===//
#include "moec/IR/Plan.h"

using namespace moec;
using namespace moec::ir;

namespace {

class Lowering {
public:
  explicit Lowering(Plan &plan) : plan(plan), m(plan.model()), s(plan.strategy()) {}

  void run() {
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
    plan.moe.name = "moe";
    if (m.denseLayers > 0)
      buildLayer(plan.dense, LayerKind::Dense);
    if (m.moeLayers() > 0)
      buildLayer(plan.moe, LayerKind::MoE);
  }

private:
  void buildDevices() {
    const ClusterSpec &c = plan.cluster();
    plan.devices.reserve(c.world());
    for (int64_t r = 0; r < c.world(); ++r)
      plan.devices.push_back({r, r / c.gpusPerNode, r % c.gpusPerNode, plan.layout.coords(r)});
  }

  void buildGroups() {
    const RankLayout &layout = plan.layout;
    // The order frameworks create them in: tensor, expert, expert-data, pipeline, then attention data parallel.
    for (auto [kind, axis] : {std::pair{GroupKind::TP, Axis::TP},
                              {GroupKind::EP, Axis::EP},
                              {GroupKind::DP, Axis::DP},
                              {GroupKind::PP, Axis::PP}}) {
      int64_t index = 0;
      for (int64_t r = 0; r < layout.world(); ++r)
        if (layout.coords(r)[axis] == 0)
          plan.groups.push_back({kind, index++, layout.group(axis, r)});
    }
    int64_t index = 0;
    for (int64_t r = 0; r < layout.world(); ++r) {
      Coords c = layout.coords(r);
      if (c[Axis::EP] == 0 && c[Axis::DP] == 0)
        plan.groups.push_back({GroupKind::AttentionDP, index++, layout.group2(Axis::EP, Axis::DP, r)});
    }
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

  void buildPrologue(Program &p) {
    p.name = "embedding";
    p.input = p.addTensor("token_ids", ~0u).id;
    p.output = p.add(OpKind::Embedding, "embedding", {p.input}, m.locOf("vocab"));
  }

  void buildEpilogue(Program &p) {
    p.name = "lm_head";
    p.input = p.addTensor("input", ~0u).id;
    unsigned norm = p.add(OpKind::LayerNorm, "final_norm", {p.input}, m.locOf("vocab"));
    p.output = p.add(OpKind::Linear, "lm_head", {norm}, m.locOf("vocab"));
    p.ops.back().detail = "column";
  }

  /// The attention half of every layer; returns the residual stream after it.
  unsigned buildAttention(Program &p, unsigned x) {
    const AttentionSpec &a = m.attention;
    llvm::SMLoc loc = a.loc;
    unsigned norm = p.add(OpKind::LayerNorm, "attn_norm", {x}, loc);
    unsigned q, k, v;
    if (a.kind == AttentionKind::MLA) {
      if (a.qLoraRank) {
        unsigned qa = linear(p, "q_down_proj", norm, a.locOf("q_lora_rank"), "replicated");
        unsigned qn = p.add(OpKind::LayerNorm, "q_norm", {qa}, a.locOf("q_lora_rank"));
        q = linear(p, "q_up_proj", qn, a.locOf("q_lora_rank"), "column");
      } else {
        q = linear(p, "q_proj", norm, a.locOf("heads"), "column");
      }
      unsigned kva = linear(p, "kv_down_proj", norm, a.locOf("kv_lora_rank"), "replicated");
      unsigned kvn = p.add(OpKind::LayerNorm, "kv_norm", {kva}, a.locOf("kv_lora_rank"));
      unsigned ku = linear(p, "k_up_proj", kvn, a.locOf("kv_lora_rank"), "column");
      v = linear(p, "v_up_proj", kvn, a.locOf("kv_lora_rank"), "column");
      q = p.add(OpKind::Rope, "q_rope", {q}, a.locOf("rope_head_dim"));
      k = p.add(OpKind::Rope, "k_rope", {ku, kva}, a.locOf("rope_head_dim"));
    } else {
      q = linear(p, "q_proj", norm, a.locOf("heads"), "column");
      k = linear(p, "k_proj", norm, a.locOf(a.kind == AttentionKind::GQA ? "kv_heads" : "heads"), "column");
      v = linear(p, "v_proj", norm, a.locOf(a.kind == AttentionKind::GQA ? "kv_heads" : "heads"), "column");
    }
    unsigned scaled = p.add(OpKind::Scale, "scale", {q}, a.locOf("head_dim"));
    unsigned scores = p.add(OpKind::Matmul, "qk_matmul", {scaled, k}, loc);
    unsigned probs = p.add(OpKind::Softmax, "softmax", {scores}, loc);
    if (m.dropout > 0)
      probs = p.add(OpKind::Dropout, "attn_dropout", {probs}, m.locOf("dropout"));
    unsigned ctx = p.add(OpKind::Matmul, "attn_v_matmul", {probs, v}, loc);
    unsigned out = linear(p, "out_proj", ctx, loc, "row");
    return p.add(OpKind::Add, "attn_residual", {x, out}, loc);
  }

  unsigned linear(Program &p, std::string name, unsigned in, llvm::SMLoc loc, const char *parallel,
                  OpSite site = OpSite::Rank) {
    unsigned out = p.add(OpKind::Linear, std::move(name), {in}, loc, site);
    p.ops.back().detail = parallel;
    return out;
  }

  /// An FFN (dense, expert or shared) on \p in: fc1, activation, fc2; gate/up/down for SwiGLU.
  unsigned buildFfn(Program &p, llvm::StringRef prefix, unsigned in, Activation act, llvm::SMLoc loc,
                    OpSite site) {
    std::string pre = prefix.empty() ? "" : prefix.str() + "_";
    unsigned hidden;
    if (act == Activation::SwiGLU) {
      unsigned gate = linear(p, pre + "gate_proj", in, loc, "column", site);
      unsigned up = linear(p, pre + "up_proj", in, loc, "column", site);
      hidden = p.add(OpKind::Activation, pre + "swiglu", {gate, up}, loc, site);
    } else {
      unsigned fc1 = linear(p, pre + "fc1", in, loc, "column", site);
      hidden = p.add(OpKind::Activation, pre + spell(act).str(), {fc1}, loc, site);
    }
    p.ops.back().detail = spell(act).str();
    return linear(p, pre + (act == Activation::SwiGLU ? "down_proj" : "fc2"), hidden, loc, "row", site);
  }

  void buildLayer(Program &p, LayerKind kind) {
    p.input = p.addTensor("input", ~0u).id;
    unsigned x = buildAttention(p, p.input);
    if (kind == LayerKind::Dense) {
      assert(m.mlp && "Sema requires an mlp block when there are dense layers");
      Activation act = m.mlp->activation;
      llvm::SMLoc loc = m.mlp->loc;
      unsigned norm = p.add(OpKind::LayerNorm, "ffn_norm", {x}, loc);
      unsigned out = buildFfn(p, "", norm, act, loc, OpSite::Rank);
      p.output = p.add(OpKind::Add, "ffn_residual", {x, out}, loc);
      return;
    }
    const MoeSpec &moe = m.moe;
    unsigned norm = p.add(OpKind::LayerNorm, "moe_norm", {x}, moe.loc);
    unsigned scores = p.add(OpKind::Gate, "gate", {norm}, moe.locOf("experts"));
    unsigned routes = p.add(OpKind::TopK, "top_k", {scores}, moe.locOf("top_k"));
    unsigned expertOut = buildFfn(p, "expert", norm, moe.activation, moe.locOf("expert_hidden"), OpSite::Expert);
    unsigned combined = p.add(OpKind::WeightedSum, "weighted_sum", {expertOut, routes}, moe.locOf("top_k"));
    if (moe.sharedExperts > 0) {
      unsigned shared = buildFfn(p, "shared", norm, moe.activation, moe.locOf("shared_experts"), OpSite::Rank);
      combined = p.add(OpKind::Add, "shared_add", {combined, shared}, moe.locOf("shared_experts"));
    }
    p.output = p.add(OpKind::Add, "moe_residual", {x, combined}, moe.loc);
  }

  Plan &plan;
  const ModelSpec &m;
  const StrategySpec &s;
};

} // namespace

std::unique_ptr<Plan> ir::lowerToPlan(const DeploySpec &deploy) {
  auto plan = std::make_unique<Plan>(deploy);
  Lowering(*plan).run();
  return plan;
}
