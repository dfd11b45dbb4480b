//===- ExpertPlacement.cpp - Place expert replicas on the ranks of an EP group -===//
//
// The expert-placement pass fills the placement table: for every MoE layer, the position (0..ep-1) inside an EP
// group of each replica of each expert. Every EP group uses the same table (its position p is the group's p-th
// rank). Algorithm:
//   1. Replica counts: every expert has one primary copy; `redundant_experts` extra replicas go to experts
//      0, 1, 2, ... in turn (no load is known). An expert may not need more replicas than there are positions.
//   2. Slots: the primaries in expert order, then the extra replicas round by round; each position holds at most
//      experts_per_gpu = ceil(slots / ep) of them.
//   3. Each slot goes to the position its policy prefers, or, when that position is full or already holds the
//      expert, to the next position that is neither (so no position ever holds two replicas of one expert):
//        contiguous      slot s -> floor(s * ep / slots)
//        round_robin     slot s -> s mod ep
//        topology_aware  with route_groups: each group of experts on one node of the EP group (or a run of
//                        nodes, when there are fewer groups than nodes), so that a token routed to a few groups
//                        reaches few nodes; without: consecutive experts on consecutive nodes, so that a token's
//                        experts spread evenly; extra replicas on the node after their primary's. Inside a node,
//                        positions are used in turn.
//        explicit        the table of `placement_file` (CSV `layer,expert,replica,rank`, as -emit=placement writes),
//                        read and checked before the pipeline (PlacementInputs.cpp).
//   4. Layers: the first three policies give every MoE layer the same table.
// Load-aware placement (measured loads, `expert_load`, read before the pipeline) plugs in as one more policy that
// fills the same table.
//
//===----------------------------------------------------------------------===//
#include "moec/Balance/Balance.h"
#include "moec/Transforms/Pass.h"
#include "moec/Transforms/Physics.h"
#include "moec/Transforms/PlacementInputs.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Parallel.h"

#include <map>

#include "fmt/format.h"

using namespace moec;
using namespace moec::ir;

namespace {

/// What `placement_objective = time` weighs, for one MoE layer and one micro-batch: the busiest GPU's expert compute
/// (its share of the EP group's token-expert assignments, at the experts' GEMM peak and the forecast's efficiency)
/// plus, with DeepEP's normal kernels, the network time of dispatch and combine, each token crossing once to each
/// remote node its experts live on (forwarded inside the node over NVLink). The placement pass runs before shapes
/// and the cost model; this is the part of their layer time that the placement changes, by the same physics
/// (moec/Transforms/Physics.h).
class MoeTimeEstimate {
public:
  explicit MoeTimeEstimate(const Plan &plan) {
    // The forecast's physics (moec/Transforms/Physics.h), the same formulas the cost model uses.
    const ModelSpec &m = plan.model();
    const StrategySpec &s = plan.strategy();
    Physics physics = Physics::forecastOf(plan);
    double tokens = double(plan.sizes.routedTokensPerRank);
    computePerShare = plan.sizes.assignmentsPerGroup *
                      expertSecondsPerAssignment(m, s.etp(), *plan.cluster().gpu, physics);
    double bytes = plan.sizes.dispatchBytesPerElement + plan.sizes.combineBytesPerElement;
    double network = plan.cluster().interNode.bandwidth * physics.network;
    // Normal kernels cross the network once per remote node, so placement can save network time; low-latency
    // kernels send every token-expert pair, whatever nodes the experts share, so only balance counts.
    bool normal = plan.sizes.dispatchMode == DispatchMode::Normal;
    networkPerRemoteNode = normal && network > 0 ? tokens * double(m.hidden) * bytes / network : 0;
  }

