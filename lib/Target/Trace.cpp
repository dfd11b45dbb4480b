//===- Trace.cpp - The forecast step as a Chrome Trace Event / Perfetto file -===//
//
// The schedule is the cost model's (docs/cost-model.md), laid out op by op:
//   - one micro-batch's layer: its ops in program order, each after the previous, compute on the compute thread
//     and dispatch, combine, all-reduce and all-gather on their streams; the layer takes compute + communication;
//   - two micro-batches overlapped: each stage's layers as moec/Transforms/Schedule.h schedules them (stages cut
//     at communications, in turn on the compute stream, transfers in issue order), the schedule the cost model
//     times; a layer's step event ends when both micro-batches have finished it;
//   - pipeline stages: cycle k runs micro-batch k - i on stage i (prefill) or every micro-batch in turn (decode),
//     each cycle as long as the slowest stage, the rest of a stage's cycle its bubble.
// The step thread tiles the step with the layers, embedding, LM head, sends and bubbles, so its events add up to
// the report's step time. Every rank shown carries its stage's forecast (the busiest GPU's: an EP group steps
// together).
//
//===----------------------------------------------------------------------===//
#include "moec/Target/Trace.h"
#include "moec/Transforms/Schedule.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/JSON.h"

#include "fmt/format.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

using namespace moec;
using namespace moec::ir;

namespace {

enum Thread : int { StepThread = 1, ComputeThread, AllToAllThread, TensorParallelThread, PipelineThread };

const char *threadName(int t) {
  switch (t) {
  case StepThread:
    return "step";
  case ComputeThread:
    return "compute";
  case AllToAllThread:
    return "all-to-all (dispatch, combine)";
  case TensorParallelThread:
    return "tensor parallel (all-reduce, all-gather)";
  default:
    return "pipeline (send, recv)";
  }
}

class TraceWriter {
public:
  TraceWriter(const Plan &plan, llvm::raw_ostream &os) : plan(plan), cost(*plan.cost), j(os, 0) {}

  void write(llvm::ArrayRef<int64_t> ranks) {
    const StrategySpec &s = plan.strategy();
    // Stage times for one micro-batch, as the cost model computed them; with two micro-batches, the schedules
    // whose ends they are, which place every op.
    stageTime = cost.stageSeconds;
    stageTime.resize(plan.stages.size(), 0.0);
    boundary = s.pp > 1 ? cost.pipeline / double(s.pp - 1) : 0;
    slowest = *std::max_element(stageTime.begin(), stageTime.end());
    mbs = double(cost.microBatches);
    if (cost.microBatches == 2)
      for (size_t i = 0; i < plan.stages.size(); ++i)
        schedules.push_back(scheduleTwoMicroBatches(stageLayers(plan, cost, i), cost.commSms,
                                                    plan.workload().overlapEfficiency,
                                                    overlapOrderOf(plan.workload().phase)));

    j.object([&] {
      j.attribute("displayTimeUnit", "ms");
      j.attributeObject("otherData", [&] {
        j.attribute("generator", "moec");
        j.attribute("deploy", plan.deploy->name);
        j.attribute("stepSeconds", cost.stepTime);
        j.attribute("schedule", "forecast (docs/cost-model.md); each rank shows its stage's busiest GPU");
      });
      j.attributeArray("traceEvents", [&] {
        for (int64_t rank : ranks)
          rankEvents(rank);
      });
    });
  }

private:
  static std::string us(double seconds) { return fmt::format("{:.3f}", seconds * 1e6); }
  /// Microseconds to three decimals, as printed: an event's duration is its rounded end minus its rounded start,
  /// so events that touch stay touching.
  static double rounded(double seconds) { return std::round(seconds * 1e9) / 1e9; }

  void event(int64_t pid, int tid, llvm::StringRef name, llvm::StringRef cat, double start, double dur,
             llvm::function_ref<void()> args = {}) {
    j.object([&] {
      j.attribute("name", name);
      j.attribute("cat", cat);
      j.attribute("ph", "X");
      double from = rounded(start), to = rounded(start + dur);
      j.attributeBegin("ts");
      j.rawValue(us(from));
      j.attributeEnd();
      j.attributeBegin("dur");
      j.rawValue(fmt::format("{:.3f}", std::round((to - from) * 1e9) / 1e3));
      j.attributeEnd();
      j.attribute("pid", pid);
      j.attribute("tid", tid);
      if (args)
        j.attributeObject("args", args);
    });
  }

