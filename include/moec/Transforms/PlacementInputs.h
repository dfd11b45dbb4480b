//===- PlacementInputs.h - The files a placement reads ----------*- C++ -*-===//
//
// Read before the pipeline runs (the Pipeline library does it), so that the expert-placement pass does no file
// I/O: the measured loads and sampled routes of `placement = balanced`, and the table of `placement = explicit`.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_TRANSFORMS_PLACEMENTINPUTS_H
#define MOEC_TRANSFORMS_PLACEMENTINPUTS_H

#include "moec/Balance/Balance.h"
#include "moec/Deploy/Deploy.h"
#include "moec/Support/Diagnostics.h"

#include <map>
#include <optional>
#include <vector>

namespace moec {

struct PlacementInputs {
  std::map<int64_t, std::vector<double>> loads; ///< MoE layer -> tokens per expert (`expert_load`)
  std::map<int64_t, std::vector<llvm::SmallVector<int32_t, 8>>> routes; ///< MoE layer -> each token's experts
  std::map<int64_t, ExpertReplicas> explicitTable; ///< MoE layer -> replicas' positions (`placement_file`)
};

/// Read and check the files \p deploy's placement names (none for the policies that need none). Every problem is
/// a diagnostic located in the file; nullopt when any was reported.
std::optional<PlacementInputs> readPlacementInputs(const DeploySpec &deploy, DiagEngine &diags);

} // namespace moec

#endif // MOEC_TRANSFORMS_PLACEMENTINPUTS_H
