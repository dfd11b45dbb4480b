//===- CostModel.cpp - Time of every op, layer and step --------------------===//
//
// The cost-model pass computes the plan's time twice with the same formulas (moec/Transforms/Physics.h): as the
// roofline bound and as the forecast, whose op times annotate the IR. docs/cost-model.md states every formula.
// Algorithm:
//   1. A compute op takes max(FLOPs / (peak x compute fraction), bytes / (mem_bandwidth x memory fraction)) plus
//      the GPU's launch overhead. The peak is the GEMM's at its weights' precision (FP8 weights at the part's FP8
//      peak, 4-bit ones at its FP4 peak or, without FP4 tensor cores, BF16), BF16 for attention and routing; the
//      fractions are the kernel class's (GEMM, attention, elementwise). Attention matmuls count half their FLOPs
//      in prefill (causal masking); a fused attention kernel is one launch.
//   2. Expert ops run on the busiest GPU of the EP group: its tokens are share_max * the group's token-expert
//      pairs, its weights those of every slot it holds, as one grouped GEMM launch. Without measured loads the
//      forecast's share_max is (1 + imbalance) / ep, the imbalance published for the deployment's kind.
//   3. Dispatch and combine of each MoE layer take commTime of their bytes (per remote node with DeepEP's normal
//      kernels, per token-expert pair with the low-latency ones). Combine is scaled by the busiest GPU's imbalance
//      (it sends the surplus); dispatch only by what of it exceeds the receiver's headroom: max(1, imbalance x
//      the link's achieved fraction), a receiver taking in at up to its link's full rate. All-reduces and
//      the folded all-gather are rings over their group's link.
//   4. A layer costs compute + communication without overlap. With two micro-batches the stage's layers run as
//      moec/Transforms/Schedule.h lays them out (stages cut at communications, in turn on one compute stream and
//      one communication stream): a stage takes half that schedule's end per micro-batch, a layer reports half
//      the period of its steady state. The roofline bound takes the best any order could do instead:
//      max(compute', comm) + (1 - overlap_efficiency) * min(compute', comm) per micro-batch, compute' being
//      compute slowed by the SMs normal-mode communication holds.
//   5. A stage costs its layers (the embedding on the first, the LM head on the last, a boundary send between).
//      One micro-batch through every stage is the latency (TTFT, TPOT); with m micro-batches in flight a prefill
//      step takes (m + pp - 1) x the slowest stage and a decode cycle max(m, pp) x the slowest stage.
//
//===----------------------------------------------------------------------===//
#include "Shapes.h"
#include "moec/Transforms/Pass.h"
#include "moec/Transforms/Physics.h"
#include "moec/Transforms/Schedule.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <map>
#include <set>

using namespace moec;
using namespace moec::ir;

namespace {

/// What of a layer's \p total its \p compute does not cover: 0 when the two differ by float residue only, as a
/// schedule's sum in another order gives (a layer without communication is never "exposed 9e-17 s").
double exposedPart(double total, double compute) {
  double d = total - compute;
  return d > 1e-9 * std::max(total, compute) ? d : 0.0;
}

enum class KernelClass { Gemm, Attention, Elementwise };

KernelClass kernelClass(const Op &op) {
  switch (op.kind) {
  case OpKind::Linear:
  case OpKind::Gate:
    return KernelClass::Gemm;
  case OpKind::Matmul:
  case OpKind::Softmax:
    return KernelClass::Attention;
  default:
    return KernelClass::Elementwise;
  }
}

class CostModel {
public:
  CostModel(Plan &plan, const Physics &physics)
      : plan(plan), ph(physics), m(plan.model()), s(plan.strategy()), w(plan.workload()),
        gpu(*plan.cluster().gpu) {
    launch = gpu.launchOverhead;
    slots = plan.maxSlotsPerGpu();
  }

