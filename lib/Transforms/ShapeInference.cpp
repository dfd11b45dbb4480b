//===- ShapeInference.cpp - Shapes, FLOPs and bytes of every op ------------===//
//
// The shape-inference pass gives every tensor its shape (named dimensions) and every op its FLOPs and bytes.
// Algorithm:
//   1. The sizes, per rank: B = micro_batch; S = seq in prefill, 1 in decode; L (keys per query) = S in prefill,
//      context in decode; heads and KV heads divided by tp (KV heads replicated when tp exceeds them); dense and
//      shared FFN hidden sizes divided by tp, routed experts' by etp (tp unless folded); T, the tokens one
//      expert receives = ep * R * top_k / experts under uniform routing, R the tokens a rank routes (B * S, or
//      folded ceil(B * S * etp / tp), its share of its attention group's tokens), or the capacity
//      ceil(capacity_factor * that) when a capacity factor is declared.
//   2. Each program's input is [B, S, hidden] (the embedding's, token ids [B, S]).
//   3. The ops in order (the program is topologically sorted): each op's output shape follows from its name and
//      its inputs' shapes; each op checks its inputs (equal shapes for a residual add, the contraction dimension
//      of a matmul, the features a projection expects), and a mismatch is an error at the op's source location.
//   4. FLOPs: 2 * rows * in * out for a projection, 2 * B * heads * S * L * d for each attention matmul, a few
//      per element for norms, softmax, activations and adds; bytes: weights read plus activations read and
//      written. Expert ops count one expert instance; a rank runs experts_per_gpu of them.
//
//===----------------------------------------------------------------------===//
#include "moec/Transforms/Pass.h"
#include "Shapes.h"

#include "llvm/ADT/StringSwitch.h"

#include <cmath>

using namespace moec;
using namespace moec::ir;

namespace {

using Shape = llvm::SmallVector<ShapeDim, 4>;

/// The rows of a tensor: the product of its token dimensions.
int64_t rows(const Tensor &t) {
  int64_t n = 1;
  for (const ShapeDim &d : t.shape)
    if (d.name == "batch" || d.name == "seq" || d.name == "tokens")
      n *= d.size;
  return n;
}

class ShapeInference {
public:
  ShapeInference(const Plan &plan, DiagEngine &diags) : plan(plan), diags(diags), m(plan.model()) {
    const StrategySpec &s = plan.strategy();
    const WorkloadSpec &w = plan.workload();
    const AttentionSpec &a = m.attention;
    const PlanSizes &z = plan.sizes;
    absorbed = a.kind == AttentionKind::MLA && w.phase == Phase::Decode;
    fused = isFused(w.attentionKernel);
    tp = s.tp;
    etp = s.etp();
    folded = s.folded();
    routed = z.routedTokensPerRank;
    B = w.microBatch;
    S = w.phase == Phase::Prefill ? w.seq : 1;
    L = w.phase == Phase::Prefill ? w.seq : w.context;
    H = m.hidden;
    heads = z.headsPerRank;
    kvHeads = z.kvHeadsPerRank;
    headDim = a.headDim;
    rope = a.ropeHeadDim;
    qkDim = a.kind == AttentionKind::MLA ? headDim + rope : headDim;
    ffn = m.mlp ? m.mlp->hidden / tp : 0;
    expertFfn = m.moe.expertHidden / etp;
    sharedFfn = m.moe.sharedExperts * m.moe.expertHidden / tp;
    experts = m.moe.experts;
    topK = m.moe.topK;
    expertTokens = z.expertTokens;
    vocab = m.vocab / tp;
    dtype = activationPrecision(m);
    dispatchType = dispatchPrecisionOf(m, s);
    combineType = combinePrecisionOf(m, s);
  }

  bool run(Plan &target) {
    bool ok = true;
    for (Program *p : target.programs())
      ok &= runProgram(*p);
    return ok;
  }

