//===- Schedule.cpp - Two micro-batches overlapped, op by op ---------------===//
//
// Algorithm (moec/Transforms/Schedule.h states the rules):
//   1. In each layer's program the communications, in program order, are numbered 0..n-1. An op's release is one
//      past the last communication it depends on (transitively), 0 for none; its deadline the first
//      communication that needs it (n when none does). An op whose release is its deadline k runs in stage k,
//      before communication k is issued; one with room runs in the shadow of a communication: the last before
//      its deadline (Shadow::Latest) or the first after its release (Shadow::Earliest). A layer's last stage
//      continues into the next layer's first, so a micro-batch's stages are cut at communications only.
//   2. The stages run in turn on one compute stream, micro-batch 0's stage j then micro-batch 1's, and the
//      transfers on one communication stream in issue order; step 2 of the header's rules gives each start.
//
//===----------------------------------------------------------------------===//
#include "moec/Transforms/Schedule.h"

#include <algorithm>

using namespace moec;
using namespace moec::ir;

namespace {

bool isCommunication(const Op &op) { return classify(op.kind) == OpClass::Communication; }

/// One stage of a micro-batch: ops as (layer, op) pairs.
struct RunStage {
  std::vector<std::pair<size_t, size_t>> main, shadow;
  bool hasComm = false;
  std::pair<size_t, size_t> comm;
};

/// Step 1 for one program: each op's release and deadline.
void stagesOf(const Program &p, std::vector<int> &release, std::vector<int> &deadline, int &comms) {
  size_t n = p.ops.size();
  std::vector<int> index(n, -1);
  comms = 0;
  for (size_t i = 0; i < n; ++i)
    if (isCommunication(p.ops[i]))
      index[i] = comms++;
  release.assign(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (unsigned in : p.ops[i].inputs) {
      unsigned producer = p.tensors[in].producer;
      if (producer == ~0u || producer >= n)
        continue;
      release[i] = std::max(release[i], index[producer] >= 0 ? index[producer] + 1 : release[producer]);
    }
  deadline.assign(n, comms);
  for (size_t k = n; k-- > 0;) {
    if (index[k] >= 0)
      deadline[k] = index[k];
    for (unsigned in : p.ops[k].inputs) {
      unsigned producer = p.tensors[in].producer;
      if (producer == ~0u || producer >= n || index[producer] >= 0)
        continue;
      deadline[producer] = std::min(deadline[producer], index[k] >= 0 ? index[k] : deadline[k]);
    }
  }
}

} // namespace

OverlapSchedule moec::scheduleTwoMicroBatches(llvm::ArrayRef<ScheduledLayer> layers, double commSms,
                                              double efficiency, Shadow shadow) {
  OverlapSchedule out;
  out.start.resize(layers.size());
  out.seconds.resize(layers.size());
  out.layerEnd.assign(layers.size(), 0.0);

  std::vector<RunStage> stages(1);
  for (size_t l = 0; l < layers.size(); ++l) {
    const Program &p = *layers[l].program;
    size_t n = p.ops.size();
    out.start[l].assign(n, {0.0, 0.0});
    out.seconds[l].assign(n, 0.0);
    bool communicates = false;
    for (size_t i = 0; i < n; ++i) {
      double s = i < layers[l].seconds.size() ? layers[l].seconds[i] : p.ops[i].seconds;
      out.seconds[l][i] = s;
      communicates |= isCommunication(p.ops[i]) && s > 0;
    }
    // While the other micro-batch's transfers run, the SMs they hold slow compute down.
    if (communicates && commSms > 0 && commSms < 1)
      for (size_t i = 0; i < n; ++i)
        if (!isCommunication(p.ops[i]))
          out.seconds[l][i] /= 1.0 - commSms;

    std::vector<int> release, deadline;
    int comms = 0;
    stagesOf(p, release, deadline, comms);
    std::vector<std::pair<size_t, size_t>> commOps;
    for (size_t i = 0; i < n; ++i)
      if (isCommunication(p.ops[i]))
        commOps.push_back({l, i});
    for (int k = 0; k <= comms; ++k) {
      RunStage &st = stages.back();
      for (size_t i = 0; i < n; ++i)
        if (!isCommunication(p.ops[i]) && release[i] == k && deadline[i] == k)
          st.main.push_back({l, i});
      if (k == comms)
        break;
      st.hasComm = true;
      st.comm = commOps[size_t(k)];
      for (size_t i = 0; i < n; ++i)
        if (!isCommunication(p.ops[i]) && release[i] < deadline[i] &&
            (shadow == Shadow::Latest ? deadline[i] - 1 : release[i]) == k)
          st.shadow.push_back({l, i});
      stages.emplace_back();
    }
  }

  double computeFree = 0, commFree = 0;
  double arrived[2] = {0, 0};
  auto run = [&](const std::vector<std::pair<size_t, size_t>> &ops, int mb, double t) {
    for (auto [l, i] : ops) {
      out.start[l][i][size_t(mb)] = t;
      t += out.seconds[l][i];
      out.layerEnd[l] = std::max(out.layerEnd[l], t);
    }
    return t;
  };
  for (const RunStage &st : stages)
    for (int mb = 0; mb < 2; ++mb) {
      double t = arrived[mb];
      if (!st.main.empty()) {
        t = run(st.main, mb, std::max(computeFree, arrived[mb]));
        computeFree = t;
      }
      if (st.hasComm) {
        auto [l, i] = st.comm;
        double d = out.seconds[l][i];
        double begin = std::max(t, commFree);
        out.start[l][i][size_t(mb)] = begin;
        commFree = begin + d;
        arrived[mb] = commFree;
        out.layerEnd[l] = std::max(out.layerEnd[l], commFree);
        double hold = (1.0 - efficiency) * d;
        if (hold > 0)
          computeFree = std::max(computeFree, begin) + hold;
      }
      if (!st.shadow.empty())
        computeFree = run(st.shadow, mb, std::max(computeFree, t));
    }
  for (size_t l = 0; l < layers.size(); ++l) {
    if (l > 0)
      out.layerEnd[l] = std::max(out.layerEnd[l], out.layerEnd[l - 1]);
    out.end = std::max(out.end, out.layerEnd[l]);
  }
  return out;
}

std::vector<ScheduledLayer> moec::stageLayers(const Plan &plan, const CostResult &cost, size_t stage) {
  std::vector<ScheduledLayer> out;
  size_t moeIndex = 0;
  for (size_t l = 0; l < plan.layerKinds.size(); ++l) {
    bool dense = plan.layerKinds[l] == LayerKind::Dense;
    size_t index = dense ? 0 : moeIndex++;
    if (size_t(plan.layerStage[l]) != stage || (!dense && index >= cost.moe.size()))
      continue;
    const LayerTime &lt = dense ? cost.dense : cost.moe[index];
    out.push_back({dense ? &plan.dense : &plan.moe, lt.opSeconds});
  }
  return out;
}

double moec::steadyStateLayerTime(const ScheduledLayer &layer, double commSms, double efficiency, Shadow shadow) {
  // What each further layer adds to the schedule's end, once the first layers' transient has passed.
  constexpr size_t kWarm = 8, kMeasured = 8;
  std::vector<ScheduledLayer> layers(kWarm + kMeasured, layer);
  double all = scheduleTwoMicroBatches(layers, commSms, efficiency, shadow).end;
  layers.resize(kWarm);
  double warm = scheduleTwoMicroBatches(layers, commSms, efficiency, shadow).end;
  return (all - warm) / double(kMeasured) / 2.0;
}
