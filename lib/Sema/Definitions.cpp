//===- Definitions.cpp - Each kind of definition, from its checked keys --------- -===//
//
// gpu, model (with its attention, mlp and moe blocks), cluster, strategy and workload: the keys a BlockChecker
// checked become the typed structs of moec/Deploy/Deploy.h, and the checks that span keys of one definition run.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"
#include "moec/Deploy/Parallel.h"

using namespace moec;
using namespace moec::sema;

void Sema::buildGpu(const Block &block, const BlockDesc &desc) {
  BlockChecker c = check(block, desc);
  auto gpu = std::make_unique<GpuSpec>();
  c.locate(*gpu);
  gpu->name = block.getName().str();
  gpu->memory = c.getReal("memory", 0);
  gpu->compute = c.getReal("compute", 0);
  gpu->memBandwidth = c.getReal("mem_bandwidth", 0);
  gpu->launchOverhead = c.getReal("launch_overhead", 2e-6);
  gpu->reservedMemory = c.getReal("reserved_memory", 512.0 * 1024 * 1024);
  gpu->vendor = c.getEnum("vendor", GpuVendor::Nvidia);
  gpu->fp8Compute = c.getReal("fp8_compute", 0);
  gpu->fp4Compute = c.getReal("fp4_compute", 0);
  gpu->nvlinkBandwidth = c.getReal("nvlink_bandwidth", 0);
  gpu->nicBandwidth = c.getReal("nic_bandwidth", 0);
  gpu->nvlinkDomain = c.getInt("nvlink_domain", 0);
  gpu->arch = c.getEnum("arch", GpuArch::Generic);
  c.evaluateAll();
  valid[block.getName().str() + "@gpu"] = c.isOk();
  gpus[block.getName()] = gpu.get();
  spec.gpus.push_back(std::move(gpu));
}

