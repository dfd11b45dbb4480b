//===- CostModel.cpp - Time of every op, layer and step --------------------===//
//
// The cost-model pass annotates every op with its time and computes the layer, step and throughput figures of
// docs/cost-model.md. Algorithm:
//   1. A compute op takes max(FLOPs / (peak * mfu), bytes / (mem_bandwidth * bandwidth_efficiency)) plus the
//      GPU's launch overhead. Attention matmuls count half their FLOPs in prefill (causal masking).
//   2. Expert ops run on the busiest GPU of the EP group: its tokens are share_max * ep * tokens * top_k, its
//      weights those of every slot it holds. Weight reads bound small batches by themselves.
//   3. Dispatch and combine of each MoE layer take max(network bytes / inter_node bandwidth, NVLink bytes /
//      intra_node bandwidth) plus the link's latency, for the busiest sender, in their precisions, scaled by the
//      receive imbalance (busiest receiver over the mean). An all-reduce in a group of g ranks (tp, or etp for a
//      folded plan's experts) takes the ring's 2 (g - 1) / g of its bytes over its link plus 2 (g - 1)
//      latencies; a folded plan's all-gather over the tp / etp = g shares (g - 1) / g of the gathered bytes plus
//      g - 1 latencies; a stage boundary its bytes plus one latency.
//   4. A layer costs compute + communication without overlap; with two micro-batches each micro-batch costs
//      max(compute, comm) + (1 - overlap_efficiency) * min(compute, comm).
//   5. A step runs every layer (and the embedding, LM head and stage boundaries) for its micro-batches: in
//      prefill the time to process them, in decode the time per output token.
//
//===----------------------------------------------------------------------===//
#include "Shapes.h"
#include "moec/Transforms/Pass.h"

#include <cmath>

using namespace moec;
using namespace moec::ir;

namespace {

class CostModel {
public:
  explicit CostModel(Plan &plan) : plan(plan), m(plan.model()), s(plan.strategy()), w(plan.workload()) {
    const GpuSpec &gpu = *plan.cluster().gpu;
    peak = gpu.compute * w.mfu.value_or(1.0);
    bandwidth = gpu.memBandwidth * w.bandwidthEfficiency.value_or(1.0);
    launch = gpu.launchOverhead;
    slots = plan.maxSlotsPerGpu();
  }

  CostResult run() {
    CostResult r;
    r.microBatches = w.overlap == Overlap::TwoMicroBatch ? 2 : 1;
    double flopsAverage = 0; // per GPU per micro-batch, experts at their mean load
    if (!plan.dense.ops.empty()) {
      r.dense = layerTime(plan.dense, nullptr, flopsAverage);
      r.criticalPathDense = criticalPath(plan.dense);
    }
    double denseFlops = flopsAverage;
    std::vector<double> moeFlops;
    for (const LayerTraffic &t : plan.traffic) {
      double f = 0;
      r.moe.push_back(layerTime(plan.moe, &t, f));
      moeFlops.push_back(f);
    }
    if (!plan.moe.ops.empty())
      r.criticalPathMoe = criticalPath(plan.moe);
    if (plan.prologue)
      r.prologue = programCompute(*plan.prologue);
    if (plan.epilogue)
      r.epilogue = programCompute(*plan.epilogue);
    if (plan.boundary)
      r.pipeline = double(s.pp - 1) * programComm(*plan.boundary);

    double perMicroBatch = r.prologue + r.epilogue + r.pipeline;
    double flops = 0;
    size_t moeIndex = 0;
    for (LayerKind kind : plan.layerKinds) {
      if (kind == LayerKind::Dense) {
        perMicroBatch += r.dense.total;
        flops += denseFlops;
      } else if (moeIndex < r.moe.size()) {
        perMicroBatch += r.moe[moeIndex].total;
        flops += moeFlops[moeIndex++];
      }
    }
    r.stepTime = perMicroBatch * double(r.microBatches);
    double tokensPerGroup = double(w.microBatch) * double(w.phase == Phase::Prefill ? w.seq : 1);
    r.tokensPerStep = tokensPerGroup * double(plan.deploy->derived.attentionDp) * double(r.microBatches);
    r.tokensPerSecond = r.stepTime > 0 ? r.tokensPerStep / r.stepTime : 0;
    r.tokensPerSecondPerGpu = r.tokensPerSecond / double(plan.devices.size());
    // A GPU works on its stage's layers only.
    r.flopsPerGpuPerStep = flops / double(s.pp) * double(r.microBatches);
    double rawPeak = plan.cluster().gpu->compute;
    r.achievedMfu = r.stepTime > 0 ? r.flopsPerGpuPerStep / (r.stepTime * rawPeak) : 0;
    return r;
  }

private:
  double computeTime(const Op &op, double flopsScale, double bytes) const {
    return std::max(op.flops * flopsScale / peak, bytes / bandwidth) + launch;
  }

  double flopsScale(const Op &op) const {
    return op.kind == OpKind::Matmul && w.phase == Phase::Prefill ? 0.5 : 1.0;
  }

  double programCompute(Program &p) const {
    double t = 0;
    for (Op &op : p.ops)
      if (classify(op.kind) != OpClass::Communication) {
        op.seconds = computeTime(op, flopsScale(op), op.bytes);
        t += op.seconds;
      }
    return t;
  }

  double programComm(Program &p) const {
    double t = 0;
    for (Op &op : p.ops)
      if (op.comm) {
        op.seconds = linkTime(op.comm->bytesPerRank, op.comm->group);
        t = std::max(t, op.seconds); // send and recv are one transfer
      }
    return t;
  }

