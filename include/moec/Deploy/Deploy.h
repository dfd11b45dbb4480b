//===- Deploy.h - The checked, typed deployment -----------------*- C++ -*-===//
//
// What Sema produces from the AST and everything after it reads: every definition with its keys evaluated,
// normalised to base units and type-checked, and every deploy with its references resolved and its derived values
// computed once. The Plan IR, its passes and the backends read only these structures, never the AST: this library
// depends on Support alone (docs/architecture.md). Each definition keeps the location of each key, so that a late
// pass can still point at the line that caused a problem.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_DEPLOY_DEPLOY_H
#define MOEC_DEPLOY_DEPLOY_H

#include "moec/Deploy/Enums.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/SMLoc.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moec {

/// Source locations of a definition and of each of its keys.
struct Located {
  llvm::SMLoc loc;                  ///< The block's kind keyword.
  llvm::StringMap<llvm::SMLoc> keys; ///< key -> the key's location in the assignment.

  /// The location of \p key, or of the block when the key was not written (a default).
  llvm::SMLoc locOf(llvm::StringRef key) const {
    auto it = keys.find(key);
    return it == keys.end() ? loc : it->second;
  }
};

struct GpuSpec : Located {
  std::string name;
  double memory = 0;       ///< bytes
  double compute = 0;      ///< dense FLOP/s at BF16
  double fp8Compute = 0;   ///< dense FLOP/s of FP8 GEMMs; 0: the part has none (FP8 weights run at `compute`)
  double fp4Compute = 0;   ///< dense FLOP/s of FP4 GEMMs; 0: none (4-bit weights run at the FP8 or BF16 peak)
  double nvlinkBandwidth = 0; ///< bytes/s per GPU and direction inside its NVLink domain; 0: not declared
  double nicBandwidth = 0;    ///< bytes/s of the GPU's network interface; 0: not declared
  int64_t nvlinkDomain = 0;   ///< GPUs one NVLink domain joins (8 in an HGX node, 72 in a GB200 NVL72); 0: a node
  GpuArch arch = GpuArch::Generic; ///< whose kernel calibration the forecast uses (docs/cost-model.md)

  /// The dense peak of a GEMM whose weights are in \p weights: FP8 weights with FP8 activations (DeepGEMM), 4-bit
  /// ones with 4-bit activations where the part has FP4 tensor cores (SGLang's NVFP4 path on Blackwell); without
  /// them 4-bit weights are dequantized to BF16 inside the kernel (vLLM's Marlin, Triton and FlashInfer SM90 MXFP4
  /// backends are all W4A16), so they run at the BF16 peak.
  double peakFor(Precision weights) const {
    if (isFourBit(weights))
      return fp4Compute > 0 ? fp4Compute : compute;
    if (weights == Precision::FP8 && fp8Compute > 0)
      return fp8Compute;
    return weights == Precision::FP32 ? compute / 2 : compute;
  }
  double memBandwidth = 0; ///< bytes/s
  double launchOverhead = 2e-6;  ///< s per kernel
  double reservedMemory = 512.0 * 1024 * 1024; ///< bytes the runtime keeps (CUDA context, workspaces)
  GpuVendor vendor = GpuVendor::Nvidia; ///< whose device plugin schedules it (Kubernetes resource names)
};

struct AttentionSpec : Located {
  AttentionKind kind = AttentionKind::MHA;
  int64_t heads = 0;
  int64_t kvHeads = 0; ///< Equals heads for MHA.
  int64_t headDim = 0;
  int64_t qLoraRank = 0;   ///< MLA only; 0 = no query compression.
  int64_t kvLoraRank = 0;  ///< MLA only.
  int64_t ropeHeadDim = 0; ///< MLA only.
  int64_t slidingWindow = 0; ///< Tokens a windowed layer attends to (and keeps in its KV cache); 0 = none.
  int64_t chunkSize = 0;     ///< Chunked local attention (Llama 4): a local layer attends within its chunk; 0 = none.
  int64_t fullEvery = 0;     ///< With a window or chunks: every fullEvery-th layer (the last of each run) attends
                             ///< fully; 0 = none.
  bool qkNorm = false;       ///< A per-head RMSNorm of queries and keys (Qwen3, Llama 4).
  bool sinks = false;        ///< A learned sink logit per head in the softmax (gpt-oss).
  AttentionBias bias = AttentionBias::None;