void Sema::buildModel(const Block &block, const BlockDesc &desc) {
  if (!block.getFromPath().empty()) {
    buildImportedModel(block, desc);
    return;
  }
  BlockChecker c = check(block, desc);
  auto model = std::make_unique<ModelSpec>();
  c.locate(*model);
  model->name = block.getName().str();
  model->layers = c.getInt("layers", 1);
  model->denseLayers = c.getInt("dense_layers", 0);
  model->hidden = c.getInt("hidden", 1);
  model->vocab = c.getInt("vocab", 0);
  model->precision = c.getEnum("precision", Precision::BF16);
  model->parts.attention = c.getEnum("attention_precision", model->precision);
  model->parts.denseFfn = c.getEnum("dense_precision", model->precision);
  model->parts.experts = c.getEnum("expert_precision", model->precision);
  model->parts.embedding = c.getEnum("embedding_precision", model->precision);
  model->parts.kvCache = c.getEnum("kv_precision", model->precision);
  model->dropout = c.getReal("dropout", 0);
  model->tieEmbeddings = c.getEnum("tie_embeddings", Switch::Off) == Switch::On;
  c.evaluateAll();
  bool ok = c.isOk();
  // 4-bit formats hold weights: activations and the KV cache need a format computed in.
  for (llvm::StringRef key : {"precision", "kv_precision"})
    if (c.valid(key) && isFourBit(parseEnum<Precision>(c.get(key)->s).value_or(Precision::BF16))) {
      diags.error(c.locOf(key), "'" + key.str() + " = " + c.get(key)->s + "': 4-bit formats hold weights only; " +
                                    (key == "precision" ? "keep 'precision' (activations) at bf16 or fp8 and set "
                                                          "'expert_precision' (or another part's) to " + c.get(key)->s
                                                        : std::string("the KV cache needs bf16, fp16, fp8 or fp32")));
      ok = false;
    }

  if (c.valid("dense_layers") && c.valid("layers") && model->denseLayers > model->layers) {
    diags.error(c.locOf("dense_layers"), "dense_layers = " + std::to_string(model->denseLayers) +
                                             " is more than the model's " + std::to_string(model->layers) +
                                             " layers");
    ok = false;
  }
  // Which layers are MoE: the first `dense_layers` are dense; after them every `moe_every`-th layer is MoE, the
  // last of each run (Llama 4's interleave_moe_layer_step, Qwen-MoE's decoder_sparse_step); or exactly the layers
  // of `moe_layer_list`.
  int64_t every = c.getInt("moe_every", 1);
  model->moeMask.assign(size_t(std::max<int64_t>(model->layers, 0)), false);
  if (c.has("moe_layer_list")) {
    for (llvm::StringRef other : {"dense_layers", "moe_every"})
      if (c.has(other)) {
        diags.error(c.locOf(other), "'" + other.str() + "' and 'moe_layer_list' both say which layers are MoE: "
                                    "give one");
        ok = false;
      }
    if (std::optional<Value> list = c.get("moe_layer_list")) {
      int64_t previous = -1;
      for (const Value &e : list->list) {
        if (e.i >= model->layers) {
          diags.error(c.locOf("moe_layer_list"), "moe_layer_list names layer " + std::to_string(e.i) +
                                                     ", but the model's layers are 0.." +
                                                     std::to_string(model->layers - 1));
          ok = false;
          break;
        }
        if (e.i <= previous) {
          diags.error(c.locOf("moe_layer_list"), "moe_layer_list must list each layer once, in increasing order; " +
                                                     std::to_string(e.i) + " follows " + std::to_string(previous));
          ok = false;
          break;
        }
        model->moeMask[e.i] = true;
        previous = e.i;
      }
    }
  } else {
    for (int64_t l = model->denseLayers; l < model->layers; ++l)
      model->moeMask[l] = (l - model->denseLayers + 1) % every == 0;
  }
  model->moeCount = std::count(model->moeMask.begin(), model->moeMask.end(), true);

  // attention
  if (const Block *sub = c.subBlock("attention")) {
    BlockChecker a = check(*sub, *findNestedBlock(desc, "attention"));
    AttentionSpec &att = model->attention;
    a.locate(att);
    att.kind = a.getEnum("kind", AttentionKind::MHA);
    att.heads = a.getInt("heads", 1);
    att.headDim = a.getInt("head_dim", 1);
    att.kvHeads = a.getInt("kv_heads", att.heads);
    att.qLoraRank = a.getInt("q_lora_rank", 0);
    att.kvLoraRank = a.getInt("kv_lora_rank", 0);
    att.ropeHeadDim = a.getInt("rope_head_dim", 0);
    att.slidingWindow = a.getInt("sliding_window", 0);
    att.chunkSize = a.getInt("chunk_size", 0);
    att.fullEvery = a.getInt("full_every", 0);
    att.qkNorm = a.getEnum("qk_norm", Switch::Off) == Switch::On;
    att.sinks = a.getEnum("sinks", Switch::Off) == Switch::On;
    att.bias = a.getEnum("bias", AttentionBias::None);
    if (a.has("full_every") && !a.has("sliding_window") && !a.has("chunk_size")) {
      diags.error(a.locOf("full_every"), "'full_every' says which layers attend fully between sliding-window "
                                         "or chunked layers, but the attention has no 'sliding_window' or "
                                         "'chunk_size'");
      ok = false;
    }
    if (a.has("sliding_window") && a.has("chunk_size")) {
      diags.error(a.locOf("chunk_size"), "an attention has a 'sliding_window' or a 'chunk_size', not both");
      diags.note(a.locOf("sliding_window"), "sliding_window set here");
      ok = false;
    }
    a.evaluateAll();
    ok &= a.isOk();
    if (a.isOk())
      ok &= checkAttention(a, att);
  } else {
    diags.error(block.getNameLoc(), "model " + quoted(block.getName()) + " has no 'attention' block");
    ok = false;
  }

  if (const Block *sub = c.subBlock("mlp")) {
    BlockChecker m = check(*sub, *findNestedBlock(desc, "mlp"));
    MlpSpec mlp;
    m.locate(mlp);
    mlp.hidden = m.getInt("hidden", 1);
    mlp.activation = m.getEnum("activation", Activation::Gelu);
    m.evaluateAll();
    ok &= m.isOk();
    model->mlp = mlp;
  } else if (int64_t dense = c.has("moe_layer_list") || c.has("moe_every") ? model->denseLayerCount()
                                                                             : model->denseLayers;
             dense > 0) {
    llvm::StringRef key = c.has("moe_layer_list") ? "moe_layer_list" : c.has("dense_layers") ? "dense_layers"
                                                                                            : "moe_every";
    diags.error(c.locOf(key), "model " + quoted(block.getName()) + " has " + std::to_string(dense) +
                                  (dense == 1 ? " dense layer" : " dense layers") +
                                  " but no 'mlp' block to define their FFN");
    ok = false;
  }

  if (const Block *sub = c.subBlock("moe")) {
    BlockChecker m = check(*sub, *findNestedBlock(desc, "moe"));
    MoeSpec &moe = model->moe;
    m.locate(moe);
    moe.experts = m.getInt("experts", 1);
    moe.topK = m.getInt("top_k", 1);
    moe.expertHidden = m.getInt("expert_hidden", 1);
    moe.activation = m.getEnum("activation", Activation::Gelu);
    moe.sharedExperts = m.getInt("shared_experts", 0);
    moe.routeGroups = m.getInt("route_groups", 0);
    moe.routeNodes = m.getInt("route_nodes", 0);
    moe.bias = m.getEnum("bias", Switch::Off) == Switch::On;
    moe.capacityFactor = m.getOptionalReal("capacity_factor");
    m.evaluateAll();
    ok &= m.isOk();
    if (m.isOk())
      ok &= checkMoe(m, moe);
  } else {
    diags.error(block.getNameLoc(), "model " + quoted(block.getName()) +
                                        " has no 'moe' block; moec plans Mixture-of-Experts models");
    ok = false;
  }
  if (ok && model->moeCount == 0)
    diags.warning(c.locOf(c.has("moe_every") ? "moe_every" : "dense_layers"), "every layer of model " + quoted(block.getName()) +
                                               " is dense; its 'moe' block is never used");
  valid[block.getName().str() + "@model"] = ok;
  models[block.getName()] = model.get();
  spec.models.push_back(std::move(model));
}

