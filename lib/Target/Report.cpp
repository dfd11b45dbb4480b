//===- Report.cpp - The deployment report (-emit=report) ------------------===//
//
// Every figure here is computed by a pass (placement, traffic, cost model, memory check) or checked by the
// verifier; the report only lays them out. Tables are aligned with spaces so that any terminal shows them.
//
//===----------------------------------------------------------------------===//
#include "moec/Target/Report.h"
#include "moec/Support/Strings.h"
#include "moec/Support/Units.h"

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
    if (l.sendBytesMax > heaviest->sendBytesMax)
      heaviest = &l;
  return *heaviest;
}

std::string bytes(double b) { return formatQuantity(b, Dim::Bytes); }
std::string seconds(double s) { return formatQuantity(s, Dim::Time); }
std::string pct(double f) { return fmt::format("{:.1f}%", 100.0 * f); }

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

void table(llvm::raw_ostream &os, const std::vector<std::pair<std::string, std::string>> &rows) {
  size_t width = 0;
  for (const auto &[k, v] : rows)
    width = std::max(width, k.size());
  for (const auto &[k, v] : rows)
    os << "  " << k << std::string(width - k.size() + 2, ' ') << v << "\n";
}

} // namespace

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

  os << "parallel layout\n";
  table(os, {{"world", std::to_string(plan.devices.size()) + " = " + s.describeGrid() + " (order " +
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
    table(os, {{"attention weights", bytes(r.attention)},
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
    os << "\ntime per micro-batch (" << (w.overlap == Overlap::TwoMicroBatch ? "two micro-batches overlapped, "
                                                                           : "no overlap, ")
       << "mfu " << pct(w.mfu.value_or(1)) << ", bandwidth " << pct(w.bandwidthEfficiency.value_or(1)) << ")\n";
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
    rows.push_back({w.phase == Phase::Prefill ? "step (prefill of the micro-batch" +
                                                    std::string(cr.microBatches > 1 ? "es)" : ")")
                                              : "time per output token",
                    seconds(cr.stepTime)});
    rows.push_back({"throughput", fmt::format("{:.0f} tokens/s in the cluster, {:.1f} per GPU", cr.tokensPerSecond,
                                              cr.tokensPerSecondPerGpu)});
    rows.push_back({"achieved MFU", pct(cr.achievedMfu) + " (target " + pct(w.mfu.value_or(1)) + ")"});
    table(os, rows);
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
    double dispatchScale = double(bytesPerElement(s.dispatchPrecision.value_or(m.precision))) /
                           double(bytesPerElement(m.precision));
    double combineScale = double(bytesPerElement(s.combinePrecision.value_or(m.precision))) /
                          double(bytesPerElement(m.precision));
    if (measured)
      os << "\ncommunication per MoE layer (busiest rank; routing by the measured loads, layer " << t.layer
         << ", the heaviest of " << plan.traffic.size() << ")\n";
    else
      os << "\ncommunication per MoE layer (busiest rank, uniform routing)\n";
    table(os, {{"dispatch", bytes(t.sendBytesMax * dispatchScale) + ": NVLink " +
                                bytes(t.nvlinkBytesMax * dispatchScale) + ", network " +
                                bytes(t.networkBytesMax * dispatchScale)},
               {"combine", bytes(t.sendBytesMax * combineScale) + ": NVLink " +
                               bytes(t.nvlinkBytesMax * combineScale) + ", network " +
                               bytes(t.networkBytesMax * combineScale)},
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
    table(os, rows);
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
    j.attribute("model", plan.model().name);
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
      const CostResult &c = *plan.cost;
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
      j.attributeObject("time", [&] {
        j.attributeBegin("denseLayer");
        layer(c.dense);
        j.attributeEnd();
        j.attributeArray("moeLayers", [&] {
          for (const LayerTime &t : c.moe)
            layer(t);
        });
        j.attribute("stepSeconds", c.stepTime);
        j.attribute("microBatches", c.microBatches);
        j.attribute("tokensPerSecond", c.tokensPerSecond);
        j.attribute("tokensPerSecondPerGpu", c.tokensPerSecondPerGpu);
        j.attribute("achievedMfu", c.achievedMfu);
      });
    }
    if (!plan.traffic.empty()) {
      bool measured = !plan.placement.layers.empty() && !plan.placement.layers.front().load.empty();
      const LayerTraffic &t = heaviestTraffic(plan);
      j.attributeObject("communication", [&] {
        j.attribute("routing", measured ? "measured" : "uniform");
        j.attribute("layer", t.layer);
        j.attribute("sendBytes", t.sendBytesMax);
        j.attribute("nvlinkBytes", t.nvlinkBytesMax);
        j.attribute("networkBytes", t.networkBytesMax);
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
