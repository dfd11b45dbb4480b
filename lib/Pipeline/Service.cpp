//===- Service.cpp - Size a serving system: pools, queues, KV transfer, cost -===//
//
// Algorithm (docs/serving.md states every formula):
//   1. Each role's deploy is compiled as a single compile (searched first when its strategy searches). When its
//      forecast misses the service's SLO at the declared micro-batch (TPOT for decode, the batch's TTFT plus the
//      KV transfer for prefill), the largest micro-batch below it that meets the SLO is found by bisection, each
//      probe a quiet compile; when even micro_batch 1 misses, the SLO is unmeetable: a located error names the
//      role, the best it reaches and what bounds it.
//   2. Requests arrive at rate lambda. Prefill: an instance serves mu = prefill tokens/s / (input x (1 - hit))
//      requests a second; each instance is an M/D/1 queue with its share lambda / c, so the mean wait is
//      rho / (2 mu (1 - rho)). Decode: a request holds a slot for output x TPOT seconds; c instances of s slots
//      are c x s servers, and the wait for a slot is Erlang C's. Aggregated: one instance spends
//      input' / prefill rate + output / decode rate of its time per request, and its decode steps stall while it
//      prefills, so TPOT is TPOT / (1 - rho x the prefill share).
//   3. Each pool gets the fewest whole instances whose utilisation is at most max_utilization and whose waits
//      keep TTFT and TPOT within the SLOs (closed forms for the utilisation each SLO allows).
//
//===----------------------------------------------------------------------===//
#include "moec/Pipeline/Service.h"

#include "moec/Pipeline/Html.h"
#include "moec/Support/Strings.h"
#include "moec/Support/Units.h"
#include "moec/Target/Report.h"

#include "llvm/Support/JSON.h"

#include "fmt/format.h"

#include <algorithm>
#include <cmath>

using namespace moec;

namespace {

std::string quoted(llvm::StringRef s) { return "'" + s.str() + "'"; }

/// Erlang C: the probability that an arrival waits, for k servers offered a Erlangs (a < k). Exact (Erlang B's
/// recurrence) up to a million servers; past them the Halfin-Whitt limit 1 / (1 + beta Phi(beta) / phi(beta)),
/// beta = (1 - rho) sqrt(k), so that no fleet size makes the planner slow.
double erlangC(double k, double a) {
  double rho = a / k;
  if (k > 1e6) {
    double beta = (1 - rho) * std::sqrt(k);
    double phi = std::exp(-beta * beta / 2) / std::sqrt(2 * M_PI), Phi = 0.5 * std::erfc(-beta / std::sqrt(2.0));
    return phi > 0 ? 1 / (1 + beta * Phi / phi) : 0;
  }
  double b = 1; // Erlang B, by its recurrence B(n) = a B(n-1) / (n + a B(n-1))
  for (int64_t n = 1; n <= int64_t(k); ++n)
    b = a * b / (double(n) + a * b);
  return b / (1 - rho * (1 - b));
}

/// The M/D/1 mean wait of a server of rate \p mu at utilisation \p rho.
double md1Wait(double mu, double rho) { return rho <= 0 ? 0 : rho / (2 * mu * (1 - rho)); }

/// The highest utilisation at which an M/D/1 server of rate \p mu waits at most \p budget seconds on average.
double md1UtilizationFor(double mu, double budget) {
  double x = 2 * mu * budget;
  return x / (1 + x);
}

/// What bounds a forecast's dominant term, for an unmeetable SLO: network, memory (weights and KV) or compute.
std::string boundOf(const ir::Plan &plan) {
  llvm::StringRef d = plan.cost->dominant;
  if (d.contains("network") || d.contains("NVLink") || d.contains("dispatch") || d.contains("combine") ||
      d.contains("all_reduce") || d.contains("all-reduce"))
    return "communication";
  double achieved = plan.cost->achievedMfu;
  return achieved < 0.2 ? "memory bandwidth (weights and KV cache)" : "compute";
}

struct Probe {
  std::unique_ptr<WorkloadSpec> workload;
  std::unique_ptr<DeploySpec> deploy;
  Compilation compiled;
};

/// Compile \p base with \p microBatch (quietly); null when it does not compile.
std::unique_ptr<Probe> probe(const DeploySpec &base, int64_t microBatch, DiagEngine &diags) {
  auto p = std::make_unique<Probe>();
  p->workload = std::make_unique<WorkloadSpec>(*base.workload);
  p->workload->microBatch = microBatch;
  p->deploy = std::make_unique<DeploySpec>(base);
  p->deploy->workload = p->workload.get();
  std::string sink;
  llvm::raw_string_ostream os(sink);
  DiagEngine quiet(diags.getSourceMgr(), os);
  quiet.setSilent(true);
  p->compiled = compileDeploy(*p->deploy, PipelineOptions(), quiet);
  if (!p->compiled.outcome || !p->compiled.plan || !p->compiled.plan->cost)
    return nullptr;
  return p;
}

class Planner {
public:
  Planner(const Spec &spec, const ServiceSpec &sv, unsigned threads, DiagEngine &diags, ServiceResult &r)
      : spec(spec), sv(sv), threads(threads), diags(diags), r(r) {}

