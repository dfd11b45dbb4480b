//===- Printer.cpp - The textual Plan IR (-emit=ir) -----------------------===//
//
// Deterministic, readable, and linear in the size of the plan: one line per device, group, op and placement
// position. Identical MoE layers (same placement, same traffic) are printed once as a range. docs/ir.md
// describes the format.
//
//===----------------------------------------------------------------------===//
#include "moec/IR/Plan.h"
#include "moec/Support/Strings.h"
#include "moec/Support/Units.h"

#include "llvm/Support/SourceMgr.h"

#include "fmt/format.h"

using namespace moec;
using namespace moec::ir;

namespace {

std::string bytes(double b) { return formatQuantity(b, Dim::Bytes); }

std::string flops(double f) {
  if (f == 0)
    return "0";
  return fmt::format("{:.4g}", f);
}

std::string range(int64_t first, int64_t last) {
  return first == last ? std::to_string(first) : std::to_string(first) + ".." + std::to_string(last);
}

/// A run of MoE layers printed once: "3..60" when they are consecutive decoder layers, "[1, 3, 5, 7]" or
/// "[1..7]"-style runs otherwise (interleaved MoE layers).
std::string layerRun(llvm::ArrayRef<int64_t> layers) {
  if (layers.back() - layers.front() + 1 == int64_t(layers.size()))
    return range(layers.front(), layers.back());
  return formatRanks(layers);
}

class Printer {
public:
  Printer(const Plan &plan, llvm::raw_ostream &os, const llvm::SourceMgr &srcMgr)
      : plan(plan), os(os), srcMgr(srcMgr) {}

  void print() {
    const DeploySpec &d = *plan.deploy;
    const ClusterSpec &c = plan.cluster();
    const StrategySpec &s = plan.strategy();
    os << "plan " << d.name << " {\n";
    os << "  deploy: model " << plan.model().name << ", cluster " << c.name << " (" << plural(c.nodes, "node") << " x "
       << c.gpusPerNode << " GPUs " << c.gpu->name << "), strategy " << s.name << ", workload "
       << plan.workload().name << " (" << spell(plan.workload().phase) << ")\n";
    os << "  parallel: world " << plan.devices.size() << " = " << s.describeGrid() << ", order " << s.orderString()
       << "\n";
    os << "  passes: placed " << (plan.placed ? "yes" : "no") << ", shaped " << (plan.shaped ? "yes" : "no")
       << ", communicated " << (plan.communicated ? "yes" : "no") << "\n";
    printDevices();
    printGroups();
    printStages();
    for (const Program *p : plan.programs())
      printProgram(*p);
    if (plan.placed)
      printPlacement();
    if (plan.communicated)
      printTraffic();
    os << "}\n";
  }

private:
  void printDevices() {
    os << "\n  devices " << plan.devices.size() << " {\n";
    for (const Device &d : plan.devices)
      os << "    rank " << d.rank << ": node " << d.node << " gpu " << d.localGpu << " (pp " << d.coords[Axis::PP]
         << ", dp " << d.coords[Axis::DP] << ", ep " << d.coords[Axis::EP]
         << (plan.layout.folded() ? ", etp " + std::to_string(d.coords[Axis::TP]) : std::string()) << ", tp "
         << plan.layout.attentionTpRank(d.rank) << ")\n";
    os << "  }\n";
  }

  void printGroups() {
    os << "\n  groups {\n";
    for (const ProcessGroup &g : plan.groups)
      os << "    " << spell(g.kind) << " " << g.index << ": " << formatRanks(g.ranks) << "\n";
    os << "  }\n";
  }

  void printStages() {
    os << "\n  stages {\n";
    for (const Stage &st : plan.stages) {
      int64_t dense = 0;
      for (int64_t l = st.firstLayer; l < st.firstLayer + st.numLayers; ++l)
        dense += plan.layerKinds[l] == LayerKind::Dense;
      os << "    stage " << st.index << ": layers " << range(st.firstLayer, st.firstLayer + st.numLayers - 1)
         << " (" << dense << " dense, " << st.numLayers - dense << " moe)\n";
    }
    os << "  }\n";
  }

