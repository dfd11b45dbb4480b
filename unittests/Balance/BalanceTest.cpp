//===- BalanceTest.cpp - Invariants of load-aware placement on random loads ===//
#include "moec/Balance/Balance.h"

#include "gtest/gtest.h"

#include <random>
#include <set>

using namespace moec;

namespace {
struct Case {
  int64_t experts, gpus, slots;
};

std::vector<double> randomLoad(int64_t experts, std::mt19937_64 &rng) {
  std::lognormal_distribution<double> skew(0.0, 0.8);
  std::vector<double> load(experts);
  for (double &l : load)
    l = std::floor(1000 * skew(rng));
  return load;
}

/// 16 GPUs in 4 nodes of 4.
std::vector<int32_t> fourNodesOfFour() {
  std::vector<int32_t> nodeOf(16);
  for (int32_t g = 0; g < 16; ++g)
    nodeOf[g] = g / 4;
  return nodeOf;
}

/// The same multiset of GPU loads: the locality step only permutes GPUs.
void expectSameLoads(llvm::ArrayRef<double> load, const ExpertReplicas &a, const ExpertReplicas &b) {
  std::vector<double> x = gpuLoads(load, a, 16), y = gpuLoads(load, b, 16);
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  EXPECT_EQ(x, y);
}
} // namespace

// Every expert placed at least once, all slots used, never more than ceil(slots / gpus) on a GPU, never two
// replicas of one expert on one GPU; on hundreds of random skewed loads and shapes.
TEST(Balance, InvariantsOnRandomLoads) {
  std::mt19937_64 rng(42);
  const Case cases[] = {{8, 8, 8}, {8, 8, 12}, {64, 64, 128}, {256, 32, 288}, {256, 144, 288}, {16, 6, 20},
                        {5, 16, 5}, {256, 128, 384}};
  for (const Case &c : cases)
    for (int trial = 0; trial < 25; ++trial) {
      std::vector<double> load = randomLoad(c.experts, rng);
      BalanceStats stats;
      ExpertReplicas placed = balanceExperts(load, c.gpus, c.slots, &stats);
      ASSERT_EQ(int64_t(placed.size()), c.experts);
      int64_t capacity = (c.slots + c.gpus - 1) / c.gpus, total = 0;
      std::vector<int64_t> perGpu(c.gpus, 0);
      for (const auto &reps : placed) {
        ASSERT_GE(reps.size(), 1u);
        std::set<int32_t> distinct(reps.begin(), reps.end());
        EXPECT_EQ(distinct.size(), reps.size()) << "two replicas of one expert on one GPU";
        for (int32_t g : reps) {
          ASSERT_GE(g, 0);
          ASSERT_LT(g, c.gpus);
          ++perGpu[g];
        }
        total += int64_t(reps.size());
      }
      EXPECT_EQ(total, c.slots);
      for (int64_t n : perGpu)
        EXPECT_LE(n, capacity);
      // Refinement never makes the greedy start worse, and the result never beats the bound.
      EXPECT_LE(stats.maxLoad, stats.greedyMax * (1 + 1e-12));
      EXPECT_LE(balancedness(load, placed, c.gpus), balanceLowerBound(load, c.gpus, c.slots) + 1e-9);
    }
}

TEST(Balance, ReplicasGoToTheHeaviestExperts) {
  std::vector<double> load = {400, 90, 60, 50, 40, 30, 20, 10};
  std::vector<int32_t> count = replicaCounts(load, 8, 12);
  EXPECT_EQ(count[0], 5);
  for (size_t e = 1; e < count.size(); ++e)
    EXPECT_EQ(count[e], 1);
  // Never more replicas than GPUs.
  std::vector<int32_t> capped = replicaCounts({1000, 1}, 3, 5);
  EXPECT_EQ(capped[0], 3);
  EXPECT_EQ(capped[1], 2);
}

TEST(Balance, BeatsContiguousOnSkewedLoads) {
  std::mt19937_64 rng(7);
  double balanced = 0, contiguous = 0;
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> load = randomLoad(256, rng);
    balanced += balancedness(load, balanceExperts(load, 32, 288), 32);
    std::vector<int32_t> count = replicaCounts(load, 32, 288);
    ExpertReplicas c(load.size());
    for (int64_t e = 0, s = 0; e < 256; ++e)
      for (int32_t r = 0; r < count[e]; ++r, ++s)
        c[e].push_back(int32_t(s * 32 / 288));
    contiguous += balancedness(load, c, 32);
  }
  EXPECT_GT(balanced / 20, 0.99);
  EXPECT_GT(balanced, contiguous);
}

TEST(Balance, RemoteNodes) {
  // Two GPUs per node; token 0 comes from GPU 0 (node 0) and picks experts on GPU 1 (node 0) and GPU 2 (node 1).
  ExpertReplicas placement = {{1}, {2}, {3}};
  std::vector<llvm::SmallVector<int32_t, 8>> routes = {{0, 1}};
  std::vector<int32_t> nodeOf = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(remoteNodesPerToken(routes, placement, nodeOf), 1.0);
  // Expert 0 replicated on both nodes: half the time its replica is remote, but expert 1 is remote anyway.
  ExpertReplicas replicated = {{0, 2}, {0}, {3}};
  std::vector<llvm::SmallVector<int32_t, 8>> local = {{0, 1}};
  EXPECT_DOUBLE_EQ(remoteNodesPerToken(local, replicated, nodeOf), 0.5);
}

