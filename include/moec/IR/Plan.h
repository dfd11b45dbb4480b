//===- Plan.h - The moec Plan IR --------------------------------*- C++ -*-===//
//
// The one data structure every pass and backend reads: devices, process groups, pipeline stages, the layer
// programs (operators with tensors, shapes, FLOPs and bytes), communication, and the expert placement table.
//
// The IR is in SPMD form: ranks that run the same program share it. There is one program per layer kind (dense,
// MoE), shared by every layer of that kind on every rank; the embedding and the LM head, when the model has a
// vocabulary, are programs of the first and last pipeline stage. What differs between MoE layers (which expert
// lives where, and so the traffic of dispatch and combine) is kept per layer beside the programs. The views
// unroll the part they show onto concrete GPUs themselves (lib/Target/Views.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_IR_PLAN_H
#define MOEC_IR_PLAN_H

#include "moec/Deploy/Parallel.h"
#include "moec/Deploy/Deploy.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace moec {
struct PlacementInputs;
}

namespace moec::ir {

struct Device {
  int64_t rank;
  int64_t node;
  int64_t localGpu;
  Coords coords;
};

enum class GroupKind {
  TP,          ///< (attention) tensor parallel: splits heads, the dense and shared FFNs, and, unfolded, experts
  ExpertTP,    ///< expert tensor parallel, with etp set (folded): splits each routed expert
  EP,          ///< expert parallel: the ranks that share one MoE layer's experts
  DP,          ///< expert data parallel: the replicas of one expert slot across EP groups
  PP,          ///< pipeline: the stages one micro-batch flows through
  AttentionDP, ///< attention data parallel: the stage's dp * ep * etp / tp groups of tp ranks, each running
               ///< attention on its own batch
};
llvm::StringRef spell(GroupKind kind);

struct ProcessGroup {
  GroupKind kind;
  int64_t index;
  std::vector<int64_t> ranks;
};

struct Stage {
  int64_t index;
  int64_t firstLayer;
  int64_t numLayers;
};

enum class LayerKind { Dense, MoE };

/// A dimension of a tensor shape, with its meaning: `batch`, `seq`, `hidden`, `heads`, ...
struct ShapeDim {
  llvm::StringRef name;
  int64_t size;
};

struct Tensor {
  unsigned id;
  std::string name;
  llvm::SmallVector<ShapeDim, 4> shape; ///< Empty until shape inference.
  Precision dtype = Precision::BF16;
  unsigned producer = ~0u; ///< Op id, or ~0u for the program's input.
  /// A partial sum of a row-parallel projection: each TP rank holds a part; an all-reduce makes it whole.
  bool partial = false;

