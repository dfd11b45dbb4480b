//===- DeployChecks.cpp - A deploy: references, parallel arithmetic, derived values -===//
//
// A deploy names a model, a cluster, a strategy and a workload; the checks that span them (world size, EP groups,
// divisibility, routing limits) run here, the derived values are computed once, and the requirements checked.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

using namespace moec;
using namespace moec::sema;

#include "moec/Deploy/Parallel.h"

void Sema::buildDeploy(const Block &block, const BlockDesc &desc) {
  if (!spec.onlyDeploy.empty() && block.getName() != spec.onlyDeploy) {
    // Another deploy than the one compiled (-deploy): listed by name, not checked, so that its problems cannot
    // break the one the user asked for (FINDINGS.md D1). -emit=ast checks every deploy.
    auto d = std::make_unique<DeploySpec>();
    d->loc = block.getLoc();
    d->name = block.getName().str();
    d->checked = false;
    spec.deploys.push_back(std::move(d));
    return;
  }
  BlockChecker c = check(block, desc);
  auto d = std::make_unique<DeploySpec>();
  c.locate(*d);
  d->name = block.getName().str();
  d->requirements = &spec;
  d->sourcePath = diags.getSourceMgr()
                      .getMemoryBuffer(diags.getSourceMgr().FindBufferContainingLoc(block.getLoc()))
                      ->getBufferIdentifier()
                      .str();
  bool ok = true;
  auto ref = [&](llvm::StringRef key, auto &map) -> decltype(map.lookup("")) {
    std::optional<Value> v = c.get(key);
    if (!v) {
      ok = false;
      return nullptr;
    }
    if (!valid[v->s + "@" + key.str()])
      ok = false;
    return map.lookup(v->s);
  };
  d->model = ref("model", models);
  d->cluster = ref("cluster", clusters);
  d->strategy = ref("strategy", strategies);
  d->workload = ref("workload", workloads);
  c.evaluateAll();
  if (ok && c.isOk())
    checkDeploy(*d);
  valid[d->name + "@deploy"] = ok && c.isOk();
  deploys[d->name] = d.get();
  spec.deploys.push_back(std::move(d));
}

void Sema::buildService(const Block &block, const BlockDesc &desc) {
  BlockChecker c = check(block, desc);
  auto sv = std::make_unique<ServiceSpec>();
  c.locate(*sv);
  sv->name = block.getName().str();
  bool ok = true;
  auto role = [&](llvm::StringRef key) -> const DeploySpec * {
    if (!c.has(key))
      return nullptr;
    std::optional<Value> v = c.get(key);
    if (!v || !valid[v->s + "@deploy"]) {
      ok = false;
      return nullptr;
    }
    return deploys.lookup(v->s);
  };
  sv->prefill = role("prefill");
  sv->decode = role("decode");
  sv->aggregated = role("aggregated");
  sv->inputLength = c.getInt("input_length", 1);
  sv->outputLength = c.getInt("output_length", 1);
  sv->prefixCacheHit = c.getReal("prefix_cache_hit", 0);
  sv->tokensPerDay = c.getOptionalReal("tokens_per_day");
  sv->requestsPerSecond = c.getReal("requests_per_second", 0);
  sv->sloTtft = c.getOptionalReal("slo_ttft");
  sv->sloTpot = c.getOptionalReal("slo_tpot");
  sv->maxUtilization = c.getReal("max_utilization", 0.8);
  sv->gpuHourPrice = c.getOptionalReal("gpu_hour_price");
  if (const Block *sub = c.subBlock("kv_link")) {
    BlockChecker l = check(*sub, *findNestedBlock(desc, "kv_link"));
    l.locate(sv->kvLink);
    sv->kvLink.bandwidth = l.getReal("bandwidth", 1);
    sv->kvLink.latency = l.getReal("latency", 5e-6);
    sv->kvLinkDeclared = true;
    l.evaluateAll();
    ok &= l.isOk();
  }
  c.evaluateAll();
  ok &= c.isOk();
  std::string name = quoted(sv->name);
  // The roles: prefill with decode (disaggregated), or aggregated alone.
  if (c.has("aggregated") && (c.has("prefill") || c.has("decode"))) {
    diags.error(c.locOf("aggregated"), "service " + name + " has an aggregated pool and a " +
                                           (c.has("prefill") ? "prefill" : "decode") +
                                           " pool: it is either aggregated or disaggregated (prefill and decode)");
    ok = false;
  } else if (!c.has("aggregated") && c.has("prefill") != c.has("decode")) {
    diags.error(c.locOf(c.has("prefill") ? "prefill" : "decode"),
                "service " + name + " has a " + (c.has("prefill") ? "prefill pool but no decode" : "decode pool but no prefill") +
                    " pool: a disaggregated service needs both (or one 'aggregated' pool)");
    ok = false;
  } else if (!c.has("aggregated") && !c.has("prefill")) {
    diags.error(block.getNameLoc(), "service " + name + " has no pool: give 'prefill' and 'decode' deploys, or "
                                                        "one 'aggregated' deploy");
    ok = false;
  }
  auto phaseOf = [&](llvm::StringRef key, const DeploySpec *d, Phase want) {
    if (d && d->workload && d->workload->phase != want) {
      diags.error(c.locOf(key), "the " + key.str() + " pool of service " + name + " is deploy " + quoted(d->name) +
                                    ", whose workload " + quoted(d->workload->name) + " is " +
                                    spell(d->workload->phase).str() + "; it needs a " + spell(want).str() +
                                    " workload" +
                                    (key == "aggregated" ? " (the pool's decode batch; moec derives its prefill)"
                                                         : ""));
      diags.note(d->loc, "deploy " + quoted(d->name) + " is here");
      ok = false;
    }
  };
  phaseOf("prefill", sv->prefill, Phase::Prefill);
  phaseOf("decode", sv->decode, Phase::Decode);
  phaseOf("aggregated", sv->aggregated, Phase::Decode);
  // The load: requests per second, or tokens per day.
  if (c.has("requests_per_second") == c.has("tokens_per_day")) {
    bool both = c.has("tokens_per_day");
    diags.error(block.getNameLoc(), "service " + name + (both ? " gives both" : " gives neither") +
                                        " 'requests_per_second' " + (both ? "and" : "nor") +
                                        " 'tokens_per_day': its load is one of them");
    ok = false;
  } else if (sv->tokensPerDay) {
    sv->requestsPerSecond = *sv->tokensPerDay / 86400.0 / double(sv->inputLength + sv->outputLength);
  }
  if (ok)
    spec.services.push_back(std::move(sv));
}