  double seconds(llvm::ArrayRef<double> load, const ExpertReplicas &placement, int64_t gpus,
                 double remoteNodes) const {
    std::vector<double> loads = gpuLoads(load, placement, gpus);
    double total = 0, most = 0;
    for (double l : loads) {
      total += l;
      most = std::max(most, l);
    }
    return (total > 0 ? most / total : 0) * computePerShare + remoteNodes * networkPerRemoteNode;
  }

private:
  double computePerShare = 0, networkPerRemoteNode = 0;
};

/// The IR comment's account of node-first placement, when it was a candidate.
std::string describeNodeFirst(PlacementObjective objective, bool nodeFirst, int64_t chosen, int64_t compared,
                              int64_t layers, int64_t groups, int64_t nodes) {
  if (!nodeFirst || (objective == PlacementObjective::Time && compared == 0))
    return "";
  std::string each = fmt::format("each node holding {} of the {} routing groups", groups / nodes, groups);
  if (objective == PlacementObjective::Locality)
    return chosen == layers ? fmt::format(", {} (placement_objective = locality)", each)
                            : fmt::format(", {} of {} layers with {} (placement_objective = locality; on the others "
                                          "the sampled routes reach fewer remote nodes when balanced across nodes)",
                                          chosen, layers, each);
  return fmt::format(", {} of {} layers with {} (placement_objective = time: node first where the busiest GPU's "
                     "expert compute plus the network time of dispatch and combine is lower, by the sampled routes)",
                     chosen, layers, each);
}

/// Positions with a slot limit, filled one replica at a time.
class Assigner {
public:
  Assigner(int64_t positions, int64_t capacity, int64_t experts)
      : capacity(capacity), held(positions), replicas(experts) {}

  /// Put a replica of \p expert on \p preferred or the next position with room that does not hold it yet.
  bool place(int32_t expert, int64_t preferred) {
    int64_t n = int64_t(held.size());
    for (int64_t i = 0; i < n; ++i) {
      int64_t p = (preferred + i) % n;
      if (int64_t(held[p].size()) < capacity && !llvm::is_contained(held[p], expert)) {
        held[p].push_back(expert);
        replicas[expert].push_back(int32_t(p));
        return true;
      }
    }
    return false;
  }

  int64_t load(int64_t p) const { return int64_t(held[p].size()); }
  std::vector<llvm::SmallVector<int32_t, 2>> take() { return std::move(replicas); }

private:
  int64_t capacity;
  std::vector<llvm::SmallVector<int32_t, 2>> held;
  std::vector<llvm::SmallVector<int32_t, 2>> replicas;
};

class ExpertPlacementPass : public Pass {
public:
  llvm::StringRef getName() const override { return "expert-placement"; }

