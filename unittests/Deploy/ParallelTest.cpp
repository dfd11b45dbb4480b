//===- ParallelTest.cpp - Rank order and process groups -------------------===//
#include "moec/Deploy/Parallel.h"

#include "gtest/gtest.h"

using namespace moec;

namespace {
StrategySpec strategy(int64_t tp, int64_t ep, int64_t dp, int64_t pp, llvm::StringRef order = "tp-ep-dp-pp") {
  StrategySpec s;
  s.tp = tp;
  s.ep = ep;
  s.dp = dp;
  s.pp = pp;
  EXPECT_TRUE(parseOrder(order, s.order));
  return s;
}
} // namespace

TEST(Parallel, SeedGroupsAreTwoBlocksOf64) {
  RankLayout layout(strategy(1, 64, 2, 1));
  EXPECT_EQ(layout.world(), 128);
  std::vector<int64_t> first = layout.group(Axis::EP, 0);
  ASSERT_EQ(first.size(), 64u);
  EXPECT_EQ(first.front(), 0);
  EXPECT_EQ(first.back(), 63);
  std::vector<int64_t> second = layout.group(Axis::EP, 100);
  EXPECT_EQ(second.front(), 64);
  EXPECT_EQ(second.back(), 127);
  EXPECT_EQ(layout.group(Axis::DP, 5), (std::vector<int64_t>{5, 69}));
  EXPECT_EQ(layout.groupIndex(Axis::EP, 0), 0);
  EXPECT_EQ(layout.groupIndex(Axis::EP, 64), 1);
}

TEST(Parallel, RankAndCoordsAreInverse) {
  for (llvm::StringRef order : {"tp-ep-dp-pp", "dp-tp-ep-pp", "pp-dp-ep-tp"}) {
    RankLayout layout(strategy(2, 4, 3, 2, order));
    for (int64_t r = 0; r < layout.world(); ++r)
      EXPECT_EQ(layout.rank(layout.coords(r)), r) << order.str();
  }
}

TEST(Parallel, FormulaOfTheDefaultOrder) {
  // rank = tp_i + tp * (ep_i + ep * (dp_i + dp * pp_i))
  RankLayout layout(strategy(2, 4, 3, 2));
  Coords c;
  c[Axis::TP] = 1;
  c[Axis::EP] = 2;
  c[Axis::DP] = 1;
  c[Axis::PP] = 1;
  EXPECT_EQ(layout.rank(c), 1 + 2 * (2 + 4 * (1 + 3 * 1)));
}

TEST(Parallel, GroupsPartitionTheWorld) {
  RankLayout layout(strategy(2, 4, 3, 2, "dp-tp-ep-pp"));
  for (Axis axis : {Axis::TP, Axis::EP, Axis::DP, Axis::PP}) {
    std::vector<int> seen(layout.world(), 0);
    for (int64_t r = 0; r < layout.world(); ++r)
      if (layout.coords(r)[axis] == 0)
        for (int64_t member : layout.group(axis, r))
          ++seen[member];
    for (int count : seen)
      EXPECT_EQ(count, 1);
  }
  std::vector<int64_t> attention = layout.group2(Axis::EP, Axis::DP, 0);
  EXPECT_EQ(attention.size(), 12u);
  EXPECT_TRUE(std::is_sorted(attention.begin(), attention.end()));
}

TEST(Parallel, ParseOrderRejectsNonPermutations) {
  std::array<Axis, 4> order;
  EXPECT_TRUE(parseOrder("pp-dp-ep-tp", order));
  EXPECT_EQ(order[0], Axis::PP);
  EXPECT_FALSE(parseOrder("tp-ep-dp", order));
  EXPECT_FALSE(parseOrder("tp-ep-ep-pp", order));
  EXPECT_FALSE(parseOrder("tp-ep-dp-cp", order));
  EXPECT_FALSE(parseOrder("", order));
}

TEST(Parallel, UnfoldedAttentionGroupsAreTheLayoutsTpGroups) {
  for (llvm::StringRef order : {"tp-ep-dp-pp", "ep-tp-dp-pp"}) {
    RankLayout layout(strategy(2, 4, 2, 2, order));
    EXPECT_FALSE(layout.folded());
    for (int64_t r = 0; r < layout.world(); ++r) {
      EXPECT_EQ(layout.attentionTpGroup(r), layout.group(Axis::TP, r)) << order.str();
      EXPECT_EQ(layout.attentionDpGroup(r), layout.group2(Axis::EP, Axis::DP, r)) << order.str();
      EXPECT_EQ(layout.attentionTpRank(r), layout.coords(r)[Axis::TP]);
    }
  }
}

TEST(Parallel, FoldedAttentionGroupsAreConsecutiveRanksOfAStage) {
  // tp 4 over experts etp 2 x ep 4, two stages of 8: attention groups [0..3], [4..7], [8..11], [12..15].
  StrategySpec s = strategy(4, 4, 1, 2);
  s.etpKey = 2;
  RankLayout layout(s);
  EXPECT_TRUE(layout.folded());
  EXPECT_EQ(layout.world(), 16);
  EXPECT_EQ(layout.attentionTpGroup(6), (std::vector<int64_t>{4, 5, 6, 7}));
  EXPECT_EQ(layout.attentionTpRank(6), 2);
  EXPECT_EQ(layout.attentionDpGroup(9), (std::vector<int64_t>{9, 13}));
  EXPECT_EQ(layout.attentionDpRank(13), 1);
  // The experts' grid: expert TP groups of 2 consecutive ranks, EP groups striding over them inside a stage.
  EXPECT_EQ(layout.group(Axis::TP, 5), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(layout.group(Axis::EP, 9), (std::vector<int64_t>{9, 11, 13, 15}));
}