  int64_t numElements() const;
  double bytes() const { return double(numElements()) * bytesPerElement(dtype); }
  bool hasShape() const { return !shape.empty(); }
};

enum class OpKind {
  Embedding,
  LayerNorm,
  Linear,  ///< a projection (GEMM with a weight matrix)
  Rope,
  Scale,
  Matmul,  ///< activation x activation (QK^T, attention x V)
  Softmax,
  Dropout,
  Activation,
  Add,     ///< the residual connection
  Gate,    ///< the router's scores
  TopK,
  WeightedSum,
  // Communication
  Dispatch,
  Combine,
  AllReduce,
  AllGather, ///< folded: reassembles the attention group's tokens from its ranks' MoE outputs
  Send,
  Recv,
};
llvm::StringRef spell(OpKind kind);

/// How an op is drawn and counted: compute (rectangles), communication (ellipses), routing and aggregation
/// (parallelograms).
enum class OpClass { Compute, Communication, Routing };
OpClass classify(OpKind kind);

/// What an op does in the model, whatever its name says: passes, the cost model and the views branch on the
/// role (and the part below); the name is a label for people. Lowering and comm-insertion set it.
enum class OpRole {
  Embedding,
  FinalNorm,
  LmHead,
  // Attention
  AttnNorm,
  QProj,      ///< query projection (no query compression)
  QDownProj,  ///< MLA: query compression
  QNorm,      ///< MLA: norm of the compressed query
  QUpProj,    ///< MLA: query decompression
  KProj,
  VProj,
  QHeadNorm,  ///< qk_norm: RMSNorm of each query head
  KHeadNorm,  ///< qk_norm: RMSNorm of each key head
  KvDownProj, ///< MLA: KV compression (with the rotary key)
  KvNorm,     ///< MLA: norm of the compressed KV
  KUpProj,    ///< MLA: key decompression
  VUpProj,    ///< MLA: value decompression
  QRope,
  KRope,
  ScaleQ,
  Scores,     ///< Q x K^T
  Softmax,
  AttnDropout,
  Context,    ///< probabilities x V
  OutProj,
  AttnResidual,
  // A feed-forward network: dense, routed expert or shared expert (the op's part says which)
  FfnNorm,
  FfnIn,      ///< fc1, or SwiGLU's gate_proj
  FfnUp,      ///< SwiGLU's up_proj
  FfnAct,
  FfnOut,     ///< fc2, or SwiGLU's down_proj
  FfnResidual,
  // The MoE block
  MoeNorm,
  Gate,
  TopK,
  WeightedSum,
  SharedAdd,
  MoeResidual,
  // Communication
  Dispatch,
  Combine,
  TpAllReduce,   ///< in the TP group, or for a folded plan's routed experts in the expert TP group
  TokenAllGather, ///< folded (tp > etp): the MoE output of each rank's token share, gathered over its TP group
  Send,
  Recv,
};

/// Which part of the model an op belongs to: the memory budget's weight categories and the views' groups.
enum class OpPart {
  Embedding,
  Attention,
  DenseFfn,
  MoeBlock,      ///< the MoE block's norm, weighted sum and residual
  Router,        ///< gate and top-k
  RoutedExperts, ///< the experts' FFN, and dispatch and combine around it
  SharedExperts,
  LmHead,
  Pipeline,      ///< send/recv between stages
};

/// The precision of the weights of \p part's projections: the model's part precisions; the router's gate and the
/// norms stay in the model's precision, as engines keep them.
Precision weightPrecision(const ModelSpec &model, OpPart part);
/// The type activations flow in between kernels: the model's precision, but at least 16 bits. FP8 and 4-bit are
/// weight (and KV-cache and wire) formats: engines quantize a GEMM's input on the fly and write its output in
/// BF16 (DeepGEMM, CUTLASS, SGLang's and vLLM's FP8 paths).
Precision activationPrecision(const ModelSpec &model);
/// What dispatch sends: the strategy's `dispatch_precision`, else the model's precision (an fp8 model dispatches
/// FP8 with its scales, as DeepEP's kernels can).
Precision dispatchPrecisionOf(const ModelSpec &model, const StrategySpec &strategy);
/// What combine returns: the strategy's `combine_precision`, else the activations' type (the experts' outputs;
/// DeepEP combines in BF16).
Precision combinePrecisionOf(const ModelSpec &model, const StrategySpec &strategy);

/// How a projection's weight is split over its TP group (Megatron-Core's column- and row-parallel linears).
enum class ParallelSplit { None, Replicated, Column, Row };
llvm::StringRef spell(ParallelSplit split);

/// Where an op runs inside its stage. `Rank` ops run on every rank of the stage on that rank's own micro-batch;
/// `Expert` ops run once for each expert slot a rank holds, on the tokens routed to it.
enum class OpSite { Rank, Expert };

enum class Collective { AllToAll, AllReduce, AllGather, SendRecv };
llvm::StringRef spell(Collective c);

/// The communication an op performs, filled in by comm-insertion.
struct CommInfo {
  Collective collective = Collective::AllToAll;
  GroupKind group = GroupKind::EP;
  double bytesPerRank = 0; ///< What one rank sends (all-to-all, send) or reduces (all-reduce), expected value.
};

struct Op {
  unsigned id;
  OpKind kind;
  OpRole role;
  OpPart part;
  std::string name; ///< `q_proj`, `expert_fc1`, ...: a label for people; nothing branches on it
  OpSite site = OpSite::Rank;
  llvm::SmallVector<unsigned, 3> inputs;
  llvm::SmallVector<unsigned, 1> outputs;
  double flops = 0;       ///< per instance
  double bytes = 0;       ///< bytes moved to and from memory per instance (weights and activations)
  double weightBytes = 0; ///< of which weights, per rank
  std::optional<CommInfo> comm;
  llvm::SMLoc loc; ///< The declaration this op comes from.
  ParallelSplit split = ParallelSplit::None; ///< For Linear: how its weight is split over the TP group.
  std::optional<Activation> activation;      ///< For Activation: the function.
  double seconds = 0; ///< Time on the busiest rank, from the cost model (all instances of an expert op).
};

/// What a program computes.
enum class ProgramKind { Dense, MoE, Embedding, LmHead, Boundary };

/// Who an op is: its kind, its role and the part of the model it belongs to.
struct OpTag {
  OpKind kind;
  OpRole role;
  OpPart part;
};

/// The ops of one layer kind, in a topological order, with their tensors.
struct Program {
  ProgramKind kind = ProgramKind::Dense;
  std::string name;
  std::vector<Op> ops;
  std::vector<Tensor> tensors;
  unsigned input = 0;  ///< Tensor id of the program's input.
  unsigned output = 0; ///< Tensor id of its output.