  Outcome run() {
    r.service = &sv;
    r.requestsPerSecond = sv.requestsPerSecond;
    r.prefillTokensPerRequest = std::max(1.0, double(sv.inputLength) * (1 - sv.prefixCacheHit));
    const DeploySpec *kvSide = sv.prefill ? sv.prefill : sv.aggregated;
    // Every input token's KV reaches decode, cached or not: a prefix hit saves compute, not KV (docs/serving.md).
    r.kvBytesPerRequest = sv.aggregated ? 0 : kvSide->model->kvBytes(sv.inputLength);
    if (!sv.aggregated) {
      r.kvLink = sv.kvLinkDeclared ? &sv.kvLink : &sv.prefill->cluster->interNode;
      r.kvTransferSeconds = r.kvLink->bandwidth > 0 ? r.kvBytesPerRequest / r.kvLink->bandwidth + r.kvLink->latency : 0;
      if (r.kvLink->bandwidth <= 0)
        diags.warning(sv.loc, "service '" + sv.name + "' counts no time for the KV transfer: prefill cluster '" +
                                  sv.prefill->cluster->name + "' has no inter_node link and the service no kv_link "
                                  "to carry KV to the decode pool; declare kv_link { bandwidth = ...; }");
    }

    if (sv.aggregated) {
      if (Outcome o = aggregated(); !o)
        return o;
    } else {
      if (Outcome o = disaggregated(); !o)
        return o;
    }
    for (const ServiceRole &role : r.roles) {
      r.gpus += role.instances * role.gpus;
      r.nodes += role.instances * role.nodes;
    }
    r.requestLatency = r.ttft + double(sv.outputLength) * r.tpot;
    if (sv.gpuHourPrice) {
      double perSecond = double(r.gpus) * *sv.gpuHourPrice / 3600.0;
      r.costPerHour = perSecond * 3600.0;
      // Prefill GPUs are charged to input tokens, decode GPUs to output tokens; an aggregated pool splits by the
      // share of its time each takes.
      double inputShare = 0;
      if (sv.aggregated) {
        inputShare = r.roles.front().prefillShare;
      } else {
        const ServiceRole &p = r.roles[0];
        inputShare = double(p.instances * p.gpus) / double(r.gpus);
      }
      r.costPerMillionInput = perSecond * inputShare / (r.requestsPerSecond * double(sv.inputLength)) * 1e6;
      r.costPerMillionOutput = perSecond * (1 - inputShare) / (r.requestsPerSecond * double(sv.outputLength)) * 1e6;
    }
    return Outcome::ok();
  }

private:
  /// Compile \p role's deploy, searching its strategy first when it searches.
  Outcome compile(ServiceRole &role) {
    role.deploy = role.declared;
    if (role.declared->strategy->search) {
      role.search = std::make_unique<SearchResult>();
      if (Outcome o = searchDeploy(spec, *role.declared, diags, *role.search, threads); !o)
        return o;
      role.deploy = role.search->winner()->deploy.get();
    }
    role.compiled = compileDeploy(*role.deploy, PipelineOptions(), diags);
    if (!role.compiled.outcome) {
      diags.note(sv.locOf(role.role), "the " + role.role + " pool of service " + quoted(sv.name));
      return role.compiled.outcome;
    }
    fill(role);
    return Outcome::ok();
  }

  void fill(ServiceRole &role) {
    const ir::Plan &plan = *role.compiled.plan;
    const ir::CostResult &f = *plan.cost;
    role.gpus = plan.deploy->cluster->world();
    role.nodes = plan.deploy->cluster->nodes;
    role.microBatch = plan.deploy->workload->microBatch;
    role.tokensPerSecond = f.tokensPerSecond;
    role.stepLatency = f.latency;
    role.dominant = f.dominant;
    role.slots = int64_t(std::llround(f.tokensPerStep));
    if (plan.memory) {
      int64_t largest = plan.memory->largestBatch(role.microBatch);
      int64_t groupsPerGpu = std::max<int64_t>(1, int64_t(plan.deploy->derived.attentionDp) / role.gpus);
      role.maxBatchPerGpu = largest * groupsPerGpu;
    }
  }

