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
  std::vector<SearchCandidate> candidates; ///< ranked: the feasible ones by the objective, then the rejected
  size_t feasible = 0;
  std::map<std::string, size_t> rejections; ///< reason -> count
  const SearchCandidate *winner() const { return feasible ? &candidates.front() : nullptr; }
};

/// Search the strategies \p deploy's strategy allows. Located errors: an empty space, one over
/// kMaxSearchCandidates, and no candidate that fits (naming what blocked them, and the closest to an SLO).
Outcome searchDeploy(const Spec &spec, const DeploySpec &deploy, DiagEngine &diags, SearchResult &result);

/// The ranked table (text) or the same for tools (JSON).
void printSearch(const SearchResult &result, const DeploySpec &deploy, bool json, llvm::raw_ostream &os);
/// The winning strategy as a block of the language, ready to paste in place of the searching one.
std::string strategyBlock(const StrategySpec &strategy);

} // namespace moec

#endif // MOEC_PIPELINE_SEARCH_H
