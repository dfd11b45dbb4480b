//===- Routing.h - The traces' routing process, for held-out samples ------*- C++ -*-===//
//
// ../shared/loads/README.md describes how its traces were drawn: each MoE layer has expert popularities p, and each
// token picks k distinct experts by the top-k of log p + Gumbel noise (for DeepSeek-V3's routing, among the 4 best of
// 8 expert groups, a group scored by the sum of its 2 best experts). The true p are not published, so held-out
// samples are drawn from popularities fitted to a trace: the p under which the expected tokens per expert equal the
// trace's. (p proportional to the counts would be wrong: an expert is picked at most once per token, so the counts
// are flatter than p; with them scenario E reads 0.365 where the README's fresh sample reads 0.330.)
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_BENCH_ROUTING_H
#define MOEC_BENCH_ROUTING_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace moec::bench {

/// splitmix64: small, fast and deterministic on every platform (std::uniform_real_distribution is not).
class Rng {
public:
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in (0, 1), never 0 or 1.
  double uniform() { return (double(next() >> 11) + 0.5) * 0x1.0p-53; }
  double gumbel() { return -std::log(-std::log(uniform())); }

private:
  uint64_t state;
};

class Router {
public:
  static constexpr int TopK = 8, Groups = 8, KeepGroups = 4;

  Router(int experts, bool grouped) : experts(experts), grouped(grouped), score(experts) {}

  /// Adds to \p counts the experts one token picks, given its noise (one Gumbel draw per expert).
  void route(const std::vector<double> &logp, const float *noise, std::vector<double> &counts) {
    for (int e = 0; e < experts; ++e)
      score[e] = logp[e] + noise[e];
    int from[Groups], groups = 1, per = experts;
    from[0] = 0;
    if (grouped) {
      // Score each group by its two best experts and keep the KeepGroups best groups.
      per = experts / Groups;
      double groupScore[Groups];
      int order[Groups];
      for (int g = 0; g < Groups; ++g) {
        double a = -INFINITY, b = -INFINITY;
        for (int e = g * per; e < (g + 1) * per; ++e) {
          if (score[e] > a) {
            b = a;
            a = score[e];
          } else if (score[e] > b) {
            b = score[e];
          }
        }
        groupScore[g] = a + b;
        order[g] = g;
      }
      std::partial_sort(order, order + KeepGroups, order + Groups,
                        [&](int x, int y) { return groupScore[x] > groupScore[y]; });
      groups = KeepGroups;
      for (int g = 0; g < KeepGroups; ++g)
        from[g] = order[g] * per;
    }
    // The TopK best among the candidates, by insertion into a sorted array.
    double best[TopK];
    int id[TopK], n = 0;
    for (int g = 0; g < groups; ++g)
      for (int e = from[g]; e < from[g] + per; ++e) {
        double s = score[e];
        if (n == TopK && s <= best[TopK - 1])
          continue;
        int at = n < TopK ? n++ : TopK - 1;
        while (at > 0 && best[at - 1] < s) {
          best[at] = best[at - 1];
          id[at] = id[at - 1];
          --at;
        }
        best[at] = s;
        id[at] = e;
      }
    for (int k = 0; k < n; ++k)
      counts[id[k]] += 1;
  }

  /// Tokens per expert among \p tokens fresh tokens drawn with popularities exp(logp).
  std::vector<double> sample(const std::vector<double> &logp, int64_t tokens, Rng &rng) {
    std::vector<double> counts(experts, 0.0);
    std::vector<float> noise(experts);
    for (int64_t t = 0; t < tokens; ++t) {
      for (float &x : noise)
        x = float(rng.gumbel());
      route(logp, noise.data(), counts);
    }
    return counts;
  }

  /// The log-popularities under which the expected tokens per expert match \p counts (from \p tokens tokens):
  /// fixed-point iterations on one set of noise draws, each scaling p by observed / simulated.
  std::vector<double> fit(const std::vector<double> &counts, int64_t tokens, Rng &rng, int iterations = 16) {
    std::vector<float> noise(size_t(tokens) * experts);
    for (float &x : noise)
      x = float(rng.gumbel());
    std::vector<double> logp(experts), simulated(experts);
    for (int e = 0; e < experts; ++e)
      logp[e] = std::log(counts[e] + 0.5);
    for (int it = 0; it < iterations; ++it) {
      std::fill(simulated.begin(), simulated.end(), 0.0);
      for (int64_t t = 0; t < tokens; ++t)
        route(logp, noise.data() + size_t(t) * experts, simulated);
      for (int e = 0; e < experts; ++e)
        logp[e] += std::log((counts[e] + 0.5) / (simulated[e] + 0.5));
    }
    return logp;
  }

private:
  int experts;
  bool grouped;
  std::vector<double> score;
};

} // namespace moec::bench

#endif // MOEC_BENCH_ROUTING_H
