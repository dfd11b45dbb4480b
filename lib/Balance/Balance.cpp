//===- Balance.cpp - Load-aware expert placement --------------------------===//
//
// Algorithm (balanceExperts):
//   1. Replica counts: one per expert; each extra replica to the expert with the largest load per replica. This
//      minimises the largest per-replica load, the bound no packing can beat. With exactly two slots per GPU the
//      counts then decide the busiest GPU (pairing heaviest with lightest is optimal), and a local search moves
//      replicas between experts while that lowers the busiest pair (PairCounts).
//   2. Packing: greedy (longest processing time first: replicas by decreasing load, each onto the least-loaded GPU
//      that has a free slot and does not hold its expert yet) and, with two slots per GPU, by rounds (each round
//      gives the next G replicas, heaviest first, to the GPUs from the lightest up).
//   3. Refinement: while the busiest GPU can be relieved, move one of its replicas to a GPU with a free slot, or
//      swap it with a lighter replica of another GPU, choosing the change that lowers the larger of the two GPUs'
//      loads the most (partners scanned from the lightest GPU, stopping when half the pair's total cannot beat the
//      best change). Every accepted step lowers that pair's maximum below the busiest load, so the result is never
//      worse than its start; it stops when no step helps the busiest GPU, or after a bounded number of steps.
//      The better refined start wins.
// Node first (balanceExpertsByNode): routing groups packed onto nodes, then the above inside each node.
// Locality (improveLocality, remoteNodesPerToken) is in Locality.cpp.
// Everything is deterministic: ties go to the lowest expert id and the lowest GPU.
//
//===----------------------------------------------------------------------===//
#include "moec/Balance/Balance.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <optional>
#include <queue>

using namespace moec;

std::vector<int32_t> moec::replicaCounts(llvm::ArrayRef<double> load, int64_t gpus, int64_t slots) {
  int64_t experts = int64_t(load.size());
  std::vector<int32_t> count(experts, 1);
  // (per-replica load, expert): the largest load first, then the lowest id.
  using Entry = std::pair<double, int64_t>;
  auto less = [](const Entry &a, const Entry &b) { return a.first != b.first ? a.first < b.first : a.second > b.second; };
  std::vector<Entry> heap;
  heap.reserve(experts);
  for (int64_t e = 0; e < experts; ++e)
    heap.push_back({load[e], e});
  std::make_heap(heap.begin(), heap.end(), less);
  for (int64_t extra = slots - experts; extra > 0 && !heap.empty();) {
    std::pop_heap(heap.begin(), heap.end(), less);
    int64_t e = heap.back().second;
    heap.pop_back();
    if (count[e] >= gpus)
      continue; // it cannot take another replica; the next expert does
    ++count[e];
    --extra;
    heap.push_back({load[e] / count[e], e});
    std::push_heap(heap.begin(), heap.end(), less);
  }
  return count;
}

namespace {

struct Item {
  int32_t expert;
  double weight; ///< tokens / replicas of the expert
};

class Packer {
public:
  Packer(int64_t gpus, int64_t capacity, int64_t experts)
      : capacity(capacity), words((experts + 63) / 64), slots(size_t(gpus) * capacity), held(gpus, 0),
        loads(gpus, 0.0),
        member(size_t(gpus) * words, 0) {}

  Item &item(int64_t gpu, size_t i) { return slots[size_t(gpu) * capacity + i]; }
  const Item &item(int64_t gpu, size_t i) const { return slots[size_t(gpu) * capacity + i]; }

  bool holds(int64_t gpu, int32_t expert) const {
    return member[size_t(gpu) * words + expert / 64] >> (expert % 64) & 1;
  }

  void put(int64_t gpu, const Item &item) {
    slots[size_t(gpu) * capacity + held[gpu]++] = item;
    loads[gpu] += item.weight;
    setMember(gpu, item.expert);
  }

