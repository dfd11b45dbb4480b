//===- Report.cpp - The deployment report (-emit=report) ------------------===//
//
// Every figure here is computed by a pass (placement, traffic, cost model, memory check) or checked by the
// verifier; the report only lays them out. Tables are aligned with spaces so that any terminal shows them.
//
//===----------------------------------------------------------------------===//
#include "moec/Target/Report.h"
#include "moec/Support/Strings.h"
#include "moec/Support/Units.h"
#include "moec/Transforms/Physics.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/SourceMgr.h"

#include "fmt/format.h"

using namespace moec;
using namespace moec::ir;

namespace {

/// The MoE layer traffic the report shows: with measured loads every layer has its own, and the heaviest dispatch
/// stands for them (the first, when routing is uniform and all are alike).
const LayerTraffic &heaviestTraffic(const Plan &plan) {
  const LayerTraffic *heaviest = &plan.traffic.front();
  for (const LayerTraffic &l : plan.traffic)
    if (l.dispatch.send > heaviest->dispatch.send)
      heaviest = &l;
  return *heaviest;
}

std::string bytes(double b) { return formatQuantity(b, Dim::Bytes); }
std::string seconds(double s) { return formatQuantity(s, Dim::Time); }
std::string pct(double f) { return fmt::format("{:.1f}%", 100.0 * f); }
std::string billions(double n) { return formatNumber(n / 1e9, 4) + "B"; }


/// Keys one query attends to on average: the context in decode, half the sequence (causal) in prefill.
double attentionKeys(const Plan &plan) {
  const WorkloadSpec &w = plan.workload();
  return w.phase == Phase::Decode ? double(w.context) : double(w.seq) / 2.0;
}
double flopsPerToken(const Plan &plan) {
  return plan.model().flopsPerToken(attentionKeys(plan), plan.workload().phase == Phase::Decode);
}

struct Check {
  std::string name, value;
  bool ok;
};

/// The facts that replace the hand-made summary's ticks.
std::vector<Check> checks(const Plan &plan) {
  const StrategySpec &s = plan.strategy();
  std::vector<Check> out;
  int64_t most = plan.maxSlotsPerGpu();
  double mean = double(plan.model().moe.experts + s.redundantExperts) / double(s.ep);
  out.push_back({"expert parallelism", "ep = " + std::to_string(s.ep) + ", " +
                                           plural(plan.deploy->derived.epGroupNodes, "node") + " per EP group",
                 true});
  out.push_back({"experts per GPU per MoE layer", "max " + std::to_string(most) + ", mean " + formatNumber(mean, 3),
                 true});
  bool allPlaced = plan.placed && plan.numMoeLayers() == plan.model().moeLayers();
  out.push_back({"every expert placed", allPlaced ? "yes, in all " + std::to_string(plan.numMoeLayers()) +
                                                        " MoE layers"
                                                  : "no",
                 allPlaced});
  out.push_back({"acyclic, every op on a GPU, shapes consistent", "verified", true});
  out.push_back({"cross-device edges through communication", plan.communicated ? "verified" : "not checked",
                 plan.communicated});
  for (const RequireSpec &req : s.requires_)
    out.push_back({"require " + req.text, "holds", true});
  if (plan.memory) {
    const MemoryResult &m = *plan.memory;
    out.push_back({"fits in GPU memory", bytes(m.total()) + " of " + bytes(m.capacity) + " (" +
                                             pct(m.total() / m.capacity) + ")",
                   m.total() <= m.capacity});
  }
  return out;
}

} // namespace

void moec::printTable(llvm::raw_ostream &os, const std::vector<std::pair<std::string, std::string>> &rows) {
  size_t width = 0;
  for (const auto &[k, v] : rows)
    width = std::max(width, k.size());
  for (const auto &[k, v] : rows)
    os << "  " << k << std::string(width - k.size() + 2, ' ') << v << "\n";
}

/// How the report's forecast heading names \p overlap.
static const char *overlapText(Overlap overlap) {
  switch (overlap) {
  case Overlap::TwoMicroBatch:
    return "two micro-batches overlapped";
  case Overlap::SingleBatch:
    return "single-batch overlap: combine beside the shared experts";
  case Overlap::SingleBatchDownGemm:
    return "single-batch overlap: combine beside the down GEMM and the shared experts";
  case Overlap::None:
    break;
  }
  return "no overlap";
}

