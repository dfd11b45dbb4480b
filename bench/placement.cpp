//===- placement.cpp - Load-aware placement against the public baselines ---===//
//
// For each scenario of ../shared/loads/README.md (A to E), places the 58 MoE layers of a trace with moec's
// `balanced` policy and with the README's contiguous and round-robin baselines, and prints:
//   - balancedness (mean GPU load / max GPU load, averaged over layers) in sample, on the loads it was given;
//   - balancedness held out, on fresh tokens drawn from the same experts (a generator of the README's routing:
//     log p + Gumbel top-k, DeepSeek-V3's group-limited variant for the 256-expert model, p estimated from the
//     trace), averaged over 3 fresh samples;
//   - remote nodes per token on the routes file (a replica chosen uniformly; 8 GPUs per node);
//   - moec's time to place all 58 layers: balancing, then the locality step (GPUs permuted so that experts the
//     routes pick together share a node, which leaves every GPU's load as it was);
// beside EPLB's figures as the README reports them (EPLB is not run here).
//
//   bench-placement [loads directory]      (default: the shared/ folder beside the source tree)
//
//===----------------------------------------------------------------------===//
#include "moec/Transforms/Balance.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include "fmt/format.h"

#include <chrono>
#include <cmath>
#include <map>
#include <random>

using namespace moec;

namespace {

struct Trace {
  std::map<int64_t, std::vector<double>> load;                                   // layer -> tokens per expert
  std::map<int64_t, std::vector<llvm::SmallVector<int32_t, 8>>> routes;           // layer -> token -> experts
};

bool readTrace(const std::string &dir, const std::string &config, Trace &trace) {
  auto load = llvm::MemoryBuffer::getFile(dir + "/" + config + ".lognormal0.6.train.load.csv");
  auto routes = llvm::MemoryBuffer::getFile(dir + "/" + config + ".lognormal0.6.train.routes.csv");
  if (!load || !routes)
    return false;
  llvm::SmallVector<llvm::StringRef, 4> f;
  llvm::StringRef text = (*load)->getBuffer();
  text = text.split('\n').second;
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    text = rest;
    f.clear();
    line.split(f, ',');
    if (f.size() != 3)
      continue;
    int64_t layer = 0, expert = 0, tokens = 0;
    if (f[0].getAsInteger(10, layer) || f[1].getAsInteger(10, expert) || f[2].getAsInteger(10, tokens))
      continue;
    auto &v = trace.load[layer];
    if (int64_t(v.size()) <= expert)
      v.resize(expert + 1);
    v[expert] = double(tokens);
  }
  text = (*routes)->getBuffer().split('\n').second;
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    text = rest;
    f.clear();
    line.split(f, ',');
    if (f.size() != 3)
      continue;
    int64_t layer = 0;
    if (f[0].getAsInteger(10, layer))
      continue;
    llvm::SmallVector<llvm::StringRef, 8> ids;
    f[2].split(ids, ' ');
    llvm::SmallVector<int32_t, 8> token;
    for (llvm::StringRef id : ids) {
      int32_t e;
      if (!id.getAsInteger(10, e))
        token.push_back(e);
    }
    trace.routes[layer].push_back(token);
  }
  return !trace.load.empty();
}

/// Fresh tokens from the same experts: log p + Gumbel noise, top-k (group-limited for DeepSeek-V3's routing).
std::vector<double> freshLoad(const std::vector<double> &load, bool grouped, uint64_t seed) {
  int64_t experts = int64_t(load.size());
  double total = 0;
  for (double l : load)
    total += l + 0.5;
  std::vector<double> logp(experts);
  for (int64_t e = 0; e < experts; ++e)
    logp[e] = std::log((load[e] + 0.5) / total);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(1e-12, 1.0);
  std::vector<double> out(experts, 0.0), score(experts);
  std::vector<int32_t> idx(experts);
  const int64_t tokens = 16384, topK = 8, groups = 8, keepGroups = 4;
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t e = 0; e < experts; ++e)
      score[e] = logp[e] - std::log(-std::log(uniform(rng)));
    if (grouped) {
      int64_t per = experts / groups;
      std::vector<std::pair<double, int64_t>> gs;
      for (int64_t g = 0; g < groups; ++g) {
        std::vector<double> s(score.begin() + g * per, score.begin() + (g + 1) * per);
        std::partial_sort(s.begin(), s.begin() + 2, s.end(), std::greater<double>());
        gs.push_back({s[0] + s[1], g});
      }
      std::sort(gs.begin(), gs.end(), std::greater<>());
      std::vector<bool> keep(groups, false);
      for (int64_t k = 0; k < keepGroups; ++k)
        keep[gs[k].second] = true;
      for (int64_t e = 0; e < experts; ++e)
        if (!keep[e / per])
          score[e] = -INFINITY;
    }
    for (int64_t e = 0; e < experts; ++e)
      idx[e] = int32_t(e);
    std::partial_sort(idx.begin(), idx.begin() + topK, idx.end(),
                      [&](int32_t a, int32_t b) { return score[a] > score[b]; });
    for (int64_t k = 0; k < topK; ++k)
      out[idx[k]] += 1;
  }
  return out;
}