  bool runProgram(Program &p) {
    for (Tensor &t : p.tensors) {
      t.shape.clear();
      t.dtype = dtype;
      t.partial = false;
    }
    Tensor &in = p.tensors[p.input];
    // A serving prefill computes logits for each sequence's last token only (FINDINGS.md B6).
    int64_t seq = p.kind == ProgramKind::LmHead ? 1 : S;
    in.shape = p.kind == ProgramKind::Embedding ? Shape{{"batch", B}, {"seq", S}}
                                                : Shape{{"batch", B}, {"seq", seq}, {"hidden", H}};
    bool ok = true;
    for (Op &op : p.ops)
      ok &= inferOp(p, op);
    return ok;
  }

  bool mismatch(const Op &op, const std::string &what) {
    diags.error(op.loc, "shape mismatch in '" + op.name + "': " + what);
    return false;
  }

  static std::string str(const Tensor &t) { return formatSizes(t); }

  bool inferOp(Program &p, Op &op) {
    llvm::SmallVector<Tensor *, 3> ins;
    for (unsigned i : op.inputs) {
      ins.push_back(&p.tensors[i]);
      if (!p.tensors[i].hasShape())
        return mismatch(op, "input '" + p.tensors[i].name + "' has no shape");
    }
    Tensor &out = p.tensors[op.outputs.front()];
    const Tensor &x = *ins.front();
    double elemBytes = bytesPerElement(dtype);
    // Weights in their part's precision (a 4-bit expert holds 4.25 bits per MXFP4 weight); norms in the model's.
    double weightBytes = bytesPerElement(weightPrecision(m, op.part));
    double kvBytes = bytesPerElement(m.parts.kvCache);
    auto elementwise = [&](double flopsPerElement) {
      out.shape = x.shape;
      out.partial = x.partial;
      op.flops = flopsPerElement * double(x.numElements());
    };

    switch (op.kind) {
    case OpKind::Embedding:
      out.shape = {{"batch", B}, {"seq", S}, {"hidden", H}};
      op.weightBytes = double(m.vocab) * double(H) * weightBytes / double(tp);
      break;
    case OpKind::LayerNorm:
      elementwise(5);
      if (op.role == OpRole::KvNorm) // MLA normalises the compressed KV; the rotary part goes around it
        out.shape = {{"batch", B}, {"seq", S}, {"kv_lora", m.attention.kvLoraRank}};
      op.weightBytes = double(x.shape.back().size) * elemBytes;
      break;
    case OpKind::Linear: {
      Shape shape;
      for (const ShapeDim &d : x.shape)
        if (d.name == "batch" || d.name == "seq" || d.name == "tokens")
          shape.push_back(d);
      for (const ShapeDim &d : linearOutput(op))
        shape.push_back(d);
      out.shape = shape;
      int64_t inFeatures = x.numElements() / rows(x);
      int64_t outFeatures = out.numElements() / rows(out);
      int64_t expectIn = linearInput(op);
      if (expectIn != 0 && inFeatures != expectIn)
        return mismatch(op, "expects " + std::to_string(expectIn) + " input features, but its input " + str(x) +
                                " has " + std::to_string(inFeatures));
      op.flops = 2.0 * double(rows(x)) * double(inFeatures) * double(outFeatures);
      op.weightBytes = double(inFeatures) * double(outFeatures) * weightBytes;
      if (hasBias(op)) { // a bias vector in the model's precision, added to every row
        op.flops += double(rows(x)) * double(outFeatures);
        op.weightBytes += double(outFeatures) * elemBytes;
      }
      // Routed experts are split etp ways, everything else tp ways.
      out.partial = op.split == ParallelSplit::Row && (op.part == OpPart::RoutedExperts ? etp : tp) > 1;
      break;
    }
    case OpKind::Rope:
      if (op.role == OpRole::KRope) {
        out.shape = {{"batch", B}, {"seq", S}, {"heads", heads}, {"head_dim", qkDim}};
      } else {
        out.shape = x.shape;
      }
      op.flops = 3.0 * double(out.numElements());
      break;
    case OpKind::Scale:
    case OpKind::Dropout:
      elementwise(1);
      break;
    case OpKind::Softmax:
      elementwise(5);
      if (m.attention.sinks) // one learned sink logit per head joins each row's normalisation
        op.weightBytes = double(heads) * elemBytes;
      break;
    case OpKind::Activation:
      if (ins.size() == 2 && ins[0]->shape.size() == ins[1]->shape.size() && str(*ins[0]) != str(*ins[1]))
        return mismatch(op, "gate " + str(*ins[0]) + " and up " + str(*ins[1]) + " differ");
      elementwise(ins.size() == 2 ? 6 : 8);
      break;
    case OpKind::Matmul: {
      const Tensor &y = *ins[1];
      if (op.role == OpRole::Scores) {
        // q [B, S, h, d] x k [B, S, kvh, d] -> scores [B, h, S, L]
        if (x.shape.back().size != y.shape.back().size)
          return mismatch(op, "query head dimension " + std::to_string(x.shape.back().size) +
                                  " differs from the key's " + std::to_string(y.shape.back().size));
        if (x.shape.size() != 4 || y.shape.size() != 4 || x.shape[2].size % y.shape[2].size != 0)
          return mismatch(op, "query " + str(x) + " and key " + str(y) + " heads do not group");
        out.shape = {{"batch", B}, {"heads", x.shape[2].size}, {"seq", S}, {"kv_seq", L}};
        // MLA decode runs absorbed (FlashMLA): each head's query meets the kv_lora + rope wide latent.
        op.flops = 2.0 * double(B) * double(heads) * double(S) * double(L) *
                   double(absorbed ? m.attention.kvLoraRank + rope : qkDim);
      } else {
        // probs [B, h, S, L] x v [B, S, kvh, dv] -> [B, S, h, dv]
        if (x.shape.size() != 4 || y.shape.size() != 4)
          return mismatch(op, "expects 4-d operands, got " + str(x) + " and " + str(y));
        if (y.shape[1].size != x.shape[2].size)
          return mismatch(op, "probabilities " + str(x) + " and values " + str(y) + " disagree on the sequence");
        out.shape = {{"batch", B}, {"seq", S}, {"heads", x.shape[1].size}, {"head_dim", y.shape[3].size}};
        op.flops = 2.0 * double(B) * double(heads) * double(S) * double(L) *
                   double(absorbed ? m.attention.kvLoraRank : headDim);
      }
      break;
    }
    case OpKind::Add:
      if (str(*ins[0]) != str(*ins[1]))
        return mismatch(op, "adds " + str(*ins[0]) + " and " + str(*ins[1]));
      elementwise(1);
      out.partial = carriesPartial(plan, p, op); // partial + partial stays partial
      break;
    case OpKind::Gate:
      out.shape = {{"batch", B}, {"seq", S}, {"experts", experts}};
      if (x.shape.back().size != H)
        return mismatch(op, "the router expects " + std::to_string(H) + " features, got " + str(x));
      op.flops = 2.0 * double(rows(x)) * double(H) * double(experts);
      op.weightBytes = double(H) * double(experts) * weightBytes;
      if (m.moe.bias)
        op.weightBytes += double(experts) * elemBytes;
      break;
    case OpKind::TopK:
      out.shape = {{"batch", B}, {"seq", S}, {"top_k", topK}};
      op.flops = double(x.numElements()) * std::log2(double(std::max<int64_t>(2, topK)));
      break;
    case OpKind::Dispatch:
      out.shape = {{"tokens", expertTokens}, {"hidden", H}};
      break;
    case OpKind::Combine:
      // Folded, a rank combines the outputs of its share of the group's tokens only.
      out.shape = folded ? Shape{{"tokens", routed}, {"top_k", topK}, {"hidden", H}}
                         : Shape{{"batch", B}, {"seq", S}, {"top_k", topK}, {"hidden", H}};
      out.partial = x.partial && carriesPartial(plan, p, op);
      break;
    case OpKind::WeightedSum:
      // Before comm-insertion adds the all-gather, the program is the unsplit computation.
      out.shape = folded && p.findOp(OpRole::TokenAllGather) ? Shape{{"tokens", routed}, {"hidden", H}} : Shape{{"batch", B}, {"seq", S}, {"hidden", H}};
      op.flops = 2.0 * double(rows(out)) * double(topK) * double(H);
      out.partial = x.partial && carriesPartial(plan, p, op);
      break;
    case OpKind::AllGather:
      out.shape = {{"batch", B}, {"seq", S}, {"hidden", H}};
      break;
    case OpKind::AllReduce:
      out.shape = x.shape;
      out.partial = false;
      op.flops = double(x.numElements());
      break;
    case OpKind::Send:
    case OpKind::Recv:
      out.shape = x.shape;
      break;
    }
    // What dispatch and combine deliver is in their wire precision (an FP8 dispatch feeds the FP8 GEMMs as is).
    out.dtype = op.kind == OpKind::Dispatch ? dispatchType : op.kind == OpKind::Combine ? combineType : dtype;
    double activations = out.bytes();
    for (Tensor *t : ins)
      activations += t->bytes();
    if (absorbed)
      activations = absorbedActivations(op, ins, out, activations, elemBytes, kvBytes);
    // In decode, the attention matmuls read the KV cache: keys and values per KV head, or for MLA the
    // compressed latent and rotary key, read once (the up-projections are absorbed into the matmuls).
    if (op.kind == OpKind::Matmul && plan.workload().phase == Phase::Decode) {
      bool mla = m.attention.kind == AttentionKind::MLA;
      double perToken = op.role == OpRole::Scores
                            ? (mla ? double(m.attention.kvLoraRank + rope) : double(kvHeads * headDim))
                            : (mla ? 0.0 : double(kvHeads * headDim));
      activations += double(B) * double(L) * perToken * kvBytes;
    }
    op.bytes = op.weightBytes + activations;
    if (op.kind == OpKind::Embedding) // a gather reads the rows it looks up, not the table (FINDINGS.md B5)
      op.bytes = double(B) * double(S) * double(H) * weightBytes + activations;
    if (fused) {
      // A fused attention kernel keeps the scores on chip: no op writes or reads them (FINDINGS.md B1).
      if (op.role == OpRole::Scores)
        op.bytes -= out.bytes();
      else if (op.role == OpRole::Softmax || op.role == OpRole::AttnDropout || op.role == OpRole::ScaleQ)
        op.bytes = op.weightBytes; // the softmax scale is the kernel's argument, applied on chip
      else if (op.role == OpRole::Context)
        op.bytes -= ins.front()->bytes();
    }
    return true;
  }