  llvm::LogicalResult run(Plan &plan, PassContext &ctx) override {
    const StrategySpec &s = plan.strategy();
    const ModelSpec &m = plan.model();
    DiagEngine &diags = ctx.diags;
    int64_t experts = m.moe.experts, ep = s.ep, slots = experts + s.redundantExperts;
    int64_t maxReplicas = 1 + (s.redundantExperts + experts - 1) / experts;
    if (maxReplicas > ep) {
      diags.error(s.locOf("redundant_experts"),
                  "redundant_experts = " + std::to_string(s.redundantExperts) + " gives expert 0 " +
                      std::to_string(maxReplicas) + " replicas, more than the " + std::to_string(ep) +
                      " GPUs of an EP group: two replicas of one expert on one GPU serve nothing");
      return llvm::failure();
    }
    plan.placement = Placement();
    plan.placement.policy = s.placement;

    std::vector<int64_t> moeLayers;
    for (int64_t l = 0; l < m.layers; ++l)
      if (m.isMoeLayer(l))
        moeLayers.push_back(l);

    if (s.placement == PlacementPolicy::Explicit || s.placement == PlacementPolicy::Balanced) {
      // The files were read before the pipeline (readPlacementInputs): the pass does no I/O.
      if (!plan.placementInputs) {
        diags.error(s.locOf("placement"), "placement = " + spell(s.placement).str() +
                                              " needs its input files, which were not read before the pipeline");
        return llvm::failure();
      }
      if (s.placement == PlacementPolicy::Explicit) {
        for (int64_t l : moeLayers)
          plan.placement.layers.push_back({l, plan.placementInputs->explicitTable.at(l), {}});
        plan.placement.explanation = "read from '" + s.placementFile + "'";
      } else if (llvm::failed(balanced(plan, moeLayers, diags))) {
        return llvm::failure();
      }
      plan.placed = true;
      return llvm::success();
    }

    // Slot order: primaries, then extra replicas round by round.
    std::vector<int32_t> slotExpert;
    slotExpert.reserve(slots);
    for (int64_t e = 0; e < experts; ++e)
      slotExpert.push_back(int32_t(e));
    for (int64_t r = 0; r < s.redundantExperts; ++r)
      slotExpert.push_back(int32_t(r % experts));

    int64_t capacity = (slots + ep - 1) / ep;
    Assigner assigner(ep, capacity, experts);
    std::vector<int64_t> preferred = preferredPositions(plan, slotExpert);
    for (size_t i = 0; i < slotExpert.size(); ++i) {
      if (!assigner.place(slotExpert[i], preferred[i])) {
        diags.error(s.locOf("placement"), "cannot place replica " + std::to_string(i) + " of expert " +
                                              std::to_string(slotExpert[i]) + ": every GPU of the EP group is full");
        return llvm::failure();
      }
    }
    LayerPlacement table{0, assigner.take(), {}};
    for (int64_t l : moeLayers) {
      table.layer = l;
      plan.placement.layers.push_back(table);
    }
    plan.placed = true;
    return llvm::success();
  }

private:
  std::vector<int64_t> preferredPositions(Plan &plan, llvm::ArrayRef<int32_t> slotExpert) {
    const StrategySpec &s = plan.strategy();
    const MoeSpec &moe = plan.model().moe;
    int64_t ep = s.ep, slots = int64_t(slotExpert.size()), experts = moe.experts;
    std::vector<int64_t> out(slots);
    switch (s.placement) {
    case PlacementPolicy::Contiguous:
      for (int64_t i = 0; i < slots; ++i)
        out[i] = i * ep / slots;
      plan.placement.explanation = "slot s on position floor(s * " + std::to_string(ep) + " / " +
                                   std::to_string(slots) + "): experts in order, in blocks of consecutive GPUs";
      return out;
    case PlacementPolicy::RoundRobin:
      for (int64_t i = 0; i < slots; ++i)
        out[i] = i % ep;
      plan.placement.explanation = "slot s on position s mod " + std::to_string(ep);
      return out;
    case PlacementPolicy::Explicit:
    case PlacementPolicy::Balanced:
      llvm_unreachable("explicit and balanced placements are not per slot");
    case PlacementPolicy::TopologyAware:
      break;
    }

    // The nodes of the EP group, each with its positions in order.
    const ProcessGroup &group = plan.group(GroupKind::EP, 0);
    std::map<int64_t, unsigned> nodeIndex;
    std::vector<std::vector<int64_t>> nodes;
    for (int64_t p = 0; p < ep; ++p) {
      int64_t node = plan.devices[group.ranks[p]].node;
      auto [it, inserted] = nodeIndex.try_emplace(node, unsigned(nodes.size()));
      if (inserted)
        nodes.emplace_back();
      nodes[it->second].push_back(p);
    }
    int64_t n = int64_t(nodes.size());
    std::vector<int64_t> filled(n, 0);
    auto onNode = [&](int64_t node) { return nodes[node][filled[node]++ % nodes[node].size()]; };

    std::vector<int64_t> primaryNode(experts);
    int64_t groups = moe.routeGroups;
    for (int64_t e = 0; e < experts; ++e) {
      if (groups > 0) {
        int64_t perGroup = experts / groups, g = e / perGroup, within = e % perGroup;
        if (groups >= n) {
          primaryNode[e] = g * n / groups;
        } else {
          int64_t first = g * n / groups, span = (g + 1) * n / groups - first;
          primaryNode[e] = first + within % span;
        }
      } else {
        primaryNode[e] = e % n;
      }
    }
    for (int64_t i = 0; i < slots; ++i) {
      int32_t e = slotExpert[i];
      int64_t round = i / experts; // 0 for the primary
      out[i] = onNode((primaryNode[e] + round) % n);
    }
    std::string nodesText = std::to_string(n) + (n == 1 ? " node" : " nodes");
    if (groups > 0)
      plan.placement.explanation = std::to_string(groups) + (groups == 1 ? " route group of " : " route groups of ") +
                                   std::to_string(experts / groups) + " experts, each group kept on " +
                                   (groups >= n ? "one" : "its own run") + " of the EP group's " + nodesText +
                                   ", so a token limited to few groups reaches few nodes";
    else
      plan.placement.explanation = "no route groups declared: consecutive experts on consecutive nodes of the EP "
                                   "group's " + nodesText + " (expert e on node e mod " + std::to_string(n) +
                                   "), spreading each token's experts evenly";
    if (s.redundantExperts > 0)
      plan.placement.explanation += "; extra replicas on the node after their primary's";
    return out;
  }

