//===- PlacementFormats.cpp - The placement, re-indexed for each engine -----===//
//
// One canonical table (the plan's per-MoE-layer replicas) and pure re-indexings of it: SGLang's
// physical_to_logical_map with a row per decoder layer, TensorRT-LLM's initial_global_assignments keyed by
// decoder-layer index, vLLM's MoE-layers-only map (docs/interop.md has each format's source).
//
//===----------------------------------------------------------------------===//
#include "moec/Target/Manifest.h"

#include <string>

using namespace moec;
using namespace moec::ir;

namespace {

/// Each MoE layer's slots as one row, ep x slots per GPU long, GPU by GPU; false when a GPU holds fewer slots
/// than another.
bool evenRows(const Plan &plan, std::vector<std::pair<int64_t, std::vector<int32_t>>> &rows) {
  int64_t ep = plan.strategy().ep, perGpu = plan.maxSlotsPerGpu();
  for (const LayerPlacement &lp : plan.placement.layers) {
    std::vector<llvm::SmallVector<int32_t, 2>> held = lp.slots(ep);
    std::vector<int32_t> row;
    for (int64_t p = 0; p < ep; ++p) {
      if (int64_t(held[p].size()) != perGpu)
        return false;
      row.insert(row.end(), held[p].begin(), held[p].end());
    }
    rows.emplace_back(lp.layer, std::move(row));
  }
  return true;
}

std::string list(llvm::ArrayRef<int32_t> row) {
  std::string out = "[";
  for (size_t i = 0; i < row.size(); ++i)
    out += (i ? ", " : "") + std::to_string(row[i]);
  return out + "]";
}

} // namespace

int64_t moec::sglangPhysicalExperts(const Plan &plan) { return plan.maxSlotsPerGpu() * plan.strategy().ep; }

std::string moec::writeSglangLocation(const Plan &plan, bool &uneven) {
  int64_t slotsPerGpu = plan.maxSlotsPerGpu(); // sglangPhysicalExperts(plan) / ep columns a GPU
  std::string out = "{\"physical_to_logical_map\": [\n";
  const LayerPlacement &first = plan.placement.layers.front();
  for (int64_t l = 0; l < plan.model().layers; ++l) {
    const LayerPlacement *lp = plan.placement.forLayer(l);
    std::vector<llvm::SmallVector<int32_t, 2>> held = (lp ? *lp : first).slots(plan.strategy().ep);
    std::vector<int32_t> row;
    for (int64_t p = 0; p < plan.strategy().ep; ++p)
      for (int64_t k = 0; k < slotsPerGpu; ++k) {
        bool filled = k < int64_t(held[p].size());
        uneven |= !filled;
        row.push_back(filled ? held[p][k] : held[p].empty() ? 0 : held[p][0]);
      }
    out += "  " + list(row) + (l + 1 < plan.model().layers ? ",\n" : "\n");
  }
  return out + "]}\n";
}

std::string moec::writeTrtllmLoadBalancer(const Plan &plan) {
  std::vector<std::pair<int64_t, std::vector<int32_t>>> rows;
  if (!evenRows(plan, rows))
    return "";
  std::string out = "# moec: TensorRT-LLM moe_load_balancer (moe_config.load_balancer), static placement\n";
  out += "num_slots: " + std::to_string(rows.front().second.size()) + "\n";
  out += "layer_updates_per_iter: 0\n";
  out += "initial_global_assignments:\n";
  for (const auto &[layer, row] : rows)
    out += "  " + std::to_string(layer) + ": " + list(row) + "\n";
  return out;
}

std::string moec::writeVllmExpertMap(const Plan &plan) {
  std::vector<std::pair<int64_t, std::vector<int32_t>>> rows;
  if (!evenRows(plan, rows))
    return "";
  std::string out = "[\n";
  for (size_t i = 0; i < rows.size(); ++i)
    out += "  " + list(rows[i].second) + (i + 1 < rows.size() ? ",\n" : "\n");
  return out + "]\n";
}