  CostResult run() {
    CostResult r;
    r.microBatches = microBatchesOf(w.overlap);
    r.commSms = isSingleBatch(w.overlap) ? ph.singleBatchSms : ph.commSms;
    double flopsAverage = 0; // per GPU per micro-batch, experts at their mean load
    if (!plan.dense.ops.empty()) {
      r.dense = layerTime(plan.dense, nullptr, flopsAverage);
      r.criticalPathDense = criticalPath(plan.dense);
      note(plan.dense, double(m.denseLayerCount()));
    }
    double denseFlops = flopsAverage;
    std::vector<double> moeFlops;
    for (const LayerTraffic &t : plan.traffic) {
      double f = 0;
      r.moe.push_back(layerTime(plan.moe, &t, f));
      moeFlops.push_back(f);
    }
    if (!plan.moe.ops.empty()) {
      r.criticalPathMoe = criticalPath(plan.moe);
      note(plan.moe, double(m.moeLayers()));
    }
    if (plan.prologue) {
      r.prologue = programCompute(*plan.prologue);
      note(*plan.prologue, 1);
    }
    if (plan.epilogue) {
      r.epilogue = programCompute(*plan.epilogue);
      note(*plan.epilogue, 1);
    }
    double boundary = plan.boundary ? programComm(*plan.boundary) : 0;
    r.pipeline = double(s.pp - 1) * boundary;

    // Each stage's time for one micro-batch (both, with two micro-batches overlapped).
    std::vector<double> stage(plan.stages.size(), 0.0);
    double flops = 0;
    size_t moeIndex = 0;
    for (size_t l = 0; l < plan.layerKinds.size(); ++l) {
      double &t = stage[plan.layerStage[l]];
      if (plan.layerKinds[l] == LayerKind::Dense) {
        t += r.dense.total;
        flops += denseFlops;
      } else if (moeIndex < r.moe.size()) {
        t += r.moe[moeIndex].total;
        flops += moeFlops[moeIndex++];
      }
    }
    // Two micro-batches: each stage's layers as one schedule, its first layer's fill and last layer's drain
    // included; a micro-batch's share is half of it.
    if (r.microBatches == 2 && ph.forecast)
      for (size_t i = 0; i < stage.size(); ++i)
        stage[i] = scheduleTwoMicroBatches(stageLayers(plan, r, i), ph.commSms, w.overlapEfficiency,
                                           overlapOrderOf(w.phase))
                       .end /
                   2.0;
    stage.front() += r.prologue;
    stage.back() += r.epilogue;
    for (size_t i = 0; i + 1 < stage.size(); ++i)
      stage[i] += boundary;
    r.stageSeconds = stage;
    double slowest = 0, latency = 0;
    for (double t : stage) {
      slowest = std::max(slowest, t);
      latency += t;
    }
    int64_t inFlight = s.pp > 1 ? (w.pipelineMicroBatches > 0 ? w.pipelineMicroBatches : s.pp) : 1;
    r.pipelineMicroBatches = inFlight;
    double cycles = s.pp == 1 ? 1.0
                    : w.phase == Phase::Prefill ? double(inFlight + s.pp - 1)
                                                : double(std::max<int64_t>(inFlight, s.pp));
    // TPOT: a decode micro-batch's next token waits for its cycle; TTFT: a prefill micro-batch's trip.
    bool decode = w.phase == Phase::Decode;
    r.latency = (decode && s.pp > 1 ? cycles * slowest : latency) * double(r.microBatches);
    r.stepTime = (s.pp == 1 ? latency : cycles * slowest) * double(r.microBatches);
    double tokensPerGroup = double(plan.sizes.tokensPerGroup);
    r.tokensPerStep =
        tokensPerGroup * double(plan.deploy->derived.attentionDp) * double(r.microBatches) * double(inFlight);
    r.tokensPerSecond = r.stepTime > 0 ? r.tokensPerStep / r.stepTime : 0;
    r.tokensPerSecondPerGpu = r.tokensPerSecond / double(plan.devices.size());
    // A GPU works on its stage's layers only, for every micro-batch in flight.
    r.flopsPerGpuPerStep = flops / double(s.pp) * double(r.microBatches) * double(inFlight);
    double modelPeak = gpu.peakFor(m.parts.experts);
    r.achievedMfu = r.stepTime > 0 ? r.flopsPerGpuPerStep / (r.stepTime * modelPeak) : 0;
    r.dominant = dominant;
    return r;
  }

private:
  /// What the kernels around one layer's GEMMs work on (aroundGemm).
  struct Around {
    double busyScale = 1;       ///< expert ops: the busiest GPU's tokens over the shapes'
    double dedupTokens = 0;     ///< normal kernels: the distinct tokens the busiest GPU receives
    double busyAssignments = 0; ///< ... and the token-expert pairs its experts compute
    std::set<unsigned> quantized; ///< tensors already quantized for a GEMM
    bool scattered = false, gathered = false;
  };