  /// When \p role misses \p target seconds of \p latency at its micro-batch, plan the largest micro-batch that
  /// meets it; an error when none does. \p extra is added to the role's latency (the KV transfer).
  Outcome meet(ServiceRole &role, std::optional<double> slo, double extra, llvm::StringRef sloKey,
               llvm::StringRef what) {
    // Strictly under the SLO: at the SLO itself no queueing is allowed, and no utilisation serves the load.
    if (!slo || role.stepLatency + extra < *slo)
      return Outcome::ok();
    int64_t declared = role.microBatch;
    double declaredLatency = role.stepLatency + extra;
    std::unique_ptr<Probe> best;
    int64_t lo = 1, hi = declared - 1;
    std::unique_ptr<Probe> one = probe(*role.deploy, 1, diags);
    if (!one || one->compiled.plan->cost->latency + extra >= *slo) {
      double reached = one ? one->compiled.plan->cost->latency + extra : role.stepLatency + extra;
      diags.error(sv.locOf(sloKey),
                  fmt::format("the {} pool of service '{}' cannot meet {} <= {}: the best it reaches is {} at "
                              "micro_batch 1{}, bound by {} (its dominant term: {})",
                              role.role, sv.name, what, formatQuantity(*slo, Dim::Time),
                              formatQuantity(reached, Dim::Time),
                              extra > 0 ? " (" + formatQuantity(extra, Dim::Time) + " of it the KV transfer)"
                                        : std::string(),
                              boundOf(one ? *one->compiled.plan : *role.compiled.plan),
                              (one ? *one->compiled.plan : *role.compiled.plan).cost->dominant));
      diags.note(role.declared->loc, "deploy " + quoted(role.declared->name) + " is the " + role.role + " pool");
      return Outcome::input();
    }
    best = std::move(one);
    while (lo < hi) { // the largest micro-batch in [lo + 1, hi] that meets the SLO, latency rising with it
      int64_t mid = lo + (hi - lo + 1) / 2;
      std::unique_ptr<Probe> p = probe(*role.deploy, mid, diags);
      if (p && p->compiled.plan->cost->latency + extra < *slo) {
        lo = mid;
        best = std::move(p);
      } else {
        hi = mid - 1;
      }
    }
    role.workload = std::move(best->workload);
    role.lowered = std::move(best->deploy);
    role.compiled = std::move(best->compiled);
    role.deploy = role.lowered.get();
    fill(role);
    diags.warning(role.declared->workload->locOf("micro_batch"),
                  fmt::format("service '{}' plans its {} pool at micro_batch {} instead of {}: {} at {} is {}, "
                              "over the SLO of {}",
                              sv.name, role.role, role.microBatch, declared, what, declared,
                              formatQuantity(declaredLatency, Dim::Time), formatQuantity(*slo, Dim::Time)));
    return Outcome::ok();
  }

  /// The fewest instances of rate \p mu (requests/s each) at utilisation at most \p rho.
  Outcome size(ServiceRole &role, double mu, double rho) {
    double needed = r.requestsPerSecond / (mu * rho);
    if (!(needed < double(kMaxServiceInstances))) {
      diags.error(sv.locOf(sv.tokensPerDay ? "tokens_per_day" : "requests_per_second"),
                  fmt::format("the {} pool of service '{}' would need {:.3g} instances of deploy '{}' for this "
                              "load, more than the limit of {}",
                              role.role, sv.name, needed, role.declared->name, kMaxServiceInstances));
      return Outcome::input();
    }
    role.serviceRate = mu;
    role.instances = std::max<int64_t>(1, int64_t(std::ceil(needed - 1e-9)));
    role.utilization = r.requestsPerSecond / (double(role.instances) * mu);
    return Outcome::ok();
  }