/// The checks that span the parts of a deploy, and the derived values.

void Sema::checkDeploy(DeploySpec &d) {
  // A named MLA decode kernel runs MLA only, on the architecture it was written for (Enums.h archOf); whatever
  // the strategy, so a search is told once, here, and not for each candidate it tries.
  if (d.workload && archOf(d.workload->attentionKernel) != GpuArch::Generic) {
    const WorkloadSpec &w = *d.workload;
    const ModelSpec &m = *d.model;
    const GpuSpec &gpu = *d.cluster->gpu;
    std::string key = "'attention_kernel = " + spell(w.attentionKernel).str() + "'";
    GpuArch arch = archOf(w.attentionKernel);
    bool bad = true;
    if (m.attention.kind != AttentionKind::MLA)
      diags.error(w.locOf("attention_kernel"), key + " is a kernel for multi-head latent attention, but model " +
                                                   quoted(m.name) + " has " + spell(m.attention.kind).str() +
                                                   " attention; use 'fused'");
    else if (gpu.arch != arch)
      diags.error(w.locOf("attention_kernel"), key + " runs on " + spell(arch).str() + " GPUs, but GPU " +
                                                   quoted(gpu.name) + " has arch = " + spell(gpu.arch).str() +
                                                   "; use 'fused', the engine's kernel for it");
    else
      bad = false;
    if (bad)
      diags.note(d.locOf("workload"), "in deploy " + quoted(d.name));
  }
  if (d.strategy->search) {
    // A searching strategy has no degrees yet: the search checks each candidate (moec/Pipeline/Search.h).
    d.derived.world = d.cluster->world();
    return;
  }
  checkDeployParts(spec, d, diags);
}

