//===- placement.cpp - Load-aware placement against the public baselines ---===//
//
// For each scenario of ../shared/loads/README.md (A to E), places the 58 MoE layers of a trace with moec's
// `balanced` policy, with EPLB (bench/Eplb.h, both policies, the better one shown) and with the README's contiguous
// and round-robin baselines, and prints:
//   - balancedness (mean GPU load / max GPU load, averaged over layers) in sample, on the loads it was given, beside
//     the README's EPLB figure (the re-expressed EPLB must match it);
//   - balancedness held out: popularities are fitted to the trace (bench/Routing.h), and each policy places from one
//     window of 16384 fresh tokens and is scored on the next window (2 pairs per layer), as production uses a
//     placement computed from the past. The fitted popularities stand in for the true ones, so both windows are
//     drawn alike; EPLB's and contiguous placement's held-out figures are printed beside the README's (measured on
//     the true fresh sample) to show how close the stand-in is;
//   - remote nodes per token on the routes file (a replica chosen uniformly; 8 GPUs per node);
//   - moec's time to place all 58 layers (median of 5 runs): balancing, then the locality step (GPUs permuted so
//     that experts the routes pick together share a node, which leaves every GPU's load as it was);
//   - how often EPLB puts two replicas of one expert on one GPU (moec never does).
//
//   bench-placement [loads directory]      (default: the shared/ folder beside the source tree)
//
//===----------------------------------------------------------------------===//
#include "Eplb.h"
#include "Routing.h"

#include "moec/Balance/Balance.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/raw_ostream.h"

#include "fmt/format.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

using namespace moec;
using namespace moec::bench;

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
  double eplbInSample, eplbRemote, eplbHeldOut, contiguousHeldOut; ///< the README's figures
};

/// Per layer of a trace: the fitted popularities' held-out pairs, each a training window and the next window.
struct HeldOut {
  std::map<int64_t, std::vector<std::pair<std::vector<double>, std::vector<double>>>> pairs;
};

constexpr int64_t WindowTokens = 16384; // tokens per layer in the traces' load files
constexpr int Pairs = 2;                // held-out (window, next window) pairs per layer

HeldOut drawHeldOut(const Trace &trace, bool grouped) {
  HeldOut out;
  for (const auto &[layer, load] : trace.load) {
    Router router(int(load.size()), grouped);
    Rng rng(0x5eed0000 + uint64_t(layer));
    std::vector<double> logp = router.fit(load, WindowTokens, rng);
    for (int i = 0; i < Pairs; ++i) {
      std::vector<double> window = router.sample(logp, WindowTokens, rng);
      out.pairs[layer].push_back({window, router.sample(logp, WindowTokens, rng)});
    }
  }
  return out;
}

} // namespace