  /// Memory-bound kernels a GEMM needs beside it (docs/cost-model.md, "Around the GEMMs"), for linear op \p op:
  ///   - an FP8-weight GEMM reads FP8 inputs with 1 x 128 scales, a 4-bit one on a part with 4-bit tensor cores
  ///     inputs in its weights' format: a wider input is quantized first, once per tensor (read at its width,
  ///     written at 1 + 4/128 B or the 4-bit format's bytes), unless its producer did it: an activation function
  ///     (SGLang's silu_and_mul with quantization) or a dispatch that sends FP8;
  ///   - with DeepEP's normal kernels, a token arrives once per GPU, so the grouped GEMM's rows are scattered
  ///     from the received tokens (one pass, at the dispatch's width) and its output gathered back, weighted,
  ///     one row per token (at BF16), before combine (SGLang's ep_scatter and ep_gather).
  /// The forecast charges them; the bound does not.
  double aroundGemm(const Program &p, const Op &op, Around &a) const {
    // The bound: a kernel could fuse them.
    if (!ph.forecast || op.kind != OpKind::Linear || op.inputs.empty())
      return 0;
    double memory = gpu.memBandwidth * ph.elementwiseMemory, t = 0;
    double scale = op.site == OpSite::Expert ? a.busyScale : 1.0;
    unsigned in = op.inputs.front();
    const Tensor &x = p.tensors[in];
    const Op *producer = x.producer < p.ops.size() ? &p.ops[x.producer] : nullptr;
    double width = bytesPerElement(x.dtype);
    Precision weights = weightPrecision(m, op.part);
    // What the GEMM's input is quantized to: FP8 with 1 x 128 scales, or on a part with 4-bit tensor cores the
    // weights' 4-bit format with its scales (FlashInfer's cvt_fp16_to_fp4 kernels in SGLang's GB200 profile).
    bool quantizes = weights == Precision::FP8 || (isFourBit(weights) && gpu.fp4Compute > 0);
    double quantizedWidth = quantizes ? quantizedBytesPerElement(weights) : 0.0;
    bool fusedByProducer = producer && (producer->kind == OpKind::Activation ||
                                        (producer->kind == OpKind::Dispatch && plan.sizes.dispatchBytesPerElement < 2));
    if (quantizedWidth > 0 && width > quantizedWidth && !fusedByProducer && a.quantized.insert(in).second)
      t += double(x.numElements()) * scale * (width + quantizedWidth) / memory + launch;
    if (a.dedupTokens > 0 && op.site == OpSite::Expert) {
      double hidden = double(m.hidden);
      if (producer && producer->kind == OpKind::Dispatch && !a.scattered) {
        a.scattered = true;
        t += (a.dedupTokens + a.busyAssignments) * hidden * plan.sizes.dispatchBytesPerElement / memory + launch;
      }
      bool feedsCombine = false;
      for (unsigned o : op.outputs)
        for (const Op &c : p.ops)
          feedsCombine |= c.kind == OpKind::Combine && llvm::is_contained(c.inputs, o);
      if (feedsCombine && !a.gathered) {
        a.gathered = true;
        double row = std::max(2.0, bytesPerElement(p.tensors[op.outputs.front()].dtype));
        t += (a.busyAssignments + a.dedupTokens) * hidden * row / memory + launch;
      }
    }
    return t;
  }