  /// MLA decode runs absorbed (DeepSeek-V2 report, 2.1.2): W_UK folds into the query and W_UV into the context, so
  /// attention meets the cache's latent and never the per-head keys and values. The plan keeps the unabsorbed graph
  /// (its shapes are the model's); these are the activations the kernels that run read and write, as SGLang's
  /// decode profile shows them (docs/cost-model.md): the two per-head products, the rotary kernel that writes the
  /// query, the cache write. The weights, the cache read and the fused kernel's rules apply to them as to any op.
  double absorbedActivations(const Op &op, llvm::ArrayRef<Tensor *> ins, const Tensor &out, double activations,
                             double elemBytes, double kvBytes) const {
    double tokens = double(B) * double(S), lora = double(m.attention.kvLoraRank), wide = lora + double(rope);
    switch (op.role) {
    case OpRole::KUpProj: // q_nope [T, h, head_dim] x W_UK -> the query's latent [T, h, kv_lora]
    case OpRole::VUpProj: // the context's latent [T, h, kv_lora] x W_UV -> [T, h, head_dim]
      return tokens * double(heads) * (double(headDim) + lora) * elemBytes;
    case OpRole::QRope: // rotates q_pe and writes the query, [latent, q_pe], in the cache's precision
      return tokens * double(heads) * wide * (elemBytes + kvBytes);
    case OpRole::KRope: // rotates k_pe and writes it with the latent into the cache
      return tokens * wide * (elemBytes + kvBytes);
    case OpRole::Scores: // that query and the scores; the key the graph shows is the cache, read below
      return tokens * double(heads) * wide * kvBytes + out.bytes();
    case OpRole::Context: // the probabilities and the latent context; the values are the cache the scores read
      return ins.front()->bytes() + tokens * double(heads) * lora * elemBytes;
    default:
      return activations;
    }
  }