void moec::printReport(const Plan &plan, const DiagEngine &diags, llvm::raw_ostream &os) {
  const DeploySpec &d = *plan.deploy;
  const ModelSpec &m = plan.model();
  const ClusterSpec &c = plan.cluster();
  const StrategySpec &s = plan.strategy();
  const WorkloadSpec &w = plan.workload();
  os << "deploy " << d.name << ": " << m.name << " (" << m.layers << " layers, " << m.moe.experts
     << " experts, top-" << m.moe.topK << ", " << m.describePrecision() << ") on " << c.nodes << " x "
     << c.gpusPerNode << " " << c.gpu->name << ", " << spell(w.phase) << " micro-batch " << w.microBatch
     << (w.phase == Phase::Prefill ? " x " + std::to_string(w.seq) + " tokens" : ", context " + std::to_string(w.context))
     << "\n\n";

  ModelSpec::Parameters params = m.parameters();
  os << "model\n";
  printTable(os, {{"parameters", billions(params.total) + " total, " + billions(params.active) + " active per token" +
                               (params.embedding > 0 ? " (both with " + billions(params.embedding) +
                                                           (m.tieEmbeddings ? " of tied embedding)"
                                                                            : " of embedding and LM head)")
                                                     : std::string())},
             {"forward FLOPs per token", formatNumber(flopsPerToken(plan) / 1e9, 4) + " GFLOP at " +
                                             formatNumber(attentionKeys(plan), 6) + " keys per query"}});
  os << "\n";

  os << "parallel layout\n";
  printTable(os, {{"world", std::to_string(plan.devices.size()) + " = " + s.describeGrid() + " (order " +
                           s.orderString() + ")"},
             {"EP groups", std::to_string(plan.groupsOf(GroupKind::EP).size()) + " of " + std::to_string(s.ep) +
                               " ranks, first " + formatRanks(plan.group(GroupKind::EP, 0).ranks)},
             {"attention data parallel", plural(d.derived.attentionDp, "group") + " of " + plural(s.tp, "GPU")},
             {"pipeline", std::to_string(s.pp) + (s.pp == 1 ? " stage of " : " stages of up to ") +
                              std::to_string(d.derived.layersPerStage) + " layers"},
             {"placement", spell(plan.placement.policy).str() + ": " + plan.placement.explanation}});

  os << "\nvalidation\n";
  size_t width = 0;
  std::vector<Check> cs = checks(plan);
  for (const Check &ch : cs)
    width = std::max(width, ch.name.size());
  for (const Check &ch : cs)
    os << "  [" << (ch.ok ? "ok" : "!!") << "] " << ch.name << std::string(width - ch.name.size() + 2, ' ')
       << ch.value << "\n";

  if (plan.memory) {
    const MemoryResult &r = *plan.memory;
    const Device &dev = plan.devices[r.rank];
    os << "\nmemory of GPU " << dev.rank << " (node " << dev.node << ", stage " << r.stage << "), the fullest\n";
    printTable(os, {{"attention weights", bytes(r.attention)},
               {"dense FFN weights", bytes(r.denseFfn)},
               {"router weights", bytes(r.router)},
               {"shared experts", bytes(r.sharedExperts)},
               {"routed experts", bytes(r.routedExperts) + " (" + std::to_string(plan.maxSlotsPerGpu()) +
                                      " per MoE layer)"},
               {"embedding and LM head", bytes(r.embedding)},
               {"KV cache", bytes(r.kvCache)},
               {"activations", bytes(r.activations) + " (attention kernel " + spell(w.attentionKernel).str() +
                                   "; the naive one materialises " + bytes(r.scoresTensor) + " of scores)"},
               {"communication buffers", bytes(r.commBuffers)},
               {"reserved", bytes(r.reserved)},
               {"total", bytes(r.total()) + " of " + bytes(r.capacity) + " (" + pct(r.total() / r.capacity) + ")" +
                             (r.total() > r.capacity ? ": DOES NOT FIT" : "")}});
  }

  if (plan.cost) {
    const CostResult &cr = *plan.cost;
    bool calibrated = !w.mfu || !w.bandwidthEfficiency;
    os << "\nforecast per micro-batch (" << overlapText(w.overlap) << ", "
       << (calibrated ? "kernels calibrated for " + spell(c.gpu->arch).str() + " GPUs" : std::string("mfu given"))
       << (calibrated && ownAttentionCalibration(plan) ? ", attention for " + spell(w.attentionKernel).str()
                                                        : std::string())
       << (w.mfu ? ", mfu " + pct(*w.mfu) : std::string())
       << (w.bandwidthEfficiency ? ", bandwidth " + pct(*w.bandwidthEfficiency) : std::string()) << ")\n";
    std::vector<std::pair<std::string, std::string>> rows;
    auto layer = [&](const std::string &name, const LayerTime &t) {
      rows.push_back({name, "compute " + seconds(t.compute) + ", communication " + seconds(t.communication) +
                                " (dispatch " + seconds(t.dispatch) + ", combine " + seconds(t.combine) +
                                (t.allReduce > 0 ? ", all-reduce " + seconds(t.allReduce) : "") +
                                (t.allGather > 0 ? ", all-gather " + seconds(t.allGather) : "") + "), exposed " +
                                seconds(t.exposed) + ", total " + seconds(t.total)});
    };
    if (!plan.dense.ops.empty())
      layer("dense layer", cr.dense);
    if (!cr.moe.empty()) {
      size_t worst = 0;
      for (size_t i = 0; i < cr.moe.size(); ++i)
        if (cr.moe[i].total > cr.moe[worst].total)
          worst = i;
      layer("MoE layer (slowest)", cr.moe[worst]);
    }
    if (cr.prologue + cr.epilogue > 0)
      rows.push_back({"embedding and LM head", seconds(cr.prologue + cr.epilogue)});
    if (cr.pipeline > 0)
      rows.push_back({"stage boundaries", seconds(cr.pipeline)});
    const CostResult *bound = plan.bound ? &*plan.bound : nullptr;
    auto withBound = [&](double forecast, double b) {
      return seconds(forecast) + (bound ? " (roofline bound " + seconds(b) + ")" : std::string());
    };
    if (s.pp > 1)
      rows.push_back({"pipeline", std::to_string(cr.pipelineMicroBatches) + " micro-batches in flight over " +
                                      std::to_string(s.pp) + " stages: a " +
                                      (w.phase == Phase::Prefill ? "step" : "decode cycle") + " of " +
                                      seconds(cr.stepTime)});
    rows.push_back({w.phase == Phase::Prefill ? "TTFT (prefill of the micro-batch" +
                                                    std::string(cr.microBatches > 1 ? "es)" : ")")
                                              : "time per output token",
                    withBound(cr.latency, bound ? bound->latency : 0)});
    rows.push_back({"throughput", fmt::format("{:.0f} tokens/s in the cluster, {:.1f} per GPU", cr.tokensPerSecond,
                                              cr.tokensPerSecondPerGpu) +
                                      (bound ? fmt::format(" (roofline bound {:.1f} per GPU)",
                                                           bound->tokensPerSecondPerGpu)
                                             : std::string())});
    rows.push_back({"achieved MFU", pct(cr.achievedMfu) + " of the " + formatQuantity(c.gpu->peakFor(m.parts.experts),
                                                                                         Dim::FlopRate) +
                                        " peak"});
    if (!cr.dominant.empty())
      rows.push_back({"dominant term", cr.dominant + (bound && !bound->dominant.empty() && bound->dominant != cr.dominant
                                                          ? " (in the bound: " + bound->dominant + ")"
                                                          : std::string())});
    if (plan.memory && w.phase == Phase::Decode) {
      int64_t most = plan.memory->largestBatch(plan.workload().microBatch);
      rows.push_back({"KV capacity", fmt::format("micro_batch up to {} per attention group ({} sequences per GPU)",
                                                 most, formatNumber(double(most) / double(s.tp), 4))});
    }
    printTable(os, rows);
    if (!cr.criticalPathMoe.empty()) {
      os << "  critical path of a MoE layer:";
      for (const std::string &op : cr.criticalPathMoe)
        os << " " << op;
      os << "\n";
    }
  }

  if (!plan.traffic.empty()) {
    bool measured = !plan.placement.layers.empty() && !plan.placement.layers.front().load.empty();
    const LayerTraffic &t = heaviestTraffic(plan);
    if (measured)
      os << "\ncommunication per MoE layer (busiest rank; routing by the measured loads, layer " << t.layer
         << ", the heaviest of " << plan.traffic.size() << ")\n";
    else
      os << "\ncommunication per MoE layer (busiest rank, uniform routing)\n";
    auto direction = [&](const LinkBytes &b, double elementBytes) {
      return "network " + bytes(b.network) + ", NVLink " + bytes(b.nvlink) + ", received " + bytes(b.recv) + " (" +
             formatNumber(elementBytes, 3) + " B per element)";
    };
    printTable(os, {{"dispatch", direction(t.dispatch, plan.sizes.dispatchBytesPerElement)},
               {"combine", direction(t.combine, plan.sizes.combineBytesPerElement)},
               {"kernels", plan.sizes.dispatchMode == DispatchMode::Normal
                               ? "normal: a token crosses the network once per remote node, then NVLink"
                               : "low-latency: every token-expert pair sent to its GPU"},
               {"nodes a token reaches", fmt::format("{:.2f} of {} ({:.2f} remote){}", t.expectedNodes,
                                                     d.derived.epGroupNodes, t.expectedRemoteNodes, [&] {
                                                       // The estimate assumes uniform routing among the experts;
                                                       // sampled routes, when given, measure it.
                                                       for (const PlacementQuality &q : plan.placement.quality)
                                                         if (q.layer == t.layer && q.remoteNodes >= 0)
                                                           return fmt::format(
                                                               " with uniform routing; {:.2f} "
                                                               "remote on the sampled routes",
                                                               q.remoteNodes);
                                                       return std::string();
                                                     }())}});
  }

  if (!plan.placement.quality.empty()) {
    const auto &quality = plan.placement.quality;
    double after = 0, before = 0, bound = 0, remote = 0, remoteBefore = 0;
    bool routes = quality.front().remoteNodes >= 0;
    for (const PlacementQuality &q : quality) {
      after += q.balancedness;
      before += q.contiguous;
      bound += q.bound;
      remote += q.remoteNodes;
      remoteBefore += q.contiguousRemote;
    }
    double n = double(quality.size());
    os << "\nplacement (balanced on measured loads; balancedness = mean GPU load / max GPU load)\n";
    std::vector<std::pair<std::string, std::string>> rows = {
        {"balancedness", fmt::format("{:.4f} on average (contiguous {:.4f}, bound {:.4f})", after / n, before / n,
                                     bound / n)}};
    if (routes)
      rows.push_back({"remote nodes per token", fmt::format("{:.2f} on the routes file (contiguous {:.2f})",
                                                            remote / n, remoteBefore / n)});
    printTable(os, rows);
    os << "  per layer (layer: balanced / contiguous / bound):";
    for (size_t i = 0; i < quality.size(); ++i)
      os << (i % 4 == 0 ? "\n    " : "   ")
         << fmt::format("{:>3}: {:.4f} / {:.4f} / {:.4f}", quality[i].layer, quality[i].balancedness,
                        quality[i].contiguous, quality[i].bound);
    os << "\n";
  }

  std::vector<const Diagnostic *> warnings;
  for (const Diagnostic &diag : diags.getDiagnostics())
    if (diag.severity == Severity::Warning)
      warnings.push_back(&diag);
  os << "\nwarnings: " << (warnings.empty() ? "none" : std::to_string(warnings.size())) << "\n";
  for (const Diagnostic *diag : warnings)
    os << "  " << diag->message << "\n";
}

