//===- Eplb.h - DeepSeek's EPLB policy, re-expressed for comparison -------*- C++ -*-===//
//
// The algorithm of DeepSeek's `eplb.rebalance_experts`, written from its published description so that held-out
// samples can be scored for EPLB and moec alike (the README gives EPLB's held-out figures for a sample that is not
// published). bench-placement checks this re-expression against the README's in-sample EPLB figures.
//
//   replicate: each extra replica to the expert with the largest load / replicas (ties: lowest id);
//   pack:      items by decreasing weight, each to the lightest pack that has fewer than items / packs (ties:
//              lowest pack), blind to which expert an item is (two replicas of one expert may share a GPU);
//   hierarchical (num_groups % nodes == 0): pack expert groups onto nodes, replicate within each node, pack each
//              node's replicas onto its GPUs; global otherwise: the same with one group and one node.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_BENCH_EPLB_H
#define MOEC_BENCH_EPLB_H

#include "moec/Balance/Balance.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace moec::bench {

/// Pack index of each item; every pack receives items.size() / packs items.
inline std::vector<int> eplbPack(const std::vector<double> &weight, int packs) {
  int n = int(weight.size()), perPack = n / packs;
  std::vector<int> order(n), pack(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return weight[a] > weight[b]; });
  std::vector<double> load(packs, 0.0);
  std::vector<int> count(packs, 0);
  for (int i : order) {
    int best = -1;
    for (int p = 0; p < packs; ++p)
      if (count[p] < perPack && (best < 0 || load[p] < load[best]))
        best = p;
    pack[i] = best;
    load[best] += weight[i];
    ++count[best];
  }
  return pack;
}

/// EPLB's placement of experts + redundant replicas on \p gpus GPUs of \p nodes nodes, as GPU positions per expert.
inline ExpertReplicas eplbPlace(const std::vector<double> &load, int redundant, int groups, int nodes, int gpus) {
  int experts = int(load.size());
  if (groups % nodes != 0)
    groups = nodes = 1;
  int groupSize = experts / groups;
  int physicalPerNode = (experts + redundant) / nodes, gpusPerNode = gpus / nodes;
  // 1. Expert groups onto nodes.
  std::vector<double> groupLoad(groups, 0.0);
  for (int e = 0; e < experts; ++e)
    groupLoad[e / groupSize] += load[e];
  std::vector<int> groupNode = eplbPack(groupLoad, nodes);
  std::vector<std::vector<int>> nodeExperts(nodes); // a node's experts, its groups in group order
  for (int g = 0; g < groups; ++g)
    for (int e = g * groupSize; e < (g + 1) * groupSize; ++e)
      nodeExperts[groupNode[g]].push_back(e);
  ExpertReplicas out(experts);
  for (int node = 0; node < nodes; ++node) {
    const std::vector<int> &mine = nodeExperts[node];
    // 2. Replicas within the node.
    std::vector<int> replicaOf(mine.size()), count(mine.size(), 1);
    std::iota(replicaOf.begin(), replicaOf.end(), 0);
    for (int extra = int(mine.size()); extra < physicalPerNode; ++extra) {
      int best = 0;
      for (int i = 1; i < int(mine.size()); ++i)
        if (load[mine[i]] / count[i] > load[mine[best]] / count[best])
          best = i;
      replicaOf.push_back(best);
      ++count[best];
    }
    // 3. The node's replicas onto its GPUs.
    std::vector<double> weight(replicaOf.size());
    for (size_t r = 0; r < replicaOf.size(); ++r)
      weight[r] = load[mine[replicaOf[r]]] / count[replicaOf[r]];
    std::vector<int> gpuOf = eplbPack(weight, gpusPerNode);
    for (size_t r = 0; r < replicaOf.size(); ++r)
      out[mine[replicaOf[r]]].push_back(int32_t(node * gpusPerNode + gpuOf[r]));
  }
  return out;
}

/// Two replicas of one expert on one GPU, counted over a placement.
inline int64_t sharedGpuReplicas(const ExpertReplicas &placement) {
  int64_t shared = 0;
  for (const auto &reps : placement)
    for (size_t i = 0; i < reps.size(); ++i)
      for (size_t j = i + 1; j < reps.size(); ++j)
        shared += reps[i] == reps[j];
  return shared;
}

} // namespace moec::bench

#endif // MOEC_BENCH_EPLB_H