  void flow(int64_t pid, int tid, const char *ph, int64_t id, double at) {
    j.object([&] {
      j.attribute("name", "dispatch to experts");
      j.attribute("cat", "flow");
      j.attribute("ph", ph);
      j.attribute("id", id);
      j.attributeBegin("ts");
      j.rawValue(us(at));
      j.attributeEnd();
      j.attribute("pid", pid);
      j.attribute("tid", tid);
      if (llvm::StringRef(ph) == "f")
        j.attribute("bp", "e");
    });
  }

  void metadata(int64_t pid, int tid, llvm::StringRef what, llvm::StringRef name, int64_t sortIndex) {
    j.object([&] {
      j.attribute("name", what);
      j.attribute("ph", "M");
      j.attribute("pid", pid);
      if (tid)
        j.attribute("tid", tid);
      j.attributeObject("args", [&] { j.attribute("name", name); });
    });
    j.object([&] {
      j.attribute("name", tid ? "thread_sort_index" : "process_sort_index");
      j.attribute("ph", "M");
      j.attribute("pid", pid);
      if (tid)
        j.attribute("tid", tid);
      j.attributeObject("args", [&] { j.attribute("sort_index", sortIndex); });
    });
  }

  static int threadOf(const Op &op) {
    switch (op.kind) {
    case OpKind::Dispatch:
    case OpKind::Combine:
      return AllToAllThread;
    case OpKind::AllReduce:
    case OpKind::AllGather:
      return TensorParallelThread;
    default:
      return classify(op.kind) == OpClass::Communication ? PipelineThread : ComputeThread;
    }
  }

  /// The args of \p op's event: what it computes or moves.
  void opArgs(const Program &p, const Op &op, int64_t layer, int64_t microBatch) {
    if (layer >= 0)
      j.attribute("layer", layer);
    j.attribute("microBatch", microBatch);
    j.attribute("kind", spell(op.kind));
    if (!op.outputs.empty() && p.tensors[op.outputs.front()].hasShape())
      j.attribute("shape", formatSizes(p.tensors[op.outputs.front()]));
    if (op.flops > 0)
      j.attribute("flops", op.flops);
    if (op.bytes > 0)
      j.attribute("bytes", op.bytes);
    if (op.comm) {
      j.attribute("collective", spell(op.comm->collective));
      j.attribute("bytesPerRank", op.comm->bytesPerRank);
      bool network = plan.crossesNodes(op.comm->group);
      if (op.kind == OpKind::Dispatch || op.kind == OpKind::Combine)
        network = !plan.traffic.empty() && plan.traffic.front().dispatch.network > 0;
      j.attribute("link", network ? "network" : "NVLink");
    }
  }

  /// Lay out \p p's ops for one layer from \p start; returns the layer's end. Expert GEMM starts and dispatch ends
  /// are collected for the flow events.
  /// With two micro-batches, the ops are where layer \p k of stage \p stage's schedule puts them, from \p origin,
  /// the schedule's start.
  double layer(int64_t pid, const Program &p, const LayerTime &lt, int64_t layerIndex, int64_t microBatch,
               double start, size_t stage, size_t k, double origin) {
    auto seconds = [&](size_t i) { return i < lt.opSeconds.size() ? lt.opSeconds[i] : p.ops[i].seconds; };
    double window = lt.total;
    if (isSingleBatch(plan.workload().overlap)) { // the combine on its stream beside the ops that do not read it
      SingleBatchSchedule sched = scheduleSingleBatch({&p, lt.opSeconds}, cost.commSms,
                                                      plan.workload().overlap == Overlap::SingleBatchDownGemm);
      for (size_t i = 0; i < p.ops.size(); ++i)
        place(pid, p, p.ops[i], threadOf(p.ops[i]), start + sched.start[i], sched.seconds[i], layerIndex,
              microBatch);
      return start + window;
    }
    if (cost.microBatches != 2) {
      double t = start;
      for (size_t i = 0; i < p.ops.size(); ++i) {
        const Op &op = p.ops[i];
        int tid = threadOf(op);
        place(pid, p, op, tid, t, seconds(i), layerIndex, microBatch);
        t += seconds(i);
      }
      return start + window;
    }
    // Two micro-batches: the stage's schedule (moec/Transforms/Schedule.h) places every op.
    const OverlapSchedule &sched = schedules[stage];
    for (size_t i = 0; i < p.ops.size(); ++i)
      for (int mb = 0; mb < 2; ++mb)
        place(pid, p, p.ops[i], threadOf(p.ops[i]), origin + sched.start[k][i][size_t(mb)], sched.seconds[k][i],
              layerIndex, 2 * microBatch + mb);
    return origin + sched.layerEnd[k];
  }