  Outcome disaggregated() {
    r.roles.resize(2);
    ServiceRole &p = r.roles[0], &d = r.roles[1];
    p.role = "prefill";
    p.declared = sv.prefill;
    d.role = "decode";
    d.declared = sv.decode;
    for (ServiceRole *role : {&p, &d})
      if (Outcome o = compile(*role); !o)
        return o;
    if (Outcome o = meet(p, sv.sloTtft, r.kvTransferSeconds, "slo_ttft", "TTFT"); !o)
      return o;
    if (Outcome o = meet(d, sv.sloTpot, 0, "slo_tpot", "TPOT"); !o)
      return o;

    // Prefill: M/D/1 per instance; the wait may use what the SLO leaves after the batch and the transfer.
    double muP = p.tokensPerSecond / r.prefillTokensPerRequest;
    double rhoP = sv.maxUtilization;
    if (sv.sloTtft)
      rhoP = std::min(rhoP, md1UtilizationFor(muP, *sv.sloTtft - p.stepLatency - r.kvTransferSeconds));
    if (Outcome o = size(p, muP, rhoP); !o)
      return o;
    p.queueWait = md1Wait(muP, p.utilization);

    // Decode: slots held output x TPOT seconds each.
    double hold = double(sv.outputLength) * d.stepLatency;
    double muD = double(d.slots) / hold;
    if (Outcome o = size(d, muD, sv.maxUtilization); !o)
      return o;
    double servers = double(d.instances * d.slots), offered = r.requestsPerSecond * hold;
    d.queueWait = offered < servers ? erlangC(servers, offered) * hold / (servers - offered) : 0;
    if (d.queueWait < 1e-9) // below a nanosecond: no wait worth printing
      d.queueWait = 0;

    r.ttft = p.queueWait + p.stepLatency + r.kvTransferSeconds + d.queueWait;
    r.tpot = d.stepLatency;
    return Outcome::ok();
  }

  Outcome aggregated() {
    r.roles.resize(1);
    ServiceRole &a = r.roles[0];
    a.role = "aggregated";
    a.declared = sv.aggregated;
    if (Outcome o = compile(a); !o)
      return o;
    if (Outcome o = meet(a, sv.sloTpot, 0, "slo_tpot", "TPOT"); !o)
      return o;
    // Its prefill: one request alone (micro_batch 1, the uncached input), on the same instance.
    a.prefillWorkload = std::make_unique<WorkloadSpec>(*a.deploy->workload);
    WorkloadSpec &w = *a.prefillWorkload;
    w.phase = Phase::Prefill;
    w.microBatch = 1;
    w.seq = int64_t(std::ceil(r.prefillTokensPerRequest));
    w.context = 0;
    w.keepKv = true;
    a.prefillDeploy = std::make_unique<DeploySpec>(*a.deploy);
    a.prefillDeploy->workload = a.prefillWorkload.get();
    a.prefillCompiled = compileDeploy(*a.prefillDeploy, PipelineOptions(), diags);
    if (!a.prefillCompiled.outcome) {
      diags.note(sv.locOf("aggregated"), "the prefill of the aggregated pool of service " + quoted(sv.name) +
                                             " (micro_batch 1, seq " + std::to_string(w.seq) + ")");
      return a.prefillCompiled.outcome;
    }
    a.prefillTokensPerSecond = a.prefillCompiled.plan->cost->tokensPerSecond;
    a.prefillLatency = a.prefillCompiled.plan->cost->latency;

    double prefillTime = r.prefillTokensPerRequest / a.prefillTokensPerSecond;
    double decodeTime = double(sv.outputLength) / a.tokensPerSecond;
    double mu = 1 / (prefillTime + decodeTime);
    a.prefillShare = prefillTime / (prefillTime + decodeTime);
    double rho = sv.maxUtilization;
    if (sv.sloTpot) // TPOT / (1 - rho x prefill share) <= SLO
      rho = std::min(rho, (1 - a.stepLatency / *sv.sloTpot) / a.prefillShare);
    if (sv.sloTtft) {
      if (a.prefillLatency >= *sv.sloTtft) {
        diags.error(sv.locOf("slo_ttft"),
                    fmt::format("the aggregated pool of service '{}' cannot meet TTFT <= {}: prefilling one "
                                "request alone takes {}, bound by {} (its dominant term: {})",
                                sv.name, formatQuantity(*sv.sloTtft, Dim::Time),
                                formatQuantity(a.prefillLatency, Dim::Time), boundOf(*a.prefillCompiled.plan),
                                a.prefillCompiled.plan->cost->dominant));
        diags.note(a.declared->loc, "deploy " + quoted(a.declared->name) + " is the aggregated pool");
        return Outcome::input();
      }
      rho = std::min(rho, md1UtilizationFor(mu, *sv.sloTtft - a.prefillLatency));
    }
    if (Outcome o = size(a, mu, rho); !o)
      return o;
    a.queueWait = md1Wait(mu, a.utilization);
    r.ttft = a.queueWait + a.prefillLatency;
    r.tpot = a.stepLatency / (1 - a.utilization * a.prefillShare);
    return Outcome::ok();
  }

  const Spec &spec;
  const ServiceSpec &sv;
  unsigned threads;
  DiagEngine &diags;
  ServiceResult &r;
};

std::string time(double s) { return formatQuantity(s, Dim::Time); }
std::string count(int64_t n, llvm::StringRef one) { return std::to_string(n) + " " + one.str() + (n == 1 ? "" : "s"); }

} // namespace

