//===- Schedule.cpp - Two micro-batches overlapped, op by op ---------------===//
//
// Algorithm (moec/Transforms/Schedule.h states the rules):
//   1. In each layer's program the communications, in program order, are numbered 0..n-1. An op's release is one
//      past the last communication it depends on (transitively), 0 for none; its deadline the first
//      communication that needs it (n when none does). An op whose release is its deadline k is main work of
//      step k, before communication k is issued; one with room runs in the shadow of a communication: the last
//      before its deadline (prefill) or the first after its release (decode).
//   2. Prefill: a micro-batch's stage k waits for its communication k - 1, runs step k's main work, issues
//      communication k and runs its shadow; a layer's last stage continues into the next layer's first. The
//      stages run in turn on one compute stream, micro-batch 0's stage j then micro-batch 1's.
//   3. Decode: the stages are the five of SGLang's decode strategy, each a list of items (an op, a transfer's
//      issue, a wait for its arrival) that run in order on the compute stream; micro-batch 1 runs two stages
//      behind micro-batch 0, and a wait holds the stream until the transfer has arrived.
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

/// Step 1 of one program: its ops' release and deadline and its communications, in program order.
struct ProgramSteps {
  const Program *program = nullptr;
  std::vector<int> release, deadline;
  std::vector<size_t> comms;
};

/// Step 1 for program \p p.
ProgramSteps stepsOf(const Program &p) {
  ProgramSteps steps;
  steps.program = &p;
  std::vector<int> &release = steps.release, &deadline = steps.deadline;
  size_t n = p.ops.size();
  std::vector<int> index(n, -1);
  for (size_t i = 0; i < n; ++i)
    if (isCommunication(p.ops[i])) {
      index[i] = int(steps.comms.size());
      steps.comms.push_back(i);
    }
  int comms = int(steps.comms.size());
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
  return steps;
}

/// The schedule's op times (compute stretched by the SMs communication holds in a layer that communicates) and
/// step 1 for each distinct program the layers run (a stage's MoE layers share one).
struct Prepared {
  std::vector<ProgramSteps> programs;
  std::vector<size_t> stepsOf; ///< [layer]: its program's index in `programs`
  const ProgramSteps &of(size_t layer) const { return programs[stepsOf[layer]]; }
};

Prepared prepare(llvm::ArrayRef<ScheduledLayer> layers, double commSms, OverlapSchedule &out) {
  Prepared pr;
  out.start.resize(layers.size());
  out.seconds.resize(layers.size());
  out.layerEnd.assign(layers.size(), 0.0);
  pr.stepsOf.resize(layers.size());
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
    size_t k = 0;
    while (k < pr.programs.size() && pr.programs[k].program != &p)
      ++k;
    if (k == pr.programs.size())
      pr.programs.push_back(stepsOf(p));
    pr.stepsOf[l] = k;
  }
  return pr;
}

void finish(OverlapSchedule &out) {
  for (size_t l = 0; l < out.layerEnd.size(); ++l) {
    if (l > 0)
      out.layerEnd[l] = std::max(out.layerEnd[l], out.layerEnd[l - 1]);
    out.end = std::max(out.end, out.layerEnd[l]);
  }
}