  /// Tokens a local (windowed or chunked) layer attends to at most; 0 when every layer attends fully.
  int64_t localSpan() const { return slidingWindow > 0 ? slidingWindow : chunkSize; }
  /// Whether decoder layer \p layer attends locally (within the sliding window or its chunk).
  bool isWindowed(int64_t layer) const {
    return localSpan() > 0 && (fullEvery == 0 || (layer + 1) % fullEvery != 0);
  }
  /// The tokens of context layer \p layer keeps in its KV cache and reads (a chunk holds at most chunkSize).
  int64_t kvTokens(int64_t layer, int64_t context) const {
    return isWindowed(layer) ? std::min(context, localSpan()) : context;
  }
};

struct MlpSpec : Located {
  int64_t hidden = 0;
  Activation activation = Activation::Gelu;
};

struct MoeSpec : Located {
  int64_t experts = 0;
  int64_t topK = 0;
  int64_t expertHidden = 0;
  Activation activation = Activation::Gelu;
  int64_t sharedExperts = 0;
  int64_t routeGroups = 0; ///< 0 = no group-limited routing.
  int64_t routeNodes = 0;  ///< 0 = no node-limited routing.
  std::optional<double> capacityFactor;
  bool bias = false; ///< The router and the experts' projections add biases (gpt-oss).
};

struct ModelSpec : Located {
  std::string name;
  int64_t layers = 0;
  int64_t denseLayers = 0;
  int64_t hidden = 0;
  int64_t vocab = 0; ///< 0 = no embedding or LM head modelled.
  Precision precision = Precision::BF16; ///< activations, and every part's weights unless given below
  /// Weights of each part, and the KV cache: `precision` unless the model block says otherwise.
  struct PartPrecisions {
    Precision attention = Precision::BF16;
    Precision denseFfn = Precision::BF16;
    Precision experts = Precision::BF16; ///< routed and shared experts
    Precision embedding = Precision::BF16; ///< the embedding and the LM head
    Precision kvCache = Precision::BF16;
  } parts;
  double dropout = 0;
  bool tieEmbeddings = false; ///< The LM head reuses the embedding's weights.
  std::string fromFile;       ///< `model NAME from "file"`: the file read; empty for a model block
  AttentionSpec attention;
  std::optional<MlpSpec> mlp; ///< Present when the model has dense layers (or declares it anyway).
  MoeSpec moe;

  /// Which layers are MoE, by decoder-layer index (filled by Sema from `dense_layers`, `moe_every` and
  /// `moe_layer_list`); the others are dense.
  std::vector<bool> moeMask;
  int64_t moeCount = 0;

  int64_t moeLayers() const { return moeCount; }
  int64_t denseLayerCount() const { return layers - moeCount; }
  bool isMoeLayer(int64_t layer) const { return layer >= 0 && layer < int64_t(moeMask.size()) && moeMask[layer]; }
  /// The first MoE layer, or 0 when there is none.
  int64_t firstMoeLayer() const {
    for (int64_t l = 0; l < int64_t(moeMask.size()); ++l)
      if (moeMask[l])
        return l;
    return 0;
  }
  /// Parameter counts, the way model cards count them (docs/cost-model.md, *Model accounting*).
  struct Parameters {
    double total = 0;     ///< every weight: embedding, LM head (once when tied), layers, all experts
    double active = 0;    ///< what one token's forward pass uses: all but the routed experts it does not pick
    double embedding = 0; ///< the embedding table (and the LM head's, when untied)
  };
  Parameters parameters() const;
  /// Forward FLOPs per token: 2 x the active weights used in matrix products (not the embedding lookup), plus
  /// attention's score and context products over \p keys keys per query (MLA absorbed in decode).
  double flopsPerToken(double keys, bool decode) const;
  /// Bytes of the KV cache one sequence of \p tokens tokens holds over every layer, in the KV cache's precision
  /// (MLA: the latent and the rotary key; GQA: keys and values of every KV head; a window caps its layers).
  double kvBytes(int64_t tokens) const;

  /// "bf16", or "bf16 (experts mxfp4, KV cache fp8)" when parts differ from `precision`.
  std::string describePrecision() const;
  /// "3..60", or "1, 3, 5, ..., 47" when they are not consecutive, for diagnostics.
  std::string describeMoeLayers() const;
};

