//===- Search.cpp - Choose the strategy: search, forecast, rank -----------===//
//
// Algorithm:
//   1. The candidate values of each degree: the value the strategy sets; else the `search` block's list; else
//      every divisor of the world. etp: the list, or tp (unfolded); redundant_experts: the list, or the
//      strategy's value. Every combination whose experts' grid pp * dp * ep * etp is the world is a candidate
//      (at most kMaxSearchCandidates).
//   2. Each candidate is checked by checkDeployParts and compiled through the default pipeline, its diagnostics
//      kept quiet: an error rejects it with its reason (memory when the plan does not fit, requirement for a
//      `require` line, divisibility otherwise), and a forecast over the workload's SLO rejects it too.
//   3. The feasible candidates are ranked by the objective (throughput per GPU, or the lowest TPOT or TTFT), ties
//      by their degrees in order, so the ranking is deterministic; the Pareto front of throughput per GPU against
//      latency is marked.
//
//===----------------------------------------------------------------------===//
#include "moec/Pipeline/Search.h"

#include "moec/Support/Strings.h"
#include "moec/Support/Units.h"

#include "llvm/Support/JSON.h"

#include "fmt/format.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <tuple>

using namespace moec;

namespace {

std::vector<int64_t> divisors(int64_t n) {
  std::vector<int64_t> out;
  for (int64_t d = 1; d <= n; ++d)
    if (n % d == 0)
      out.push_back(d);
  return out;
}

std::string reasonOf(llvm::StringRef message) {
  if (message.contains("the plan does not fit"))
    return "memory";
  if (message.contains("requirement '"))
    return "requirement";
  return "divisibility";
}

/// The first error a quiet compile reported.
std::string firstError(const DiagEngine &quiet) {
  for (const Diagnostic &d : quiet.getDiagnostics())
    if (d.severity == Severity::Error)
      return d.message;
  return "rejected";
}

std::string degrees(const SearchCandidate &c, const SearchResult &r) {
  const StrategySpec &s = *c.strategy;
  std::string out = fmt::format("pp {} x dp {} x ep {} x tp {}", s.pp, s.dp, s.ep, s.tp);
  if (s.folded())
    out += fmt::format(" (etp {})", s.etp());
  if (s.redundantExperts)
    out += fmt::format(", {} redundant", s.redundantExperts);
  if (r.varies.placement)
    out += ", " + spell(s.placement).str();
  if (r.varies.microBatch)
    out += fmt::format(", micro_batch {}", c.deploy->workload->microBatch);
  if (r.varies.overlap)
    out += ", overlap " + spell(c.deploy->workload->overlap).str();
  if (r.varies.nodes)
    out += fmt::format(", {} node{}", c.deploy->cluster->nodes, c.deploy->cluster->nodes == 1 ? "" : "s");
  return out;
}

bool decodePhase(const DeploySpec &d) { return d.workload->phase == Phase::Decode; }

/// Why the search's engine cannot express \p s (docs/language.md, *Strategy search*), or empty.
std::string engineRule(const SearchSpace &space, const StrategySpec &s) {
  if (!space.engine)
    return "";
  switch (*space.engine) {
  case Engine::VLLM:
    // vLLM's --enable-expert-parallel: EP = TP x DP over every rank, experts whole; moec's launcher has no PP.
    if (s.etp() != 1 || s.dp != 1 || s.pp != 1)
      return "vLLM keeps every expert whole over EP = TP x DP of all ranks: it needs etp = 1, dp = 1 and pp = 1";
    return "";
  case Engine::SGLang:
    // One server per EP group; DeepEP's backends need --ep-size = --tp-size (experts whole).
    if (s.etp() != 1 || s.pp != 1)
      return "SGLang's DeepEP backends need ep-size = tp-size (etp = 1), and its flags here have no pp";
    if ((s.ep * s.etp()) % s.tp != 0)
      return "SGLang runs attention inside one server: tp must divide its ep * etp GPUs";
    return "";
  case Engine::TrtLlm:
    // tensorrt_llm/mapping.py: moe_tp x moe_ep = tp_size (moec's ep * etp), attention over those tp_size GPUs or,
    // with enable_attention_dp, data-parallel (moec's tp = 1); pp_size stages of them.
    if (s.tp != 1 && s.tp != s.ep * s.etp())
      return "TensorRT-LLM runs attention data-parallel (tp = 1) or over its whole tensor-parallel group of "
             "moe_tp x moe_ep = ep * etp GPUs";
    return "";
  case Engine::Megatron:
    if (s.orderString() != "tp-ep-dp-pp")
      return "Megatron-Core orders ranks tp-cp-ep-dp-pp";
    return "";
  }
  return "";
}

} // namespace