  /// Whether projection \p op adds a bias: the attention's `bias` (q, k and v, or all four), the routed experts'
  /// with the MoE block's `bias`.
  bool hasBias(const Op &op) const {
    switch (op.role) {
    case OpRole::QProj:
    case OpRole::KProj:
    case OpRole::VProj:
      return m.attention.bias != AttentionBias::None;
    case OpRole::OutProj:
      return m.attention.bias == AttentionBias::All;
    case OpRole::FfnIn:
    case OpRole::FfnUp:
    case OpRole::FfnOut:
      return op.part == OpPart::RoutedExperts && m.moe.bias;
    default:
      return false;
    }
  }

  /// The FFN width of \p part, per TP rank.
  int64_t ffnWidth(OpPart part) const {
    return part == OpPart::RoutedExperts ? expertFfn : part == OpPart::SharedExperts ? sharedFfn : ffn;
  }
  static llvm::StringRef ffnDim(OpPart part) {
    return part == OpPart::RoutedExperts ? "expert_ffn" : part == OpPart::SharedExperts ? "shared_ffn" : "ffn";
  }

  /// The output features of a projection, as named dimensions.
  Shape linearOutput(const Op &op) const {
    const AttentionSpec &a = m.attention;
    switch (op.role) {
    case OpRole::QProj:
    case OpRole::QUpProj:
      return {{"heads", heads}, {"head_dim", qkDim}};
    case OpRole::KProj:
    case OpRole::VProj:
      return {{"kv_heads", kvHeads}, {"head_dim", headDim}};
    case OpRole::QDownProj:
      return {{"q_lora", a.qLoraRank}};
    case OpRole::KvDownProj:
      return {{"kv_lora", a.kvLoraRank + a.ropeHeadDim}};
    case OpRole::KUpProj:
    case OpRole::VUpProj:
      return {{"heads", heads}, {"head_dim", headDim}};
    case OpRole::FfnIn:
    case OpRole::FfnUp:
      return {{ffnDim(op.part), ffnWidth(op.part)}};
    case OpRole::LmHead:
      return {{"vocab", vocab}};
    default: // out_proj, fc2 / down_proj
      return {{"hidden", H}};
    }
  }