  /// The link a group of \p kind uses: NVLink when its groups stay inside a node, the network otherwise.
  const LinkSpec &linkOf(GroupKind kind) const {
    return plan.crossesNodes(kind) ? plan.cluster().interNode : plan.cluster().intraNode;
  }

  double linkTime(double bytes, GroupKind kind) const {
    const LinkSpec &link = linkOf(kind);
    return bytes / link.bandwidth + link.latency;
  }

  LayerTime layerTime(Program &p, const LayerTraffic *traffic, double &flopsAverage) {
    LayerTime lt;
    const ClusterSpec &c = plan.cluster();
    double tokens = double(plan.dispatchTokensPerRank());
    double assignmentsPerGroup = double(s.ep) * tokens * double(m.moe.topK);
    double meanShare = 1.0 / double(s.ep);
    double maxShare = meanShare;
    if (traffic)
      for (double share : traffic->share)
        maxShare = std::max(maxShare, share);
    // Per expert instance, the shapes hold T tokens; scale to the busiest GPU's tokens.
    double shapeTokens = 1;
    if (const Op *d = p.findOp(OpRole::Dispatch))
      shapeTokens = double(p.tensors[d->outputs.front()].shape.front().size);
    else
      shapeTokens = assignmentsPerGroup / double(m.moe.experts);
    double busyTokens = maxShare * assignmentsPerGroup;
    double meanTokens = meanShare * assignmentsPerGroup;
    flopsAverage = 0;

    for (Op &op : p.ops) {
      OpClass cls = classify(op.kind);
      if (cls == OpClass::Communication)
        continue;
      if (op.site == OpSite::Expert) {
        double scale = busyTokens / shapeTokens;
        double activationBytes = op.bytes - op.weightBytes;
        op.seconds = std::max(op.flops * scale / peak,
                              (op.weightBytes * double(slots) + activationBytes * scale) / bandwidth) +
                     launch * double(slots);
        flopsAverage += op.flops * meanTokens / shapeTokens;
      } else {
        op.seconds = computeTime(op, flopsScale(op), op.bytes);
        flopsAverage += op.flops * flopsScale(op);
      }
      lt.compute += op.seconds;
    }

    for (Op &op : p.ops) {
      if (!op.comm)
        continue;
      if (op.kind == OpKind::Dispatch || op.kind == OpKind::Combine) {
        if (!traffic)
          continue;
        Precision prec = op.kind == OpKind::Dispatch ? s.dispatchPrecision.value_or(m.precision)
                                                     : s.combinePrecision.value_or(m.precision);
        double factor = double(bytesPerElement(prec)) / double(bytesPerElement(m.precision));
        double network = traffic->networkBytesMax * factor, nvlink = traffic->nvlinkBytesMax * factor;
        double t = std::max(network > 0 ? network / c.interNode.bandwidth : 0.0,
                            nvlink > 0 ? nvlink / c.intraNode.bandwidth : 0.0);
        t += network > 0 ? c.interNode.latency : c.intraNode.latency;
        double meanRecv = tokens * double(m.moe.topK) * double(m.hidden) * bytesPerElement(m.precision);
        double imbalance = meanRecv > 0 ? std::max(1.0, traffic->recvBytesMax / meanRecv) : 1.0;
        op.seconds = t * imbalance;
        (op.kind == OpKind::Dispatch ? lt.dispatch : lt.combine) += op.seconds;
      } else if (op.kind == OpKind::AllReduce) {
        const LinkSpec &link = linkOf(op.comm->group);
        int64_t ranks = op.comm->group == GroupKind::ExpertTP ? s.etp() : s.tp;
        double steps = 2.0 * double(ranks - 1);
        op.seconds = op.comm->bytesPerRank * steps / double(ranks) / link.bandwidth + steps * link.latency;
        if (op.site == OpSite::Expert)
          op.seconds *= double(slots);
        lt.allReduce += op.seconds;
      } else if (op.kind == OpKind::AllGather) {
        // A ring over the tp / etp distinct shares of the TP group: (g - 1) / g of the gathered bytes arrive.
        const LinkSpec &link = linkOf(op.comm->group);
        double shares = double(s.tp / s.etp()), steps = shares - 1;
        op.seconds = op.comm->bytesPerRank * steps / shares / link.bandwidth + steps * link.latency;
        lt.allGather += op.seconds;
      }
      lt.communication += op.seconds;
    }

    if (w.overlap == Overlap::TwoMicroBatch) {
      double longer = std::max(lt.compute, lt.communication), shorter = std::min(lt.compute, lt.communication);
      lt.total = longer + (1.0 - w.overlapEfficiency) * shorter;
      lt.exposed = std::max(0.0, lt.total - lt.compute);
    } else {
      lt.total = lt.compute + lt.communication;
      lt.exposed = lt.communication;
    }
    return lt;
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
  const ModelSpec &m;
  const StrategySpec &s;
  const WorkloadSpec &w;
  double peak, bandwidth, launch;
  int64_t slots; ///< the most expert slots a GPU holds
};

class CostModelPass : public Pass {
public:
  llvm::StringRef getName() const override { return "cost-model"; }
  llvm::LogicalResult run(Plan &plan, PassContext &ctx) override {
    if (!requirePass(plan.communicated, getName(), "comm-insertion", ctx.diags))
      return llvm::failure();
    plan.cost = CostModel(plan).run();
    return llvm::success();
  }
};

} // namespace

std::unique_ptr<Pass> moec::createCostModelPass() { return std::make_unique<CostModelPass>(); }