Outcome moec::searchDeploy(const Spec &spec, const DeploySpec &deploy, DiagEngine &diags, SearchResult &result,
                          unsigned threads) {
  const StrategySpec &base = *deploy.strategy;
  const SearchSpace &space = *base.search;
  const WorkloadSpec &w = *deploy.workload;
  const ClusterSpec &cluster = *deploy.cluster;
  for (int64_t n : space.nodes)
    if (n > cluster.nodes) {
      diags.error(space.locOf("nodes"), fmt::format("the search lists {} nodes, but cluster '{}' has {}", n,
                                                    cluster.name, cluster.nodes));
      diags.note(deploy.locOf("cluster"), "in deploy '" + deploy.name + "'");
      return Outcome::input();
    }
  std::vector<int64_t> nodeCounts = space.nodes.empty() ? std::vector<int64_t>{cluster.nodes} : space.nodes;
  std::vector<int64_t> microBatches =
      space.microBatch.empty() ? std::vector<int64_t>{w.microBatch} : space.microBatch;
  std::vector<Overlap> overlaps = space.overlap.empty() ? std::vector<Overlap>{w.overlap} : space.overlap;
  // Placement: the strategy's; else the list; else every policy the strategy's inputs allow.
  std::vector<PlacementPolicy> placements;
  if (base.keys.count("placement"))
    placements = {base.placement};
  else if (!space.placement.empty())
    placements = space.placement;
  else
    for (PlacementPolicy p : {PlacementPolicy::Contiguous, PlacementPolicy::RoundRobin,
                              PlacementPolicy::TopologyAware, PlacementPolicy::Explicit, PlacementPolicy::Balanced})
      if ((p != PlacementPolicy::Explicit || !base.placementFile.empty()) &&
          (p != PlacementPolicy::Balanced || !base.expertLoad.empty()))
        placements.push_back(p);
  // Inference engines' EP modes keep every expert whole (etp = 1); unfolded layouts split experts tp ways.
  bool wholeExperts = space.engine && *space.engine != Engine::Megatron;
  std::vector<int64_t> etps = !space.etp.empty() ? space.etp : wholeExperts ? std::vector<int64_t>{1}
                                                                             : std::vector<int64_t>{0};
  std::vector<int64_t> redundant =
      space.redundantExperts.empty() ? std::vector<int64_t>{base.redundantExperts} : space.redundantExperts;

  struct Combo {
    int64_t nodes, microBatch;
    Overlap overlap;
    PlacementPolicy placement;
    int64_t pp, dp, ep, tp, etp, redundant;
  };
  std::vector<Combo> combos;
  size_t total = 0;
  for (int64_t nodes : nodeCounts) {
    int64_t world = nodes * cluster.gpusPerNode;
    auto values = [&](llvm::StringRef key, int64_t set, const std::vector<int64_t> &listed) {
      if (base.keys.count(key))
        return std::vector<int64_t>{set};
      return listed.empty() ? divisors(world) : listed;
    };
    std::vector<int64_t> pps = values("pp", base.pp, space.pp), dps = values("dp", base.dp, space.dp),
                         eps = values("ep", base.ep, space.ep), tps = values("tp", base.tp, space.tp);
    for (int64_t mb : microBatches)
      for (Overlap overlap : overlaps)
        for (PlacementPolicy placement : placements)
          for (int64_t pp : pps)
            for (int64_t dp : dps)
              for (int64_t ep : eps)
                for (int64_t tp : tps)
                  for (int64_t etp : etps) {
                    int64_t expertTp = etp ? etp : tp;
                    if (pp * dp * ep * expertTp != world)
                      continue;
                    for (int64_t r : redundant)
                      if (++total <= kMaxSearchCandidates) // count them all, keep no more than the limit
                        combos.push_back({nodes, mb, overlap, placement, pp, dp, ep, tp, etp, r});
                  }
  }
  if (combos.empty()) {
    diags.error(space.loc, "the search of strategy '" + base.name + "' has no candidate whose pp * dp * ep * " +
                               (space.etp.empty() ? "tp" : "etp") + " is the " +
                               (space.nodes.empty() ? std::to_string(cluster.world()) + " GPUs"
                                                    : "GPUs of the listed nodes") +
                               " of cluster '" + cluster.name + "'");
    diags.note(deploy.locOf("strategy"), "in deploy '" + deploy.name + "'");
    return Outcome::input();
  }
  if (total > kMaxSearchCandidates) {
    diags.error(space.loc, fmt::format("the search of strategy '{}' has {} candidates, more than the limit of {}: "
                                       "list fewer values (a degree neither set nor listed takes every divisor "
                                       "of the {} GPUs)",
                                       base.name, total, kMaxSearchCandidates, cluster.world()));
    return Outcome::input();
  }

  result.varies.placement = placements.size() > 1;
  result.varies.microBatch = microBatches.size() > 1;
  result.varies.overlap = overlaps.size() > 1;
  result.varies.nodes = nodeCounts.size() > 1;
  bool decode = w.phase == Phase::Decode;
  std::optional<double> slo = decode ? w.sloTpot : w.sloTtft;
  // Build every candidate's specs first, then compile them on `threads` workers; each writes only its own slot,
  // so the result does not depend on the thread count.
  result.candidates.resize(combos.size());
  for (size_t i = 0; i < combos.size(); ++i) {
    const Combo &k = combos[i];
    SearchCandidate &c = result.candidates[i];
    c.strategy = std::make_unique<StrategySpec>(base);
    StrategySpec &s = *c.strategy;
    s.search.reset();
    s.pp = k.pp, s.dp = k.dp, s.ep = k.ep, s.tp = k.tp, s.etpKey = k.etp, s.redundantExperts = k.redundant;
    s.placement = k.placement;
    c.deploy = std::make_unique<DeploySpec>(deploy);
    c.deploy->strategy = c.strategy.get();
    c.deploy->derived = DerivedValues();
    if (k.microBatch != w.microBatch || k.overlap != w.overlap) {
      c.workload = std::make_unique<WorkloadSpec>(w);
      c.workload->microBatch = k.microBatch;
      c.workload->overlap = k.overlap;
      c.deploy->workload = c.workload.get();
    }
    if (k.nodes != cluster.nodes) {
      c.cluster = std::make_unique<ClusterSpec>(cluster);
      c.cluster->nodes = k.nodes;
      if (!c.cluster->hosts.empty())
        c.cluster->hosts.resize(size_t(k.nodes));
      c.deploy->cluster = c.cluster.get();
    }
  }
  auto evaluate = [&](SearchCandidate &c) {
    StrategySpec &s = *c.strategy;
    std::string sink;
    llvm::raw_string_ostream os(sink);
    DiagEngine quiet(diags.getSourceMgr(), os);
    quiet.setSilent(true);
    if (std::string why = engineRule(space, s); !why.empty()) {
      c.rejected = "engine";
      c.detail = why;
      return;
    }
    if (!checkDeployParts(spec, *c.deploy, quiet)) {
      c.detail = firstError(quiet);
      c.rejected = reasonOf(c.detail);
      return;
    }
    // Each candidate is verified once its pipeline has run, not after each pass (the pipeline's own verify pass
    // and the last pass's check): in a search the per-pass checks took a quarter of the time.
    PipelineOptions options;
    options.verifyEach = false;
    Compilation compiled = compileDeploy(*c.deploy, options, quiet);
    const ir::Plan *plan = compiled.plan.get();
    if (plan && plan->memory) {
      c.memory = plan->memory->total();
      c.capacity = plan->memory->capacity;
    }
    if (!compiled.outcome || !plan || !plan->cost) {
      c.detail = compiled.outcome.status == Status::UsageError ? compiled.outcome.message : firstError(quiet);
      c.rejected = reasonOf(c.detail);
      return;
    }
    const ir::CostResult &f = *plan->cost;
    c.tokensPerSecondPerGpu = f.tokensPerSecondPerGpu;
    c.latency = f.latency;
    c.dominant = f.dominant;
    auto add = [&](const ir::LayerTime &t, double n) {
      c.compute += t.compute * n;
      c.communication += t.communication * n;
      c.exposed += t.exposed * n;
    };
    add(f.dense, double(deploy.model->denseLayerCount()));
    for (const ir::LayerTime &t : f.moe)
      add(t, 1);
    if (slo && c.latency > *slo) {
      c.rejected = "slo";
      c.detail = fmt::format("{} {} is over the SLO of {}", decode ? "TPOT" : "TTFT",
                             formatQuantity(c.latency, Dim::Time), formatQuantity(*slo, Dim::Time));
    }
  };
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  threads = unsigned(std::min<size_t>(threads, result.candidates.size()));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < result.candidates.size(); i = next++)
      evaluate(result.candidates[i]);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();

  auto key = [](const SearchCandidate &c) {
    const StrategySpec &s = *c.strategy;
    return std::make_tuple(c.deploy->cluster->nodes, c.deploy->workload->microBatch, int(c.deploy->workload->overlap),
                           int(s.placement), s.pp, s.dp, s.ep, s.tp, s.etpKey, s.redundantExperts);
  };
  auto better = [&](const SearchCandidate &a, const SearchCandidate &b) {
    if (a.rejected.empty() != b.rejected.empty())
      return a.rejected.empty();
    if (a.rejected.empty()) {
      double x = w.objective == Objective::ThroughputPerGpu ? -a.tokensPerSecondPerGpu : a.latency;
      double y = w.objective == Objective::ThroughputPerGpu ? -b.tokensPerSecondPerGpu : b.latency;
      if (x != y)
        return x < y;
    }
    return key(a) < key(b);
  };
  std::stable_sort(result.candidates.begin(), result.candidates.end(), better);
  for (SearchCandidate &c : result.candidates) {
    if (!c.rejected.empty()) {
      result.rejections[c.rejected] += 1;
      continue;
    }
    ++result.feasible;
  }
  // The Pareto front: no other feasible candidate has both more throughput per GPU and a lower latency.
  for (SearchCandidate &c : result.candidates) {
    if (!c.rejected.empty())
      continue;
    c.pareto = true;
    for (const SearchCandidate &o : result.candidates)
      if (o.rejected.empty() && &o != &c && o.tokensPerSecondPerGpu >= c.tokensPerSecondPerGpu &&
          o.latency <= c.latency && (o.tokensPerSecondPerGpu > c.tokensPerSecondPerGpu || o.latency < c.latency))
        c.pareto = false;
  }

  if (!result.feasible) {
    std::string counts;
    for (const auto &[reason, n] : result.rejections)
      counts += (counts.empty() ? "" : ", ") + reason + " " + std::to_string(n);
    diags.error(space.loc, "no candidate of the search of strategy '" + base.name + "' is feasible (" + counts + ")");
    const SearchCandidate *closest = nullptr;
    for (const SearchCandidate &c : result.candidates)
      if (c.rejected == "slo" && (!closest || c.latency < closest->latency))
        closest = &c;
    if (closest)
      diags.note(w.locOf(decode ? "slo_tpot" : "slo_ttft"),
                 fmt::format("the closest, {}, reaches {}: {} the SLO (its dominant term: {})",
                             degrees(*closest, result), formatQuantity(closest->latency, Dim::Time),
                             closest->latency >= 2 * *slo
                                 ? fmt::format("{:.1f} times", closest->latency / *slo)
                                 : fmt::format("{:.1f}% over", 100.0 * (closest->latency / *slo - 1.0)),
                             closest->dominant));
    else
      diags.note(deploy.locOf("strategy"), "the first rejected, " + degrees(result.candidates.front(), result) +
                                               ": " + result.candidates.front().detail);
    return Outcome::input();
  }
  return Outcome::ok();
}

