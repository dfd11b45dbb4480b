//===- Manifest.h - The launch manifest and launcher files ------*- C++ -*-===//
//
// -emit=manifest writes the JSON launch manifest (docs/manifest.md, schema in docs/manifest.schema.json): who is
// who in the job, which groups to create in which order, where every expert lives, and the environment. Launcher
// files (-emit=launch -launcher=...) start a job from it with torchrun, SLURM, Open MPI, Kubernetes, or the flags
// of SGLang, vLLM and Megatron-Core.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_TARGET_MANIFEST_H
#define MOEC_TARGET_MANIFEST_H

#include "moec/IR/Plan.h"
#include "moec/Support/Diagnostics.h"

#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace moec {

constexpr int kManifestVersion = 2;

/// Write the manifest of \p plan. \p sourceText is the main spec file's text (hashed into the identity).
/// \p compact writes it on one line, without indentation (what a Kubernetes ConfigMap, at most 1 MiB, needs).
void writeManifest(const ir::Plan &plan, llvm::StringRef sourceText, llvm::raw_ostream &os, bool compact = false);

/// The most bytes a Kubernetes ConfigMap holds.
constexpr size_t kConfigMapLimit = 1 << 20;

/// -emit=placement: `layer,expert,replica,rank` (rank: the position 0..ep-1 in the EP group; replica 0 the
/// primary), the format placement = explicit reads back.
void writePlacementCsv(const ir::Plan &plan, llvm::raw_ostream &os);

enum class Launcher { Torchrun, Slurm, Mpirun, Kubernetes, SGLang, VLLM, Megatron, LlmD, AIConfigurator, TrtLlm };
llvm::StringRef spell(Launcher l);

struct LaunchFile {
  std::string path; ///< relative to the output directory
  std::string text;
  bool executable = false;
};

/// The files that start \p plan with \p launcher; the manifest itself is always among them (manifest.json).
/// Where an engine cannot express the plan, a warning says so.
/// A service's manifest (docs/serving.md): its pools, each with its instance plan and the nodes of its instances.
struct ServiceManifest {
  struct Role {
    std::string role;            ///< prefill, decode or aggregated
    const ir::Plan *plan = nullptr; ///< one instance's plan
    int64_t instances = 0;
    std::vector<int64_t> instanceNodes; ///< per instance, the service-wide index of its first node
  };
  std::string name, mode;
  double requestsPerSecond = 0, ttftSeconds = 0, tpotSeconds = 0;
  int64_t gpus = 0, nodes = 0;
  std::optional<std::pair<double, double>> kvTransfer; ///< bytes per request, seconds
  std::vector<Role> roles;
};
void writeServiceManifest(const ServiceManifest &service, llvm::StringRef sourceText, llvm::raw_ostream &os);

/// The physical experts SGLang's expert-location map holds: the busiest GPU's slots on every GPU of the EP group (the
/// map pads GPUs with fewer); SGLang builds num_experts + --ep-num-redundant-experts of them.
int64_t sglangPhysicalExperts(const ir::Plan &plan);

/// The engine placement formats of -emit=placement (docs/interop.md): one canonical table (the plan's placement),
/// re-indexed for each engine.
enum class PlacementFormat { Csv, SGLang, TrtLlm, VLLM };
/// SGLang's --init-expert-location: {"physical_to_logical_map": [decoder layers][ep x slots per GPU]}, dense layers
/// repeating the first MoE layer's row (SGLang reads none of them); \p uneven is set when a GPU holds fewer slots
/// than another (padded with its first expert: SGLang has no empty slot).
std::string writeSglangLocation(const ir::Plan &plan, bool &uneven);
/// TensorRT-LLM's moe_load_balancer YAML: num_slots, initial_global_assignments keyed by decoder-layer index (each
/// rank's num_slots / ep slots in turn), layer_updates_per_iter 0 (static). Empty when the slots do not divide
/// evenly over the ranks, which TensorRT-LLM cannot express.
std::string writeTrtllmLoadBalancer(const ir::Plan &plan);
/// vLLM's proposed initial expert map (vllm-project/vllm#49572): [MoE layers][physical slots], physical to
/// logical, rank r holding slots [r * local, (r + 1) * local). Empty when the slots are uneven.
std::string writeVllmExpertMap(const ir::Plan &plan);

/// A pool of a deployment-format file: its role, one instance's plan, and the instances.
struct DeploymentRole {
  std::string role;              ///< prefill, decode or agg
  const ir::Plan *plan = nullptr;
  int64_t instances = 1;
};
/// llm-d-modelservice values (user-asks.md, part 2 (e)): per role `replicas` and
/// `parallelism.{tensor, data, dataLocal, workers}` (vLLM's attention TP and DP, DP ranks per node, nodes).
std::string writeLlmdValues(llvm::ArrayRef<DeploymentRole> roles, llvm::StringRef name);
/// AIConfigurator's generator_config.yaml sections a plan fills: `WorkerConfig.<role>_workers`, `Workers.<role>`
/// (tensor, pipeline and data parallel sizes, gpus_per_worker, moe_tensor/expert_parallel_size, max_batch_size)
/// and `NodeConfig.num_gpus_per_node`; a worker is one EP group (times its stages), so dp groups are dp workers.
std::string writeAiconfiguratorConfig(llvm::ArrayRef<DeploymentRole> roles, llvm::StringRef name);

std::vector<LaunchFile> launchFiles(const ir::Plan &plan, llvm::StringRef sourceText, Launcher launcher,
                                    DiagEngine &diags);

} // namespace moec

#endif // MOEC_TARGET_MANIFEST_H
