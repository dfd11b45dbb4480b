//===- EngineInputs.h - Expert loads and placements in the engines' formats -*- C++ -*-===//
//
// Used by the placement inputs (PlacementInputs.cpp) and the fuzzer: readers of what SGLang, TensorRT-LLM and vLLM record or
// read (docs/interop.md), each folding the engine's layer numbering to moec's (decoder-layer indices of MoE
// layers), with every problem a diagnostic located in the file.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_TRANSFORMS_ENGINEINPUTS_H
#define MOEC_TRANSFORMS_ENGINEINPUTS_H

#include "moec/Balance/Balance.h"
#include "moec/Deploy/Deploy.h"
#include "moec/Support/Diagnostics.h"

#include <map>
#include <optional>
#include <vector>

namespace moec::engine {

using Loads = std::map<int64_t, std::vector<double>>;
using Table = std::map<int64_t, ExpertReplicas>;

/// `expert_load` as JSON: SGLang's expert-distribution dump ({"logical_count": [steps][layers][experts] or
/// [layers][experts], ...}, a row per decoder layer) or a plain [layers][experts] array (a row per MoE layer, or
/// per decoder layer).
std::optional<Loads> readJsonLoads(llvm::StringRef text, llvm::StringRef path, const ModelSpec &model,
                                   DiagEngine &diags);

/// `expert_load` as TensorRT-LLM's statistics directory: meta_info.json and rank<r>.safetensors, whose tensors
/// `<iter>_<layer>` count each expert's tokens (layer: the decoder-layer index); summed over iterations and ranks.
/// Add the counts of one rank<r>.safetensors file (its bytes \p data, loaded in the diagnostics' SourceMgr) to
/// \p loads; false when it is not a statistics file of \p model (reported, located in it).
bool addSafetensorsCounts(llvm::StringRef data, llvm::StringRef path, const ModelSpec &model, Loads &loads,
                          DiagEngine &diags);

std::optional<Loads> readTrtllmStatistics(llvm::StringRef directory, llvm::SMLoc usedAt, const ModelSpec &model,
                                          DiagEngine &diags);

/// `placement_file` as SGLang's --init-expert-location JSON, vLLM's proposed expert map (JSON), or TensorRT-LLM's
/// moe_load_balancer YAML (the subset its README and moec write).
std::optional<Table> readJsonPlacement(llvm::StringRef text, llvm::StringRef path, const DeploySpec &deploy,
                                       DiagEngine &diags);
std::optional<Table> readTrtllmPlacement(llvm::StringRef text, llvm::StringRef path, const DeploySpec &deploy,
                                         DiagEngine &diags);

} // namespace moec::engine

#endif // MOEC_TRANSFORMS_ENGINEINPUTS_H