/// The README's baselines: greedy replica counts, slots expert by expert, slot s on floor(s G / S) or s mod G.
ExpertReplicas baseline(const std::vector<double> &load, int64_t gpus, int64_t slots, bool roundRobin) {
  std::vector<int32_t> count = replicaCounts(load, gpus, slots);
  ExpertReplicas out(load.size());
  int64_t s = 0;
  for (size_t e = 0; e < load.size(); ++e)
    for (int32_t r = 0; r < count[e]; ++r, ++s)
      out[e].push_back(int32_t(roundRobin ? s % gpus : s * gpus / slots));
  return out;
}

struct Scenario {
  const char *name, *config;
  int64_t gpus, redundant;
  double eplbInSample, eplbHeldOut, eplbRemote;
};

} // namespace

int main(int argc, char **argv) {
  std::string dir = argc > 1 ? argv[1] : MOEC_LOADS_DIR;
  const Scenario scenarios[] = {
      {"A", "dsv3-256e-top8-g8", 32, 32, 0.9926, 0.958, 2.71},
      {"B", "dsv3-256e-top8-g8", 128, 128, 0.9617, 0.895, 6.13},
      {"C", "dsv3-256e-top8-g8", 144, 32, 0.9324, 0.872, 6.34},
      {"D", "moe64-top8", 64, 64, 0.9675, 0.943, 4.79},
      {"E", "moe64-top8", 64, 0, 0.3292, 0.330, 4.75},
  };
  std::map<std::string, Trace> traces;
  llvm::outs() << fmt::format("{:>2} {:>18} {:>4} {:>3} | {:>23} | {:>23} | {:>17} | {:>11} | {:>9}\n", "sc", "config",
                              "G", "r", "in sample: moec / EPLB", "held out: moec / EPLB", "contig / rr (in)",
                              "remote n/t: moec / EPLB (balance only)", "time: balance + locality");
  double sums[4] = {0, 0, 0, 0};
  for (const Scenario &sc : scenarios) {
    Trace &trace = traces[sc.config];
    if (trace.load.empty() && !readTrace(dir, sc.config, trace)) {
      llvm::errs() << "bench-placement: cannot read the traces in " << dir << "\n";
      return 2;
    }
    int64_t experts = int64_t(trace.load.begin()->second.size());
    int64_t slots = experts + sc.redundant;
    std::vector<int32_t> nodeOf(sc.gpus);
    for (int64_t g = 0; g < sc.gpus; ++g)
      nodeOf[g] = int32_t(g / 8);
    double inSample = 0, heldOut = 0, contiguous = 0, roundRobin = 0, remote = 0, remoteBalanceOnly = 0;
    std::map<int64_t, ExpertReplicas> placed;
    auto start = std::chrono::steady_clock::now();
    for (const auto &[layer, load] : trace.load)
      placed[layer] = balanceExperts(load, sc.gpus, slots);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    for (const auto &[layer, load] : trace.load)
      remoteBalanceOnly += remoteNodesPerToken(trace.routes[layer], placed[layer], nodeOf);
    // Then GPUs are permuted so that co-picked experts share a node (placement_objective = time or locality).
    start = std::chrono::steady_clock::now();
    for (const auto &[layer, load] : trace.load)
      improveLocality(placed[layer], nodeOf, expertAffinity(experts, trace.routes[layer], 0));
    double localityMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    bool grouped = llvm::StringRef(sc.config).starts_with("dsv3");
    for (const auto &[layer, load] : trace.load) {
      inSample += balancedness(load, placed[layer], sc.gpus);
      contiguous += balancedness(load, baseline(load, sc.gpus, slots, false), sc.gpus);
      roundRobin += balancedness(load, baseline(load, sc.gpus, slots, true), sc.gpus);
      for (uint64_t sample = 0; sample < 3; ++sample)
        heldOut += balancedness(freshLoad(load, grouped, 1000 * layer + sample), placed[layer], sc.gpus) / 3;
      remote += remoteNodesPerToken(trace.routes[layer], placed[layer], nodeOf);
    }
    double n = double(trace.load.size());
    llvm::outs() << fmt::format("{:>2} {:>18} {:>4} {:>3} | {:>11.4f} / {:>9.4f} | {:>11.4f} / {:>9.3f} | {:.4f} / {:.4f} | {:>5.2f} / {:.2f} ({:.2f}) | {:>5.1f} + {:>5.1f} ms\n",
                                sc.name, sc.config, sc.gpus, sc.redundant, inSample / n, sc.eplbInSample, heldOut / n,
                                sc.eplbHeldOut, contiguous / n, roundRobin / n, remote / n, sc.eplbRemote,
                                remoteBalanceOnly / n, ms, localityMs);
    sums[0] += inSample / n;
    sums[1] += sc.eplbInSample;
    sums[2] += heldOut / n;
    sums[3] += sc.eplbHeldOut;
  }
  llvm::outs() << fmt::format("average: in sample moec {:.4f} vs EPLB {:.4f}; held out moec {:.4f} vs EPLB {:.4f}\n",
                              sums[0] / 5, sums[1] / 5, sums[2] / 5, sums[3] / 5);
  return 0;
}