  /// What linear op \p op of \p p reads (weights and inputs) and writes, as the GEMM moves them.
  static std::pair<double, double> gemmBytes(const Program &p, const Op &op) {
    if (op.outputs.empty())
      return {op.bytes, 0.0};
    const Tensor &out = p.tensors[op.outputs.front()];
    return {std::max(0.0, op.bytes - out.bytes()), gemmOutputBytes(double(out.numElements()), out.dtype)};
  }

  /// The peak and achieved fractions of \p op's kernel class.
  double computeTime(const Program &p, const Op &op) const {
    if (isFused(w.attentionKernel) && inFusedAttention(op))
      return op.role == OpRole::Scores ? fusedAttentionTime(p, op) : 0.0;
    if (op.kind == OpKind::WeightedSum && reducedByCombine(p, op))
      return 0.0;
    KernelClass k = kernelClass(op);
    double peak = peakOf(op);
    double computeFraction = k == KernelClass::Gemm ? ph.gemmCompute : ph.attentionCompute;
    double memoryFraction = k == KernelClass::Gemm        ? ph.gemmMemory
                            : k == KernelClass::Attention ? ph.attentionMemory
                                                          : ph.elementwiseMemory;
    double flops = op.flops * flopsScale(op);
    double t = 0;
    if (k == KernelClass::Gemm && op.kind == OpKind::Linear) {
      auto [in, out] = gemmBytes(p, op);
      t = gemmTime(flops, in, out, weightPrecision(m, op.part), gpu, ph);
    } else {
      t = std::max(flops / (peak * computeFraction), op.bytes / (gpu.memBandwidth * memoryFraction));
    }
    return t + launch;
  }

  /// Whether the weighted sum \p op reads what a combine returns: DeepEP's kernels weight and sum a token's expert
  /// outputs themselves (the low-latency combine takes the top-k weights and reduces as it receives; in normal
  /// mode the gather before it weights them, aroundGemm, and the combine sums the GPUs' rows), as do the engines'
  /// other all-to-all combines, so no pass of its own reads the top-k rows again. With ep = 1 the combine moves
  /// nothing and the experts' outputs are summed by a kernel of their own (vLLM's moe_sum), which the op charges.
  bool reducedByCombine(const Program &p, const Op &op) const {
    return s.ep > 1 && llvm::any_of(op.inputs, [&](unsigned t) {
      unsigned producer = p.tensors[t].producer;
      return producer < p.ops.size() && p.ops[producer].kind == OpKind::Combine;
    });
  }

  /// The ops one fused attention kernel runs: the query's softmax scale (a kernel argument), the scores, their
  /// softmax (and dropout) and the context.
  static bool inFusedAttention(const Op &op) {
    return op.role == OpRole::ScaleQ || op.role == OpRole::Scores || op.role == OpRole::Softmax ||
           op.role == OpRole::AttnDropout || op.role == OpRole::Context;
  }

  /// A fused attention kernel (FlashAttention, FlashMLA) is one roofline: it overlaps reading the KV cache with
  /// both products, so its time is the larger of all its FLOPs at their peaks and all its bytes, not the sum of each
  /// product's own bound. The scores op \p scores carries it; the ops it feeds, up to the context, cost nothing.
  /// A program's ops are in dataflow order, so one pass after the scores finds them.
  double fusedAttentionTime(const Program &p, const Op &scores) const {
    double compute = 0, bytes = 0;
    std::vector<unsigned> fed;
    for (const Op &o : llvm::make_range(p.ops.begin() + (&scores - p.ops.data()), p.ops.end())) {
      bool inKernel = &o == &scores || (inFusedAttention(o) && o.role != OpRole::Scores &&
                                        llvm::any_of(o.inputs, [&](unsigned t) { return llvm::is_contained(fed, t); }));
      if (!inKernel)
        continue;
      compute += o.flops * flopsScale(o) / (peakOf(o) * ph.fusedAttentionCompute);
      bytes += o.bytes;
      fed.insert(fed.end(), o.outputs.begin(), o.outputs.end());
    }
    return std::max(compute, bytes / (gpu.memBandwidth * ph.fusedAttentionMemory)) + launch;
  }