  void place(int64_t pid, const Program &p, const Op &op, int tid, double start, double dur, int64_t layer,
             int64_t microBatch) {
    if (dur <= 0)
      return;
    event(pid, tid, op.name, tid == ComputeThread ? "compute" : "communication", start, dur,
          [&] { opArgs(p, op, layer, microBatch); });
    if (op.kind == OpKind::Dispatch)
      dispatchEnds[{layer, microBatch}].push_back({pid, start + dur});
    if (op.site == OpSite::Expert && op.kind == OpKind::Linear) {
      auto &first = expertStarts[{layer, microBatch}];
      if (!first.count(pid))
        first[pid] = start;
    }
  }

  void program(int64_t pid, const Program &p, llvm::StringRef name, int64_t microBatch, double &t) {
    double begin = t;
    for (int mb = 0; mb < int(mbs); ++mb)
      for (const Op &op : p.ops) {
        place(pid, p, op, threadOf(op), t, op.seconds, -1, 2 * microBatch + mb);
        t += op.seconds;
      }
    event(pid, StepThread, name, "step", begin, t - begin);
  }

  /// One stage's pass of micro-batch \p microBatch from \p start, for \p pid of stage \p stage.
  void stagePass(int64_t pid, size_t stage, int64_t microBatch, double start) {
    const Stage &st = plan.stages[stage];
    double t = start;
    if (stage == 0 && plan.prologue)
      program(pid, *plan.prologue, "embedding", microBatch, t);
    size_t moeIndex = 0, k = 0;
    double origin = t;
    for (size_t l = 0; l < plan.layerKinds.size(); ++l) {
      bool dense = plan.layerKinds[l] == LayerKind::Dense;
      size_t index = dense ? 0 : moeIndex++;
      if (int64_t(l) < st.firstLayer || int64_t(l) >= st.firstLayer + st.numLayers)
        continue;
      if (!dense && index >= cost.moe.size())
        continue;
      const LayerTime &lt = dense ? cost.dense : cost.moe[index];
      double end = layer(pid, dense ? plan.dense : plan.moe, lt, int64_t(l), microBatch, t, stage, k++, origin);
      event(pid, StepThread, fmt::format("layer {} ({})", l, dense ? "dense" : "MoE"), "step", t, end - t,
            [&] {
              j.attribute("layer", int64_t(l));
              j.attribute("compute", lt.compute);
              j.attribute("communication", lt.communication);
              j.attribute("exposed", lt.exposed);
            });
      t = end;
    }
    if (stage + 1 == plan.stages.size() && plan.epilogue)
      program(pid, *plan.epilogue, "LM head", microBatch, t);
    if (stage + 1 < plan.stages.size() && boundary > 0) {
      // The send and the next stage's receive are one transfer: the longest of the boundary's ops, once per
      // micro-batch.
      double begin = t;
      const Op *longest = nullptr;
      if (plan.boundary)
        for (const Op &op : plan.boundary->ops)
          if (!longest || op.seconds > longest->seconds)
            longest = &op;
      if (longest)
        for (int mb = 0; mb < int(mbs); ++mb)
          place(pid, *plan.boundary, *longest, PipelineThread, begin + mb * boundary, boundary, -1,
                2 * microBatch + mb);
      event(pid, StepThread, "send to the next stage", "step", begin, mbs * boundary);
    }
  }