  std::string layersOf(const Program &p) const {
    if (&p == &plan.dense || &p == &plan.moe) {
      LayerKind kind = &p == &plan.dense ? LayerKind::Dense : LayerKind::MoE;
      std::vector<int64_t> layers;
      for (size_t l = 0; l < plan.layerKinds.size(); ++l)
        if (plan.layerKinds[l] == kind)
          layers.push_back(int64_t(l));
      return "layers " + formatRanks(layers);
    }
    if (plan.prologue && &p == &*plan.prologue)
      return "stage 0, before layer 0";
    if (plan.epilogue && &p == &*plan.epilogue)
      return "stage " + std::to_string(plan.stages.size() - 1) + ", after the last layer";
    return "between consecutive stages";
  }

  std::string loc(llvm::SMLoc l) const {
    if (!l.isValid())
      return "";
    unsigned buffer = srcMgr.FindBufferContainingLoc(l);
    if (!buffer)
      return "";
    auto [line, col] = srcMgr.getLineAndColumn(l, buffer);
    return " loc(\"" + srcMgr.getMemoryBuffer(buffer)->getBufferIdentifier().str() + "\":" +
           std::to_string(line) + ":" + std::to_string(col) + ")";
  }

  static std::string type(const Tensor &t) {
    if (!t.hasShape())
      return "?";
    std::string dims = "[", names = "(";
    for (size_t i = 0; i < t.shape.size(); ++i) {
      dims += (i ? ", " : "") + std::to_string(t.shape[i].size);
      names += (i ? ", " : "") + t.shape[i].name.str();
    }
    return dims + "] " + spell(t.dtype).str() + " " + names + ")" + (t.partial ? " partial" : "");
  }

  void printProgram(const Program &p) {
    // Values are numbered in the order they are defined, as in SSA text, whatever their ids.
    std::vector<unsigned> number(p.tensors.size(), 0);
    unsigned next = 0;
    number[p.input] = next++;
    for (const Op &op : p.ops)
      for (unsigned o : op.outputs)
        number[o] = next++;
    os << "\n  program " << p.name << " (" << layersOf(p) << ") {\n";
    os << "    %0 = input : " << type(p.tensors[p.input]) << "\n";
    for (const Op &op : p.ops) {
      os << "    %" << number[op.outputs.front()] << " = " << spell(op.kind) << " \"" << op.name << "\"(";
      for (size_t i = 0; i < op.inputs.size(); ++i)
        os << (i ? ", " : "") << "%" << number[op.inputs[i]];
      os << ") : " << type(p.tensors[op.outputs.front()]);
      std::vector<std::string> attrs;
      if (op.site == OpSite::Expert)
        attrs.push_back("per expert");
      if (op.split != ParallelSplit::None)
        attrs.push_back(spell(op.split).str());
      if (op.activation)
        attrs.push_back(spell(*op.activation).str());
      if (plan.shaped && classify(op.kind) != OpClass::Communication) {
        attrs.push_back("flops " + flops(op.flops));
        attrs.push_back("bytes " + bytes(op.bytes));
        if (op.weightBytes > 0)
          attrs.push_back("weights " + bytes(op.weightBytes));
      }
      if (op.comm) {
        attrs.push_back(spell(op.comm->collective).str() + " in " + spell(op.comm->group).str());
        attrs.push_back(bytes(op.comm->bytesPerRank) +
                        (op.comm->collective == Collective::AllToAll ? " routed per rank" : " per rank"));
        if (op.comm->group == GroupKind::EP)
          attrs.push_back(linkSplit(op.kind));
        else
          attrs.push_back(plan.crossesNodes(op.comm->group) ? "over the network" : "over nvlink");
      }
      if (!attrs.empty()) {
        os << " {";
        for (size_t i = 0; i < attrs.size(); ++i)
          os << (i ? ", " : "") << attrs[i];
        os << "}";
      }
      os << loc(op.loc) << "\n";
    }
    os << "    return %" << number[p.output] << "\n  }\n";
  }

