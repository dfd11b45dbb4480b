//===- MemoryCheck.cpp - Does every GPU's share of the plan fit? ----------===//
//
// The memory-check pass computes what the fullest GPU holds and reports an error when it exceeds the GPU's
// memory (a warning above 90%). Algorithm, per pipeline stage (the GPU with the most expert slots stands for
// the stage):
//   1. Weights: each op's weights (already divided by tp) times the layers of its kind on the stage, by kind:
//      attention (everything up to the attention residual, norms included), dense FFN, router, shared experts,
//      routed experts (per slot, times the slots the GPU holds); the embedding on the first stage and the LM head
//      on the last (once, when the model ties them and one stage holds both).
//   2. KV cache: micro_batch * the tokens each layer keeps (decode: the context; prefill: the sequence it writes;
//      a windowed or chunked layer at most its span) * the bytes per token and layer: 2 * max(1, kv_heads / tp) *
//      head_dim for MHA and GQA, kv_lora_rank + rope_head_dim for MLA (twice with two micro-batches).
//   3. Activations of the largest layer (or the last stage's logits, if larger): the most that one op reads and
//      writes at once; with the fused attention
//      kernel the score tensor [batch, heads, seq, kv_seq] never exists, with the naive one it does (twice: the
//      scores and their softmax).
//   4. Communication buffers: with DeepEP's low-latency kernels (decode) its registered buffer, by its published
//      size formula (lowLatencyBuffer); with the normal ones, dispatch and combine stream through staging buffers
//      of at most 256 MiB each (as its chunked kernels do); the tokens they deliver are the activations of step 3.
//   5. The GPU's reserved memory (CUDA context, library workspaces; `reserved_memory`, 512 MiB by default).
// The error names the GPU, lists the breakdown and suggests what would fit.
//
//===----------------------------------------------------------------------===//
#include "Shapes.h"
#include "moec/Support/Units.h"
#include "moec/Transforms/Pass.h"

#include "fmt/format.h"

#include <cmath>

#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace moec;
using namespace moec::ir;

namespace {

std::string gb(double bytes) { return formatQuantity(bytes, Dim::Bytes); }

/// The most a dispatch or combine stages at once (DeepEP's normal kernels stream through chunked buffers).
constexpr double kStagingBytes = 256.0 * 1024 * 1024;

/// DeepEP's low-latency buffer, `get_low_latency_rdma_size_hint` (deepseek-ai/DeepEP, deep_ep/buffers/legacy.py;
/// ../shared/docs/user-asks.md, part 2 (f)): for T dispatch tokens per rank, E experts (physical slots) and the
/// hidden size, with hidden / 128 FP8 scales per token, the send and receive halves of a dispatch and a combine,
/// double-buffered, and two signalling arrays of 4E bytes, each rounded to 128 B.
double lowLatencyBuffer(double tokens, double hidden, double experts) {
  auto align128 = [](double b) { return std::ceil(b / 128.0) * 128.0; };
  double scales = hidden / 128.0;
  double dispatchMessage = 16 + std::max(2 * hidden, hidden + 4 * scales);
  double combineMessage = 4 * scales + 2 * hidden;
  double send = std::max(tokens * dispatchMessage, experts * tokens * combineMessage);
  double recv = std::max(experts * tokens * dispatchMessage, experts * tokens * combineMessage);
  return align128(2 * send + 2 * recv + 2 * align128(4 * experts));
}

struct Weights {
  double attention = 0, denseFfn = 0, router = 0, shared = 0, expertSlot = 0;
};

Weights weightsOf(const Program &p) {
  Weights w;
  for (const Op &op : p.ops) {
    if (op.site == OpSite::Expert) {
      w.expertSlot += op.weightBytes;
      continue;
    }
    switch (op.part) {
    case OpPart::Attention:
    case OpPart::MoeBlock: // the MoE block's norm: counted with the attention's
      w.attention += op.weightBytes;
      break;
    case OpPart::Router:
      w.router += op.weightBytes;
      break;
    case OpPart::SharedExperts:
      w.shared += op.weightBytes;
      break;
    case OpPart::DenseFfn:
    case OpPart::RoutedExperts:
    case OpPart::Embedding:
    case OpPart::LmHead:
    case OpPart::Pipeline:
      w.denseFfn += op.weightBytes;
      break;
    }
  }
  return w;
}

/// The most bytes one op of \p p reads and writes at once.
double peakActivations(const Program &p, bool fused, double expertScale, double &scores) {
  double most = 0;
  for (const Op &op : p.ops) {
    double live = 0;
    auto add = [&](const Tensor &t) {
      bool isScores = llvm::any_of(t.shape, [](const ShapeDim &d) { return d.name == "kv_seq"; });
      if (isScores)
        scores = std::max(scores, t.bytes());
      if (isScores && fused)
        return; // the fused kernel keeps scores in on-chip memory, tile by tile
      bool expertSide = llvm::any_of(t.shape, [](const ShapeDim &d) { return d.name == "tokens"; });
      live += t.bytes() * (expertSide ? expertScale : 1.0);
    };
    for (unsigned in : op.inputs)
      add(p.tensors[in]);
    for (unsigned out : op.outputs)
      add(p.tensors[out]);
    most = std::max(most, live);
  }
  return most;
}

class MemoryCheckPass : public Pass {
public:
  llvm::StringRef getName() const override { return "memory-check"; }