  /// The dense peak \p op runs at: a projection at its weights' precision; attention's score and context products at
  /// the KV cache's (an FP8 cache is read by FP8 tensor cores, as FlashMLA's and TensorRT-LLM's E4M3 kernels do);
  /// the rest at BF16.
  double peakOf(const Op &op) const {
    if (op.kind == OpKind::Linear)
      return gpu.peakFor(weightPrecision(m, op.part));
    if (op.kind == OpKind::Matmul && m.parts.kvCache == Precision::FP8)
      return gpu.peakFor(Precision::FP8);
    return gpu.compute;
  }

  double flopsScale(const Op &op) const {
    return op.kind == OpKind::Matmul && w.phase == Phase::Prefill ? 0.5 : 1.0;
  }

  double programCompute(Program &p) {
    double t = 0;
    for (Op &op : p.ops)
      if (classify(op.kind) != OpClass::Communication) {
        op.seconds = computeTime(p, op);
        t += op.seconds;
      }
    return t;
  }

  double programComm(Program &p) const {
    double t = 0;
    for (Op &op : p.ops)
      if (op.comm) {
        const LinkSpec &link = linkOf(op.comm->group);
        op.seconds = op.comm->bytesPerRank / link.bandwidth + link.latency;
        t = std::max(t, op.seconds); // send and recv are one transfer
      }
    return t;
  }

  /// The link a group of \p kind uses: NVLink when its groups stay inside a node, the network otherwise.
  const LinkSpec &linkOf(GroupKind kind) const {
    return plan.crossesNodes(kind) ? plan.cluster().interNode : plan.cluster().intraNode;
  }