Outcome moec::selectService(const Spec &spec, llvm::StringRef name, llvm::StringRef deployName,
                            llvm::StringRef inputName, const ServiceSpec *&service) {
  service = nullptr;
  if (!name.empty()) {
    service = spec.findService(name);
    if (service)
      return Outcome::ok();
    std::string names;
    for (const auto &s : spec.services)
      names += (names.empty() ? "" : ", ") + s->name;
    return Outcome::usage("no service named '" + name.str() + "' in '" + inputName.str() + "'" +
                          (names.empty() ? std::string("; it defines none") : "; it defines: " + names));
  }
  if (deployName.empty() && spec.services.size() == 1)
    service = spec.services.front().get();
  else if (deployName.empty() && spec.services.size() > 1)
    return Outcome::usage("'" + inputName.str() + "' defines several services: choose one with -service");
  return Outcome::ok();
}

Outcome moec::planService(const Spec &spec, const ServiceSpec &service, unsigned threads, DiagEngine &diags,
                          ServiceResult &result) {
  return Planner(spec, service, threads, diags, result).run();
}

namespace {


std::string money(double v) { return formatNumber(v, 4); }

std::string poolLine(const ServiceRole &role) {
  std::string out = fmt::format("deploy {}: {} on {} an instance, micro_batch {}", role.deploy->name,
                                count(role.gpus, "GPU"), count(role.nodes, "node"), role.microBatch);
  if (role.role == "prefill")
    out += fmt::format("; {:.0f} tokens/s an instance, {} a batch (dominant term: {})", role.tokensPerSecond,
                       time(role.stepLatency), role.dominant);
  else
    out += fmt::format("; {} sequences an instance at TPOT {}, {:.0f} tokens/s (dominant term: {}); the KV cache "
                       "holds up to {} sequences per GPU",
                       role.slots, time(role.stepLatency), role.tokensPerSecond, role.dominant,
                       role.maxBatchPerGpu);
  if (role.role == "aggregated")
    out += fmt::format("; prefilling one request alone {:.0f} tokens/s, {}", role.prefillTokensPerSecond,
                       time(role.prefillLatency));
  return out;
}

} // namespace