void moec::printSearch(const SearchResult &result, const DeploySpec &deploy, bool json, llvm::raw_ostream &os) {
  bool decode = decodePhase(deploy);
  const WorkloadSpec &w = *deploy.workload;
  const SearchCandidate *winner = result.winner();
  const SearchCandidate *runnerUp = result.feasible > 1 ? &result.candidates[1] : nullptr;
  // What decides between the winner and the runner-up: the part of a step that differs most.
  std::string decides;
  if (winner && runnerUp) {
    struct Term {
      const char *name;
      double a, b;
    } terms[] = {{"compute", winner->compute, runnerUp->compute},
                 {"exposed communication", winner->exposed, runnerUp->exposed}};
    const Term *most = &terms[0];
    for (const Term &t : terms)
      if (std::abs(t.b - t.a) > std::abs(most->b - most->a))
        most = &t;
    decides = fmt::format("{} per micro-batch: {} against the runner-up's {}", most->name,
                          formatQuantity(most->a, Dim::Time), formatQuantity(most->b, Dim::Time));
  }

  if (json) {
    llvm::json::OStream j(os, 2);
    j.object([&] {
      j.attribute("deploy", deploy.name);
      j.attribute("strategy", deploy.strategy->name);
      j.attribute("objective", spell(w.objective));
      j.attribute("candidates", int64_t(result.candidates.size()));
      j.attribute("feasible", int64_t(result.feasible));
      j.attributeObject("rejected", [&] {
        for (const auto &[reason, n] : result.rejections)
          j.attribute(reason, int64_t(n));
      });
      if (winner)
        j.attribute("decides", decides);
      j.attributeArray("ranked", [&] {
        for (size_t i = 0; i < result.candidates.size(); ++i) {
          const SearchCandidate &c = result.candidates[i];
          const StrategySpec &s = *c.strategy;
          j.object([&] {
            j.attribute("rank", int64_t(i + 1));
            j.attribute("pp", s.pp);
            j.attribute("dp", s.dp);
            j.attribute("ep", s.ep);
            j.attribute("tp", s.tp);
            j.attribute("etp", s.etp());
            j.attribute("redundantExperts", s.redundantExperts);
            j.attribute("placement", spell(s.placement));
            j.attribute("microBatch", c.deploy->workload->microBatch);
            j.attribute("overlap", spell(c.deploy->workload->overlap));
            j.attribute("nodes", c.deploy->cluster->nodes);
            j.attribute("fits", c.rejected.empty());
            if (!c.rejected.empty()) {
              j.attribute("rejected", c.rejected);
              j.attribute("why", c.detail);
            }
            if (c.memory > 0)
              j.attribute("memoryPerGpu", c.memory);
            if (c.tokensPerSecondPerGpu > 0) {
              j.attribute("tokensPerSecondPerGpu", c.tokensPerSecondPerGpu);
              j.attribute(decode ? "tpotSeconds" : "ttftSeconds", c.latency);
              j.attribute("dominant", c.dominant);
              j.attribute("pareto", c.pareto);
            }
          });
        }
      });
    });
    os << "\n";
    return;
  }

  os << "search of strategy " << deploy.strategy->name << " for deploy " << deploy.name << ": "
     << result.candidates.size() << " candidates, " << result.feasible << " feasible";
  if (!result.rejections.empty()) {
    os << " (rejected:";
    for (const auto &[reason, n] : result.rejections)
      os << " " << reason << " " << n;
    os << ")";
  }
  os << "\nobjective: " << spell(w.objective);
  if (decode && w.sloTpot)
    os << "; SLO: TPOT <= " << formatQuantity(*w.sloTpot, Dim::Time);
  if (!decode && w.sloTtft)
    os << "; SLO: TTFT <= " << formatQuantity(*w.sloTtft, Dim::Time);
  os << "\n\n";
  size_t width = 46;
  for (const SearchCandidate &c : result.candidates)
    width = std::max(width, degrees(c, result).size());
  os << fmt::format("  {:>4}  {:<{}} {:>11}  {:>10}  {:>9}  {}\n", "rank", "strategy", width, "memory/GPU", "tok/s/GPU",
                    decode ? "TPOT" : "TTFT", "dominant term, or why not");
  for (size_t i = 0; i < result.candidates.size(); ++i) {
    const SearchCandidate &c = result.candidates[i];
    std::string memory = c.memory > 0 ? formatQuantity(c.memory, Dim::Bytes) : "-";
    if (c.rejected.empty() || c.rejected == "slo")
      os << fmt::format("  {:>4}  {:<{}} {:>11}  {:>10.1f}  {:>9}  {}{}\n", i + 1, degrees(c, result), width, memory,
                        c.tokensPerSecondPerGpu, formatQuantity(c.latency, Dim::Time),
                        c.rejected.empty() ? c.dominant : "slo: " + c.detail, c.pareto ? " (Pareto)" : "");
    else
      os << fmt::format("  {:>4}  {:<{}} {:>11}  {:>10}  {:>9}  {}: {}\n", i + 1, degrees(c, result), width, memory, "-",
                        "-", c.rejected, c.detail);
  }
  if (winner) {
    os << "\nwinner: " << degrees(*winner, result);
    bool tie = runnerUp && (w.objective == Objective::ThroughputPerGpu
                                ? winner->tokensPerSecondPerGpu == runnerUp->tokensPerSecondPerGpu
                                : winner->latency == runnerUp->latency);
    if (tie)
      os << ", tied with the runner-up (" << degrees(*runnerUp, result)
         << "): equal forecasts, so the order is by nodes, micro_batch, overlap, placement, then the degrees";
    else if (runnerUp)
      os << fmt::format(", {:.1f}% {} than the runner-up ({}); what decides: {}",
                        w.objective == Objective::ThroughputPerGpu
                            ? 100.0 * (winner->tokensPerSecondPerGpu / runnerUp->tokensPerSecondPerGpu - 1.0)
                            : 100.0 * (runnerUp->latency / winner->latency - 1.0),
                        w.objective == Objective::ThroughputPerGpu ? "more throughput per GPU" : "lower latency",
                        degrees(*runnerUp, result), decides);
    os << "\n";
  }
}