bool moec::checkDeployParts(const Spec &spec, DeploySpec &d, DiagEngine &diags) {
  const ModelSpec &m = *d.model;
  const ClusterSpec &cl = *d.cluster;
  const StrategySpec &s = *d.strategy;
  DerivedValues &dv = d.derived;
  auto num = [](int64_t v) { return std::to_string(v); };
  auto inDeploy = [&] { diags.note(d.locOf("strategy"), "in deploy " + quoted(d.name)); };

  dv.world = cl.world();
  int64_t product = 1;
  bool overflow = false;
  for (int64_t degree : {s.pp, s.dp, s.ep, s.etp()})
    overflow |= __builtin_mul_overflow(product, degree, &product);
  if (overflow || product != dv.world) {
    std::string tpName = s.folded() ? "etp" : "tp";
    diags.error(s.loc, "strategy " + quoted(s.name) + " does not fit cluster " + quoted(cl.name) +
                           ": pp * dp * ep * " + tpName + " = " + num(s.pp) + " * " + num(s.dp) + " * " +
                           num(s.ep) + " * " + num(s.etp()) + " = " + (overflow ? "(overflows)" : num(product)) +
                           ", but nodes * gpus_per_node = " + num(cl.nodes) + " * " + num(cl.gpusPerNode) +
                           " = " + num(dv.world));
    if (s.folded())
      diags.note(s.locOf("etp"), "with etp set, the experts' grid etp x ep x dp x pp covers the GPUs, and "
                                 "attention's tp x attention_dp covers each stage's etp * ep * dp of them");
    inDeploy();
    return false;
  }
  bool ok = true;
  if (s.folded()) {
    // Parallel folding (docs/language.md): attention TP groups are tp consecutive ranks of a stage, each
    // holding whole expert TP groups.
    if (s.tp % s.etp() != 0) {
      diags.error(s.locOf("etp"), "etp = " + num(s.etp()) + " does not divide tp = " + num(s.tp) +
                                      ": each attention TP group must hold whole expert TP groups");
      ok = false;
    } else if (s.stageSize() % s.tp != 0) {
      diags.error(s.locOf("tp"), "tp = " + num(s.tp) + " does not divide the " + num(s.stageSize()) +
                                     " GPUs of a pipeline stage (dp * ep * etp = " + num(s.dp) + " * " +
                                     num(s.ep) + " * " + num(s.etp()) + ")");
      ok = false;
    }
    if (s.order.front() != Axis::TP || s.order.back() != Axis::PP) {
      diags.error(s.locOf("order"), "with etp set, the order must start with tp and end with pp (attention TP "
                                    "groups are consecutive ranks of a stage); " +
                                        quoted(s.orderString()) + " does not");
      ok = false;
    }
  }
  if (m.attention.heads % s.tp != 0) {
    diags.error(s.locOf("tp"), "tp = " + num(s.tp) + " does not divide the " + num(m.attention.heads) +
                                   " attention heads of model " + quoted(m.name));
    diags.note(m.attention.locOf("heads"), "heads set here");
    ok = false;
  } else if (m.attention.kind == AttentionKind::GQA && m.attention.kvHeads % s.tp != 0 &&
             s.tp % m.attention.kvHeads != 0) {
    diags.error(s.locOf("tp"), "tp = " + num(s.tp) + " neither divides nor is a multiple of the " +
                                   num(m.attention.kvHeads) + " KV heads of model " + quoted(m.name));
    diags.note(m.attention.locOf("kv_heads"), "kv_heads set here");
    ok = false;
  }
  if (m.moe.expertHidden % s.etp() != 0) {
    llvm::StringRef key = s.folded() ? "etp" : "tp";
    diags.error(s.locOf(key), key.str() + " = " + num(s.etp()) + " does not divide expert_hidden = " +
                                  num(m.moe.expertHidden) + " of model " + quoted(m.name) + " (experts are split " +
                                  key.str() + " ways" + (s.folded() ? "" : "; etp = 1 keeps them whole") + ")");
    ok = false;
  }
  if (s.folded() && m.moe.sharedExperts * m.moe.expertHidden % s.tp != 0) {
    diags.error(s.locOf("tp"), "tp = " + num(s.tp) + " does not divide the shared experts' hidden size " +
                                   num(m.moe.sharedExperts * m.moe.expertHidden) + " of model " + quoted(m.name) +
                                   " (shared experts are split tp ways, like the dense FFN)");
    ok = false;
  }
  if (m.mlp && m.denseLayerCount() > 0 && m.mlp->hidden % s.tp != 0) {
    diags.error(s.locOf("tp"), "tp = " + num(s.tp) + " does not divide the dense FFN hidden size " +
                                   num(m.mlp->hidden) + " of model " + quoted(m.name));
    ok = false;
  }
  if (s.pp > m.layers) {
    diags.error(s.locOf("pp"), "pp = " + num(s.pp) + " is more than the " + num(m.layers) + " layers of model " +
                                   quoted(m.name));
    ok = false;
  }
  // A 4-bit dispatch quantizes tokens to the format the experts' grouped GEMM reads (DeepEP's fused NVFP4
  // quantization in SGLang's GB200 decode): the experts must hold that format and the GPU multiply it.
  if (s.dispatchPrecision && isFourBit(*s.dispatchPrecision)) {
    std::string format = spell(*s.dispatchPrecision).str();
    std::string key = "'dispatch_precision = " + format + "'";
    if (m.parts.experts != *s.dispatchPrecision) {
      diags.error(s.locOf("dispatch_precision"),
                  key + " sends tokens in the format the experts' GEMMs read, but model " + quoted(m.name) +
                      " keeps its experts in " + spell(m.parts.experts).str() +
                      "; dispatch in bf16 or fp8, or set expert_precision = " + format);
      diags.note(m.locOf("expert_precision"), m.keys.count("expert_precision")
                                                  ? "the experts' precision is set here"
                                                  : "model " + quoted(m.name) + " is here; its experts take its "
                                                                                "'precision'");
      ok = false;
    } else if (cl.gpu->fp4Compute <= 0) {
      diags.error(s.locOf("dispatch_precision"),
                  key + ": GPU " + quoted(cl.gpu->name) +
                      " has no 4-bit tensor cores (fp4_compute), so its grouped GEMMs read " + format +
                      " weights with 16-bit activations; dispatch in bf16 or fp8");
      ok = false;
    }
  }
  if (!ok) {
    inDeploy();
    return false;
  }

  RankLayout layout(s);
  dv.expertSlots = m.moe.experts + s.redundantExperts;
  if (dv.expertSlots * m.moeLayers() > kMaxPlacementEntries) {
    diags.error(s.locOf("redundant_experts"),
                "the placement table would hold " + num(dv.expertSlots * m.moeLayers()) +
                    " entries (expert slots x MoE layers), more than the limit of " + num(kMaxPlacementEntries));
    inDeploy();
    return false;
  }
  dv.expertsPerGpu = (dv.expertSlots + s.ep - 1) / s.ep;
  dv.attentionDp = s.stageSize() / s.tp;
  dv.layersPerStage = (m.layers + s.pp - 1) / s.pp;
  dv.moeLayers = m.moeLayers();
  llvm::SmallVector<int64_t, 16> nodes;
  for (int64_t r : layout.group(Axis::EP, 0))
    nodes.push_back(r / cl.gpusPerNode);
  llvm::sort(nodes);
  dv.epGroupNodes = std::unique(nodes.begin(), nodes.end()) - nodes.begin();

  // A TP group that spans nodes sends its all-reduces, twice a layer, over the network (FINDINGS.md D3).
  if (s.tp > 1) {
    llvm::SmallVector<int64_t, 16> tpNodes;
    for (int64_t r : layout.attentionTpGroup(0))
      tpNodes.push_back(r / cl.gpusPerNode);
    llvm::sort(tpNodes);
    int64_t spans = std::unique(tpNodes.begin(), tpNodes.end()) - tpNodes.begin();
    if (spans > 1) {
      diags.warning(s.locOf("tp"), "a TP group of tp = " + num(s.tp) + " spans " + num(spans) +
                                       " nodes: its all-reduces, twice a layer, go over the network" +
                                       (s.tp <= cl.gpusPerNode ? "; an order with tp first keeps it on one node"
                                                               : "; tp <= gpus_per_node = " +
                                                                     num(cl.gpusPerNode) + " would keep it on one"));
      inDeploy();
    }
  }
  // More TP ranks than KV heads: each rank keeps a copy of a KV head, so the KV cache is stored several times (D4).
  if (m.attention.kind != AttentionKind::MLA && s.tp > m.attention.kvHeads) {
    diags.warning(s.locOf("tp"), "tp = " + num(s.tp) + " is more than kv_heads = " + num(m.attention.kvHeads) +
                                     ": each KV head is kept on " + num(s.tp / m.attention.kvHeads) +
                                     " GPUs, so the KV cache is stored " + num(s.tp / m.attention.kvHeads) +
                                     " times over");
    inDeploy();
  }

  if (dv.expertSlots % s.ep != 0) {
    int64_t fewer = s.ep - dv.expertSlots % s.ep;
    if (s.ep > dv.expertSlots)
      diags.warning(s.locOf("ep"), "ep = " + num(s.ep) + " is more than the " + num(dv.expertSlots) +
                                       " expert slots: " + num(s.ep - dv.expertSlots) +
                                       " GPUs of each EP group hold no expert");
    else
      diags.warning(s.locOf("ep"), num(dv.expertSlots) + " expert slots do not divide evenly over ep = " +
                                       num(s.ep) + ": " + num(fewer) + " GPUs of each EP group hold " +
                                       num(dv.expertsPerGpu - 1) + " instead of " + num(dv.expertsPerGpu));
    inDeploy();
  }
  // Single-batch overlap runs the combine beside compute; without an EP group there is no combine (no option is
  // ignored silently).
  if (d.workload && isSingleBatch(d.workload->overlap) && s.ep == 1) {
    const WorkloadSpec &w = *d.workload;
    diags.warning(w.locOf("overlap"), "'overlap = " + spell(w.overlap).str() +
                                          "' runs the combine beside compute, but ep = 1 has no combine: the "
                                          "layers run one op after another");
    inDeploy();
  }
  // route_nodes larger than the nodes an EP group spans is satisfied, not an error: a token then reaches at most
  // every node of its group (DeepSeek-V3's model block, route_nodes = 4, deploys on one node).
  return spec.check(d, {}, diags);
}