  llvm::LogicalResult balanced(Plan &plan, llvm::ArrayRef<int64_t> moeLayers, DiagEngine &diags) {
    const StrategySpec &s = plan.strategy();
    const PlacementInputs &inputs = *plan.placementInputs;
    const std::map<int64_t, std::vector<double>> *loads = &inputs.loads;
    const std::map<int64_t, std::vector<llvm::SmallVector<int32_t, 8>>> *routes =
        s.expertRoutes.empty() ? nullptr : &inputs.routes;
    int64_t slots = plan.model().moe.experts + s.redundantExperts;
    const ProcessGroup &group = plan.group(GroupKind::EP, 0);
    // Each position's node, numbered 0.. in order of appearance within the EP group.
    std::vector<int32_t> nodeOf;
    std::map<int64_t, int32_t> nodeIndex;
    for (int64_t r : group.ranks)
      nodeOf.push_back(nodeIndex.try_emplace(plan.devices[r].node, int32_t(nodeIndex.size())).first->second);
    int64_t groups = plan.model().moe.routeGroups;
    int64_t nodes = int64_t(nodeIndex.size());
    // Node first (each routing group on one node, each node balanced) is a candidate for `locality` and `time`.
    std::string whyNot = whyNotByNode(plan.model().moe.experts, nodeOf, slots, groups);
    bool nodeFirst = s.placementObjective != PlacementObjective::Balance && whyNot.empty();
    if (s.placementObjective == PlacementObjective::Locality && !whyNot.empty()) {
      diags.warning(s.locOf("placement_objective"),
                    fmt::format("placement_objective = locality keeps each routing group on one node, but {}; "
                                "placing for balance, then keeping co-picked experts together",
                                whyNot));
      diags.note(plan.deploy->locOf("strategy"), "in deploy '" + plan.deploy->name + "'");
    }
    MoeTimeEstimate estimate(plan);
    // Layers are independent: each is placed on its own (in parallel, on the machine's cores), then the results are
    // gathered in layer order, so the output does not depend on the threads.
    struct Placed {
      ExpertReplicas replicas;
      PlacementQuality quality;
      bool nodeFirst = false, compared = false;
    };
    std::vector<Placed> placed(moeLayers.size());
    llvm::parallelFor(0, moeLayers.size(), [&](size_t index) {
      int64_t layer = moeLayers[index];
      const std::vector<double> &load = loads->at(layer);
      Placed &out = placed[index];
      // Balance across the EP group; then, unless only balance counts, permute whole GPUs so that experts tokens
      // pick together share a node: every GPU keeps its load, so the balance is unchanged.
      llvm::ArrayRef<llvm::SmallVector<int32_t, 8>> sampled;
      if (routes)
        if (auto found = routes->find(layer); found != routes->end())
          sampled = found->second;
      bool routed = !sampled.empty();
      ExpertReplicas replicas = balanceExperts(load, s.ep, slots);
      if (s.placementObjective != PlacementObjective::Balance && (routed || groups > 0))
        improveLocality(replicas, nodeOf, sampled, groups);
      // locality: node first, unless the sampled routes (which need not follow the declared groups) reach fewer
      // remote nodes with the balanced placement. time: node first when the sampled routes make it faster by the
      // estimate; without routes the remote nodes cannot be compared, and balance stays.
      if (nodeFirst && (routed || s.placementObjective == PlacementObjective::Locality)) {
        ExpertReplicas byNode = *balanceExpertsByNode(load, nodeOf, slots, groups);
        bool take = true;
        if (routed) {
          out.compared = true;
          double remoteByNode = remoteNodesPerToken(sampled, byNode, nodeOf);
          double remoteBalanced = remoteNodesPerToken(sampled, replicas, nodeOf);
          take = s.placementObjective == PlacementObjective::Locality
                     ? remoteByNode < remoteBalanced
                     : estimate.seconds(load, byNode, s.ep, remoteByNode) <
                           estimate.seconds(load, replicas, s.ep, remoteBalanced);
        }
        if (take) {
          replicas = std::move(byNode);
          out.nodeFirst = true;
        }
      }
      // The README's contiguous baseline with the same replica counts, for comparison.
      std::vector<int32_t> counts = replicaCounts(load, s.ep, slots);
      ExpertReplicas contiguous(load.size());
      for (int64_t e = 0, slot = 0; e < int64_t(load.size()); ++e)
        for (int32_t r = 0; r < counts[e]; ++r, ++slot)
          contiguous[e].push_back(int32_t(slot * s.ep / slots));
      out.quality = {layer, balancedness(load, replicas, s.ep), balancedness(load, contiguous, s.ep),
                     balanceLowerBound(load, s.ep, slots)};
      if (routed) {
        out.quality.remoteNodes = remoteNodesPerToken(sampled, replicas, nodeOf);
        out.quality.contiguousRemote = remoteNodesPerToken(sampled, contiguous, nodeOf);
      }
      out.replicas = std::move(replicas);
    });
    double sum = 0, sumContiguous = 0;
    int64_t nodeFirstLayers = 0, compared = 0;
    for (size_t index = 0; index < moeLayers.size(); ++index) {
      Placed &p = placed[index];
      sum += p.quality.balancedness;
      sumContiguous += p.quality.contiguous;
      nodeFirstLayers += p.nodeFirst;
      compared += p.compared;
      plan.placement.quality.push_back(p.quality);
      plan.placement.layers.push_back({moeLayers[index], std::move(p.replicas), loads->at(moeLayers[index])});
    }
    double n = double(moeLayers.size());
    plan.placement.explanation =
        fmt::format("replicas and GPUs chosen for the measured loads in '{}'{}: balancedness {:.4f} on average "
                    "(contiguous {:.4f}; the bound is {:.4f})",
                    s.expertLoad,
                    describeNodeFirst(s.placementObjective, nodeFirst, nodeFirstLayers, compared,
                                      int64_t(moeLayers.size()), groups, nodes),
                    sum / n, sumContiguous / n, [&] {
                      double b = 0;
                      for (const PlacementQuality &q : plan.placement.quality)
                        b += q.bound;
                      return b / n;
                    }());
    return llvm::success();
  }

};

} // namespace

std::unique_ptr<Pass> moec::createExpertPlacementPass() { return std::make_unique<ExpertPlacementPass>(); }
