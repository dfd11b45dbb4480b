//===- Trace.h - The forecast step as a Chrome Trace Event / Perfetto file --*- C++ -*-===//
//
// -emit=trace (docs/views.md, *Timeline trace*): one process per GPU shown, threads for its step, its compute and
// each communication stream, every op a complete event with its forecast duration and its arguments, two
// micro-batches overlapped and pipeline stages scheduled the way the cost model counts them, flow events from
// dispatch to the experts' GEMMs. It opens in ui.perfetto.dev and chrome://tracing.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_TARGET_TRACE_H
#define MOEC_TARGET_TRACE_H

#include "moec/IR/Plan.h"

#include "llvm/Support/raw_ostream.h"

#include <vector>

namespace moec {

/// The ranks a trace shows by default: per pipeline stage, its busiest GPU (the EP position that receives the most
/// of the first MoE layer's tokens), and one rank on each other node of that GPU's EP group, at most \p limit.
std::vector<int64_t> defaultTraceRanks(const ir::Plan &plan, size_t limit = 64);

/// Write the trace of \p plan's forecast step for \p ranks (global ranks, each of the plan).
void writeTrace(const ir::Plan &plan, llvm::ArrayRef<int64_t> ranks, llvm::raw_ostream &os);

} // namespace moec

#endif // MOEC_TARGET_TRACE_H