std::string moec::winnerBlock(const SearchResult &result, const DeploySpec &searched) {
  const SearchCandidate &c = *result.winner();
  std::string out;
  // What the search chose outside the strategy: the paste needs it too to compile to the same plan.
  if (c.deploy->workload->microBatch != searched.workload->microBatch)
    out += fmt::format("// The search also chose micro_batch = {} for workload {} (it declares {}): set it there.\n",
                       c.deploy->workload->microBatch, searched.workload->name, searched.workload->microBatch);
  if (c.deploy->workload->overlap != searched.workload->overlap)
    out += fmt::format("// The search also chose overlap = {} for workload {} (it declares {}): set it there.\n",
                       spell(c.deploy->workload->overlap), searched.workload->name,
                       spell(searched.workload->overlap));
  if (c.deploy->cluster->nodes != searched.cluster->nodes)
    out += fmt::format("// The search also chose {} of the {} nodes of cluster {}: deploy on a cluster of {} node{}.\n",
                       c.deploy->cluster->nodes, searched.cluster->nodes, searched.cluster->name,
                       c.deploy->cluster->nodes, c.deploy->cluster->nodes == 1 ? "" : "s");
  return out + strategyBlock(*c.strategy);
}

std::string moec::strategyBlock(const StrategySpec &s) {
  std::string out = "strategy " + s.name + " {\n";
  out += fmt::format("  ep = {}; dp = {}; tp = {}; pp = {};", s.ep, s.dp, s.tp, s.pp);
  if (s.folded())
    out += fmt::format(" etp = {};", s.etp());
  out += "\n";
  out += "  placement = " + spell(s.placement).str() + ";\n";
  if (s.redundantExperts)
    out += fmt::format("  redundant_experts = {};\n", s.redundantExperts);
  auto written = [&](llvm::StringRef key) { return s.keys.count(key) != 0; };
  auto quote = [](const std::string &v) { // as the AST printer writes a string literal
    std::string q;
    llvm::raw_string_ostream os(q);
    os << '"';
    os.write_escaped(v);
    os << '"';
    return q;
  };
  if (written("order"))
    out += "  order = \"" + s.orderString() + "\";\n";
  if (!s.expertLoad.empty())
    out += "  expert_load = " + quote(s.expertLoad) + ";\n";
  if (!s.expertRoutes.empty())
    out += "  expert_routes = " + quote(s.expertRoutes) + ";\n";
  if (!s.placementFile.empty())
    out += "  placement_file = " + quote(s.placementFile) + ";\n";
  if (written("placement_objective"))
    out += "  placement_objective = " + spell(s.placementObjective).str() + ";\n";
  if (s.dispatchPrecision)
    out += "  dispatch_precision = " + spell(*s.dispatchPrecision).str() + ";\n";
  if (s.combinePrecision)
    out += "  combine_precision = " + spell(*s.combinePrecision).str() + ";\n";
  if (s.dispatchMode)
    out += "  dispatch_mode = " + spell(*s.dispatchMode).str() + ";\n";
  if (s.expertImbalance)
    out += "  expert_imbalance = " + formatNumber(*s.expertImbalance, 6) + ";\n";
  for (const RequireSpec &r : s.requires_)
    out += "  require " + r.text + ";\n";
  return out + "}\n";
}
