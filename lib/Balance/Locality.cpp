//===- Locality.cpp - Experts picked together on one node -----------------===//
//
// improveLocality permutes whole GPUs among the positions of an EP group so that experts that tokens pick together
// share a node; the GPUs' loads, and so the balance, do not change. remoteNodesPerToken measures the result on
// sampled routes. Deterministic: ties go to the lowest GPU.
//
//===----------------------------------------------------------------------===//
#include "moec/Balance/Balance.h"

#include <algorithm>
#include <cassert>
#include <cmath>

using namespace moec;

double moec::remoteNodesPerToken(llvm::ArrayRef<llvm::SmallVector<int32_t, 8>> routes,
                                 const ExpertReplicas &placement, llvm::ArrayRef<int32_t> nodeOf) {
  if (routes.empty())
    return 0;
  int64_t gpus = int64_t(nodeOf.size());
  int32_t nodes = *std::max_element(nodeOf.begin(), nodeOf.end()) + 1;
  std::vector<double> miss(nodes), onNode(nodes);
  double sum = 0;
  for (size_t t = 0; t < routes.size(); ++t) {
    std::fill(miss.begin(), miss.end(), 1.0);
    for (int32_t e : routes[t]) {
      const auto &reps = placement[e];
      // The chance that expert e's replica, chosen uniformly, is not on each node.
      std::fill(onNode.begin(), onNode.end(), 0.0);
      for (int32_t g : reps)
        onNode[nodeOf[g]] += 1.0 / double(reps.size());
      for (int32_t n = 0; n < nodes; ++n)
        miss[n] *= 1.0 - onNode[n];
    }
    int32_t own = nodeOf[int64_t(t) % gpus];
    for (int32_t n = 0; n < nodes; ++n)
      if (n != own)
        sum += 1.0 - miss[n];
  }
  return sum / double(routes.size());
}

namespace {

/// A symmetric n x n matrix of doubles, stored flat.
class SquareMatrix {
public:
  explicit SquareMatrix(int64_t n) : n(n), cells(size_t(n) * size_t(n), 0.0) {}
  double &operator()(int64_t i, int64_t j) { return cells[size_t(i) * size_t(n) + size_t(j)]; }
  double operator()(int64_t i, int64_t j) const { return cells[size_t(i) * size_t(n) + size_t(j)]; }
  const double *row(int64_t i) const { return cells.data() + size_t(i) * size_t(n); }

private:
  int64_t n;
  std::vector<double> cells;
};

/// The affinity between GPUs: how often a token picks an expert of each, a replica counting by its share of its
/// expert's tokens.
SquareMatrix gpuAffinity(const ExpertReplicas &placement, int64_t gpus,
                         llvm::ArrayRef<llvm::SmallVector<int32_t, 8>> routes, int64_t routeGroups) {
  int64_t experts = int64_t(placement.size());
  std::vector<double> share(experts);
  for (int64_t e = 0; e < experts; ++e)
    share[e] = 1.0 / double(placement[e].size());
  SquareMatrix w(gpus);
  // Two distinct experts e and f picked together: every pair of their replicas on two GPUs.
  if (!routes.empty()) {
    // Every pair of replicas of two distinct experts a token picks, walked as flat lists (nested loops over each
    // expert's replicas cost three times as much here, in branch mispredictions). Both triangles accumulate; the
    // matrix is symmetrised after.
    struct Entry {
      int32_t gpu, expert;
      double share;
    };
    std::vector<Entry> entries;
    auto addPairs = [&](double weight) {
      for (size_t i = 0; i < entries.size(); ++i) {
        double *row = &w(entries[i].gpu, 0);
        double x = weight * entries[i].share;
        for (size_t j = i + 1; j < entries.size(); ++j)
          row[entries[j].gpu] += entries[j].expert != entries[i].expert ? x * entries[j].share : 0.0;
      }
    };
    size_t pairsPerToken = routes.front().size() * (routes.front().size() - 1) / 2;
    if (size_t(experts) * size_t(experts) / 2 < routes.size() * pairsPerToken) {
      // Few experts, many tokens: count the pairs of experts first, then expand each pair once.
      std::vector<uint32_t> together(size_t(experts) * experts, 0);
      for (const auto &token : routes)
        for (size_t i = 0; i < token.size(); ++i)
          for (size_t j = i + 1; j < token.size(); ++j)
            ++together[size_t(token[i]) * experts + token[j]]; // (e, f) and (f, e) are added up below
      for (int64_t e = 0; e < experts; ++e)
        for (int64_t f = e + 1; f < experts; ++f)
          if (uint32_t n = together[size_t(e) * experts + f] + together[size_t(f) * experts + e]) {
            entries.clear();
            for (int32_t g : placement[e])
              entries.push_back({g, int32_t(e), share[e]});
            for (int32_t g : placement[f])
              entries.push_back({g, int32_t(f), share[f]});
            addPairs(double(n));
          }
    } else {
      for (const auto &token : routes) {
        entries.clear();
        for (int32_t e : token)
          for (int32_t g : placement[e])
            entries.push_back({g, e, share[e]});
        addPairs(1.0);
      }
    }
    for (int64_t a = 0; a < gpus; ++a) {
      w(a, a) = 0; // affinity within one GPU does not count
      for (int64_t b = 0; b < a; ++b)
        w(a, b) = w(b, a) = w(a, b) + w(b, a);
    }
  } else if (routeGroups > 0) {
    // Experts of one group are picked together: w(a, b) = sum over groups of (a's share in it) x (b's share in it),
    // less what one expert replicated on both contributes (a token never picks an expert twice).
    int64_t per = std::max<int64_t>(1, experts / routeGroups);
    int64_t groups = (experts + per - 1) / per;
    std::vector<double> inGroup(size_t(gpus) * groups, 0.0);
    for (int64_t e = 0; e < experts; ++e)
      for (int32_t g : placement[e])
        inGroup[g * groups + e / per] += share[e];
    for (int64_t a = 0; a < gpus; ++a)
      for (int64_t b = a + 1; b < gpus; ++b) {
        double sum = 0;
        for (int64_t k = 0; k < groups; ++k)
          sum += inGroup[a * groups + k] * inGroup[b * groups + k];
        w(a, b) = w(b, a) = sum;
      }
    for (int64_t e = 0; e < experts; ++e)
      for (int32_t a : placement[e])
        for (int32_t b : placement[e])
          if (a != b)
            w(a, b) -= share[e] * share[e];
  }
  return w;
}

} // namespace

