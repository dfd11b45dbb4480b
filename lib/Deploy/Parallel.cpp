//===- Parallel.cpp - Rank order and process groups -----------------------===//
#include "moec/Deploy/Parallel.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>

using namespace moec;

RankLayout::RankLayout(const StrategySpec &s) {
  for (Axis a : {Axis::TP, Axis::EP, Axis::DP, Axis::PP})
    degrees[static_cast<unsigned>(a)] = s.degree(a);
  int64_t stride = 1;
  for (Axis a : s.order) {
    strides[static_cast<unsigned>(a)] = stride;
    stride *= s.degree(a);
  }
  worldSize = stride;
  attentionTp = s.tp;
  stageRanks = worldSize / std::max<int64_t>(1, s.pp);
}

// Folded, Sema requires the order to start with tp and end with pp: a stage's ranks are then contiguous and an
// attention TP group (tp consecutive ranks) holds tp / etp whole expert TP groups.
std::vector<int64_t> RankLayout::attentionTpGroup(int64_t member) const {
  if (!folded())
    return group(Axis::TP, member);
  std::vector<int64_t> ranks;
  int64_t first = member - member % attentionTp;
  for (int64_t i = 0; i < attentionTp; ++i)
    ranks.push_back(first + i);
  return ranks;
}

std::vector<int64_t> RankLayout::attentionDpGroup(int64_t member) const {
  if (!folded())
    return group2(Axis::EP, Axis::DP, member);
  std::vector<int64_t> ranks;
  int64_t base = member - member % stageRanks;
  for (int64_t r = base + member % attentionTp; r < base + stageRanks; r += attentionTp)
    ranks.push_back(r);
  return ranks;
}

int64_t RankLayout::attentionTpRank(int64_t rank) const {
  return folded() ? rank % attentionTp : coords(rank)[Axis::TP];
}

int64_t RankLayout::attentionDpRank(int64_t rank) const {
  if (folded())
    return (rank % stageRanks) / attentionTp;
  std::vector<int64_t> g = attentionDpGroup(rank);
  return std::find(g.begin(), g.end(), rank) - g.begin();
}

int64_t RankLayout::rank(const Coords &coords) const {
  int64_t r = 0;
  for (unsigned i = 0; i < 4; ++i)
    r += coords.c[i] * strides[i];
  return r;
}

Coords RankLayout::coords(int64_t rank) const {
  Coords out;
  for (unsigned i = 0; i < 4; ++i)
    out.c[i] = (rank / strides[i]) % degrees[i];
  return out;
}

std::vector<int64_t> RankLayout::group(Axis axis, int64_t member) const {
  Coords base = coords(member);
  base[axis] = 0;
  int64_t start = rank(base);
  std::vector<int64_t> ranks;
  ranks.reserve(degree(axis));
  for (int64_t i = 0; i < degree(axis); ++i)
    ranks.push_back(start + i * stride(axis));
  return ranks;
}

std::vector<int64_t> RankLayout::group2(Axis a, Axis b, int64_t member) const {
  Coords base = coords(member);
  base[a] = 0;
  base[b] = 0;
  int64_t start = rank(base);
  std::vector<int64_t> ranks;
  ranks.reserve(degree(a) * degree(b));
  for (int64_t j = 0; j < degree(b); ++j)
    for (int64_t i = 0; i < degree(a); ++i)
      ranks.push_back(start + i * stride(a) + j * stride(b));
  std::sort(ranks.begin(), ranks.end());
  return ranks;
}

int64_t RankLayout::groupIndex(Axis axis, int64_t rank) const {
  // Number the groups by the remaining coordinates, fastest axis first, as the ranks would order them.
  Coords c = coords(rank);
  int64_t index = 0, scale = 1;
  llvm::SmallVector<unsigned, 4> axes = {0, 1, 2, 3};
  llvm::sort(axes, [&](unsigned x, unsigned y) { return strides[x] < strides[y]; });
  for (unsigned i : axes) {
    if (i == static_cast<unsigned>(axis))
      continue;
    index += c.c[i] * scale;
    scale *= degrees[i];
  }
  return index;
}

bool moec::parseOrder(llvm::StringRef text, std::array<Axis, 4> &order) {
  llvm::SmallVector<llvm::StringRef, 4> parts;
  text.split(parts, '-');
  if (parts.size() != 4)
    return false;
  unsigned seen = 0;
  for (unsigned i = 0; i < 4; ++i) {
    std::optional<Axis> a = parseEnum<Axis>(parts[i]);
    if (!a)
      return false;
    unsigned bit = 1u << static_cast<unsigned>(*a);
    if (seen & bit)
      return false;
    seen |= bit;
    order[i] = *a;
  }
  return true;
}