void moec::printServiceReport(const ServiceResult &r, const DiagEngine &diags, llvm::raw_ostream &os) {
  const ServiceSpec &sv = *r.service;
  os << "service " << sv.name << ": "
     << (sv.aggregated ? "one aggregated pool, deploy " + sv.aggregated->name
                       : "prefill pool " + sv.prefill->name + " and decode pool " + sv.decode->name +
                             " (disaggregated)")
     << "\n\nrequests\n";
  std::string load = fmt::format("{} requests/s", formatNumber(r.requestsPerSecond, 4));
  if (sv.tokensPerDay)
    load += fmt::format(" (from {} input and output tokens a day)", formatNumber(*sv.tokensPerDay, 4));
  std::string input = fmt::format("{} tokens", sv.inputLength);
  if (sv.prefixCacheHit > 0)
    input += fmt::format(" ({}% from the prefix cache: {} to prefill)", formatNumber(100 * sv.prefixCacheHit, 3),
                         formatNumber(r.prefillTokensPerRequest, 6));
  std::string slos;
  if (sv.sloTtft)
    slos += "TTFT <= " + time(*sv.sloTtft);
  if (sv.sloTpot)
    slos += (slos.empty() ? "" : ", ") + std::string("TPOT <= ") + time(*sv.sloTpot);
  printTable(os, {{"load", load},
            {"input", input},
            {"output", fmt::format("{} tokens", sv.outputLength)},
            {"targets", (slos.empty() ? std::string("no SLO") : slos) + "; pools at most " +
                            formatNumber(100 * sv.maxUtilization, 3) + "% busy"}});

  os << "\npools\n";
  std::vector<std::pair<std::string, std::string>> pools;
  for (const ServiceRole &role : r.roles) {
    pools.push_back({role.role, poolLine(role)});
    std::string sized = fmt::format("{} at {}% utilisation, ", count(role.instances, "instance"),
                                    formatNumber(100 * role.utilization, 3));
    sized += role.role == "decode" ? "mean wait for a decode slot " + time(role.queueWait)
                                   : "mean queue wait " + time(role.queueWait);
    pools.push_back({"", sized});
  }
  printTable(os, pools);

  if (!sv.aggregated) {
    os << "\nKV transfer\n";
    printTable(os, {{"per request", fmt::format("{} ({} tokens of KV at {}) over {} ({}): {}",
                                          formatQuantity(r.kvBytesPerRequest, Dim::Bytes), sv.inputLength,
                                          formatQuantity(r.kvBytesPerRequest / double(sv.inputLength), Dim::Bytes) +
                                              " a token",
                                          formatQuantity(r.kvLink->bandwidth, Dim::ByteRate),
                                          sv.kvLinkDeclared ? "the service's kv_link"
                                                            : "the prefill cluster's inter_node link",
                                          time(r.kvTransferSeconds))}});
  }

  os << "\nservice level\n";
  std::string ttft;
  if (sv.aggregated) {
    const ServiceRole &a = r.roles.front();
    ttft = time(a.queueWait) + " queue + " + time(a.prefillLatency) + " prefill = " + time(r.ttft);
  } else {
    const ServiceRole &p = r.roles[0], &d = r.roles[1];
    ttft = time(p.queueWait) + " queue + " + time(p.stepLatency) + " prefill + " + time(r.kvTransferSeconds) +
           " KV transfer + " + time(d.queueWait) + " decode slot = " + time(r.ttft);
  }
  if (sv.sloTtft)
    ttft += " (SLO " + time(*sv.sloTtft) + ")";
  std::string tpot = time(r.tpot);
  if (sv.aggregated)
    tpot += fmt::format(" (the decode step {} stretched by the prefills sharing the GPUs)",
                        time(r.roles.front().stepLatency));
  if (sv.sloTpot)
    tpot += " (SLO " + time(*sv.sloTpot) + ")";
  printTable(os, {{"TTFT", ttft},
            {"TPOT", tpot},
            {"request latency", "TTFT + output x TPOT = " + time(r.requestLatency)}});

  os << "\nfleet\n";
  std::string fleet = count(r.gpus, "GPU") + " on " + count(r.nodes, "node");
  if (!sv.aggregated)
    fleet += fmt::format(": {} ({} GPUs) and {} ({} GPUs), {} prefill per decode instance",
                         count(r.roles[0].instances, "prefill instance"), r.roles[0].instances * r.roles[0].gpus,
                         count(r.roles[1].instances, "decode instance"), r.roles[1].instances * r.roles[1].gpus,
                         formatNumber(double(r.roles[0].instances) / double(r.roles[1].instances), 3));
  std::vector<std::pair<std::string, std::string>> fleetRows = {{"GPUs", fleet}};
  if (r.costPerHour)
    fleetRows.push_back({"cost", fmt::format("{} an hour at {} a GPU-hour; {} per million input tokens, {} per "
                                             "million output tokens",
                                             money(*r.costPerHour), money(*sv.gpuHourPrice),
                                             money(*r.costPerMillionInput), money(*r.costPerMillionOutput))});
  printTable(os, fleetRows);

  for (const ServiceRole &role : r.roles) {
    os << "\n=== " << role.role << " pool: one instance ===\n";
    printReport(*role.compiled.plan, diags, os);
  }
}

void moec::printServiceReportJson(const ServiceResult &r, const DiagEngine &diags, llvm::raw_ostream &os) {
  const ServiceSpec &sv = *r.service;
  llvm::json::OStream j(os, 2);
  j.object([&] {
    j.attributeObject("service", [&] {
      j.attribute("name", sv.name);
      j.attribute("mode", sv.aggregated ? "aggregated" : "disaggregated");
      j.attribute("requestsPerSecond", r.requestsPerSecond);
      j.attribute("inputLength", sv.inputLength);
      j.attribute("outputLength", sv.outputLength);
      j.attribute("prefixCacheHit", sv.prefixCacheHit);
      j.attribute("prefillTokensPerRequest", r.prefillTokensPerRequest);
      j.attribute("maxUtilization", sv.maxUtilization);
      if (sv.sloTtft)
        j.attribute("sloTtftSeconds", *sv.sloTtft);
      if (sv.sloTpot)
        j.attribute("sloTpotSeconds", *sv.sloTpot);
      j.attributeArray("pools", [&] {
        for (const ServiceRole &role : r.roles)
          j.object([&] {
            j.attribute("role", role.role);
            j.attribute("deploy", role.deploy->name);
            j.attribute("gpusPerInstance", role.gpus);
            j.attribute("nodesPerInstance", role.nodes);
            j.attribute("microBatch", role.microBatch);
            j.attribute("tokensPerSecondPerInstance", role.tokensPerSecond);
            j.attribute(role.role == "prefill" ? "batchTtftSeconds" : "tpotSeconds", role.stepLatency);
            if (role.role != "prefill") {
              j.attribute("slotsPerInstance", role.slots);
              j.attribute("maxBatchPerGpu", role.maxBatchPerGpu);
            }
            if (role.role == "aggregated") {
              j.attribute("prefillTokensPerSecond", role.prefillTokensPerSecond);
              j.attribute("prefillSeconds", role.prefillLatency);
              j.attribute("prefillShare", role.prefillShare);
            }
            j.attribute("requestsPerSecondPerInstance", role.serviceRate);
            j.attribute("instances", role.instances);
            j.attribute("utilization", role.utilization);
            j.attribute("queueWaitSeconds", role.queueWait);
            j.attribute("dominant", role.dominant);
          });
      });
      if (!sv.aggregated)
        j.attributeObject("kvTransfer", [&] {
          j.attribute("bytesPerRequest", r.kvBytesPerRequest);
          j.attribute("linkBandwidth", r.kvLink->bandwidth);
          j.attribute("seconds", r.kvTransferSeconds);
        });
      j.attribute("ttftSeconds", r.ttft);
      j.attribute("tpotSeconds", r.tpot);
      j.attribute("requestLatencySeconds", r.requestLatency);
      j.attribute("gpus", r.gpus);
      j.attribute("nodes", r.nodes);
      if (r.costPerHour)
        j.attributeObject("cost", [&] {
          j.attribute("perHour", *r.costPerHour);
          j.attribute("perMillionInputTokens", *r.costPerMillionInput);
          j.attribute("perMillionOutputTokens", *r.costPerMillionOutput);
        });
    });
    j.attributeObject("roles", [&] {
      for (const ServiceRole &role : r.roles) {
        std::string text;
        llvm::raw_string_ostream ros(text);
        printReportJson(*role.compiled.plan, diags, ros);
        llvm::Expected<llvm::json::Value> v = llvm::json::parse(text);
        if (v)
          j.attribute(role.role, std::move(*v));
        else
          llvm::consumeError(v.takeError());
      }
    });
  });
  os << "\n";
}