  Tensor &addTensor(std::string name, unsigned producer);
  Op &addOp(OpTag tag, std::string name, llvm::ArrayRef<unsigned> inputs, llvm::SMLoc loc,
            OpSite site = OpSite::Rank);
  /// Add an op with one output tensor named after the op; returns the output's id.
  unsigned add(OpTag tag, std::string name, llvm::ArrayRef<unsigned> inputs, llvm::SMLoc loc,
               OpSite site = OpSite::Rank);
  /// The first op of \p role, or null.
  const Op *findOp(OpRole role) const;
  /// Insert an op that reads \p inputs (the first is the tensor it intercepts) and produces one new tensor;
  /// the consumers of the intercepted tensor for which \p redirect holds read the new tensor instead. The op is
  /// placed right after the last producer of its inputs, so the op list stays in topological order; op ids are
  /// renumbered to their positions. Returns the new tensor's id.
  unsigned insertOp(OpTag tag, std::string name, OpSite site, llvm::SMLoc loc, llvm::ArrayRef<unsigned> inputs,
                    llvm::function_ref<bool(const Op &)> redirect);
};

/// Placement of one MoE layer inside an EP group (identical in every EP group): each expert's replicas as
/// positions 0..ep-1 in the group, replica 0 the primary copy.
struct LayerPlacement {
  int64_t layer;
  std::vector<llvm::SmallVector<int32_t, 2>> replicas; ///< [expert] -> positions
  /// Measured tokens per expert (placement = balanced); empty: routing is taken as uniform.
  std::vector<double> load;
  /// Experts held by each of the \p positions of the EP group, in slot order (empty for a position that holds
  /// none).
  std::vector<llvm::SmallVector<int32_t, 2>> slots(int64_t positions) const;
  bool operator==(const LayerPlacement &other) const {
    return replicas == other.replicas && load == other.load;
  }
};

/// How good a load-aware placement is on the loads it was given (placement = balanced).
struct PlacementQuality {
  int64_t layer;
  double balancedness;       ///< mean GPU load / max GPU load
  double contiguous;         ///< the same for the contiguous baseline with the same replica counts
  double bound;              ///< the best any placement with these slots can reach
  double remoteNodes = -1;   ///< per token on the routes file, -1 without one
  double contiguousRemote = -1;
};

struct Placement {
  PlacementPolicy policy = PlacementPolicy::Contiguous;
  std::string explanation;            ///< What the policy did, for the report.
  std::vector<LayerPlacement> layers; ///< One per MoE layer, in layer order.
  std::vector<PlacementQuality> quality; ///< Per MoE layer, for placement = balanced.

  const LayerPlacement *forLayer(int64_t layer) const;
};

/// What the busiest rank of an EP group moves in one dispatch or combine, in that direction's precision.
struct LinkBytes {
  double send = 0;    ///< everything it sends (network and NVLink)
  double nvlink = 0;  ///< ... inside its node
  double network = 0; ///< ... to other nodes: per token-expert pair (low_latency), or once per remote node (normal)
  double recv = 0;    ///< the most any rank receives
};

/// Traffic of one MoE layer's dispatch and combine, computed by comm-insertion from the placement and the plan's
/// sizes: each token picks top_k distinct experts, uniformly or in proportion to the layer's measured loads, and
/// an expert's tokens are shared evenly by its replicas.
struct LayerTraffic {
  int64_t layer;
  std::vector<double> share;  ///< [position] fraction of an EP group's token-expert assignments it receives
  LinkBytes dispatch;         ///< in the dispatch precision
  LinkBytes combine;          ///< in the combine precision (the same paths, the other way)
  double expectedNodes = 0;   ///< distinct nodes a token's experts live on
  double expectedRemoteNodes = 0;

