//===- CommInsertion.cpp - Insert communication and compute its traffic ----===//
//
// The comm-insertion pass makes every cross-device edge explicit and computes what it moves. Algorithm:
//   1. In each program, an edge from an op on the rank's own tokens to an op on routed expert tokens gets a
//      `dispatch` (all-to-all in the EP group, reading the top-k routes); an edge back gets a `combine`.
//   2. Each partial sum of a row-parallel projection gets an `all_reduce` in the TP group (tp > 1), or for a
//      folded plan's routed experts in the expert TP group (etp > 1).
//   2a. Folded with tp > etp, each rank routes only its share of its attention group's tokens (they are
//      replicated after the attention all-reduce, so taking the share is local), and an `all_gather` in the TP
//      group reassembles the MoE output of the group's tokens after the weighted sum.
//   3. With pp > 1, a program `pp_boundary` holds the `send` and `recv` of the activations between stages.
//   4. Traffic of each MoE layer, from its placement: each token picks top_k distinct experts, in proportion to
//      the layer's measured loads when the placement has them (placement = balanced), else uniformly; an expert's
//      tokens are split evenly over its replicas:
//        share[p]        = sum over experts e of (replicas of e on p) / (replicas of e) * load(e) / total load
//        bytes(src, dst) = tokens * top_k * share[dst] * hidden * bytes per element
//      split by link: to positions on the source's node over NVLink, to other nodes over the network (nothing
//      for the source's own position). Combine returns the same bytes the other way.
//   5. Expected distinct nodes per token: for each node n, with q(e, n) the fraction of e's replicas on n, the
//      probability that no chosen expert lands on n is [x^K] prod_e (1 + x (1 - q(e, n))) / C(E, K), computed by
//      a dynamic programme over experts; without replicas this is N * (1 - C(E - E/N, K) / C(E, K)) for E/N
//      experts per node. Remote nodes exclude the token's own node. Node-limited routing caps the nodes at
//      route_nodes, and the remote nodes are scaled down in proportion (an approximation: routing is not
//      uniform then).
//
//===----------------------------------------------------------------------===//
#include "Shapes.h"
#include "moec/Transforms/Pass.h"

#include <map>

#include <cmath>

using namespace moec;
using namespace moec::ir;

namespace {

class CommInsertionPass : public Pass {
public:
  llvm::StringRef getName() const override { return "comm-insertion"; }