  llvm::LogicalResult run(Plan &plan, PassContext &ctx) override {
    if (!requirePass(plan.shaped, getName(), "shape-inference", ctx.diags) ||
        !requirePass(plan.placed, getName(), "expert-placement", ctx.diags))
      return llvm::failure();
    const ModelSpec &m = plan.model();
    const StrategySpec &s = plan.strategy();
    const WorkloadSpec &w = plan.workload();
    const GpuSpec &gpu = *plan.cluster().gpu;
    Weights dense = plan.dense.ops.empty() ? Weights() : weightsOf(plan.dense);
    Weights moe = plan.moe.ops.empty() ? Weights() : weightsOf(plan.moe);
    int64_t slots = plan.maxSlotsPerGpu();
    bool fused = isFused(w.attentionKernel);

    // Expert activations at the busiest GPU's tokens.
    double maxShare = 1.0 / double(s.ep);
    for (const LayerTraffic &t : plan.traffic)
      for (double share : t.share)
        maxShare = std::max(maxShare, share);
    // The shapes hold sizes.expertTokens per expert (capacity factor applied): scale them to the busiest GPU's.
    double assignments = plan.sizes.assignmentsPerGroup;
    double shapeTokens = double(plan.sizes.expertTokens);
    double busyTokens = maxShare * assignments;
    if (plan.model().moe.capacityFactor) // each slot holds a buffer of the capacity, whatever the routing
      busyTokens = shapeTokens * double(plan.maxSlotsPerGpu());

    MemoryResult worst;
    plan.stageMemory.clear();
    for (const Stage &st : plan.stages) {
      MemoryResult r;
      r.stage = st.index;
      r.capacity = gpu.memory;
      int64_t denseLayers = 0, moeLayers = 0;
      for (int64_t l = st.firstLayer; l < st.firstLayer + st.numLayers; ++l)
        (plan.layerKinds[l] == LayerKind::Dense ? denseLayers : moeLayers) += 1;
      r.attention = dense.attention * double(denseLayers) + moe.attention * double(moeLayers);
      r.denseFfn = dense.denseFfn * double(denseLayers);
      r.router = moe.router * double(moeLayers);
      r.sharedExperts = moe.shared * double(moeLayers);
      r.routedExperts = moe.expertSlot * double(slots) * double(moeLayers);
      if (st.index == 0 && plan.prologue)
        for (const Op &op : plan.prologue->ops)
          r.embedding += op.weightBytes;
      // Tied embeddings: the LM head reads the embedding's table, held once where both run (one stage); a later
      // stage keeps its own copy, as engines do.
      bool shared = m.tieEmbeddings && st.index == 0 && plan.prologue;
      if (st.index + 1 == s.pp && plan.epilogue)
        for (const Op &op : plan.epilogue->ops)
          if (!(shared && op.role == OpRole::LmHead))
            r.embedding += op.weightBytes;
      const AttentionSpec &a = m.attention;
      double kvPerToken = a.kind == AttentionKind::MLA
                              ? double(a.kvLoraRank + a.ropeHeadDim)
                              : 2.0 * double(plan.sizes.kvHeadsPerRank) * double(a.headDim);
      // Decode keeps the context's KV; a prefill writes its sequences' KV and keeps it (to decode it, or to hand
      // it to decode GPUs), so it holds seq tokens of every layer (FINDINGS.md B7).
      double kvContext = 0;
      for (int64_t l = st.firstLayer; l < st.firstLayer + st.numLayers; ++l)
        kvContext += double(a.kvTokens(l, w.phase == Phase::Decode ? w.context : w.seq));
      if (w.phase == Phase::Prefill && !w.keepKv) // `keep_kv = false`: one layer's at a time, an activation
        kvContext = 0;
      r.kvCache = double(w.microBatch) * kvContext * kvPerToken * bytesPerElement(m.parts.kvCache) *
                  double(microBatchesOf(w.overlap));
      double scores = 0;
      double expertScale = busyTokens / shapeTokens;
      for (const Program *p : {&plan.dense, &plan.moe})
        if (!p->ops.empty())
          r.activations = std::max(r.activations, peakActivations(*p, fused, expertScale, scores));
      r.scoresTensor = scores;
      // The last stage's logits, beside its largest layer's activations.
      if (st.index + 1 == s.pp && plan.epilogue) {
        const Program &head = *plan.epilogue;
        r.activations = std::max(r.activations, head.tensors[head.output].bytes());
      }
      double hiddenBytes = double(m.hidden) * bytesPerElement(m.precision);
      if (moeLayers > 0) {
        double moved = std::max(double(plan.sizes.routedTokensPerRank) * double(m.moe.topK), busyTokens) * hiddenBytes;
        r.commBuffers = 2.0 * std::min(moved, kStagingBytes); // dispatch and combine
        r.buffersScale = plan.sizes.dispatchMode == DispatchMode::LowLatency && s.ep > 1;
        if (r.buffersScale)
          r.commBuffers = lowLatencyBuffer(double(plan.sizes.routedTokensPerRank), double(m.hidden),
                                           double(m.moe.experts + s.redundantExperts));
      }
      r.reserved = gpu.reservedMemory;
      for (const Device &d : plan.devices)
        if (d.coords[Axis::PP] == st.index) {
          r.rank = d.rank;
          break;
        }
      if (st.index == 0 || r.total() > worst.total())
        worst = r;
      plan.stageMemory.push_back(r);
    }
    plan.memory = worst;
    report(plan, worst, ctx.diags);
    return llvm::success(worst.total() <= worst.capacity);
  }

private:
  void report(const Plan &plan, const MemoryResult &r, DiagEngine &diags) {
    double total = r.total();
    const ClusterSpec &c = plan.cluster();
    const StrategySpec &s = plan.strategy();
    bool over = total > r.capacity;
    if (!over && total <= 0.9 * r.capacity)
      return;
    const Device &d = plan.devices[r.rank];
    std::string where = "GPU " + std::to_string(d.rank) + " (node " + std::to_string(d.node) + ")";
    double percent = 100.0 * total / r.capacity;
    std::string msg = where + " needs " + gb(total) + " of the " + gb(r.capacity) + " of " + c.gpu->name +
                      " (" + (percent >= 1000 ? fmt::format("{:.0f}", percent) : formatNumber(percent, 3)) + "%)" +
                      (over ? ": the plan does not fit" : ", above 90%");
    if (over) {
      // At the deploy, which is what does not fit (FINDINGS.md D2); the GPU it runs on is a note.
      diags.error(plan.deploy->loc, "deploy '" + plan.deploy->name + "': " + msg);
      diags.note(c.locOf("gpu"), "the GPU, " + c.gpu->name + ", is chosen here");
    } else {
      diags.warning(c.locOf("gpu"), msg);
    }
    std::string breakdown = "on " + where + ":";
    for (const auto &[name, bytes] : r.parts())
      breakdown += std::string(breakdown.back() == ':' ? " " : ", ") + name + " " + gb(bytes);
    diags.note(plan.deploy->loc, breakdown);
    if (!over)
      return;
    // What would fit: the biggest parts, and the knob that shrinks each. The KV cache and the activations grow with
    // the micro-batch (and the KV cache with the context): the largest that fits, all else kept.
    const WorkloadSpec &w = plan.workload();
    double perBatch = r.batchScaled();
    double fixed = total - perBatch;
    if (perBatch > 0.3 * total && fixed < r.capacity) {
      int64_t batch = r.largestBatch(w.microBatch);
      if (batch >= 1 && batch < w.microBatch)
        diags.note(w.locOf("micro_batch"), "micro_batch = " + std::to_string(batch) + " would fit (" +
                                               gb(perBatch / double(w.microBatch)) +
                                               (r.buffersScale ? " of KV cache, activations and low-latency buffer"
                                                               : " of KV cache and activations") +
                                               " per sequence, " +
                                               gb(r.capacity - fixed) + " free for them)");
      if (w.phase == Phase::Decode && r.kvCache > 0 && fixed + r.activations < r.capacity) {
        // The context the KV cache can hold at this micro-batch (windowed layers count as full: a lower bound).
        int64_t context =
            int64_t(std::floor((r.capacity - fixed - r.activations) / (r.kvCache / double(w.context))));
        if (context >= 1 && context < w.context)
          diags.note(w.locOf("context"), "context = " + std::to_string(context) +
                                             " would fit at this micro_batch (" +
                                             gb(r.kvCache / double(w.context)) + " of KV cache per token of context)");
      }
    }
    // Folded, tp does not split the routed experts (etp does).
    double tpWeights = r.attention + r.denseFfn + r.sharedExperts + (s.folded() ? 0 : r.routedExperts) + r.embedding;
    if (tpWeights > 0.3 * total)
      diags.note(s.locOf("tp"), "tp = " + std::to_string(s.tp * 2) + " would halve the weights split by tensor "
                                    "parallelism, " + gb(tpWeights) + " now");
    if (s.pp * 2 <= plan.model().layers)
      diags.note(s.locOf("pp"), "pp = " + std::to_string(s.pp * 2) + " would hold half the layers on each GPU");
    if (r.routedExperts > 0.3 * total)
      diags.note(s.locOf("ep"), "a larger ep would hold fewer experts per GPU (" + gb(r.routedExperts) + " now)");
    if (plan.workload().attentionKernel == AttentionKernel::Naive && r.scoresTensor > 0)
      diags.note(plan.workload().locOf("attention_kernel"),
                 "attention_kernel = fused never materialises the " + gb(r.scoresTensor) + " score tensor");
  }
};

} // namespace

std::unique_ptr<Pass> moec::createMemoryCheckPass() { return std::make_unique<MemoryCheckPass>(); }