bool Sema::checkAttention(BlockChecker &a, AttentionSpec &att) {
  bool ok = true;
  auto only = [&](llvm::StringRef key, llvm::StringRef kinds) {
    if (a.has(key)) {
      diags.error(a.locOf(key), quoted(key) + " applies only to attention kind " + kinds.str() +
                                    ", not " + spell(att.kind).str());
      ok = false;
    }
  };
  auto need = [&](llvm::StringRef key) {
    if (!a.has(key)) {
      diags.error(a.getBlock().getLoc(), "attention kind " + spell(att.kind).str() + " needs " + quoted(key));
      ok = false;
    }
  };
  switch (att.kind) {
  case AttentionKind::MHA:
    if (a.has("kv_heads") && att.kvHeads != att.heads) {
      diags.error(a.locOf("kv_heads"), "multi-head attention has one KV head per head: kv_heads = " +
                                           std::to_string(att.kvHeads) + " differs from heads = " +
                                           std::to_string(att.heads) + "; use kind = gqa");
      ok = false;
    }
    only("q_lora_rank", "mla");
    only("kv_lora_rank", "mla");
    only("rope_head_dim", "mla");
    break;
  case AttentionKind::GQA:
    need("kv_heads");
    only("q_lora_rank", "mla");
    only("kv_lora_rank", "mla");
    only("rope_head_dim", "mla");
    if (a.has("kv_heads") && att.heads % att.kvHeads != 0) {
      diags.error(a.locOf("kv_heads"), "kv_heads = " + std::to_string(att.kvHeads) +
                                           " does not divide heads = " + std::to_string(att.heads));
      ok = false;
    }
    break;
  case AttentionKind::MLA:
    need("kv_lora_rank");
    need("rope_head_dim");
    only("kv_heads", "gqa");
    // MLA's projections are lowered without these (DeepSeek's have none).
    only("qk_norm", "mha or gqa");
    only("bias", "mha or gqa");
    att.kvHeads = att.heads;
    break;
  }
  return ok;
}