int64_t moec::improveLocality(ExpertReplicas &placement, llvm::ArrayRef<int32_t> nodeOf,
                              llvm::ArrayRef<llvm::SmallVector<int32_t, 8>> routes, int64_t routeGroups) {
  int64_t gpus = int64_t(nodeOf.size());
  if (routes.empty() && routeGroups <= 0)
    return 0;
  SquareMatrix w = gpuAffinity(placement, gpus, routes, routeGroups);
  // at[p]: the GPU content placed at position p; near(c, n): affinity of content c to the contents on node n.
  std::vector<int64_t> at(gpus);
  for (int64_t p = 0; p < gpus; ++p)
    at[p] = p;
  int32_t nodes = *std::max_element(nodeOf.begin(), nodeOf.end()) + 1;
  // near[n * gpus + c]: affinity of content c to the contents on node n (node-major, so a swap's update is two
  // contiguous rows).
  std::vector<double> near(size_t(gpus) * nodes, 0.0);
  for (int64_t p = 0; p < gpus; ++p) { // w is symmetric: w(c, at[p]) is row at[p]'s entry c
    const double *row = w.row(at[p]);
    double *onNode = &near[size_t(nodeOf[p]) * gpus];
    for (int64_t c = 0; c < gpus; ++c)
      onNode[c] += row[c];
  }
  int64_t swaps = 0;
  for (int pass = 0; pass < 4; ++pass) {
    bool improved = false;
    for (int64_t p = 0; p < gpus; ++p)
      for (int64_t q = p + 1; q < gpus; ++q) {
        int32_t np = nodeOf[p], nq = nodeOf[q];
        if (np == nq)
          continue;
        int64_t a = at[p], b = at[q];
        double *nearP = &near[np * gpus], *nearQ = &near[nq * gpus];
        double gain = nearQ[a] - nearP[a] + nearP[b] - nearQ[b] - 2 * w(a, b);
        if (gain <= 1e-9)
          continue;
        std::swap(at[p], at[q]);
        const double *wa = w.row(a), *wb = w.row(b);
        for (int64_t c = 0; c < gpus; ++c) { // a left np for nq, b the other way
          double d = wb[c] - wa[c];
          nearP[c] += d;
          nearQ[c] -= d;
        }
        ++swaps;
        improved = true;
      }
    if (!improved)
      break;
  }
  // Rewrite the replicas' positions: what GPU `at[p]` held now lives at position p.
  std::vector<int32_t> newPosition(gpus);
  for (int64_t p = 0; p < gpus; ++p)
    newPosition[at[p]] = int32_t(p);
  for (auto &reps : placement)
    for (int32_t &g : reps)
      g = newPosition[g];
  return swaps;
}