  LayerTime layerTime(Program &p, const LayerTraffic *traffic, double &flopsAverage) {
    LayerTime lt;
    const PlanSizes &z = plan.sizes;
    double meanShare = 1.0 / double(s.ep);
    double maxShare = meanShare;
    bool measured = !plan.placement.layers.empty() && !plan.placement.layers.front().load.empty();
    if (traffic)
      for (double share : traffic->share)
        maxShare = std::max(maxShare, share);
    if (!measured) // uniform routing is the bound; the forecast takes the published imbalance
      maxShare = std::max(maxShare, meanShare * (1.0 + ph.imbalance));
    // Per expert instance, the shapes hold sizes.expertTokens tokens; scale to the busiest GPU's.
    double shapeTokens = double(z.expertTokens);
    double busyTokens = maxShare * z.assignmentsPerGroup;
    double meanTokens = meanShare * z.assignmentsPerGroup;
    flopsAverage = 0;
    Around around;
    around.busyScale = busyTokens / shapeTokens;
    if (traffic && plan.sizes.dispatchMode == DispatchMode::Normal && z.dispatchBytesPerElement > 0)
      around.dedupTokens = traffic->dispatch.recv / (double(m.hidden) * z.dispatchBytesPerElement) *
                           (meanTokens > 0 ? busyTokens / meanTokens : 1.0);
    around.busyAssignments = busyTokens;

    for (Op &op : p.ops) {
      OpClass cls = classify(op.kind);
      if (cls == OpClass::Communication)
        continue;
      if (op.site == OpSite::Expert) {
        // One grouped GEMM over the GPU's slots: its tokens, every slot's weights, one launch.
        double scale = busyTokens / shapeTokens;
        double activationBytes = op.bytes - op.weightBytes;
        double flops = op.flops * scale;
        double bytes = op.weightBytes * double(slots) + activationBytes * scale;
        if (kernelClass(op) == KernelClass::Gemm) {
          auto [in, out] = gemmBytes(p, op);
          double outBytes = out * scale;
          double inBytes = op.weightBytes * double(slots) + (in - op.weightBytes) * scale;
          op.seconds = gemmTime(flops, inBytes, outBytes, weightPrecision(m, op.part), gpu, ph) + launch;
        } else {
          double peak = gpu.peakFor(weightPrecision(m, op.part));
          op.seconds = std::max(flops / (peak * ph.attentionCompute), bytes / (gpu.memBandwidth * ph.elementwiseMemory)) +
                       launch;
        }
        flopsAverage += op.flops * meanTokens / shapeTokens;
      } else {
        op.seconds = computeTime(p, op);
        flopsAverage += op.flops * flopsScale(op);
      }
      op.seconds += aroundGemm(p, op, around);
      lt.compute += op.seconds;
    }

    for (Op &op : p.ops) {
      if (!op.comm)
        continue;
      if (op.kind == OpKind::Dispatch || op.kind == OpKind::Combine) {
        if (!traffic)
          continue;
        const LinkBytes &bytes = op.kind == OpKind::Dispatch ? traffic->dispatch : traffic->combine;
        // The busiest receiver sets the pace: measured or, without loads, the forecast's imbalance.
        double perAssignment = double(m.hidden) * (op.kind == OpKind::Dispatch ? z.dispatchBytesPerElement
                                                                               : z.combineBytesPerElement);
        double meanRecv = double(z.routedTokensPerRank) * double(m.moe.topK) * perAssignment;
        double imbalance = meanRecv > 0 ? std::max(1.0, bytes.recv / meanRecv) : 1.0;
        if (!measured)
          imbalance = std::max(imbalance, 1.0 + ph.imbalance);
        if (op.kind == OpKind::Dispatch) {
          // Every rank sends its own tokens at the kernels' achieved rate; the busiest GPU takes in imbalance x
          // the mean, at up to its link's full rate, so it slows dispatch only past that headroom. Combine is
          // the mirror: the busiest GPU sends the surplus back, at the achieved rate.
          const ClusterSpec &c = plan.cluster();
          bool overNetwork = bytes.network / (c.interNode.bandwidth * ph.network) >=
                             bytes.nvlink / (c.intraNode.bandwidth * ph.nvlink);
          imbalance = std::max(1.0, imbalance * (overNetwork ? ph.network : ph.nvlink));
        }
        op.seconds = commTime(bytes, plan.cluster(), ph) * (bytes.send > 0 ? imbalance : 0.0);
        (op.kind == OpKind::Dispatch ? lt.dispatch : lt.combine) += op.seconds;
      } else if (op.kind == OpKind::AllReduce) {
        int64_t ranks = op.comm->group == GroupKind::ExpertTP ? s.etp() : s.tp;
        op.seconds = allReduceTime(op.comm->bytesPerRank, ranks, linkOf(op.comm->group), ph);
        if (op.site == OpSite::Expert)
          op.seconds *= double(slots);
        lt.allReduce += op.seconds;
      } else if (op.kind == OpKind::AllGather) {
        op.seconds = allGatherTime(op.comm->bytesPerRank, s.tp / s.etp(), linkOf(op.comm->group), ph);
        lt.allGather += op.seconds;
      }
      lt.communication += op.seconds;
    }

    for (const Op &op : p.ops)
      lt.opSeconds.push_back(op.seconds);
    if (w.overlap == Overlap::TwoMicroBatch && ph.forecast) {
      // The layer repeated as two overlapped micro-batches (moec/Transforms/Schedule.h): its steady state.
      // Layers alike (uniform routing: every MoE layer) share one steady state.
      if (&p != steadyProgram || lt.opSeconds != steadySeconds) {
        steadyProgram = &p;
        steadySeconds = lt.opSeconds;
        steadyTotal =
            steadyStateLayerTime({&p, lt.opSeconds}, ph.commSms, w.overlapEfficiency, overlapOrderOf(w.phase));
      }
      lt.total = steadyTotal;
      lt.exposed = exposedPart(lt.total, lt.compute);
    } else if (isSingleBatch(w.overlap)) {
      // The combine beside the shared experts (and the down GEMM) on its own SMs (moec/Transforms/Schedule.h);
      // the bound gives the combine no SMs of its own.
      lt.total = scheduleSingleBatch({&p, lt.opSeconds}, ph.singleBatchSms, w.overlap == Overlap::SingleBatchDownGemm)
                     .end;
      lt.exposed = exposedPart(lt.total, lt.compute);
    } else if (w.overlap == Overlap::TwoMicroBatch) {
      // The bound: the best any order could do, the longer of compute and communication (the shorter hidden up
      // to the overlap efficiency).
      double compute = lt.communication > 0 ? lt.compute / (1.0 - ph.commSms) : lt.compute;
      double longer = std::max(compute, lt.communication), shorter = std::min(compute, lt.communication);
      lt.total = longer + (1.0 - w.overlapEfficiency) * shorter;
      lt.exposed = exposedPart(lt.total, lt.compute);
    } else {
      lt.total = lt.compute + lt.communication;
      lt.exposed = lt.communication;
    }
    return lt;
  }