struct LinkSpec : Located {
  double bandwidth = 0; ///< bytes/s, per GPU
  double latency = 0;   ///< s
};

struct ClusterSpec : Located {
  std::string name;
  int64_t nodes = 0;
  int64_t gpusPerNode = 0;
  const GpuSpec *gpu = nullptr;
  LinkSpec intraNode;
  LinkSpec interNode;
  std::vector<std::string> hosts; ///< Empty, or one per node.
  std::string networkInterface;   ///< For NCCL_SOCKET_IFNAME and GLOO_SOCKET_IFNAME; empty when not declared.
  int64_t rendezvousPort = 29500;

  /// The host name of node \p i: from `hosts`, or `node-<i>`.
  std::string host(int64_t i) const { return hosts.empty() ? "node-" + std::to_string(i) : hosts[i]; }

  int64_t world() const { return nodes * gpusPerNode; }
};

/// A `require` statement of a strategy; evaluated per deploy, where the derived values are known. Its
/// expression stays with the front end (see RequirementChecker); what later stages need is its text.
struct RequireSpec {
  std::string text; ///< The condition as written, e.g. "experts_per_gpu <= 9".
  llvm::SMLoc loc;  ///< The `require` keyword.
  unsigned id = 0;  ///< Which of its checker's expressions this is.
};

/// The candidate values of a strategy's `search` block; an empty list: every legal value (docs/language.md).
struct SearchSpace : Located {
  std::vector<int64_t> ep, dp, tp, etp, pp, redundantExperts;
  std::vector<PlacementPolicy> placement;
  std::vector<int64_t> microBatch; ///< the workload's micro_batch per candidate
  std::vector<Overlap> overlap;    ///< the workload's overlap per candidate
  std::vector<int64_t> nodes;      ///< nodes used of the cluster (its first ones)
  std::optional<Engine> engine; ///< only candidates this engine can express (docs/language.md)
};

struct StrategySpec : Located {
  std::string name;
  std::optional<SearchSpace> search; ///< Present when the strategy searches; then the degrees may be absent.
  int64_t ep = 1, dp = 1, tp = 1, pp = 1;
  /// The `etp` key, 0 when not written (experts are then split tp ways).
  int64_t etpKey = 0;
  /// Expert tensor parallelism: how many ways each routed expert is split. Equals tp unless the strategy sets
  /// `etp` (parallel folding: attention TP x attention DP and experts ETP x EP x DP over the same ranks).
  int64_t etp() const { return etpKey ? etpKey : tp; }
  std::array<Axis, 4> order = {Axis::TP, Axis::EP, Axis::DP, Axis::PP}; ///< Fastest-varying first.
  PlacementPolicy placement = PlacementPolicy::Contiguous;
  int64_t redundantExperts = 0;
  std::string expertLoad;   ///< Path as written, empty when absent.
  std::string expertRoutes; ///< Path as written, empty when absent.
  std::string placementFile;
  PlacementObjective placementObjective = PlacementObjective::Time;
  std::optional<Precision> dispatchPrecision; ///< Of the tokens dispatch sends; the model's when absent.
  std::optional<Precision> combinePrecision;  ///< Of the expert outputs combine returns; the activations' when absent.
  std::optional<DispatchMode> dispatchMode;   ///< normal in prefill and low_latency in decode when absent
  std::optional<double> expertImbalance;      ///< (max - mean) / mean tokens per GPU when no loads are measured
  std::vector<RequireSpec> requires_;

  /// Whether attention and the experts use different grids (etp differs from tp).
  bool folded() const { return etp() != tp; }
  /// GPUs of one pipeline stage: dp * ep * etp.
  int64_t stageSize() const { return dp * ep * etp(); }

  /// The degree of \p a in the rank layout: the layout's tensor axis is the experts' (etp), which is tp unless
  /// folded.
  int64_t degree(Axis a) const {
    switch (a) {
    case Axis::TP:
      return etp();
    case Axis::EP:
      return ep;
    case Axis::DP:
      return dp;
    case Axis::PP:
      return pp;
    }
    return 1;
  }
  /// "tp-ep-dp-pp".
  std::string orderString() const;
  /// "pp 1 x dp 2 x ep 8 x tp 2", or folded "pp 1 x dp 1 x ep 8 x etp 1 (attention tp 8 x dp 1)".
  std::string describeGrid() const;
};

