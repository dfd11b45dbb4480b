//===- Dot.h - Graphviz views of a plan (-emit=dot, -emit=svg) --*- C++ -*-===//
//
// Five views of a compiled plan, each a DAG of op instances on named GPUs: the system overview, one GPU's
// attention, one GPU's MoE block, the token routing of one layer, and one whole layer of one replica. Rectangles
// compute, ellipses communicate, parallelograms route and aggregate; communication edges are dashed. Node ids come
// from IR ids and ranks, never pointers, so the output is byte-stable.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_TARGET_DOT_H
#define MOEC_TARGET_DOT_H

#include "moec/IR/Plan.h"
#include "moec/Target/DotGraph.h"

#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>
#include <vector>

namespace moec {

enum class View { Overview, Attention, Expert, Routing, Layer };

struct ViewOptions {
  View view = View::Overview;
  int64_t layer = -1;  ///< -1: the first MoE layer (or layer 0)
  int64_t replica = 0; ///< data-parallel replica (dp index)
  int64_t gpu = 0;     ///< global rank
};

/// Views larger than this many nodes are refused: Graphviz's dot stops laying them out in reasonable time.
constexpr size_t kMaxViewNodes = 20000;

/// Build a view. False with \p error set when the options do not fit the plan (a layer it does not have, a view
/// too large to draw).
bool buildView(const ir::Plan &plan, const ViewOptions &options, DotGraph &graph, std::string &error);

/// The file name -view=all gives a view: system_overview, detailed_attention, detailed_expert_mlp,
/// token_routing, complete_layer<N>_dp<R>; plus \p extension.
std::string viewFileName(const ir::Plan &plan, const ViewOptions &options, llvm::StringRef extension);

} // namespace moec

#endif // MOEC_TARGET_DOT_H