  void clearMember(int64_t gpu, int32_t expert) {
    member[size_t(gpu) * words + expert / 64] &= ~(uint64_t(1) << (expert % 64));
  }
  void setMember(int64_t gpu, int32_t expert) {
    member[size_t(gpu) * words + expert / 64] |= uint64_t(1) << (expert % 64);
  }

  bool lighter(int32_t a, int32_t b) const { return loads[a] != loads[b] ? loads[a] < loads[b] : a < b; }

  /// Moves GPU \p g to its place in byLoad after its load changed.
  void reposition(int32_t g) {
    auto at = std::find(byLoad.begin(), byLoad.end(), g);
    byLoad.erase(at);
    byLoad.insert(std::lower_bound(byLoad.begin(), byLoad.end(), g, [&](int32_t a, int32_t b) { return lighter(a, b); }),
                  g);
  }

  static void sortItems(std::vector<Item> &order) {
    std::stable_sort(order.begin(), order.end(), [](const Item &a, const Item &b) {
      return a.weight != b.weight ? a.weight > b.weight : a.expert < b.expert;
    });
  }

  /// Heaviest first, a round at a time: each round gives the next G replicas, heaviest first, to the GPUs from the
  /// lightest so far up, so that the heaviest new replica joins the lightest GPU. With two slots per GPU this pairs
  /// the heaviest replica with the lightest, the optimal pairing. A GPU that already holds the expert, or is full,
  /// passes its turn to the next.
  void rounds(std::vector<Item> order) {
    sortItems(order);
    int64_t gpus = int64_t(loads.size());
    std::vector<int32_t> turn(gpus);
    std::vector<bool> used(gpus);
    for (size_t start = 0; start < order.size(); start += size_t(gpus)) {
      for (int64_t g = 0; g < gpus; ++g)
        turn[g] = int32_t(g);
      std::sort(turn.begin(), turn.end(), [&](int32_t a, int32_t b) { return lighter(a, b); });
      std::fill(used.begin(), used.end(), false);
      int64_t cursor = 0;
      for (size_t k = start; k < std::min(order.size(), start + size_t(gpus)); ++k) {
        const Item &item = order[k];
        while (cursor < gpus && used[cursor])
          ++cursor;
        int64_t at = cursor;
        while (at < gpus &&
               (used[at] || int64_t(held[turn[at]]) >= capacity || holds(turn[at], item.expert)))
          ++at;
        if (at == gpus) { // every later turn is taken: the least-loaded GPU that can take it
          int64_t best = -1;
          for (int64_t g = 0; g < gpus; ++g)
            if (int64_t(held[g]) < capacity && !holds(g, item.expert) &&
                (best < 0 || loads[g] < loads[best]))
              best = g;
          assert(best >= 0 && "no GPU can take the replica");
          put(best, item);
          continue;
        }
        used[at] = true;
        put(turn[at], item);
      }
    }
  }

  void greedy(std::vector<Item> order) {
    sortItems(order);
    // GPUs by load in a heap; those that cannot take the replica are set aside and put back after.
    using Entry = std::pair<double, int64_t>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
    for (int64_t g = 0; g < int64_t(loads.size()); ++g)
      heap.push({0.0, g});
    std::vector<Entry> aside;
    for (const Item &item : order) {
      while (!heap.empty() && holds(heap.top().second, item.expert)) {
        aside.push_back(heap.top());
        heap.pop();
      }
      assert(!heap.empty() && "no GPU can take the replica");
      int64_t best = heap.top().second;
      heap.pop();
      put(best, item);
      if (int64_t(held[best]) < capacity)
        heap.push({loads[best], best});
      for (const Entry &e : aside)
        heap.push(e);
      aside.clear();
    }
  }