bool Sema::checkMoe(BlockChecker &m, MoeSpec &moe) {
  bool ok = true;
  if (moe.topK > moe.experts) {
    diags.error(m.locOf("top_k"), "top_k = " + std::to_string(moe.topK) + " is more than the " +
                                      std::to_string(moe.experts) + " experts");
    ok = false;
  }
  if (moe.routeGroups) {
    if (moe.experts % moe.routeGroups != 0) {
      diags.error(m.locOf("route_groups"), "route_groups = " + std::to_string(moe.routeGroups) +
                                               " does not divide the " + std::to_string(moe.experts) +
                                               " experts");
      ok = false;
    }
  }
  if (moe.routeNodes && moe.routeGroups && moe.routeNodes > moe.routeGroups) {
    diags.error(m.locOf("route_nodes"), "route_nodes = " + std::to_string(moe.routeNodes) +
                                            " is more than route_groups = " + std::to_string(moe.routeGroups));
    ok = false;
  }
  if (moe.routeNodes && moe.routeNodes > moe.topK)
    diags.warning(m.locOf("route_nodes"), "route_nodes = " + std::to_string(moe.routeNodes) +
                                              " is more than top_k = " + std::to_string(moe.topK) +
                                              ": a token cannot reach more nodes than experts");
  if (moe.capacityFactor && *moe.capacityFactor < 1)
    diags.warning(m.locOf("capacity_factor"),
                  "capacity_factor below 1 drops tokens even under perfectly uniform routing");
  return ok;
}

