//===- Balance.h - Load-aware expert placement ------------------*- C++ -*-===//
//
// The algorithm behind `placement = balanced`, a library of its own that knows nothing of the IR (used by the
// placement pass, the unit tests and bench/placement): choose how many replicas each expert gets and which GPU of the EP group holds each replica, so
// that the busiest GPU's load (each replica carrying tokens / replicas of its expert) is as low as possible, with at
// most ceil(slots / gpus) slots per GPU and never two replicas of one expert on one GPU.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_BALANCE_BALANCE_H
#define MOEC_BALANCE_BALANCE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moec {

/// Replicas of each expert, as GPU positions 0..gpus-1, the primary first.
using ExpertReplicas = std::vector<llvm::SmallVector<int32_t, 2>>;

struct BalanceStats {
  double maxLoad = 0;   ///< the busiest GPU's load after refinement
  double greedyMax = 0; ///< ... after the greedy packing, before refinement
  int64_t moves = 0;    ///< refinement steps taken
};

/// Place \p slots replicas of the experts whose measured loads are \p load on \p gpus GPUs.
/// Requires experts <= slots <= gpus * ceil(slots / gpus) and every expert's replicas <= gpus.
ExpertReplicas balanceExperts(llvm::ArrayRef<double> load, int64_t gpus, int64_t slots,
                              BalanceStats *stats = nullptr);

/// Node first, as EPLB's hierarchical policy but with balanceExperts inside each node: the \p groups routing groups
/// (consecutive experts) are packed onto the nodes, as many per node, heaviest group first onto the lightest node;
/// each node gets slots / nodes slots, balanced over its GPUs. A token that keeps to few groups then reaches few
/// nodes, at the price of the balance between nodes. \p nodeOf maps each GPU to its node. Returns nothing unless the
/// experts divide into the groups, and the groups, the slots and the GPUs divide evenly among the nodes.
/// Why balanceExpertsByNode cannot place these experts on the GPUs of \p nodeOf (nodes numbered 0..), or "" when it
/// can.
std::string whyNotByNode(int64_t experts, llvm::ArrayRef<int32_t> nodeOf, int64_t slots, int64_t groups);

std::optional<ExpertReplicas> balanceExpertsByNode(llvm::ArrayRef<double> load, llvm::ArrayRef<int32_t> nodeOf,
                                                   int64_t slots, int64_t groups);

/// The replica counts that minimise the largest per-replica load: one each, then each extra replica to the expert
/// with the largest load / count (ties to the lowest id), never more than \p gpus.
std::vector<int32_t> replicaCounts(llvm::ArrayRef<double> load, int64_t gpus, int64_t slots);

/// Load of each GPU when \p load is routed over \p placement (a replica carries load / replicas).
std::vector<double> gpuLoads(llvm::ArrayRef<double> load, const ExpertReplicas &placement, int64_t gpus);

/// Mean GPU load / max GPU load: 1 is perfect.
double balancedness(llvm::ArrayRef<double> load, const ExpertReplicas &placement, int64_t gpus);

/// The best balancedness any placement with these slots can reach: mean / max(mean, max_e load / count) for the
/// replica counts of replicaCounts (a loose bound: packing may not reach it).
double balanceLowerBound(llvm::ArrayRef<double> load, int64_t gpus, int64_t slots);

/// Permute whole GPUs of \p placement (what each holds) among the positions of the EP group so that experts that
/// tokens pick together share a node: the GPUs' loads, and so the balance, do not change. Which experts tokens pick
/// together comes from sampled \p routes (each token's experts) or, without routes, from \p routeGroups routing
/// groups of consecutive experts (a token picks within few groups); with neither, nothing moves. Swaps two GPUs of
/// different nodes while that raises the affinity kept inside nodes. Returns the number of swaps.
int64_t improveLocality(ExpertReplicas &placement, llvm::ArrayRef<int32_t> nodeOf,
                        llvm::ArrayRef<llvm::SmallVector<int32_t, 8>> routes, int64_t routeGroups);

/// Expected distinct nodes other than its own that a token's experts live on, a replica chosen uniformly among its
/// expert's; \p routes holds each token's experts, token t coming from GPU t mod gpus; \p nodeOf maps a GPU to its
/// node.
double remoteNodesPerToken(llvm::ArrayRef<llvm::SmallVector<int32_t, 8>> routes, const ExpertReplicas &placement,
                           llvm::ArrayRef<int32_t> nodeOf);

} // namespace moec

#endif // MOEC_BALANCE_BALANCE_H