  /// One improving step on the busiest GPU; false when there is none.
  bool refineOnce() {
    // GPUs by increasing load (ties: lowest id), kept sorted across steps: only two GPUs change per step.
    int64_t gpus = int64_t(loads.size());
    if (int64_t(byLoad.size()) != gpus) {
      byLoad.resize(gpus);
      for (int64_t g = 0; g < gpus; ++g)
        byLoad[g] = int32_t(g);
      std::sort(byLoad.begin(), byLoad.end(), [&](int32_t a, int32_t b) { return lighter(a, b); });
    }
    int64_t h = byLoad.back();
    double top = loads[h];
    double bestMax = top * (1 - 1e-6); // steps that gain less than a millionth are not worth their time
    int64_t bestItem = -1, bestGpu = -1, bestOther = -1; // bestOther = -1: a move
    for (int32_t b : byLoad) {
      if (b == h)
        continue;
      // A move or a swap keeps the pair's total, so it cannot bring their maximum below half of it; heavier GPUs
      // come later and cannot either.
      if ((top + loads[b]) / 2 >= bestMax)
        break;
      // The loads first, which rule out most candidates; then whether a GPU already holds the expert.
      for (size_t i = 0; i < size_t(held[h]); ++i) {
        const Item &a = item(h, i);
        if (holds(b, a.expert))
          continue;
        if (int64_t(held[b]) < capacity) {
          double m = std::max(top - a.weight, loads[b] + a.weight);
          if (m < bestMax) {
            bestMax = m;
            bestItem = int64_t(i), bestGpu = b, bestOther = -1;
          }
        }
        for (size_t j = 0; j < size_t(held[b]); ++j) {
          const Item &c = item(b, j);
          if (c.weight >= a.weight)
            continue;
          double m = std::max(top - a.weight + c.weight, loads[b] - c.weight + a.weight);
          if (m < bestMax && !holds(h, c.expert)) {
            bestMax = m;
            bestItem = int64_t(i), bestGpu = b, bestOther = int64_t(j);
          }
        }
      }
    }
    if (bestItem < 0)
      return false;
    apply(h, bestItem, bestGpu, bestOther);
    reposition(int32_t(h));
    reposition(int32_t(bestGpu));
    return true;
  }

  /// Item \p i of GPU \p h moves to GPU \p b, swapped with its item \p j unless j < 0.
  void apply(int64_t h, int64_t i, int64_t b, int64_t j) {
    Item a = item(h, i);
    clearMember(h, a.expert);
    if (j < 0) {
      item(h, i) = item(h, held[h] - 1); // the last item takes its place
      --held[h];
      loads[h] -= a.weight;
      put(b, a);
      return;
    }
    Item c = item(b, j);
    clearMember(b, c.expert);
    item(h, i) = c;
    item(b, j) = a;
    setMember(h, c.expert);
    setMember(b, a.expert);
    loads[h] += c.weight - a.weight;
    loads[b] += a.weight - c.weight;
  }

  double maxLoad() const { return *std::max_element(loads.begin(), loads.end()); }

