//===- Shapes.h - Shape inference, shared by the passes that add ops -*- C++ -*-===//
#ifndef MOEC_LIB_TRANSFORMS_SHAPES_H
#define MOEC_LIB_TRANSFORMS_SHAPES_H

#include "moec/IR/Plan.h"
#include "moec/Support/Diagnostics.h"

#include "llvm/Support/LogicalResult.h"

#include <optional>

namespace moec {
/// (Re)compute every tensor's shape and every op's FLOPs and bytes (the shape-inference pass). Passes that insert
/// ops call it to shape what they added.
llvm::LogicalResult inferShapes(ir::Plan &plan, DiagEngine &diags);

/// \p program with every shape inferred again from its ops and its input, for the verifier to compare; nullopt
/// when inference fails on it.
std::optional<ir::Program> reinferShapes(const ir::Plan &plan, const ir::Program &program, llvm::SourceMgr &srcMgr);

/// Whether \p op may read a partial sum and pass it on (FINDINGS.md B2): unfolded, the experts' TP partial sums
/// travel through combine and the weighted sum, and an add of partial sums stays one, so the MoE block needs one
/// all-reduce at its end, as engines' fused MoE layers do. Any other reader needs the all-reduce first.
inline bool carriesPartial(const ir::Plan &plan, const ir::Program &p, const ir::Op &op) {
  using namespace ir;
  if (op.kind == OpKind::Combine || op.kind == OpKind::WeightedSum)
    return !plan.strategy().folded();
  if (op.kind == OpKind::Add) {
    for (unsigned in : op.inputs)
      if (!p.tensors[in].partial)
        return false;
    return true;
  }
  return false;
}

/// Report that \p pass needs \p flag (what an earlier pass provides) when it is not set.
inline bool requirePass(bool flag, llvm::StringRef pass, llvm::StringRef needed, DiagEngine &diags) {
  if (!flag)
    diags.error(llvm::SMLoc(), "pass '" + pass + "' needs '" + needed + "' to run before it");
  return flag;
}
} // namespace moec

#endif