void Sema::buildCluster(const Block &block, const BlockDesc &desc) {
  BlockChecker c = check(block, desc);
  auto cluster = std::make_unique<ClusterSpec>();
  c.locate(*cluster);
  cluster->name = block.getName().str();
  cluster->nodes = c.getInt("nodes", 1);
  cluster->gpusPerNode = c.getInt("gpus_per_node", 1);
  if (std::optional<Value> g = c.get("gpu"))
    cluster->gpu = gpus.lookup(g->s);
  if (std::optional<Value> h = c.get("hosts"))
    for (const Value &v : h->list)
      cluster->hosts.push_back(v.s);
  cluster->networkInterface = c.getString("network_interface");
  cluster->rendezvousPort = c.getInt("rendezvous_port", 29500);
  c.evaluateAll();
  bool ok = c.isOk();
  if (cluster->gpu && !valid[cluster->gpu->name + "@gpu"])
    ok = false;

  for (auto [kind, link] : {std::pair<llvm::StringRef, LinkSpec *>{"intra_node", &cluster->intraNode},
                            {"inter_node", &cluster->interNode}}) {
    const Block *sub = c.subBlock(kind);
    // One node has no network: its inter_node block may be left out (bandwidth and latency then 0, never used).
    if (!sub && kind == "inter_node" && c.valid("nodes") && cluster->nodes == 1)
      continue;
    // Left out, a link is the GPU's: its NVLink or NIC bandwidth, with a default latency (docs/language.md).
    double declared = !cluster->gpu ? 0 : kind == "intra_node" ? cluster->gpu->nvlinkBandwidth
                                                               : cluster->gpu->nicBandwidth;
    if (!sub && declared > 0) {
      link->loc = block.getLoc();
      link->bandwidth = declared;
      link->latency = kind == "intra_node" ? 2e-6 : 5e-6;
      continue;
    }
    if (!sub) {
      diags.error(block.getNameLoc(), "cluster " + quoted(block.getName()) + " has no " + quoted(kind) +
                                          " block (its bandwidth and latency), and its GPU declares no " +
                                          (kind == "inter_node" ? "nic_bandwidth" : "nvlink_bandwidth") +
                                          " to take instead" +
                                          (kind == "inter_node" ? "; only a one-node cluster needs neither" : ""));
      ok = false;
      continue;
    }
    BlockChecker l = check(*sub, *findNestedBlock(desc, kind));
    l.locate(*link);
    link->bandwidth = l.getReal("bandwidth", 1);
    link->latency = l.getReal("latency", 0);
    l.evaluateAll();
    ok &= l.isOk();
  }

  // moec's node is an NVLink domain: traffic inside it goes over intra_node, between nodes over inter_node.
  if (ok && cluster->gpu && cluster->gpu->nvlinkDomain > 0 && c.valid("gpus_per_node")) {
    int64_t domain = cluster->gpu->nvlinkDomain;
    if (cluster->gpusPerNode > domain)
      diags.warning(c.locOf("gpus_per_node"), "gpus_per_node = " + std::to_string(cluster->gpusPerNode) +
                                                  " is more than the " + std::to_string(domain) +
                                                  " GPUs one NVLink domain of " + cluster->gpu->name +
                                                  " joins; moec treats the node as one NVLink domain");
    else if (cluster->nodes > 1 && domain > cluster->gpusPerNode &&
             domain % cluster->gpusPerNode == 0)
      diags.warning(c.locOf("gpus_per_node"),
                    cluster->gpu->name + "'s NVLink domain joins " + std::to_string(domain) +
                        " GPUs, but moec sends traffic between nodes of " + std::to_string(cluster->gpusPerNode) +
                        " over inter_node; write one node per NVLink domain (gpus_per_node = " +
                        std::to_string(domain) + ") to model it");
  }

  if (c.has("hosts") && c.get("hosts")) {
    if (int64_t(cluster->hosts.size()) != cluster->nodes) {
      diags.error(c.locOf("hosts"), "hosts lists " + std::to_string(cluster->hosts.size()) +
                                        " names for " + std::to_string(cluster->nodes) + " nodes");
      ok = false;
    }
    // Host names reach shell scripts and hostfiles: an RFC 1123 name or an IP address, nothing else.
    const auto *list = llvm::dyn_cast_or_null<ListExpr>(c.valueExpr("hosts"));
    llvm::StringMap<size_t> seen;
    for (size_t i = 0; i < cluster->hosts.size(); ++i) {
      const Expr &element = list && i < list->getElements().size() ? *list->getElements()[i] : *c.valueExpr("hosts");
      if (!checkUserString(element, cluster->hosts[i], "host name", checkHostName, diags)) {
        ok = false;
      } else if (!seen.try_emplace(cluster->hosts[i], i).second) {
        diags.error(element.getLoc(), "host " + quoted(cluster->hosts[i]) + " is listed twice", {element.getRange()});
        ok = false;
      }
    }
  }
  if (const Expr *e = c.valueExpr("network_interface"); e && c.valid("network_interface"))
    ok &= checkUserString(*e, cluster->networkInterface, "network interface", checkInterfaceName, diags);
  if (c.valid("nodes") && c.valid("gpus_per_node") && cluster->world() > kMaxWorld) {
    diags.error(c.locOf("nodes"), "the cluster has " + std::to_string(cluster->world()) +
                                      " GPUs, more than the limit of " + std::to_string(kMaxWorld));
    ok = false;
  }
  if (ok && cluster->nodes > 1 && cluster->interNode.bandwidth > cluster->intraNode.bandwidth)
    diags.warning(cluster->interNode.locOf("bandwidth"),
                  "inter_node bandwidth is higher than intra_node bandwidth; are they swapped?");
  valid[block.getName().str() + "@cluster"] = ok;
  clusters[block.getName()] = cluster.get();
  spec.clusters.push_back(std::move(cluster));
}

