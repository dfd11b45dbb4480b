//===- Parallel.h - Rank order and process groups ---------------*- C++ -*-===//
//
// The one definition of how a rank maps to parallel coordinates, used by Sema, the IR and every backend.
// With the order's axes a0 (fastest) .. a3 and degrees d0 .. d3:
//   rank = c0 + d0 * (c1 + d1 * (c2 + d2 * c3)).
// The default order "tp-ep-dp-pp" is Megatron-Core's `tp-cp-ep-dp-pp` without context parallelism.
//
// The layout's axes are the experts' grid: its tensor axis has degree etp (tp unless the strategy folds).
// Attention has its own grid on the same ranks: groups of tp consecutive ranks of a stage (Megatron-Core's MoE
// parallel folding, vLLM's and SGLang's TP attention over an EP MoE). Unfolded, an attention TP group is the
// layout's TP group and an attention DP group varies EP and DP.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_DEPLOY_PARALLEL_H
#define MOEC_DEPLOY_PARALLEL_H

#include "moec/Deploy/Deploy.h"

#include <array>
#include <cstdint>
#include <vector>

namespace moec {

/// Coordinates of one rank, indexed by Axis.
struct Coords {
  std::array<int64_t, 4> c = {0, 0, 0, 0};
  int64_t &operator[](Axis a) { return c[static_cast<unsigned>(a)]; }
  int64_t operator[](Axis a) const { return c[static_cast<unsigned>(a)]; }
};

class RankLayout {
public:
  explicit RankLayout(const StrategySpec &strategy);

  int64_t world() const { return worldSize; }
  int64_t degree(Axis a) const { return degrees[static_cast<unsigned>(a)]; }
  int64_t stride(Axis a) const { return strides[static_cast<unsigned>(a)]; }

  int64_t rank(const Coords &coords) const;
  Coords coords(int64_t rank) const;

  /// The ranks of the group along \p axis that contains \p member, in coordinate order.
  std::vector<int64_t> group(Axis axis, int64_t member) const;
  /// The ranks that vary along both \p a and \p b (e.g. the attention data-parallel group, EP x DP).
  std::vector<int64_t> group2(Axis a, Axis b, int64_t member) const;
  /// The attention TP group (tp ranks) that contains \p member.
  std::vector<int64_t> attentionTpGroup(int64_t member) const;
  /// The attention DP group (the stage's ranks with \p member's attention TP coordinate).
  std::vector<int64_t> attentionDpGroup(int64_t member) const;
  /// \p rank's coordinate in its attention TP group.
  int64_t attentionTpRank(int64_t rank) const;
  /// The index of \p rank's attention group within its stage (its attention DP rank).
  int64_t attentionDpRank(int64_t rank) const;
  bool folded() const { return attentionTp != degree(Axis::TP); }

  /// Index of the group along \p axis that contains \p rank: groups numbered by the other coordinates in
  /// rank order.
  int64_t groupIndex(Axis axis, int64_t rank) const;

private:
  std::array<int64_t, 4> degrees;
  std::array<int64_t, 4> strides;
  int64_t worldSize;
  int64_t attentionTp;
  int64_t stageRanks; ///< world / pp
};

/// Parse an order string such as "tp-ep-dp-pp" (fastest-varying first). Returns false when it is not a
/// permutation of the four axes.
bool parseOrder(llvm::StringRef text, std::array<Axis, 4> &order);

} // namespace moec

#endif // MOEC_DEPLOY_PARALLEL_H