namespace {

ServiceManifest manifestOf(const ServiceResult &r) {
  ServiceManifest m;
  const ServiceSpec &sv = *r.service;
  m.name = sv.name;
  m.mode = sv.aggregated ? "aggregated" : "disaggregated";
  m.requestsPerSecond = r.requestsPerSecond;
  m.ttftSeconds = r.ttft;
  m.tpotSeconds = r.tpot;
  m.gpus = r.gpus;
  m.nodes = r.nodes;
  if (!sv.aggregated)
    m.kvTransfer = std::make_pair(r.kvBytesPerRequest, r.kvTransferSeconds);
  int64_t node = 0; // the pools' instances, one after another over the service's nodes
  for (const ServiceRole &role : r.roles) {
    ServiceManifest::Role out;
    out.role = role.role;
    out.plan = role.compiled.plan.get();
    out.instances = role.instances;
    for (int64_t i = 0; i < role.instances; ++i, node += role.nodes)
      out.instanceNodes.push_back(node);
    m.roles.push_back(std::move(out));
  }
  return m;
}

} // namespace

namespace {

/// -emit=launch of a service: each pool's launch files for one instance under <role>/, and what joins the pools:
/// SGLang's disaggregation flags and its PD router, or llm-d's per-role parallelism values for vLLM.
Outcome serviceLaunch(const ServiceResult &r, const EmitOptions &options, llvm::StringRef sourceText,
                      DiagEngine &diags, OutputSet &out) {
  if (options.outputPath.empty() || options.outputPath == "-")
    return Outcome::usage("-emit=launch writes several files: name their directory with -o");
  out.directory = true;
  const ServiceSpec &sv = *r.service;
  std::string manifest;
  llvm::raw_string_ostream ms(manifest);
  writeServiceManifest(manifestOf(r), sourceText, ms);
  out.files.push_back({"manifest.json", std::move(manifest), false}); // the whole service; each pool has its own
  for (const ServiceRole &role : r.roles) {
    for (LaunchFile &f : launchFiles(*role.compiled.plan, sourceText, options.launcher, diags)) {
      f.path = role.role + "/" + f.path;
      out.files.push_back(std::move(f));
    }
  }
  if (options.launcher == Launcher::SGLang && !sv.aggregated) {
    // SGLang's PD disaggregation (docs/serving.md): each server of a pool runs with --disaggregation-mode; the
    // prefill servers listen for the decode side on the bootstrap port; the router pairs them.
    for (const ServiceRole &role : r.roles) {
      std::string text = "#!/usr/bin/env bash\n";
      text += fmt::format("# moec: the {} pool of service {}: {} of deploy {}, each started on its nodes as\n"
                          "#   {}/pd.sh <node rank> [extra flags]\n",
                          role.role, commentText(sv.name), count(role.instances, "instance"),
                          commentText(role.deploy->name), role.role);
      text += "set -euo pipefail\nhere=$(cd \"$(dirname \"$0\")\" && pwd)\n";
      text += "node_rank=${1:?usage: $0 <node rank> [extra engine flags...]}; shift\n";
      text += fmt::format("exec \"$here/sglang/launch.sh\" \"$node_rank\" --disaggregation-mode {}{} "
                          "--disaggregation-transfer-backend mooncake \"$@\"\n",
                          role.role, role.role == "prefill" ? " --disaggregation-bootstrap-port 8998" : "");
      out.files.push_back({role.role + "/pd.sh", text, true});
    }
    std::string router = "#!/usr/bin/env bash\n";
    router += fmt::format("# moec: SGLang's PD router for service {}: {} prefill and {} decode servers.\n",
                          commentText(sv.name), r.roles[0].instances * r.roles[0].compiled.plan->strategy().dp,
                          r.roles[1].instances * r.roles[1].compiled.plan->strategy().dp);
    router += "# Usage: router.sh <prefill host[:port]>... -- <decode host[:port]>... (the first node of each server;\n"
              "# port 30000 unless given); listens on port 8000.\n";
    router += "set -euo pipefail\nprefill=(); decode=(); side=prefill\n"
              "for a in \"$@\"; do\n"
              "  if [ \"$a\" = -- ]; then side=decode; continue; fi\n"
              "  case $a in *:*) url=\"http://$a\" ;; *) url=\"http://$a:30000\" ;; esac\n"
              "  if [ $side = prefill ]; then prefill+=(--prefill \"$url\" 8998); else decode+=(--decode \"$url\"); fi\n"
              "done\n"
              "if [ ${#prefill[@]} -eq 0 ] || [ ${#decode[@]} -eq 0 ]; then\n"
              "  echo \"usage: $0 <prefill host>... -- <decode host>...\" >&2; exit 2\n"
              "fi\n"
              "exec python3 -m sglang_router.launch_router --pd-disaggregation \"${prefill[@]}\" \"${decode[@]}\" "
              "--host 0.0.0.0 --port 8000\n";
    out.files.push_back({"router.sh", router, true});
  }
  if (options.launcher == Launcher::TrtLlm && !sv.aggregated)
    // TensorRT-LLM joins its pools with `trtllm-serve disaggregated` and a configuration of its own, which moec
    // does not write (no option is dropped silently).
    diags.warning(sv.loc, "the TensorRT-LLM launcher writes each pool's servers, not the disaggregated server "
                          "that joins them (trtllm-serve disaggregated): start it with its own configuration");
  if (options.launcher == Launcher::LlmD || options.launcher == Launcher::AIConfigurator) {
    // The deployment formats users share, for the whole service: every pool a role with its instances.
    std::vector<DeploymentRole> roles;
    for (const ServiceRole &role : r.roles)
      roles.push_back({role.role == "aggregated" ? "agg" : role.role, role.compiled.plan.get(), role.instances});
    if (options.launcher == Launcher::LlmD)
      out.files.push_back({"llm-d/values.yaml", writeLlmdValues(roles, sv.name), false});
    else
      out.files.push_back({"aiconfigurator/generator_config.yaml", writeAiconfiguratorConfig(roles, sv.name), false});
  }
  return diags.hasErrors() ? Outcome::input() : Outcome::ok();
}

} // namespace