void moec::printReportJson(const Plan &plan, const DiagEngine &diags, llvm::raw_ostream &os) {
  const DeploySpec &d = *plan.deploy;
  const StrategySpec &s = plan.strategy();
  llvm::json::OStream j(os, 2);
  j.object([&] {
    j.attribute("deploy", d.name);
    j.attributeObject("model", [&] {
      ModelSpec::Parameters params = plan.model().parameters();
      j.attribute("name", plan.model().name);
      j.attributeObject("parameters", [&] {
        j.attribute("total", params.total);
        j.attribute("active", params.active);
        j.attribute("embedding", params.embedding);
      });
      j.attribute("flopsPerToken", flopsPerToken(plan));
    });
    j.attribute("cluster", plan.cluster().name);
    j.attributeObject("parallel", [&] {
      j.attribute("world", int64_t(plan.devices.size()));
      j.attribute("pp", s.pp);
      j.attribute("dp", s.dp);
      j.attribute("ep", s.ep);
      j.attribute("tp", s.tp);
      if (s.folded())
        j.attribute("etp", s.etp());
      j.attribute("order", s.orderString());
      j.attribute("epGroupNodes", d.derived.epGroupNodes);
      j.attribute("attentionDp", d.derived.attentionDp);
    });
    j.attributeArray("validation", [&] {
      for (const Check &c : checks(plan))
        j.object([&] {
          j.attribute("check", c.name);
          j.attribute("value", c.value);
          j.attribute("ok", c.ok);
        });
    });
    if (plan.memory) {
      const MemoryResult &r = *plan.memory;
      j.attributeObject("memory", [&] {
        j.attribute("rank", r.rank);
        j.attribute("stage", r.stage);
        j.attribute("attention", r.attention);
        j.attribute("denseFfn", r.denseFfn);
        j.attribute("router", r.router);
        j.attribute("sharedExperts", r.sharedExperts);
        j.attribute("routedExperts", r.routedExperts);
        j.attribute("embedding", r.embedding);
        j.attribute("kvCache", r.kvCache);
        j.attribute("activations", r.activations);
        j.attribute("communicationBuffers", r.commBuffers);
        j.attribute("reserved", r.reserved);
        j.attribute("total", r.total());
        j.attribute("capacity", r.capacity);
        j.attribute("fits", r.total() <= r.capacity);
      });
    }
    if (plan.cost) {
      auto layer = [&](const LayerTime &t) {
        j.object([&] {
          j.attribute("compute", t.compute);
          j.attribute("communication", t.communication);
          j.attribute("dispatch", t.dispatch);
          j.attribute("combine", t.combine);
          j.attribute("allReduce", t.allReduce);
          if (plan.strategy().folded())
            j.attribute("allGather", t.allGather);
          j.attribute("exposed", t.exposed);
          j.attribute("total", t.total);
        });
      };
      bool decode = plan.workload().phase == Phase::Decode;
      auto times = [&](const CostResult &c) {
        j.attributeBegin("denseLayer");
        layer(c.dense);
        j.attributeEnd();
        j.attributeArray("moeLayers", [&] {
          for (const LayerTime &t : c.moe)
            layer(t);
        });
        j.attribute("stepSeconds", c.stepTime);
        j.attribute(decode ? "tpotSeconds" : "ttftSeconds", c.latency);
        j.attribute("microBatches", c.microBatches);
        j.attribute("pipelineMicroBatches", c.pipelineMicroBatches);
        j.attribute("tokensPerSecond", c.tokensPerSecond);
        j.attribute("tokensPerSecondPerGpu", c.tokensPerSecondPerGpu);
        j.attribute("achievedMfu", c.achievedMfu);
        j.attribute("dominant", c.dominant);
      };
      j.attributeObject("time", [&] {
        j.attribute("calibration", spell(plan.cluster().gpu->arch));
        if (ownAttentionCalibration(plan))
          j.attribute("attentionCalibration", spell(plan.workload().attentionKernel));
        times(*plan.cost);
        if (plan.bound)
          j.attributeObject("bound", [&] { times(*plan.bound); });
      });
      if (decode && plan.memory)
        j.attributeObject("capacity", [&] {
          int64_t most = plan.memory->largestBatch(plan.workload().microBatch);
          j.attribute("maxBatch", most);
          j.attribute("maxBatchPerGpu", double(most) / double(plan.strategy().tp));
        });
    }
    if (!plan.traffic.empty()) {
      bool measured = !plan.placement.layers.empty() && !plan.placement.layers.front().load.empty();
      const LayerTraffic &t = heaviestTraffic(plan);
      j.attributeObject("communication", [&] {
        j.attribute("routing", measured ? "measured" : "uniform");
        j.attribute("layer", t.layer);
        j.attribute("kernels", plan.sizes.dispatchMode == DispatchMode::Normal ? "normal" : "low_latency");
        for (auto [name, b, elementBytes] :
             {std::tuple{"dispatch", &t.dispatch, plan.sizes.dispatchBytesPerElement},
              std::tuple{"combine", &t.combine, plan.sizes.combineBytesPerElement}})
          j.attributeObject(name, [&] {
            j.attribute("bytesPerElement", elementBytes);
            j.attribute("sendBytes", b->send);
            j.attribute("nvlinkBytes", b->nvlink);
            j.attribute("networkBytes", b->network);
            j.attribute("recvBytes", b->recv);
          });
        j.attribute("expectedNodes", t.expectedNodes);
        j.attribute("expectedRemoteNodes", t.expectedRemoteNodes);
      });
    }
    j.attributeArray("warnings", [&] {
      for (const Diagnostic &diag : diags.getDiagnostics())
        if (diag.severity == Severity::Warning)
          j.value(diag.message);
    });
  });
  os << "\n";
}