  bool sameAs(const LayerTraffic &o) const {
    return share == o.share && dispatch.send == o.dispatch.send && expectedNodes == o.expectedNodes;
  }
};

/// Sizes derived once from the deploy, by lowering; every pass, the report, the IR printer and the placer read
/// them here rather than derive them again (docs/cost-model.md, *One physics*).
struct PlanSizes {
  int64_t tokensPerGroup = 0;      ///< micro_batch * seq (prefill) or micro_batch (decode): one attention group's
  /// What one rank routes and dispatches: tokensPerGroup, or folded (tp > etp) its share of its attention group's
  /// tokens, ceil(tokensPerGroup * etp / tp) (the group holds them replicated after its all-reduce).
  int64_t routedTokensPerRank = 0;
  int64_t headsPerRank = 0;        ///< query heads per attention TP rank
  int64_t kvHeadsPerRank = 0;      ///< KV heads per attention TP rank (at least one: replicated past kv_heads)
  double assignmentsPerGroup = 0;  ///< token-expert pairs an EP group routes: ep * routedTokensPerRank * top_k
  int64_t expertTokens = 0;        ///< tokens one expert instance's shapes hold (capacity factor applied)
  double dispatchBytesPerElement = 0, combineBytesPerElement = 0;
  DispatchMode dispatchMode = DispatchMode::Normal;
};

/// Time of one layer kind (per micro-batch), from the cost model.
struct LayerTime {
  double compute = 0;      ///< every compute op, expert ops on the busiest GPU of the EP group
  double communication = 0; ///< dispatch, combine, all-reduces
  double exposed = 0;      ///< communication not hidden behind compute
  double total = 0;        ///< compute + exposed
  double dispatch = 0, combine = 0, allReduce = 0;
  double allGather = 0; ///< folded plans: the MoE output's all-gather
  std::vector<double> opSeconds; ///< each op of the layer's program, in program order (the trace lays them out)
};

/// What the cost model computed (docs/cost-model.md): once as the forecast, once as the roofline bound.
struct CostResult {
  LayerTime dense;             ///< a dense layer (zero when there is none)
  std::vector<LayerTime> moe;  ///< each MoE layer, in layer order
  double prologue = 0, epilogue = 0, pipeline = 0; ///< embedding, LM head, send/recv between stages
  std::vector<double> stageSeconds; ///< each pipeline stage for one micro-batch: layers, ends, boundary send
  double stepTime = 0;         ///< prefill: the micro-batch(es) through every layer; decode: per output token
  int64_t microBatches = 1;    ///< processed per step: 2 with two_micro_batch overlap
  double commSms = 0;          ///< share of the SMs communication holds while it overlaps compute (the combine's
                               ///< under single-batch overlap)
  double tokensPerStep = 0;    ///< over the cluster
  double tokensPerSecond = 0;  ///< the cluster's
  double tokensPerSecondPerGpu = 0;
  double flopsPerGpuPerStep = 0;
  double achievedMfu = 0;      ///< flopsPerGpuPerStep / (stepTime * peak)
  double latency = 0;          ///< one micro-batch through every stage: TTFT in prefill, TPOT in decode
  int64_t pipelineMicroBatches = 1; ///< in flight through the stages (pp > 1)
  std::string dominant;        ///< what sets the time: the op or link with the largest share of a step
  std::vector<std::string> criticalPathDense, criticalPathMoe; ///< op names, the longest path by time
};

/// Memory of the fullest GPU, by kind, from the memory check.
struct MemoryResult {
  int64_t rank = 0; ///< the fullest GPU
  int64_t stage = 0;
  double attention = 0, denseFfn = 0, router = 0, sharedExperts = 0, routedExperts = 0, embedding = 0;
  double kvCache = 0, activations = 0, commBuffers = 0, reserved = 0;
  double scoresTensor = 0; ///< one layer's attention scores, materialised only by the naive kernel
  /// Each category with its name, in the order the report, its notes and the HTML chart list them.
  std::array<std::pair<const char *, double>, 10> parts() const {
    return {{{"attention weights", attention},
             {"dense FFN", denseFfn},
             {"router", router},
             {"shared experts", sharedExperts},
             {"routed experts", routedExperts},
             {"embedding and LM head", embedding},
             {"KV cache", kvCache},
             {"activations", activations},
             {"communication buffers", commBuffers},
             {"reserved", reserved}}};
  }
  double total() const {
    double sum = 0;
    for (const auto &[name, bytes] : parts())
      sum += bytes;
    return sum;
  }
  double capacity = 0;
  bool buffersScale = false; ///< the communication buffers grow with the micro-batch (DeepEP low-latency)