Outcome moec::emitServiceOutputs(const ServiceResult &r, const EmitOptions &options, llvm::StringRef sourceText,
                                 DiagEngine &diags, OutputSet &out) {
  std::string text;
  llvm::raw_string_ostream os(text);
  switch (options.emit) {
  case EmitKind::Report:
    if (options.format == ReportFormat::Json)
      printServiceReportJson(r, diags, os);
    else
      printServiceReport(r, diags, os);
    break;
  case EmitKind::Manifest:
    writeServiceManifest(manifestOf(r), sourceText, os);
    break;
  case EmitKind::Launch:
    return serviceLaunch(r, options, sourceText, diags, out);
  case EmitKind::Html:
    if (Outcome written = writeHtml(nullptr, options, diags, os); !written)
      return written;
    break;
  default: {
    std::string roles;
    for (const ServiceRole &role : r.roles)
      roles += (roles.empty() ? "" : ", ") + role.role + " -deploy=" + role.declared->name;
    return Outcome::usage("-emit=" + spell(options.emit).str() + " shows one plan; service '" + r.service->name +
                          "' has one per pool: compile a pool's deploy (" + roles + "), or use -emit=report, " +
                          "-emit=manifest, -emit=launch or -emit=html for the whole service");
  }
  }
  out.files.push_back({std::string(), std::move(text), false});
  return Outcome::ok();
}