struct WorkloadSpec : Located {
  std::string name;
  Phase phase = Phase::Prefill;
  int64_t microBatch = 0;
  int64_t seq = 0;     ///< Prefill: tokens per sequence.
  int64_t context = 0; ///< Decode: KV length.
  std::optional<double> mfu;                 ///< Fraction of peak; the cost model uses 1 when absent.
  std::optional<double> bandwidthEfficiency; ///< Fraction of peak; 1 when absent.
  Overlap overlap = Overlap::None;
  double overlapEfficiency = 1; ///< Fraction of the shorter of compute and communication hidden by overlap.
  AttentionKernel attentionKernel = AttentionKernel::Fused;
  /// Prefill: whether the KV of every layer stays on the GPU (serving, and a disaggregated prefill until it is
  /// sent); false: each layer's KV leaves as it is written, so one layer's is held.
  bool keepKv = true;
  Objective objective = Objective::ThroughputPerGpu; ///< what a strategy search ranks by
  std::optional<double> sloTtft, sloTpot;             ///< seconds; a search keeps only candidates that meet them
  /// Micro-batches in flight through the pipeline (pp > 1); 0: as many as stages (pp), the steady state.
  int64_t pipelineMicroBatches = 0;
};

/// Values derived from a deploy's parts, computed once by Sema.
struct DerivedValues {
  int64_t world = 0;
  int64_t expertSlots = 0;   ///< experts + redundant experts, per MoE layer and EP group
  int64_t expertsPerGpu = 0; ///< ceil(expertSlots / ep)
  int64_t attentionDp = 0;   ///< dp * ep * etp / tp: the attention groups of a stage
  int64_t epGroupNodes = 0;  ///< distinct nodes one EP group spans
  int64_t layersPerStage = 0; ///< ceil(layers / pp)
  int64_t moeLayers = 0;
};

class DiagEngine;
struct DeploySpec;

/// Evaluates a deploy's `require` constraints. The front end implements it (it owns the expressions); the plan's
/// check-requirements pass calls it again on the final plan with what the plan measured.
class RequirementChecker {
public:
  virtual ~RequirementChecker();
  /// Check every requirement of \p deploy's strategy, with \p measured overriding the named values it would
  /// otherwise derive; report each one that does not hold. Returns false when one failed.
  virtual bool check(const DeploySpec &deploy, const llvm::StringMap<int64_t> &measured,
                     DiagEngine &diags) const = 0;
};

struct DeploySpec : Located {
  std::string name;
  const ModelSpec *model = nullptr;
  const ClusterSpec *cluster = nullptr;
  const StrategySpec *strategy = nullptr;
  const WorkloadSpec *workload = nullptr;
  DerivedValues derived;
  std::string sourcePath; ///< The file that defines the deploy.
  const RequirementChecker *requirements = nullptr; ///< Null when nothing can check them (no `require` lines).
  bool checked = true; ///< False for a deploy Sema only listed (not the one -deploy compiles): not to be lowered.
};

/// A serving system (docs/serving.md): pools of deploys in roles, the requests they serve and the targets they
/// must meet. Each role's deploy is one instance; the service sizes how many instances of each it needs.
struct ServiceSpec : Located {
  std::string name;
  const DeploySpec *prefill = nullptr;    ///< disaggregated: the prefill pool's instance
  const DeploySpec *decode = nullptr;     ///< ... and the decode pool's
  const DeploySpec *aggregated = nullptr; ///< or one pool doing both (a decode deploy)
  int64_t inputLength = 0, outputLength = 0; ///< mean tokens per request
  double prefixCacheHit = 0;                 ///< fraction of input tokens served from the prefix cache
  double requestsPerSecond = 0;              ///< the load: given, or from tokens_per_day
  std::optional<double> tokensPerDay;        ///< input plus output tokens a day, when the load is given so
  std::optional<double> sloTtft, sloTpot;    ///< seconds
  double maxUtilization = 0.8;               ///< the busiest a pool is planned to be
  LinkSpec kvLink;                           ///< carries KV from prefill to decode
  bool kvLinkDeclared = false;               ///< false: the prefill cluster's inter_node link
  std::optional<double> gpuHourPrice;        ///< per GPU-hour, in the user's currency
};

} // namespace moec

#endif // MOEC_DEPLOY_DEPLOY_H