  /// What grows with the micro-batch: the KV cache, the activations, and the low-latency buffer.
  double batchScaled() const { return kvCache + activations + (buffersScale ? commBuffers : 0); }
  /// The largest micro-batch whose batch-scaled part fits beside everything else, for a plan of \p microBatch
  /// (0 when not even one does).
  int64_t largestBatch(int64_t microBatch) const {
    double perSequence = batchScaled() / double(microBatch);
    double room = capacity - (total() - batchScaled());
    return perSequence > 0 && room > 0 ? int64_t(std::floor(room / perSequence)) : 0;
  }
};

struct Plan {
  const DeploySpec *deploy = nullptr;
  RankLayout layout;
  std::vector<Device> devices;
  std::vector<ProcessGroup> groups;
  std::vector<Stage> stages;
  std::vector<LayerKind> layerKinds; ///< [layer]
  std::vector<int64_t> layerStage;   ///< [layer]
  Program dense, moe;
  std::optional<Program> prologue, epilogue; ///< embedding / LM head, when the model has a vocabulary
  std::optional<Program> boundary;           ///< send/recv between pipeline stages, when pp > 1
  Placement placement;
  std::vector<LayerTraffic> traffic;
  std::optional<CostResult> cost;  ///< the forecast: calibrated kernels, overheads and imbalance
  std::optional<CostResult> bound; ///< the roofline bound: peaks (or mfu), links and measured loads only
  PlanSizes sizes;                 ///< filled by lowering
  std::optional<MemoryResult> memory;
  /// Each pipeline stage's fullest GPU (memory is the fullest of them), for the HTML page's chart.
  std::vector<MemoryResult> stageMemory;
  /// The files the placement reads, read before the pipeline (moec/Transforms/PlacementInputs.h).
  std::shared_ptr<const PlacementInputs> placementInputs;

  // What the pipeline has done so far; the verifier checks the invariants that hold at each point.
  bool placed = false;
  bool shaped = false;
  bool communicated = false;

  explicit Plan(const DeploySpec &d);

  const ModelSpec &model() const { return *deploy->model; }
  const ClusterSpec &cluster() const { return *deploy->cluster; }
  const StrategySpec &strategy() const { return *deploy->strategy; }
  const WorkloadSpec &workload() const { return *deploy->workload; }

  int64_t ep() const { return strategy().ep; }
  /// The ranks of EP group \p index.
  const ProcessGroup &group(GroupKind kind, int64_t index) const;
  std::vector<const ProcessGroup *> groupsOf(GroupKind kind) const;
  /// Whether the groups of \p kind span nodes (they are alike, so the first one tells): their traffic then goes
  /// over the network, otherwise over NVLink.
  bool crossesNodes(GroupKind kind) const;
  int64_t numMoeLayers() const { return int64_t(placement.layers.size()); }

  /// The most expert slots any GPU holds in any MoE layer (after placement), or the derived experts_per_gpu.
  int64_t maxSlotsPerGpu() const;

  /// Every program with the layers it serves, for printers and passes.
  std::vector<Program *> programs();
  std::vector<const Program *> programs() const;
};

/// Build the unplaced, unshaped plan of \p deploy: devices, groups, stages, and the compute ops of every
/// program (communication is inserted by the comm-insertion pass).
std::unique_ptr<Plan> lowerToPlan(const DeploySpec &deploy);

/// Print the textual IR (docs/ir.md).
void printPlan(const Plan &plan, llvm::raw_ostream &os, const llvm::SourceMgr &srcMgr);

/// "[2, 16, 8]": a tensor's dimension sizes, as diagnostics and views print them.
std::string formatSizes(const Tensor &t);

/// "[0..63]", "[0, 64]", "[0..7, 16..23]": a sorted rank list with runs collapsed.
std::string formatRanks(llvm::ArrayRef<int64_t> ranks);

} // namespace moec::ir

#endif // MOEC_IR_PLAN_H