void Sema::buildStrategy(const Block &block, const BlockDesc &desc) {
  BlockChecker c = check(block, desc);
  auto s = std::make_unique<StrategySpec>();
  c.locate(*s);
  s->name = block.getName().str();
  s->ep = c.getInt("ep", 1);
  s->dp = c.getInt("dp", 1);
  s->tp = c.getInt("tp", 1);
  s->etpKey = c.getInt("etp", 0);
  s->pp = c.getInt("pp", 1);
  if (const Block *sub = c.subBlock("search")) {
    BlockChecker sc = check(*sub, *findNestedBlock(desc, "search"));
    SearchSpace space;
    sc.locate(space);
    auto list = [&](llvm::StringRef key, std::vector<int64_t> &out) {
      if (std::optional<Value> v = sc.get(key))
        for (const Value &e : v->list)
          out.push_back(e.i);
      // A degree the strategy sets is fixed; listing it too would be ambiguous.
      if (sc.has(key) && c.has(key)) {
        diags.error(sc.locOf(key), "'" + key.str() + "' is both set by strategy " + quoted(s->name) +
                                       " and searched; set it or list its candidates, not both");
        diags.note(c.locOf(key), key.str() + " set here");
      }
    };
    list("ep", space.ep);
    list("dp", space.dp);
    list("tp", space.tp);
    list("etp", space.etp);
    list("pp", space.pp);
    list("redundant_experts", space.redundantExperts);
    list("micro_batch", space.microBatch);
    list("nodes", space.nodes);
    if (std::optional<Value> v = sc.get("placement"))
      for (const Value &e : v->list)
        if (std::optional<PlacementPolicy> p = parseEnum<PlacementPolicy>(e.s))
          space.placement.push_back(*p);
    if (std::optional<Value> v = sc.get("overlap"))
      for (const Value &e : v->list)
        if (std::optional<Overlap> o = parseEnum<Overlap>(e.s))
          space.overlap.push_back(*o);
    if (sc.has("placement") && c.has("placement")) {
      diags.error(sc.locOf("placement"), "'placement' is both set by strategy " + quoted(s->name) +
                                             " and searched; set it or list its candidates, not both");
      diags.note(c.locOf("placement"), "placement set here");
    }
    if (sc.valid("engine"))
      space.engine = sc.getEnum("engine", Engine::Megatron);
    sc.evaluateAll();
    s->search = std::move(space);
  }
  s->placement = c.getEnum("placement", PlacementPolicy::Contiguous);
  s->redundantExperts = c.getInt("redundant_experts", 0);
  s->expertLoad = c.getString("expert_load");
  s->expertRoutes = c.getString("expert_routes");
  s->placementFile = c.getString("placement_file");
  s->placementObjective = c.getEnum("placement_objective", PlacementObjective::Time);
  if (c.valid("dispatch_precision"))
    s->dispatchPrecision = c.getEnum("dispatch_precision", Precision::BF16);
  if (c.valid("combine_precision"))
    s->combinePrecision = c.getEnum("combine_precision", Precision::BF16);
  if (c.valid("dispatch_mode"))
    s->dispatchMode = c.getEnum("dispatch_mode", DispatchMode::Normal);
  if (c.valid("expert_imbalance"))
    s->expertImbalance = c.getReal("expert_imbalance", 0);
  // A 4-bit dispatch (DeepEP's fused NVFP4 quantization) is checked against the model and the GPU at the deploy
  // (checkDeployParts); combine returns the experts' outputs to be summed, never in 4 bits.
  if (s->combinePrecision && isFourBit(*s->combinePrecision)) {
    diags.error(c.locOf("combine_precision"),
                "'combine_precision = " + spell(*s->combinePrecision).str() +
                    "': combine returns the experts' outputs to be summed, in bf16, fp16, fp8 or fp32");
    s->combinePrecision.reset(); // keep the plan's sizes meaningful after the error
  }
  c.evaluateAll();
  bool ok = c.isOk();
  if (std::optional<Value> order = c.get("order")) {
    if (!parseOrder(order->s, s->order)) {
      diags.error(c.locOf("order"), "order " + quoted(order->s) +
                                        " is not a permutation of tp, ep, dp and pp separated by '-', "
                                        "fastest-varying first, such as \"tp-ep-dp-pp\"");
      ok = false;
    }
  }
  for (const RequireStmt *req : c.getRequires()) {
    s->requires_.push_back({req->getCondition().getSourceText().str(), req->getLoc(),
                            unsigned(spec.requireConditions.size())});
    spec.requireConditions.push_back(&req->getCondition());
  }

  auto needsFile = [&](PlacementPolicy policy, llvm::StringRef key, const std::string &value) {
    if (ok && s->placement == policy && value.empty()) {
      diags.error(c.locOf("placement"),
                  "placement = " + spell(policy).str() + " needs " + quoted(key) +
                      (policy == PlacementPolicy::Balanced
                           ? "; without measured loads, placement = topology_aware places by the topology alone"
                           : std::string()));
      ok = false;
    }
  };
  needsFile(PlacementPolicy::Explicit, "placement_file", s->placementFile);
  needsFile(PlacementPolicy::Balanced, "expert_load", s->expertLoad);
  if (ok && s->placement != PlacementPolicy::Balanced)
    for (llvm::StringRef key : {"expert_load", "expert_routes", "placement_objective"})
      if (c.has(key))
        diags.warning(c.locOf(key), quoted(key) + " is only read by placement = balanced");
  if (ok && !s->placementFile.empty() && s->placement != PlacementPolicy::Explicit)
    diags.warning(c.locOf("placement_file"), "placement_file is only read by placement = explicit");
  valid[block.getName().str() + "@strategy"] = ok;
  strategies[block.getName()] = s.get();
  spec.strategies.push_back(std::move(s));
}