  /// Track the op that takes the most time over a step: \p layers instances of \p p's ops.
  void note(const Program &p, double layers) {
    std::map<std::string, double> byName;
    for (const Op &op : p.ops) {
      bool fusedAttention = isFused(w.attentionKernel) && inFusedAttention(op);
      std::string name = op.site == OpSite::Expert && op.kind == OpKind::Linear ? "expert GEMMs"
                         : fusedAttention                                      ? "attention kernel"
                         : op.kind == OpKind::Dispatch || op.kind == OpKind::Combine
                             ? std::string(spell(op.kind)) + " (" +
                                   (plan.traffic.empty() || plan.traffic.front().dispatch.network <= 0 ? "NVLink"
                                                                                                         : "network") +
                                   ")"
                             : op.name;
      byName[name] += op.seconds * layers;
    }
    for (const auto &[name, t] : byName)
      if (t > dominantSeconds) {
        dominantSeconds = t;
        dominant = name;
      }
  }

  /// The longest path through the program's DAG by op time, as op names.
  static std::vector<std::string> criticalPath(const Program &p) {
    std::vector<double> finish(p.ops.size(), 0);
    std::vector<int> from(p.ops.size(), -1);
    for (size_t i = 0; i < p.ops.size(); ++i) {
      double start = 0;
      for (unsigned in : p.ops[i].inputs) {
        unsigned producer = p.tensors[in].producer;
        if (producer != ~0u && finish[producer] > start) {
          start = finish[producer];
          from[i] = int(producer);
        }
      }
      finish[i] = start + p.ops[i].seconds;
    }
    int last = int(std::max_element(finish.begin(), finish.end()) - finish.begin());
    std::vector<std::string> path;
    for (int i = last; i >= 0; i = from[i])
      path.push_back(p.ops[i].name);
    std::reverse(path.begin(), path.end());
    return path;
  }

  Plan &plan;
  const Physics &ph;
  const ModelSpec &m;
  const StrategySpec &s;
  const WorkloadSpec &w;
  const GpuSpec &gpu;
  double launch;
  int64_t slots; ///< the most expert slots a GPU holds
  std::string dominant;
  double dominantSeconds = 0;
  const Program *steadyProgram = nullptr; ///< the last layer whose steady state was scheduled
  std::vector<double> steadySeconds;
  double steadyTotal = 0;
};

class CostModelPass : public Pass {
public:
  llvm::StringRef getName() const override { return "cost-model"; }
  llvm::LogicalResult run(Plan &plan, PassContext &ctx) override {
    if (!requirePass(plan.communicated, getName(), "comm-insertion", ctx.diags))
      return llvm::failure();
    // The bound first, so that the forecast's op times are the ones the IR keeps.
    Physics bound = Physics::bound(plan), forecast = Physics::forecastOf(plan);
    plan.bound = CostModel(plan, bound).run();
    plan.cost = CostModel(plan, forecast).run();
    return llvm::success();
  }
};

} // namespace

std::unique_ptr<Pass> moec::createCostModelPass() { return std::make_unique<CostModelPass>(); }