  /// The NVLink / network split of the busiest sender over all MoE layers, in the op's direction.
  std::string linkSplit(OpKind kind) const {
    double nvlink = 0, network = 0;
    for (const LayerTraffic &t : plan.traffic) {
      const LinkBytes &b = kind == OpKind::Combine ? t.combine : t.dispatch;
      nvlink = std::max(nvlink, b.nvlink);
      network = std::max(network, b.network);
    }
    return "nvlink " + bytes(nvlink) + ", network " + bytes(network) + " (busiest rank)";
  }

  void printPlacement() {
    const Placement &pl = plan.placement;
    const ProcessGroup &group = plan.group(GroupKind::EP, 0);
    os << "\n  placement " << spell(pl.policy) << " {\n";
    os << "    // " << pl.explanation << "\n";
    for (size_t i = 0; i < pl.layers.size();) {
      size_t j = i;
      while (j + 1 < pl.layers.size() && pl.layers[j + 1] == pl.layers[i])
        ++j;
      std::vector<int64_t> run;
      for (size_t k = i; k <= j; ++k)
        run.push_back(pl.layers[k].layer);
      os << "    layers " << layerRun(run) << " {\n";
      std::vector<llvm::SmallVector<int32_t, 2>> held = pl.layers[i].slots(plan.ep());
      for (int64_t p = 0; p < plan.ep(); ++p) {
        int64_t rank = group.ranks[p];
        os << "      ep " << p << " (rank " << rank << ", node " << plan.devices[rank].node << "): ";
        if (p >= int64_t(held.size()) || held[p].empty())
          os << "none";
        else
          for (size_t k = 0; k < held[p].size(); ++k)
            os << (k ? " " : "") << "expert " << held[p][k] << replicaTag(pl.layers[i], held[p][k], p);
        os << "\n";
      }
      os << "    }\n";
      i = j + 1;
    }
    os << "  }\n";
  }

  static std::string replicaTag(const LayerPlacement &lp, int32_t expert, int64_t position) {
    const auto &reps = lp.replicas[expert];
    for (size_t r = 1; r < reps.size(); ++r)
      if (reps[r] == position)
        return "/" + std::to_string(r);
    return "";
  }

  void printTraffic() {
    os << "\n  traffic {\n";
    bool measured = !plan.placement.layers.empty() && !plan.placement.layers.front().load.empty();
    const PlanSizes &z = plan.sizes;
    os << "    // per MoE layer: " << (measured ? "routing by the measured loads" : "uniform routing") << ", top_k "
       << plan.model().moe.topK << ", "
       << (z.dispatchMode == DispatchMode::Normal ? "normal kernels (once per remote node)"
                                                  : "low-latency kernels (per token-expert pair)")
       << "; dispatch " << formatNumber(z.dispatchBytesPerElement, 3) << " B and combine "
       << formatNumber(z.combineBytesPerElement, 3) << " B per element\n";
    for (size_t i = 0; i < plan.traffic.size();) {
      size_t j = i;
      while (j + 1 < plan.traffic.size() && plan.traffic[j + 1].sameAs(plan.traffic[i]))
        ++j;
      const LayerTraffic &t = plan.traffic[i];
      std::vector<int64_t> run;
      for (size_t k = i; k <= j; ++k)
        run.push_back(plan.traffic[k].layer);
      auto direction = [&](const LinkBytes &b) {
        return "network " + bytes(b.network) + ", nvlink " + bytes(b.nvlink) + ", receive " + bytes(b.recv);
      };
      os << "    layers " << layerRun(run) << ": dispatch " << direction(t.dispatch) << "; combine "
         << direction(t.combine) << " per rank at most; nodes per token " << fmt::format("{:.3f}", t.expectedNodes)
         << " (remote " << fmt::format("{:.3f}", t.expectedRemoteNodes) << ")\n";
      i = j + 1;
    }
    os << "  }\n";
  }

  const Plan &plan;
  llvm::raw_ostream &os;
  const llvm::SourceMgr &srcMgr;
};

} // namespace

void ir::printPlan(const Plan &plan, llvm::raw_ostream &os, const llvm::SourceMgr &srcMgr) {
  Printer(plan, os, srcMgr).print();
}