  /// The input features a projection's weight expects (0: whatever arrives).
  int64_t linearInput(const Op &op) const {
    const AttentionSpec &a = m.attention;
    switch (op.role) {
    case OpRole::QProj:
    case OpRole::KProj:
    case OpRole::VProj:
    case OpRole::QDownProj:
    case OpRole::KvDownProj:
    case OpRole::FfnIn:
    case OpRole::FfnUp:
    case OpRole::LmHead:
      return H;
    case OpRole::QUpProj:
      return a.qLoraRank;
    case OpRole::KUpProj:
    case OpRole::VUpProj:
      return a.kvLoraRank;
    case OpRole::OutProj:
      return heads * headDim;
    case OpRole::FfnOut:
      return ffnWidth(op.part);
    default:
      return 0;
    }
  }

  const Plan &plan;
  DiagEngine &diags;
  const ModelSpec &m;
  bool folded, absorbed, fused;
  int64_t etp, routed; ///< expert TP degree; tokens a rank routes (dispatchTokensPerRank)
  int64_t tp, B, S, L, H, heads, kvHeads, headDim, rope, qkDim, ffn, expertFfn, sharedFfn, experts, topK;
  int64_t expertTokens, vocab;
  Precision dtype;                   ///< activations between kernels
  Precision dispatchType, combineType; ///< what dispatch and combine deliver
};

class ShapeInferencePass : public Pass {
public:
  llvm::StringRef getName() const override { return "shape-inference"; }
  llvm::LogicalResult run(Plan &plan, PassContext &ctx) override { return inferShapes(plan, ctx.diags); }
};

} // namespace

llvm::LogicalResult moec::inferShapes(Plan &plan, DiagEngine &diags) {
  if (!ShapeInference(plan, diags).run(plan))
    return llvm::failure();
  plan.shaped = true;
  return llvm::success();
}

std::optional<Program> moec::reinferShapes(const Plan &plan, const Program &program, llvm::SourceMgr &srcMgr) {
  std::string ignored;
  llvm::raw_string_ostream os(ignored);
  DiagEngine quiet(srcMgr, os); // the verifier reports what differs, in its own words
  Program copy = program;
  if (!ShapeInference(plan, quiet).runProgram(copy))
    return std::nullopt;
  return copy;
}

std::unique_ptr<Pass> moec::createShapeInferencePass() { return std::make_unique<ShapeInferencePass>(); }