  llvm::LogicalResult run(Plan &plan, PassContext &ctx) override {
    if (!requirePass(plan.placed, getName(), "expert-placement", ctx.diags) ||
        !requirePass(plan.shaped, getName(), "shape-inference", ctx.diags))
      return llvm::failure();
    if (plan.communicated)
      return llvm::success();
    const StrategySpec &s = plan.strategy();
    for (Program *p : plan.programs())
      insertInto(plan, *p, s);
    if (s.pp > 1)
      buildBoundary(plan);
    if (llvm::failed(inferShapes(plan, ctx.diags)))
      return llvm::failure();
    annotate(plan);
    computeTraffic(plan);
    plan.communicated = true;
    return llvm::success();
  }

private:
  static void insertInto(const Plan &plan, Program &p, const StrategySpec &s) {
    // Edges between sites, found on the original ops (insertion renumbers them).
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t i = 0; i < p.ops.size() && !changed; ++i) {
        Op &op = p.ops[i];
        if (classify(op.kind) == OpClass::Communication)
          continue;
        for (unsigned in : op.inputs) {
          const Tensor &t = p.tensors[in];
          if (t.producer == ~0u)
            continue;
          const Op &producer = p.ops[t.producer];
          if (classify(producer.kind) == OpClass::Communication || producer.site == op.site)
            continue;
          bool toExperts = op.site == OpSite::Expert;
          OpSite to = op.site;
          llvm::SmallVector<unsigned, 2> inputs = {in};
          if (toExperts)
            if (const Op *routes = p.findOp(OpRole::TopK))
              inputs.push_back(routes->outputs.front()); // dispatch needs to know where each token goes
          OpTag tag = toExperts ? OpTag{OpKind::Dispatch, OpRole::Dispatch, OpPart::RoutedExperts}
                                : OpTag{OpKind::Combine, OpRole::Combine, OpPart::RoutedExperts};
          p.insertOp(tag, toExperts ? "dispatch" : "combine", to,
                     s.locOf("ep"), inputs, [&](const Op &consumer) {
                       return consumer.site == to && classify(consumer.kind) != OpClass::Communication;
                     });
          changed = true;
          break;
        }
      }
    }
    if (s.folded() && s.tp > s.etp())
      if (const Op *sum = p.findOp(OpRole::WeightedSum)) {
        unsigned tensorId = sum->outputs.front();
        p.insertOp({OpKind::AllGather, OpRole::TokenAllGather, OpPart::MoeBlock}, "moe_all_gather", OpSite::Rank,
                   s.locOf("etp"), {tensorId}, [](const Op &) { return true; });
      }
    for (bool changed = true; changed;) {
      changed = false;
      for (Tensor &t : p.tensors) {
        if (!t.partial)
          continue;
        // A partial sum that only travels on (combine, the weighted sum, an add of partial sums) is reduced
        // further down, once (FINDINGS.md B2).
        bool terminal = t.id == p.output;
        for (const Op &consumer : p.ops)
          if (llvm::is_contained(consumer.inputs, t.id) && !carriesPartial(plan, p, consumer))
            terminal = true;
        if (!terminal)
          continue;
        t.partial = false; // the all-reduce consumes it; its output is whole
        unsigned tensorId = t.id;
        const Op &producer = p.ops[p.tensors[tensorId].producer];
        bool expertTp = s.folded() && producer.part == OpPart::RoutedExperts;
        p.insertOp({OpKind::AllReduce, OpRole::TpAllReduce, producer.part}, p.tensors[tensorId].name + "_all_reduce",
                   producer.site, s.locOf(expertTp ? "etp" : "tp"), {tensorId}, [](const Op &) { return true; });
        changed = true;
        break;
      }
    }
  }

  static void buildBoundary(Plan &plan) {
    // The activations leave the last layer of stage i and enter the first of stage i + 1.
    Program b;
    b.name = "pp_boundary";
    b.input = b.addTensor("input", ~0u).id;
    unsigned sent = b.add({OpKind::Send, OpRole::Send, OpPart::Pipeline}, "send", {b.input}, plan.strategy().locOf("pp"));
    b.output = b.add({OpKind::Recv, OpRole::Recv, OpPart::Pipeline}, "recv", {sent}, plan.strategy().locOf("pp"));
    plan.boundary = std::move(b);
  }

  /// Communication attributes of every comm op: collective, group, bytes per rank.
  static void annotate(Plan &plan) {
    for (Program *p : plan.programs())
      for (Op &op : p->ops) {
        if (classify(op.kind) != OpClass::Communication)
          continue;
        CommInfo info;
        const Tensor &in = p->tensors[op.inputs.front()];
        switch (op.kind) {
        case OpKind::Dispatch:
        case OpKind::Combine:
          info.collective = Collective::AllToAll;
          info.group = GroupKind::EP;
          // What one rank sends: each of its tokens to top_k experts (combine returns as much), each in its
          // own precision.
          info.bytesPerRank = double(plan.sizes.routedTokensPerRank) * double(plan.model().moe.topK) *
                              double(plan.model().hidden) *
                              (op.kind == OpKind::Dispatch ? plan.sizes.dispatchBytesPerElement
                                                           : plan.sizes.combineBytesPerElement);
          break;
        case OpKind::AllReduce:
          info.collective = Collective::AllReduce;
          info.group = plan.strategy().folded() && op.part == OpPart::RoutedExperts ? GroupKind::ExpertTP
                                                                                    : GroupKind::TP;
          info.bytesPerRank = in.bytes();
          break;
        case OpKind::AllGather:
          // What each rank ends with: the group's tokens, of which it contributed its share.
          info.collective = Collective::AllGather;
          info.group = GroupKind::TP;
          info.bytesPerRank = p->tensors[op.outputs.front()].bytes();
          break;
        default:
          info.collective = Collective::SendRecv;
          info.group = GroupKind::PP;
          info.bytesPerRank = in.bytes();
          break;
        }
        op.comm = info;
      }
  }

  static void computeTraffic(Plan &plan) {
    const ModelSpec &m = plan.model();
    const StrategySpec &s = plan.strategy();
    int64_t experts = m.moe.experts, topK = m.moe.topK, ep = s.ep;
    const PlanSizes &z = plan.sizes;
    double tokens = double(z.routedTokensPerRank);
    double assignments = tokens * double(topK);
    bool normal = z.dispatchMode == DispatchMode::Normal;

    // Nodes of every EP group, as node indices per position (groups may sit on nodes differently).
    std::vector<const ProcessGroup *> groups = plan.groupsOf(GroupKind::EP);
    std::vector<std::vector<int32_t>> positionNode(groups.size(), std::vector<int32_t>(ep));
    std::vector<int32_t> groupNodes(groups.size());
    for (size_t g = 0; g < groups.size(); ++g) {
      std::map<int64_t, int32_t> index;
      for (int64_t p = 0; p < ep; ++p) {
        auto [it, inserted] = index.try_emplace(plan.devices[groups[g]->ranks[p]].node, int32_t(index.size()));
        positionNode[g][p] = it->second;
      }
      groupNodes[g] = int32_t(index.size());
    }

    plan.traffic.clear();
    const LayerPlacement *previous = nullptr;
    for (const LayerPlacement &lp : plan.placement.layers) {
      if (previous && lp == *previous) {
        LayerTraffic copy = plan.traffic.back();
        copy.layer = lp.layer;
        plan.traffic.push_back(std::move(copy));
        continue;
      }
      previous = &lp;
      LayerTraffic t;
      t.layer = lp.layer;
      t.share.assign(ep, 0.0);
      double total = 0;
      for (double l : lp.load)
        total += l;
      for (int64_t e = 0; e < experts; ++e) {
        // Measured loads, when the placement has them, else uniform routing.
        double weight = total > 0 ? lp.load[e] / total : 1.0 / double(experts);
        for (int32_t p : lp.replicas[e])
          t.share[p] += weight / double(lp.replicas[e].size());
      }

      double nodesSum = 0, remoteSum = 0;
      double nvlinkShare = 0, remoteShare = 0, sendShare = 0, recvShare = 0;
      for (size_t g = 0; g < groups.size(); ++g) {
        std::vector<double> nodeShare(groupNodes[g], 0.0);
        for (int64_t p = 0; p < ep; ++p)
          nodeShare[positionNode[g][p]] += t.share[p];
        // What leaves each node: the other nodes' shares, summed, so that a group on one node sends exactly
        // nothing over the network (1 - its own share would leave a rounding residue, and a network latency).
        std::vector<double> otherNodes(groupNodes[g], 0.0);
        for (int64_t n = 0; n < groupNodes[g]; ++n)
          for (int64_t o = 0; o < groupNodes[g]; ++o)
            if (o != n)
              otherNodes[n] += nodeShare[o];
        // Fractions of a rank's assignments by path, kept per direction below (combine mirrors dispatch).
        for (int64_t p = 0; p < ep; ++p) {
          double local = nodeShare[positionNode[g][p]] - t.share[p]; // to other GPUs of its node
          double remote = otherNodes[positionNode[g][p]];            // to GPUs of other nodes
          nvlinkShare = std::max(nvlinkShare, local);
          remoteShare = std::max(remoteShare, remote);
          sendShare = std::max(sendShare, local + remote);
          // Every rank of the group sends its share[p] of its assignments.
          recvShare = std::max(recvShare, double(ep) * t.share[p]);
        }
        // Expected nodes per token, and how often a token's own node is among them.
        std::vector<double> reached = nodeReach(lp, positionNode[g], groupNodes[g], experts, topK);
        double nodes = 0;
        for (double r : reached)
          nodes += r;
        double ownReached = 0;
        for (int64_t p = 0; p < ep; ++p)
          ownReached += reached[positionNode[g][p]];
        ownReached /= double(ep);
        nodesSum += nodes;
        remoteSum += nodes - ownReached;
        if (g == 0 && groups.size() > 64)
          break; // the groups are alike in all layouts moec builds; the first one stands for them
      }
      double counted = groups.size() > 64 ? 1 : double(groups.size());
      t.expectedNodes = nodesSum / counted;
      t.expectedRemoteNodes = remoteSum / counted;
      if (m.moe.routeNodes > 0 && t.expectedNodes > double(m.moe.routeNodes)) {
        // Node-limited routing: the uniform estimate, scaled down to the cap (remote nodes in proportion).
        double scale = double(m.moe.routeNodes) / t.expectedNodes;
        t.expectedNodes *= scale;
        t.expectedRemoteNodes *= scale;
      }
      // Normal kernels deliver a token once to each GPU holding any of its experts (DeepEP's recv_x): GPU p
      // receives from each of the ep ranks the share 1 - (1 - share[p])^top_k of their tokens.
      double dedupRecv = 0;
      for (int64_t p = 0; p < ep; ++p)
        dedupRecv = std::max(dedupRecv, double(ep) * (1 - std::pow(1 - std::min(1.0, t.share[p]), double(topK))));
      // Bytes per direction, in its precision. Low-latency kernels send every token-expert pair to its GPU;
      // normal kernels send a token once to each remote node its experts are on, and that node forwards it over
      // NVLink once to each of its GPUs the token has an expert on: NVLink carries what the busiest GPU receives,
      // deduplicated per GPU (its own tokens included, as DeepEP's buffers pass them too).
      for (auto [link, elementBytes] : {std::pair{&t.dispatch, z.dispatchBytesPerElement},
                                        std::pair{&t.combine, z.combineBytesPerElement}}) {
        double perAssignment = double(m.hidden) * elementBytes;
        link->recv = normal ? tokens * dedupRecv * double(m.hidden) * elementBytes
                            : assignments * perAssignment * recvShare;
        if (normal) {
          link->network = tokens * t.expectedRemoteNodes * double(m.hidden) * elementBytes;
          link->nvlink = tokens * dedupRecv * double(m.hidden) * elementBytes;
          if (remoteShare <= 0)
            link->network = 0; // one node: exactly nothing over the network
        } else {
          link->network = assignments * perAssignment * remoteShare;
          link->nvlink = assignments * perAssignment * nvlinkShare;
        }
        link->send = normal ? link->network + link->nvlink : assignments * perAssignment * sendShare;
        if (ep <= 1)
          *link = LinkBytes(); // experts on the rank itself: the grouped GEMM permutes locally
      }
      plan.traffic.push_back(std::move(t));
    }
  }

  /// The probability that a token's top_k experts reach each node.
  static std::vector<double> nodeReach(const LayerPlacement &lp, llvm::ArrayRef<int32_t> positionNode,
                                       int32_t nodes, int64_t experts, int64_t topK) {
    // log C(E, K), for the normalisation.
    double total = std::lgamma(double(experts) + 1) - std::lgamma(double(topK) + 1) -
                   std::lgamma(double(experts - topK) + 1);
    std::vector<double> out(nodes);
    std::vector<double> coef(topK + 1);
    for (int32_t n = 0; n < nodes; ++n) {
      std::fill(coef.begin(), coef.end(), 0.0);
      coef[0] = 1.0;
      for (int64_t e = 0; e < experts; ++e) {
        double onNode = 0;
        for (int32_t p : lp.replicas[e])
          onNode += positionNode[p] == n ? 1.0 : 0.0;
        double miss = 1.0 - onNode / double(lp.replicas[e].size());
        for (int64_t j = std::min<int64_t>(topK, e + 1); j >= 1; --j)
          coef[j] += coef[j - 1] * miss;
      }
      double none = coef[topK] <= 0 ? 0.0 : std::exp(std::log(coef[topK]) - total);
      out[n] = 1.0 - std::min(1.0, none);
    }
    return out;
  }
};

} // namespace

std::unique_ptr<Pass> moec::createCommInsertionPass() { return std::make_unique<CommInsertionPass>(); }