  ExpertReplicas result(int64_t experts) const {
    ExpertReplicas out(experts);
    for (int64_t g = 0; g < int64_t(held.size()); ++g)
      for (int32_t k = 0; k < held[g]; ++k)
        out[item(g, size_t(k)).expert].push_back(int32_t(g));
    return out;
  }

private:
  int64_t capacity;
  int64_t words;
  std::vector<Item> slots;     ///< GPU g's items at [g * capacity, g * capacity + held[g])
  std::vector<int32_t> held;   ///< items per GPU
  std::vector<double> loads;
  std::vector<uint64_t> member; ///< per GPU, a bit per expert it holds
  std::vector<int32_t> byLoad;  ///< GPUs by increasing load, during refinement
};

/// Replica counts for GPUs of exactly two slots. Pairing the heaviest replica with the lightest is then optimal, so
/// the busiest GPU is the largest sum of the i-th heaviest and the i-th lightest replica, and the counts decide it.
/// Local search: each step moves one replica from one expert to another, trying as gainers the two experts of the
/// busiest pair and as losers the experts whose replicas would grow least, and takes the move that lowers the
/// busiest pair most; it stops when none does.
class PairCounts {
public:
  PairCounts(llvm::ArrayRef<double> load, std::vector<int32_t> &count, int64_t gpus)
      : load(load), count(count), gpus(gpus), order(load.size()) {
    for (int32_t c : count)
      slots += c;
    for (size_t e = 0; e < order.size(); ++e)
      order[e] = int32_t(e);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return lighter(a, b); });
  }

  /// Returns the busiest pair's load for the counts found.
  double search(int64_t maxSteps) {
    constexpr size_t Losers = 16;
    Pairing now = pair(order);
    std::vector<int32_t> losers, scratch;
    for (int64_t step = 0; step < maxSteps; ++step) {
      losers.clear();
      for (size_t e = 0; e < count.size(); ++e)
        if (count[e] > 1)
          losers.push_back(int32_t(e));
      auto grown = [&](int32_t e) { return load[e] / (count[e] - 1); };
      size_t keep = std::min(Losers, losers.size());
      std::partial_sort(losers.begin(), losers.begin() + keep, losers.end(), [&](int32_t a, int32_t b) {
        return grown(a) != grown(b) ? grown(a) < grown(b) : a < b;
      });
      losers.resize(keep);
      double bestMost = now.most * (1 - 1e-9);
      int32_t bestGain = -1, bestLose = -1;
      for (int32_t gain : {now.heavy, now.light}) {
        if (count[gain] >= gpus)
          continue;
        for (int32_t lose : losers) {
          if (lose == gain)
            continue;
          move(gain, lose, scratch);
          double most = pair(scratch).most;
          ++count[lose]; // undo the counts; scratch is rebuilt on the next call
          --count[gain];
          if (most < bestMost) {
            bestMost = most;
            bestGain = gain, bestLose = lose;
          }
        }
        if (now.heavy == now.light)
          break;
      }
      if (bestGain < 0)
        break;
      move(bestGain, bestLose, scratch);
      order.swap(scratch);
      now = pair(order);
    }
    return now.most;
  }

private:
  struct Pairing {
    double most = 0;
    int32_t heavy = 0, light = 0; ///< the experts of the busiest pair
  };

  bool lighter(int32_t a, int32_t b) const {
    double pa = load[a] / count[a], pb = load[b] / count[b];
    return pa != pb ? pa < pb : a < b;
  }

  /// One replica of \p lose moves to \p gain; \p out receives the experts reordered for the new counts.
  void move(int32_t gain, int32_t lose, std::vector<int32_t> &out) {
    ++count[gain];
    --count[lose];
    out.clear();
    for (int32_t e : order)
      if (e != gain && e != lose)
        out.push_back(e);
    for (int32_t e : {gain, lose})
      out.insert(std::lower_bound(out.begin(), out.end(), e, [&](int32_t a, int32_t b) { return lighter(a, b); }), e);
  }

  /// The busiest pair when the i-th lightest replica shares a GPU with the i-th heaviest; \p sorted lists the
  /// experts by replica load, each standing for count[e] replicas.
  Pairing pair(const std::vector<int32_t> &sorted) const {
    Pairing p;
    size_t lo = 0, hi = sorted.size() - 1;
    int32_t leftLo = count[sorted[lo]], leftHi = count[sorted[hi]];
    for (int64_t k = 0; k < slots / 2; ++k) {
      int32_t a = sorted[lo], b = sorted[hi];
      double sum = load[a] / count[a] + load[b] / count[b];
      if (sum > p.most)
        p = {sum, b, a};
      if (--leftLo == 0 && ++lo < sorted.size())
        leftLo = count[sorted[lo]];
      if (--leftHi == 0 && hi > 0)
        leftHi = count[sorted[--hi]];
    }
    return p;
  }

  llvm::ArrayRef<double> load;
  std::vector<int32_t> &count;
  int64_t gpus;
  int64_t slots = 0;          ///< the total of the counts, which moves keep
  std::vector<int32_t> order; ///< experts by replica load, lightest first
};

} // namespace