/// Step 2: prefill's order.
void schedulePrefill(llvm::ArrayRef<ScheduledLayer> layers, const Prepared &pr, double efficiency,
                     OverlapSchedule &out) {
  std::vector<RunStage> stages(1);
  for (size_t l = 0; l < layers.size(); ++l) {
    const Program &p = *layers[l].program;
    size_t n = p.ops.size();
    const ProgramSteps &steps = pr.of(l);
    const std::vector<int> &release = steps.release, &deadline = steps.deadline;
    int comms = int(steps.comms.size());
    for (int k = 0; k <= comms; ++k) {
      RunStage &st = stages.back();
      for (size_t i = 0; i < n; ++i)
        if (!isCommunication(p.ops[i]) && release[i] == k && deadline[i] == k)
          st.main.push_back({l, i});
      if (k == comms)
        break;
      st.hasComm = true;
      st.comm = {l, steps.comms[size_t(k)]};
      for (size_t i = 0; i < n; ++i)
        if (!isCommunication(p.ops[i]) && release[i] < deadline[i] && deadline[i] - 1 == k)
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
}

/// One item of a decode stage.
struct Item {
  enum Kind { Compute, Issue, Wait } kind;
  size_t layer, op;
};

/// Step 3: decode's order. SGLang's decode strategy for DeepSeek (python/sglang/srt/operations_strategy.py,
/// `_compute_moe_deepseek_blog_decode`, tbo_delta_stages = 2) yields five times a layer:
///   [attention's preparation] | [attention core, router] | [dispatch_a, shared experts] |
///   [dispatch_b, experts, combine_a] | [combine_b] | [output, into the next layer's preparation]
/// as DeepSeek's decode splits attention into two steps of a five-stage pipeline (open-infra-index, day 6). Here
/// the attention kernel (the score product) begins the second stage; every communication after the first is
/// issued at the end of the stage that waits for the one before, and the last wait is a stage of its own.
void scheduleDecode(llvm::ArrayRef<ScheduledLayer> layers, const Prepared &pr, double efficiency,
                    OverlapSchedule &out) {
  constexpr int kDelta = 2;
  std::vector<Item> items;                            // every stage's items, stage after stage
  std::vector<size_t> stageBegin = {0};               // where each stage's items begin in `items`
  std::vector<size_t> opOffset(layers.size() + 1, 0); // a layer's first op in the flat arrival times
  for (size_t l = 0; l < layers.size(); ++l) {
    const Program &p = *layers[l].program;
    size_t n = p.ops.size();
    opOffset[l + 1] = opOffset[l] + n;
    const ProgramSteps &steps = pr.of(l);
    const std::vector<int> &release = steps.release, &deadline = steps.deadline;
    const std::vector<size_t> &comms = steps.comms;
    auto isMain = [&](size_t i, int k) { return !isCommunication(p.ops[i]) && release[i] == k && deadline[i] == k; };
    auto cut = [&] { stageBegin.push_back(items.size()); };
    auto addMain = [&](int k, size_t from, size_t to) {
      for (size_t i = from; i < to; ++i)
        if (isMain(i, k))
          items.push_back({Item::Compute, l, i});
    };
    auto addShadow = [&](int k) {
      for (size_t i = 0; i < n; ++i)
        if (!isCommunication(p.ops[i]) && release[i] < deadline[i] && release[i] == k)
          items.push_back({Item::Compute, l, i});
    };
    size_t kernel = n;
    for (size_t i = 0; i < n && kernel == n; ++i)
      if (p.ops[i].role == OpRole::Scores && isMain(i, 0))
        kernel = i;
    addMain(0, 0, kernel);
    cut();
    addMain(0, kernel, n);
    if (comms.empty())
      continue;
    cut();
    items.push_back({Item::Issue, l, comms.front()});
    addShadow(0);
    for (size_t k = 1; k < comms.size(); ++k) {
      cut();
      items.push_back({Item::Wait, l, comms[k - 1]});
      addMain(int(k), 0, n);
      items.push_back({Item::Issue, l, comms[k]});
      addShadow(int(k));
    }
    cut();
    items.push_back({Item::Wait, l, comms.back()});
    cut();
    addMain(int(comms.size()), 0, n);
  }
  stageBegin.push_back(items.size());

  std::vector<std::array<double, 2>> arrived(opOffset.back(), {0.0, 0.0});
  double computeFree = 0, commFree = 0;
  int count = int(stageBegin.size()) - 1;
  for (int r = 0; r < count + kDelta; ++r)
    for (int mb = 0; mb < 2; ++mb) {
      int k = r - (mb == 1 ? kDelta : 0);
      if (k < 0 || k >= count)
        continue;
      double t = computeFree;
      for (size_t j = stageBegin[size_t(k)]; j < stageBegin[size_t(k) + 1]; ++j) {
        const Item &it = items[j];
        double d = out.seconds[it.layer][it.op];
        double &arrival = arrived[opOffset[it.layer] + it.op][size_t(mb)];
        if (it.kind == Item::Compute) {
          out.start[it.layer][it.op][size_t(mb)] = t;
          t += d;
          out.layerEnd[it.layer] = std::max(out.layerEnd[it.layer], t);
        } else if (it.kind == Item::Issue) {
          double begin = std::max(t, commFree);
          out.start[it.layer][it.op][size_t(mb)] = begin;
          commFree = begin + d;
          arrival = commFree;
          out.layerEnd[it.layer] = std::max(out.layerEnd[it.layer], commFree);
          double hold = (1.0 - efficiency) * d;
          if (hold > 0)
            t = std::max(t, begin) + hold;
        } else {
          t = std::max(t, arrival);
        }
      }
      computeFree = t;
    }
}

} // namespace

OverlapSchedule moec::scheduleTwoMicroBatches(llvm::ArrayRef<ScheduledLayer> layers, double commSms, double efficiency,
                                              OverlapOrder order) {
  OverlapSchedule out;
  Prepared pr = prepare(layers, commSms, out);
  if (order == OverlapOrder::Decode)
    scheduleDecode(layers, pr, efficiency, out);
  else
    schedulePrefill(layers, pr, efficiency, out);
  finish(out);
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

SingleBatchSchedule moec::scheduleSingleBatch(const ScheduledLayer &layer, double combineSms, bool downGemm) {
  const Program &p = *layer.program;
  size_t n = p.ops.size();
  SingleBatchSchedule out;
  out.start.assign(n, 0.0);
  out.seconds.resize(n);
  for (size_t i = 0; i < n; ++i)
    out.seconds[i] = i < layer.seconds.size() ? layer.seconds[i] : p.ops[i].seconds;
  size_t combine = n;
  for (size_t i = 0; i < n && combine == n; ++i)
    if (p.ops[i].kind == OpKind::Combine)
      combine = i;
  double slower = combineSms > 0 && combineSms < 1 ? 1.0 / (1.0 - combineSms) : 1.0;
  double t = 0;
  auto run = [&](size_t i, double stretch) {
    out.seconds[i] *= stretch;
    out.start[i] = t;
    t += out.seconds[i];
  };
  if (combine == n) { // nothing to overlap: one op after another
    for (size_t i = 0; i < n; ++i)
      run(i, 1.0);
    out.end = t;
    return out;
  }
  // The down GEMM: the routed-expert projection the combine reads.
  size_t down = n;
  if (downGemm && !p.ops[combine].inputs.empty()) {
    unsigned producer = p.tensors[p.ops[combine].inputs.front()].producer;
    if (producer < n && p.ops[producer].kind == OpKind::Linear && p.ops[producer].site == OpSite::Expert)
      down = producer;
  }
  double combineStart = -1;
  for (size_t i = 0; i < combine; ++i) {
    if (i == down)
      combineStart = t;
    run(i, i == down ? slower : 1.0);
  }
  if (combineStart < 0)
    combineStart = t;
  double combineEnd = std::max(combineStart + out.seconds[combine], t);
  out.start[combine] = combineStart;
  out.seconds[combine] = combineEnd - combineStart;
  // The ops after the combine, split by whether they read it (transitively).
  std::vector<bool> reads(n, false);
  reads[combine] = true;
  for (size_t i = combine + 1; i < n; ++i)
    for (unsigned in : p.ops[i].inputs) {
      unsigned producer = p.tensors[in].producer;
      if (producer < n && reads[producer])
        reads[i] = true;
    }
  for (size_t i = combine + 1; i < n; ++i)
    if (!reads[i])
      run(i, t < combineEnd ? slower : 1.0);
  t = std::max(t, combineEnd);
  for (size_t i = combine + 1; i < n; ++i)
    if (reads[i])
      run(i, 1.0);
  out.end = t;
  return out;
}

double moec::steadyStateLayerTime(const ScheduledLayer &layer, double commSms, double efficiency, OverlapOrder order) {
  // What each further layer adds to the schedule's end, once the first layers' transient has passed.
  constexpr size_t kWarm = 8, kMeasured = 8;
  std::vector<ScheduledLayer> layers(kWarm + kMeasured, layer);
  double all = scheduleTwoMicroBatches(layers, commSms, efficiency, order).end;
  layers.resize(kWarm);
  double warm = scheduleTwoMicroBatches(layers, commSms, efficiency, order).end;
  return (all - warm) / double(kMeasured) / 2.0;
}