  void rankEvents(int64_t rank) {
    const Device &d = plan.devices[rank];
    const StrategySpec &s = plan.strategy();
    size_t stage = size_t(d.coords[Axis::PP]);
    metadata(rank, 0, "process_name", fmt::format("GPU {} (node {}, stage {})", rank, d.node, stage), rank);
    for (int t : {StepThread, ComputeThread, AllToAllThread, TensorParallelThread, PipelineThread})
      metadata(rank, t, "thread_name", threadName(t), t);

    int64_t inFlight = cost.pipelineMicroBatches;
    bool decode = plan.workload().phase == Phase::Decode;
    int64_t cycles = s.pp == 1 ? 1 : decode ? std::max<int64_t>(inFlight, s.pp) : inFlight + s.pp - 1;
    double cycle = (s.pp == 1 ? stageTime.front() : slowest) * mbs;
    for (int64_t k = 0; k < cycles; ++k) {
      double start = double(k) * cycle;
      int64_t microBatch = s.pp == 1 ? 0 : decode ? (k - int64_t(stage) + cycles) % cycles : k - int64_t(stage);
      bool busy = s.pp == 1 || (microBatch >= 0 && microBatch < inFlight);
      double used = busy ? stageTime[stage] * mbs : 0;
      if (busy)
        stagePass(rank, stage, microBatch, start);
      if (cycle - used > 1e-12)
        event(rank, StepThread, "pipeline bubble", "step", start + used, cycle - used);
    }
    // Flows: each dispatch to the expert GEMMs it feeds, of the same micro-batch and layer.
    for (const auto &[key, ends] : dispatchEnds)
      for (const auto &[pid, at] : ends) {
        if (pid != rank)
          continue;
        auto starts = expertStarts.find(key);
        if (starts == expertStarts.end() || !starts->second.count(pid))
          continue;
        int64_t id = nextFlow++;
        flow(pid, AllToAllThread, "s", id, at);
        flow(pid, ComputeThread, "f", id, std::max(at, starts->second.at(pid)));
      }
    dispatchEnds.clear();
    expertStarts.clear();
  }

  const Plan &plan;
  const CostResult &cost;
  llvm::json::OStream j;
  std::vector<double> stageTime;
  std::vector<OverlapSchedule> schedules; ///< per stage, with two micro-batches
  double slowest = 0, boundary = 0, mbs = 1;
  std::map<std::pair<int64_t, int64_t>, std::vector<std::pair<int64_t, double>>> dispatchEnds;
  std::map<std::pair<int64_t, int64_t>, std::map<int64_t, double>> expertStarts;
  int64_t nextFlow = 1;
};

} // namespace

std::vector<int64_t> moec::defaultTraceRanks(const Plan &plan, size_t limit) {
  std::vector<int64_t> out;
  // The busiest GPU of a stage: of its first replica, the EP position that receives the largest share of the
  // first MoE layer's tokens (the first GPU when routing is uniform).
  const std::vector<double> *share = plan.traffic.empty() ? nullptr : &plan.traffic.front().share;
  for (const Stage &st : plan.stages) {
    int64_t first = -1;
    double most = -1;
    for (const Device &d : plan.devices)
      if (d.coords[Axis::PP] == st.index && d.coords[Axis::DP] == 0 && d.coords[Axis::TP] == 0) {
        int64_t p = d.coords[Axis::EP];
        double s = share && p < int64_t(share->size()) ? (*share)[size_t(p)] : 0;
        if (s > most + 1e-12) {
          most = s;
          first = d.rank;
        }
      }
    if (first < 0)
      continue;
    out.push_back(first);
    std::set<int64_t> nodes = {plan.devices[first].node};
    for (const ProcessGroup *g : plan.groupsOf(GroupKind::EP))
      if (llvm::is_contained(g->ranks, first))
        for (int64_t r : g->ranks)
          if (nodes.insert(plan.devices[r].node).second)
            out.push_back(r);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.size() > limit)
    out.resize(limit);
  return out;
}

void moec::writeTrace(const Plan &plan, llvm::ArrayRef<int64_t> ranks, llvm::raw_ostream &os) {
  TraceWriter(plan, os).write(ranks);
  os << "\n";
}