ExpertReplicas moec::balanceExperts(llvm::ArrayRef<double> load, int64_t gpus, int64_t slots,
                                    BalanceStats *stats) {
  int64_t experts = int64_t(load.size());
  int64_t capacity = (slots + gpus - 1) / gpus;
  std::vector<int32_t> count = replicaCounts(load, gpus, slots);
  double pairing = INFINITY; // with exactly two slots per GPU, the best the rounds start can reach for the counts
  if (capacity == 2 && slots == 2 * gpus) {
    // Every GPU holds exactly two replicas: the rounds start pairs them optimally, so the replica counts decide.
    pairing = PairCounts(load, count, gpus).search(4 * gpus);
  }
  std::vector<Item> order;
  order.reserve(slots);
  for (int64_t e = 0; e < experts; ++e)
    for (int32_t r = 0; r < count[e]; ++r)
      order.push_back({int32_t(e), load[e] / count[e]});
  // Each start is refined; the better wins (ties: the greedy one).
  auto solve = [&](bool roundsStart, BalanceStats &st) {
    Packer packer(gpus, capacity, experts);
    if (roundsStart)
      packer.rounds(order);
    else
      packer.greedy(order);
    st.greedyMax = packer.maxLoad();
    // Each step lowers the busiest GPU below the current maximum; a bounded number of steps keeps the time bounded.
    for (int64_t limit = gpus; st.moves < limit && packer.refineOnce(); ++st.moves) {
    }
    st.maxLoad = packer.maxLoad();
    return packer;
  };
  BalanceStats greedyStats, roundsStats;
  // With two slots per GPU the rounds start comes first: when it reaches the pairing's bound (no two replicas of an
  // expert had to share a GPU), the greedy start cannot do better and is skipped. Ties go to the greedy start.
  // (With more slots per GPU the rounds start loses to the greedy one after refinement on the shared traces.)
  std::optional<Packer> byRounds, greedy;
  if (capacity == 2)
    byRounds.emplace(solve(true, roundsStats));
  if (!byRounds || roundsStats.maxLoad > pairing * (1 + 1e-12))
    greedy.emplace(solve(false, greedyStats));
  bool useRounds = byRounds && (!greedy || roundsStats.maxLoad < greedyStats.maxLoad);
  Packer &packer = useRounds ? *byRounds : *greedy;
  if (stats)
    *stats = useRounds ? roundsStats : greedyStats;
  return packer.result(experts);
}

std::string moec::whyNotByNode(int64_t experts, llvm::ArrayRef<int32_t> nodeOf, int64_t slots, int64_t groups) {
  int64_t gpus = int64_t(nodeOf.size());
  if (groups <= 0)
    return "the model declares no route_groups";
  if (experts % groups != 0)
    return std::to_string(experts) + " experts do not divide into route_groups = " + std::to_string(groups);
  if (gpus == 0)
    return "the EP group has no GPUs";
  int64_t nodes = *std::max_element(nodeOf.begin(), nodeOf.end()) + 1;
  std::vector<int64_t> perNode(nodes, 0);
  for (int32_t n : nodeOf)
    ++perNode[n];
  for (int64_t count : perNode)
    if (count != perNode.front())
      return "the EP group's " + std::to_string(gpus) + " GPUs are spread unevenly over its " +
             std::to_string(nodes) + " nodes";
  if (groups % nodes != 0)
    return "route_groups = " + std::to_string(groups) + " do not divide among the EP group's " +
           std::to_string(nodes) + " nodes";
  if (slots % nodes != 0)
    return std::to_string(slots) + " slots do not divide among the EP group's " + std::to_string(nodes) + " nodes";
  return "";
}