void Sema::buildWorkload(const Block &block, const BlockDesc &desc) {
  BlockChecker c = check(block, desc);
  auto w = std::make_unique<WorkloadSpec>();
  c.locate(*w);
  w->name = block.getName().str();
  w->phase = c.getEnum("phase", Phase::Prefill);
  w->microBatch = c.getInt("micro_batch", 1);
  w->seq = c.getInt("seq", 0);
  w->context = c.getInt("context", 0);
  w->mfu = c.getOptionalReal("mfu");
  w->bandwidthEfficiency = c.getOptionalReal("bandwidth_efficiency");
  w->overlap = c.getEnum("overlap", Overlap::None);
  w->overlapEfficiency = c.getReal("overlap_efficiency", 1);
  w->attentionKernel = c.getEnum("attention_kernel", AttentionKernel::Fused);
  w->pipelineMicroBatches = c.getInt("pipeline_micro_batches", 0);
  w->objective = c.getEnum("objective", Objective::ThroughputPerGpu);
  w->sloTtft = c.getOptionalReal("slo_ttft");
  w->sloTpot = c.getOptionalReal("slo_tpot");
  w->keepKv = c.getEnum("keep_kv", Switch::On) == Switch::On;
  c.evaluateAll();
  bool ok = c.isOk();
  if (c.has("phase") && c.get("phase")) {
    if (w->phase == Phase::Prefill) {
      if (!c.has("seq")) {
        diags.error(block.getNameLoc(), "a prefill workload needs 'seq', the tokens per sequence");
        ok = false;
      }
      if (c.has("context"))
        diags.warning(c.locOf("context"), "'context' is the KV length of a decode workload; prefill ignores it");
    } else {
      if (!c.has("context")) {
        diags.error(block.getNameLoc(), "a decode workload needs 'context', the KV-cache length per sequence");
        ok = false;
      }
      if (c.has("seq"))
        diags.warning(c.locOf("seq"), "'seq' is the prompt length of a prefill workload; decode ignores it");
    }
  }
  if (ok && w->phase == Phase::Prefill && w->microBatch * w->seq > (int64_t(1) << 32)) {
    diags.error(c.locOf("micro_batch"), "micro_batch * seq = " + std::to_string(w->microBatch * w->seq) +
                                            " tokens per group is more than the limit of 2^32");
    ok = false;
  }
  valid[block.getName().str() + "@workload"] = ok;
  workloads[block.getName()] = w.get();
  spec.workloads.push_back(std::move(w));
}
