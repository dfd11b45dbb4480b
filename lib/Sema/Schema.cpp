//===- Schema.cpp - Which keys each block takes ---------------------------===//
//
// Ranges are chosen so that every derived product (world sizes, token counts, parameter counts) stays far from
// 64-bit overflow, while admitting any deployment that exists or is planned: up to a million GPUs, 65,536
// experts, 10,000 layers.
//
//===----------------------------------------------------------------------===//
#include "moec/Sema/Schema.h"
#include "moec/Deploy/Enums.h"

using namespace moec;

namespace {
constexpr int64_t kMaxDim = int64_t(1) << 22;  // 4M: hidden sizes, vocabularies, heads products
constexpr int64_t kMaxCount = int64_t(1) << 20; // 1M: parallel degrees, nodes, batch

KeyDesc intKey(llvm::StringRef name, bool required, int64_t min, int64_t max) {
  return {name, KeyType::Int, required, Dim::None, min, max};
}
KeyDesc quantityKey(llvm::StringRef name, bool required, Dim dim) {
  return {name, KeyType::Quantity, required, dim};
}
KeyDesc fractionKey(llvm::StringRef name, bool required, double min, double max) {
  return {name, KeyType::Fraction, required, Dim::Ratio, 0, 0, min, max};
}
KeyDesc realKey(llvm::StringRef name, bool required, double min, double max) {
  return {name, KeyType::Real, required, Dim::None, 0, 0, min, max};
}
KeyDesc enumKey(llvm::StringRef name, bool required, llvm::ArrayRef<llvm::StringRef> values) {
  KeyDesc k{name, KeyType::Enum, required};
  k.enumerators = values;
  return k;
}
KeyDesc enumListKey(llvm::StringRef name, llvm::ArrayRef<llvm::StringRef> values) {
  KeyDesc k{name, KeyType::EnumList, false};
  k.enumerators = values;
  return k;
}
KeyDesc refKey(llvm::StringRef name, llvm::StringRef kind) {
  KeyDesc k{name, KeyType::Ref, true};
  k.refKind = kind;
  return k;
}
KeyDesc stringKey(llvm::StringRef name) { return {name, KeyType::String, false}; }

const KeyDesc gpuKeys[] = {
    quantityKey("memory", true, Dim::Bytes),
    quantityKey("compute", true, Dim::FlopRate),
    quantityKey("mem_bandwidth", true, Dim::ByteRate),
    {"launch_overhead", KeyType::Quantity, false, Dim::Time},
    quantityKey("reserved_memory", false, Dim::Bytes),
    enumKey("vendor", false, enumNames<GpuVendor>()),
    quantityKey("fp8_compute", false, Dim::FlopRate),
    quantityKey("fp4_compute", false, Dim::FlopRate),
    quantityKey("nvlink_bandwidth", false, Dim::ByteRate),
    quantityKey("nic_bandwidth", false, Dim::ByteRate),
    intKey("nvlink_domain", false, 1, 1024),
    enumKey("arch", false, enumNames<GpuArch>()),
};

const KeyDesc modelKeys[] = {
    intKey("layers", true, 1, 10000),
    intKey("dense_layers", false, 0, 10000),
    intKey("moe_every", false, 1, 10000),
    {"moe_layer_list", KeyType::IntList, false, Dim::None, 0, 9999},
    intKey("hidden", true, 1, kMaxDim),
    intKey("vocab", false, 1, kMaxDim),
    enumKey("precision", true, enumNames<Precision>()),
    enumKey("attention_precision", false, enumNames<Precision>()),
    enumKey("dense_precision", false, enumNames<Precision>()),
    enumKey("expert_precision", false, enumNames<Precision>()),
    enumKey("embedding_precision", false, enumNames<Precision>()),
    enumKey("kv_precision", false, enumNames<Precision>()),
    fractionKey("dropout", false, 0, 0.999),
    enumKey("tie_embeddings", false, enumNames<Switch>()),
};
const KeyDesc attentionKeys[] = {
    enumKey("kind", true, enumNames<AttentionKind>()),
    intKey("heads", true, 1, 4096),
    intKey("kv_heads", false, 1, 4096),
    intKey("head_dim", true, 1, 4096),
    intKey("q_lora_rank", false, 1, kMaxDim),
    intKey("kv_lora_rank", false, 1, kMaxDim),
    intKey("rope_head_dim", false, 1, 4096),
    intKey("sliding_window", false, 1, kMaxDim),
    intKey("chunk_size", false, 1, kMaxDim),
    intKey("full_every", false, 1, 10000),
    enumKey("qk_norm", false, enumNames<Switch>()),
    enumKey("sinks", false, enumNames<Switch>()),
    enumKey("bias", false, enumNames<AttentionBias>()),
};
const KeyDesc mlpKeys[] = {
    intKey("hidden", true, 1, kMaxDim),
    enumKey("activation", true, enumNames<Activation>()),
};
const KeyDesc moeKeys[] = {
    intKey("experts", true, 1, 65536),
    intKey("top_k", true, 1, 65536),
    intKey("expert_hidden", true, 1, kMaxDim),
    enumKey("activation", true, enumNames<Activation>()),
    intKey("shared_experts", false, 0, 64),
    intKey("route_groups", false, 1, 65536),
    intKey("route_nodes", false, 1, kMaxCount),
    realKey("capacity_factor", false, 0.01, 1000),
    enumKey("bias", false, enumNames<Switch>()),
};

const KeyDesc clusterKeys[] = {
    intKey("nodes", true, 1, kMaxCount),
    intKey("gpus_per_node", true, 1, 1024),
    refKey("gpu", "gpu"),
    {"hosts", KeyType::StringList, false},
    stringKey("network_interface"),
    intKey("rendezvous_port", false, 1, 65535),
};
const KeyDesc linkKeys[] = {
    quantityKey("bandwidth", true, Dim::ByteRate),
    {"latency", KeyType::Quantity, false, Dim::Time},
};

KeyDesc searchableKey(KeyDesc k) {
  k.searchable = true;
  return k;
}
KeyDesc searchableKey(llvm::StringRef name) { return searchableKey(intKey(name, true, 1, kMaxCount)); }

const KeyDesc strategyKeys[] = {
    searchableKey("ep"),
    searchableKey("dp"),
    searchableKey("tp"),
    intKey("etp", false, 1, kMaxCount),
    searchableKey("pp"),
    stringKey("order"),
    searchableKey(enumKey("placement", true, enumNames<PlacementPolicy>())),
    intKey("redundant_experts", false, 0, 65536),
    enumKey("dispatch_mode", false, enumNames<DispatchMode>()),
    realKey("expert_imbalance", false, 0, 1000),
    stringKey("expert_load"),
    stringKey("expert_routes"),
    stringKey("placement_file"),
    enumKey("placement_objective", false, enumNames<PlacementObjective>()),
    enumKey("dispatch_precision", false, enumNames<Precision>()),
    enumKey("combine_precision", false, enumNames<Precision>()),
};

// The candidate values of a strategy's `search` block (docs/language.md).
const KeyDesc searchKeys[] = {
    {"ep", KeyType::IntList, false, Dim::None, 1, kMaxCount},
    {"dp", KeyType::IntList, false, Dim::None, 1, kMaxCount},
    {"tp", KeyType::IntList, false, Dim::None, 1, kMaxCount},
    {"etp", KeyType::IntList, false, Dim::None, 1, kMaxCount},
    {"pp", KeyType::IntList, false, Dim::None, 1, kMaxCount},
    {"redundant_experts", KeyType::IntList, false, Dim::None, 0, 65536},
    enumListKey("placement", enumNames<PlacementPolicy>()),
    {"micro_batch", KeyType::IntList, false, Dim::None, 1, kMaxCount},
    enumListKey("overlap", enumNames<Overlap>()),
    {"nodes", KeyType::IntList, false, Dim::None, 1, kMaxCount},
    enumKey("engine", false, enumNames<Engine>()),
};

const KeyDesc workloadKeys[] = {
    enumKey("phase", true, enumNames<Phase>()),
    intKey("micro_batch", true, 1, kMaxCount),
    intKey("pipeline_micro_batches", false, 1, kMaxCount),
    enumKey("keep_kv", false, enumNames<Switch>()),
    intKey("seq", false, 1, kMaxDim),
    intKey("context", false, 1, kMaxDim),
    fractionKey("mfu", false, 0.0001, 1),
    fractionKey("bandwidth_efficiency", false, 0.0001, 1),
    enumKey("overlap", false, enumNames<Overlap>()),
    fractionKey("overlap_efficiency", false, 0, 1),
    enumKey("attention_kernel", false, enumNames<AttentionKernel>()),
    enumKey("objective", false, enumNames<Objective>()),
    {"slo_ttft", KeyType::Quantity, false, Dim::Time},
    {"slo_tpot", KeyType::Quantity, false, Dim::Time},
};

const KeyDesc deployKeys[] = {
    refKey("model", "model"),
    refKey("cluster", "cluster"),
    refKey("strategy", "strategy"),
    refKey("workload", "workload"),
};

// A serving system of deploys in roles (docs/serving.md).
KeyDesc optionalRef(llvm::StringRef name, llvm::StringRef kind) {
  KeyDesc k = refKey(name, kind);
  k.required = false;
  return k;
}
const KeyDesc serviceKeys[] = {
    optionalRef("prefill", "deploy"),
    optionalRef("decode", "deploy"),
    optionalRef("aggregated", "deploy"),
    intKey("input_length", true, 1, kMaxDim),
    intKey("output_length", true, 1, kMaxDim),
    fractionKey("prefix_cache_hit", false, 0, 0.99),
    realKey("requests_per_second", false, 1e-9, 1e12),
    realKey("tokens_per_day", false, 1, 1e18),
    {"slo_ttft", KeyType::Quantity, false, Dim::Time},
    {"slo_tpot", KeyType::Quantity, false, Dim::Time},
    fractionKey("max_utilization", false, 0.01, 0.99),
    realKey("gpu_hour_price", false, 0, 1e9),
};

const llvm::StringRef modelSubBlocks[] = {"attention", "mlp", "moe"};
const llvm::StringRef clusterSubBlocks[] = {"intra_node", "inter_node"};
const llvm::StringRef strategySubBlocks[] = {"search"};

const BlockDesc gpuBlock{"gpu", true, gpuKeys, {}, false};
const BlockDesc modelBlock{"model", true, modelKeys, modelSubBlocks, false};
const BlockDesc attentionBlock{"attention", false, attentionKeys, {}, false};
const BlockDesc mlpBlock{"mlp", false, mlpKeys, {}, false};
const BlockDesc moeBlock{"moe", false, moeKeys, {}, false};
const BlockDesc clusterBlock{"cluster", true, clusterKeys, clusterSubBlocks, false};
const BlockDesc intraBlock{"intra_node", false, linkKeys, {}, false};
const BlockDesc interBlock{"inter_node", false, linkKeys, {}, false};
const BlockDesc strategyBlock{"strategy", true, strategyKeys, strategySubBlocks, true};
const BlockDesc searchBlock{"search", false, searchKeys, {}, false};
const BlockDesc workloadBlock{"workload", true, workloadKeys, {}, false};
const BlockDesc deployBlock{"deploy", true, deployKeys, {}, false};
const llvm::StringRef serviceSubBlocks[] = {"kv_link"};
const BlockDesc serviceBlock{"service", true, serviceKeys, serviceSubBlocks, false};
const BlockDesc kvLinkBlock{"kv_link", false, linkKeys, {}, false};

const BlockDesc *const topLevel[] = {&gpuBlock,      &modelBlock,    &clusterBlock,
                                     &strategyBlock, &workloadBlock, &deployBlock, &serviceBlock};
const BlockDesc *const nested[] = {&attentionBlock, &mlpBlock, &moeBlock,   &intraBlock,
                                   &interBlock,     &searchBlock, &kvLinkBlock};
} // namespace

const KeyDesc *BlockDesc::findKey(llvm::StringRef name) const {
  for (const KeyDesc &k : keys)
    if (k.name == name)
      return &k;
  return nullptr;
}

llvm::ArrayRef<const BlockDesc *> moec::topLevelBlocks() { return topLevel; }

const BlockDesc *moec::findTopLevelBlock(llvm::StringRef kind) {
  for (const BlockDesc *b : topLevel)
    if (b->kind == kind)
      return b;
  return nullptr;
}

const BlockDesc *moec::findNestedBlock(const BlockDesc &parent, llvm::StringRef kind) {
  if (!llvm::is_contained(parent.subBlocks, kind))
    return nullptr;
  for (const BlockDesc *b : nested)
    if (b->kind == kind)
      return b;
  return nullptr;
}