std::optional<ExpertReplicas> moec::balanceExpertsByNode(llvm::ArrayRef<double> load, llvm::ArrayRef<int32_t> nodeOf,
                                                         int64_t slots, int64_t groups) {
  int64_t experts = int64_t(load.size()), gpus = int64_t(nodeOf.size());
  if (!whyNotByNode(experts, nodeOf, slots, groups).empty())
    return std::nullopt;
  int64_t nodes = *std::max_element(nodeOf.begin(), nodeOf.end()) + 1;
  std::vector<std::vector<int32_t>> gpusOf(nodes);
  for (int64_t g = 0; g < gpus; ++g)
    gpusOf[nodeOf[g]].push_back(int32_t(g));
  int64_t perGroup = experts / groups, groupsPerNode = groups / nodes, slotsPerNode = slots / nodes;
  // Groups onto nodes: heaviest first, each onto the lightest node with room (ties: lowest group, lowest node).
  std::vector<double> groupLoad(groups, 0.0);
  for (int64_t e = 0; e < experts; ++e)
    groupLoad[e / perGroup] += load[e];
  std::vector<int64_t> order(groups);
  for (int64_t k = 0; k < groups; ++k)
    order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return groupLoad[a] > groupLoad[b]; });
  std::vector<double> nodeLoad(nodes, 0.0);
  std::vector<std::vector<int64_t>> groupsOf(nodes);
  for (int64_t k : order) {
    int64_t best = -1;
    for (int64_t n = 0; n < nodes; ++n)
      if (int64_t(groupsOf[n].size()) < groupsPerNode && (best < 0 || nodeLoad[n] < nodeLoad[best]))
        best = n;
    groupsOf[best].push_back(k);
    nodeLoad[best] += groupLoad[k];
  }
  // Each node's experts balanced over its GPUs.
  ExpertReplicas out(experts);
  for (int64_t n = 0; n < nodes; ++n) {
    std::vector<int64_t> mine;
    for (int64_t k : groupsOf[n])
      for (int64_t e = k * perGroup; e < (k + 1) * perGroup; ++e)
        mine.push_back(e);
    std::sort(mine.begin(), mine.end());
    std::vector<double> sub(mine.size());
    for (size_t i = 0; i < mine.size(); ++i)
      sub[i] = load[mine[i]];
    ExpertReplicas local = balanceExperts(sub, int64_t(gpusOf[n].size()), slotsPerNode);
    for (size_t i = 0; i < mine.size(); ++i)
      for (int32_t g : local[i])
        out[mine[i]].push_back(gpusOf[n][g]);
  }
  return out;
}

std::vector<double> moec::gpuLoads(llvm::ArrayRef<double> load, const ExpertReplicas &placement, int64_t gpus) {
  std::vector<double> loads(gpus, 0.0);
  for (size_t e = 0; e < placement.size(); ++e)
    for (int32_t g : placement[e])
      loads[g] += load[e] / double(placement[e].size());
  return loads;
}

double moec::balancedness(llvm::ArrayRef<double> load, const ExpertReplicas &placement, int64_t gpus) {
  std::vector<double> loads = gpuLoads(load, placement, gpus);
  double total = 0, most = 0;
  for (double l : loads) {
    total += l;
    most = std::max(most, l);
  }
  return most > 0 ? total / double(gpus) / most : 1.0;
}

double moec::balanceLowerBound(llvm::ArrayRef<double> load, int64_t gpus, int64_t slots) {
  std::vector<int32_t> count = replicaCounts(load, gpus, slots);
  double total = 0, worst = 0;
  for (size_t e = 0; e < load.size(); ++e) {
    total += load[e];
    worst = std::max(worst, load[e] / count[e]);
  }
  double mean = total / double(gpus);
  return mean > 0 ? mean / std::max(mean, worst) : 1.0;
}
