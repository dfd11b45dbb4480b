//===- Search.h - Choose the strategy: search, forecast, rank --*- C++ -*-===//
//
// A strategy with a `search` block lists candidate values for its degrees and redundant experts (a degree it
// neither sets nor lists is searched over every divisor of the world). The search builds every combination whose
// expert grid covers the world, checks each as Sema checks a deploy (checkDeployParts), compiles each through the
// same pipeline as a single compile, and ranks the candidates that fit and meet the workload's SLOs by its
// objective, with the same forecast the report shows (docs/language.md, *Strategy search*).
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_PIPELINE_SEARCH_H
#define MOEC_PIPELINE_SEARCH_H

#include "moec/Pipeline/Pipeline.h"

#include <map>

namespace moec {

/// The most candidates one search compiles (docs/language.md): above it the search is an error that says so.
inline constexpr size_t kMaxSearchCandidates = 4096;

struct SearchCandidate {
  std::unique_ptr<StrategySpec> strategy; ///< the strategy with this candidate's degrees, no search block
  std::unique_ptr<DeploySpec> deploy;     ///< the deploy, pointing at it
  std::unique_ptr<WorkloadSpec> workload; ///< the deploy's workload with this micro_batch and overlap, when the search varies them
  std::unique_ptr<ClusterSpec> cluster;   ///< the deploy's cluster cut to this many nodes, when the search varies it
  std::string rejected; ///< empty when it fits and meets the SLOs; else "divisibility", "memory", "requirement", "slo"
  std::string detail;   ///< the first error, or the SLO it misses
  double tokensPerSecondPerGpu = 0;
  double latency = 0;   ///< TTFT in prefill, TPOT in decode
  double memory = 0, capacity = 0;
  double compute = 0, communication = 0, exposed = 0; ///< summed over a step's layers, per micro-batch
  std::string dominant;
  bool pareto = false;  ///< on the front of throughput per GPU against latency
};

struct SearchResult {
  /// Which of the dimensions beyond the degrees take more than one value (the table shows those).
  struct {
    bool placement = false, microBatch = false, overlap = false, nodes = false;
  } varies;
  std::vector<SearchCandidate> candidates; ///< ranked: the feasible ones by the objective, then the rejected
  size_t feasible = 0;
  std::map<std::string, size_t> rejections; ///< reason -> count
  const SearchCandidate *winner() const { return feasible ? &candidates.front() : nullptr; }
};

/// Search the strategies \p deploy's strategy allows, compiling the candidates on \p threads threads (0: one per
/// core); the result is the same for any thread count. Located errors: an empty space, one over
/// kMaxSearchCandidates, more nodes than the cluster has, and no candidate that fits (naming what blocked them,
/// and the closest to an SLO).
Outcome searchDeploy(const Spec &spec, const DeploySpec &deploy, DiagEngine &diags, SearchResult &result,
                     unsigned threads = 1);

/// The ranked table (text) or the same for tools (JSON).
void printSearch(const SearchResult &result, const DeploySpec &deploy, bool json, llvm::raw_ostream &os);
/// The winning strategy as a block of the language, ready to paste in place of the searching one.
std::string strategyBlock(const StrategySpec &strategy);
/// The winner's strategy block, preceded by comments naming what else the search chose (the workload's
/// micro_batch, the nodes used) that a paste of the block alone would not carry.
std::string winnerBlock(const SearchResult &result, const DeploySpec &searched);

} // namespace moec

#endif // MOEC_PIPELINE_SEARCH_H