int main(int argc, char **argv) {
  std::string dir = argc > 1 ? argv[1] : MOEC_LOADS_DIR;
  const Scenario scenarios[] = {
      {"A", "dsv3-256e-top8-g8", 32, 32, 0.9926, 2.71, 0.958, 0.749},
      {"B", "dsv3-256e-top8-g8", 128, 128, 0.9617, 6.13, 0.895, 0.694},
      {"C", "dsv3-256e-top8-g8", 144, 32, 0.9324, 6.34, 0.872, 0.556},
      {"D", "moe64-top8", 64, 64, 0.9675, 4.79, 0.943, 0.759},
      {"E", "moe64-top8", 64, 0, 0.3292, 4.75, 0.330, 0.330},
  };
  std::map<std::string, Trace> traces;
  std::map<std::string, HeldOut> heldOuts;
  llvm::outs() << fmt::format("{:>2} {:>4} {:>3} | {:^36} | {:^36} | {:^23} | {:^23} | {:6} | {}\n", "", "",
                              "", "in sample", "held out (fitted popularities)", "remote nodes / token",
                              "time (ms)", "EPLB", "node first: balance / remote");
  llvm::outs() << fmt::format("{:>2} {:>4} {:>3} | {:>6} {:>6} {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>6} {:>6} | "
                              "{:>5} {:>5} {:>5} | {:>5} {:>5} {:>5} | {:>6} | {:>13} {:>13}\n",
                              "sc", "G", "r", "moec", "EPLB", "README", "contig", "rr", "moec", "EPLB", "README",
                              "contig", "README", "moec", "EPLB", "README", "bal.", "loc.", "2 cpu", "shared", "moec", "EPLB");
  double sums[6] = {0, 0, 0, 0, 0, 0};
  for (const Scenario &sc : scenarios) {
    Trace &trace = traces[sc.config];
    bool grouped = llvm::StringRef(sc.config).starts_with("dsv3");
    if (trace.load.empty()) {
      if (!readTrace(dir, sc.config, trace)) {
        llvm::errs() << "bench-placement: cannot read the traces in " << dir << "\n";
        return 2;
      }
      auto start = std::chrono::steady_clock::now();
      heldOuts[sc.config] = drawHeldOut(trace, grouped);
      llvm::errs() << fmt::format("bench-placement: {}: popularities fitted and held-out windows drawn in {:.1f} s\n",
                                  sc.config,
                                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    const HeldOut &heldOut = heldOuts[sc.config];
    int64_t experts = int64_t(trace.load.begin()->second.size());
    int64_t slots = experts + sc.redundant;
    int nodes = int((sc.gpus + 7) / 8);
    std::vector<int32_t> nodeOf(sc.gpus);
    for (int64_t g = 0; g < sc.gpus; ++g)
      nodeOf[g] = int32_t(g / 8);
    // The better of EPLB's two policies, as the README does; both are scored.
    auto eplbHier = [&](const std::vector<double> &l) { return eplbPlace(l, int(sc.redundant), 8, nodes, int(sc.gpus)); };
    auto eplbGlobal = [&](const std::vector<double> &l) { return eplbPlace(l, int(sc.redundant), 1, 1, int(sc.gpus)); };
    auto contiguousOf = [&](const std::vector<double> &l) { return baseline(l, sc.gpus, slots, false); };
    auto roundRobinOf = [&](const std::vector<double> &l) { return baseline(l, sc.gpus, slots, true); };

    double n = double(trace.load.size());
    // moec, timed (the median of 5 runs): balancing, then the locality step.
    std::map<int64_t, ExpertReplicas> placed;
    std::vector<double> balanceRuns, localityRuns;
    for (int run = 0; run < 5; ++run) {
      auto start = std::chrono::steady_clock::now();
      for (const auto &[layer, load] : trace.load)
        placed[layer] = balanceExperts(load, sc.gpus, slots);
      auto mid = std::chrono::steady_clock::now();
      for (const auto &[layer, load] : trace.load)
        improveLocality(placed[layer], nodeOf, trace.routes[layer], 0);
      auto end = std::chrono::steady_clock::now();
      balanceRuns.push_back(std::chrono::duration<double, std::milli>(mid - start).count());
      localityRuns.push_back(std::chrono::duration<double, std::milli>(end - mid).count());
    }
    std::sort(balanceRuns.begin(), balanceRuns.end());
    std::sort(localityRuns.begin(), localityRuns.end());
    double ms = balanceRuns[2], localityMs = localityRuns[2];
    // Both steps, the layers spread over the machine's cores as the expert-placement pass does.
    std::vector<int64_t> layers;
    for (const auto &[layer, load] : trace.load)
      layers.push_back(layer);
    std::vector<double> parallelRuns;
    for (int run = 0; run < 5; ++run) {
      std::vector<ExpertReplicas> out(layers.size());
      auto start = std::chrono::steady_clock::now();
      llvm::parallelFor(0, layers.size(), [&](size_t i) {
        out[i] = balanceExperts(trace.load.at(layers[i]), sc.gpus, slots);
        improveLocality(out[i], nodeOf, trace.routes.at(layers[i]), 0);
      });
      parallelRuns.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      for (size_t i = 0; i < layers.size(); ++i)
        if (out[i] != placed[layers[i]]) {
          llvm::errs() << "bench-placement: the parallel placement differs from the serial one\n";
          return 1;
        }
    }
    std::sort(parallelRuns.begin(), parallelRuns.end());
    double parallelMs = parallelRuns[2];

    double in[4] = {0, 0, 0, 0}, eplbIn[2] = {0, 0}, remote = 0, eplbRemote[2] = {0, 0};
    int64_t shared[2] = {0, 0};
    for (const auto &[layer, load] : trace.load) {
      in[0] += balancedness(load, placed[layer], sc.gpus) / n;
      in[2] += balancedness(load, contiguousOf(load), sc.gpus) / n;
      in[3] += balancedness(load, roundRobinOf(load), sc.gpus) / n;
      remote += remoteNodesPerToken(trace.routes[layer], placed[layer], nodeOf) / n;
      ExpertReplicas e[2] = {eplbHier(load), eplbGlobal(load)};
      for (int p = 0; p < 2; ++p) {
        eplbIn[p] += balancedness(load, e[p], sc.gpus) / n;
        eplbRemote[p] += remoteNodesPerToken(trace.routes[layer], e[p], nodeOf) / n;
        shared[p] += sharedGpuReplicas(e[p]);
      }
    }
    int bestEplb = eplbIn[0] >= eplbIn[1] ? 0 : 1;
    // placement_objective = locality: node first (8 expert groups packed onto the nodes), against EPLB's
    // hierarchical policy, where the groups divide among the nodes.
    double byNode = 0, byNodeRemote = 0;
    bool hasByNode = true;
    for (const auto &[layer, load] : trace.load) {
      std::optional<ExpertReplicas> p = balanceExpertsByNode(load, nodeOf, slots, 8);
      if (!p) {
        hasByNode = false;
        break;
      }
      byNode += balancedness(load, *p, sc.gpus) / n;
      byNodeRemote += remoteNodesPerToken(trace.routes[layer], *p, nodeOf) / n;
    }
    std::string byNodeCell = hasByNode ? fmt::format("{:.4f} / {:.2f}", byNode, byNodeRemote) : "-";
    std::string eplbHierCell = hasByNode ? fmt::format("{:.4f} / {:.2f}", eplbIn[0], eplbRemote[0]) : "-";
    in[1] = eplbIn[bestEplb];

    // Held out: each policy places from one window and serves the next.
    double out[4] = {0, 0, 0, 0}; // moec, EPLB hierarchical, EPLB global, contiguous
    for (const auto &[layer, pairs] : heldOut.pairs)
      for (const auto &[window, next] : pairs) {
        double k = n * double(pairs.size());
        out[0] += balancedness(next, balanceExperts(window, sc.gpus, slots), sc.gpus) / k;
        out[1] += balancedness(next, eplbHier(window), sc.gpus) / k;
        out[2] += balancedness(next, eplbGlobal(window), sc.gpus) / k;
        out[3] += balancedness(next, contiguousOf(window), sc.gpus) / k;
      }
    double eplbOut = std::max(out[1], out[2]);
    llvm::outs() << fmt::format("{:>2} {:>4} {:>3} | {:>6.4f} {:>6.4f} {:>6.4f} {:>6.4f} {:>6.4f} | {:>6.4f} {:>6.4f} "
                                "{:>6.3f} {:>6.4f} {:>6.3f} | {:>5.2f} {:>5.2f} {:>5.2f} | {:>5.1f} {:>5.1f} {:>5.1f} | {:>6} | {:>13} {:>13}\n",
                                sc.name, sc.gpus, sc.redundant, in[0], in[1], sc.eplbInSample, in[2], in[3], out[0],
                                eplbOut, sc.eplbHeldOut, out[3], sc.contiguousHeldOut, remote, eplbRemote[bestEplb],
                                sc.eplbRemote, ms, localityMs, parallelMs, shared[bestEplb], byNodeCell, eplbHierCell);
    sums[0] += in[0] / 5;
    sums[1] += in[1] / 5;
    sums[2] += sc.eplbInSample / 5;
    sums[3] += out[0] / 5;
    sums[4] += eplbOut / 5;
    sums[5] += sc.eplbHeldOut / 5;
  }
  llvm::outs() << fmt::format("average: in sample moec {:.4f}, EPLB {:.4f} (README {:.4f}); held out moec {:.4f}, "
                              "EPLB {:.4f} (README {:.4f})\n",
                              sums[0], sums[1], sums[2], sums[3], sums[4], sums[5]);
  return 0;
}