// The locality step permutes whole GPUs: every GPU keeps its load, so the balance is unchanged, and experts that
// tokens pick together move onto one node.
TEST(Balance, LocalityKeepsTheBalanceAndGathersCoPickedExperts) {
  std::mt19937_64 rng(3);
  std::vector<double> load = randomLoad(64, rng);
  ExpertReplicas placed = balanceExperts(load, 16, 80);
  std::vector<int32_t> nodeOf = fourNodesOfFour();
  // Tokens always pick experts 4k and 4k+1 (k = 0..15) together.
  std::vector<llvm::SmallVector<int32_t, 8>> routes;
  for (int t = 0; t < 256; ++t)
    routes.push_back({int32_t(4 * (t % 16)), int32_t(4 * (t % 16) + 1)});
  double before = balancedness(load, placed, 16);
  double remoteBefore = remoteNodesPerToken(routes, placed, nodeOf);
  ExpertReplicas local = placed;
  improveLocality(local, nodeOf, routes, 0);
  EXPECT_DOUBLE_EQ(balancedness(load, local, 16), before);
  expectSameLoads(load, placed, local);
  EXPECT_LT(remoteNodesPerToken(routes, local, nodeOf), remoteBefore);
}

// Without sampled routes, declared routing groups say which experts tokens pick together: with one expert per GPU
// the locality step gathers each group of 4 onto one node of 4 GPUs, and the loads stay as they were.
TEST(Balance, LocalityFromRouteGroups) {
  std::mt19937_64 rng(5);
  std::vector<double> load = randomLoad(16, rng);
  ExpertReplicas placed = balanceExperts(load, 16, 16);
  std::vector<int32_t> nodeOf = fourNodesOfFour();
  auto groupNodes = [&](const ExpertReplicas &p) {
    std::vector<std::set<int32_t>> nodes(4);
    for (int32_t e = 0; e < 16; ++e)
      for (int32_t g : p[e])
        nodes[e / 4].insert(nodeOf[g]);
    return nodes;
  };
  ExpertReplicas local = placed;
  EXPECT_GT(improveLocality(local, nodeOf, {}, 4), 0);
  expectSameLoads(load, placed, local);
  size_t spreadBefore = 0;
  for (const auto &nodes : groupNodes(placed))
    spreadBefore += nodes.size();
  EXPECT_GT(spreadBefore, 4u);
  for (const auto &nodes : groupNodes(local))
    EXPECT_EQ(nodes.size(), 1u) << "a routing group spread over nodes";
  // With neither routes nor groups there is nothing to go by: nothing moves.
  ExpertReplicas still = placed;
  EXPECT_EQ(improveLocality(still, nodeOf, {}, 0), 0);
  EXPECT_EQ(still, placed);
}

// Node first (placement_objective = locality): every routing group's replicas on one node, every expert placed,
// never more than ceil(slots / gpus) on a GPU nor two replicas of an expert on one GPU; nothing when the groups or
// the slots do not divide among the nodes.
TEST(Balance, NodeFirstKeepsEachGroupOnOneNode) {
  std::mt19937_64 rng(9);
  std::vector<int32_t> nodeOf = fourNodesOfFour();
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> load = randomLoad(64, rng);
    std::optional<ExpertReplicas> placed = balanceExpertsByNode(load, nodeOf, 96, 8);
    ASSERT_TRUE(placed.has_value());
    std::vector<int64_t> perGpu(16, 0);
    for (int32_t e = 0; e < 64; ++e) {
      const auto &reps = (*placed)[e];
      ASSERT_GE(reps.size(), 1u);
      EXPECT_EQ(std::set<int32_t>(reps.begin(), reps.end()).size(), reps.size());
      for (int32_t g : reps) {
        ++perGpu[g];
        // Experts e and e - e % 8 (the first of its group) share a node.
        EXPECT_EQ(nodeOf[g], nodeOf[(*placed)[e - e % 8][0]]) << "group " << e / 8 << " spread over nodes";
      }
    }
    for (int64_t n : perGpu)
      EXPECT_LE(n, 6);
  }
  std::vector<double> load = randomLoad(64, rng);
  EXPECT_FALSE(balanceExpertsByNode(load, nodeOf, 96, 2).has_value()); // 2 groups on 4 nodes
  EXPECT_FALSE(balanceExpertsByNode(load, nodeOf, 96, 6).has_value()); // 64 experts in 6 groups
  EXPECT_FALSE(balanceExpertsByNode(load, nodeOf, 98, 8).has_value()); // 98 slots on 4 nodes
  EXPECT_FALSE(balanceExpertsByNode(load, nodeOf, 96, 0).has_value()); // no groups
}

// With exactly two slots per GPU the replica counts decide the busiest pair; the count search starts from
// replicaCounts and only takes moves that lower it, so the result is never worse than pairing those counts
// heaviest-with-lightest, and on skewed loads it is better.
TEST(Balance, TwoSlotCountSearchNeverWorseThanGreedyCounts) {
  std::mt19937_64 rng(11);
  auto pairedMax = [](const std::vector<double> &load, const std::vector<int32_t> &count) {
    std::vector<double> w;
    for (size_t e = 0; e < load.size(); ++e)
      for (int32_t r = 0; r < count[e]; ++r)
        w.push_back(load[e] / count[e]);
    std::sort(w.begin(), w.end());
    double most = 0;
    for (size_t i = 0; i < w.size() / 2; ++i)
      most = std::max(most, w[i] + w[w.size() - 1 - i]);
    return most;
  };
  int better = 0;
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<double> load = randomLoad(64, rng);
    ExpertReplicas placed = balanceExperts(load, 64, 128);
    std::vector<double> loads = gpuLoads(load, placed, 64);
    double most = *std::max_element(loads.begin(), loads.end());
    double greedy = pairedMax(load, replicaCounts(load, 64, 128));
    EXPECT_LE(most, greedy * (1 + 1e-12));
    better += most < greedy * (1 - 1e-3);
  }
  EXPECT_GT(better, 20);
}
