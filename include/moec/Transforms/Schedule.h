//===- Schedule.h - Two micro-batches overlapped, op by op -------*- C++ -*-===//
//
// The schedule of two-micro-batch overlap (DeepSeek's dual micro-batch, SGLang's two-batch overlap), which the
// cost model times and the trace lays out. Each micro-batch's ops, layer after layer, are cut into stages at its
// communications; one compute stream runs the stages in turn, micro-batch 0's stage j then micro-batch 1's, and
// one communication stream carries the transfers in the order they are issued:
//   - a stage starts when the compute stream is free and its micro-batch's previous communication has arrived;
//   - its ops run in program order up to the communication that ends it, which is then issued; an op that could
//     run in more than one stage (a shared expert) runs after the issue, in its shadow: in prefill the last
//     communication's before the op is needed, in decode the first after its inputs, as SGLang's two-batch
//     overlap orders DeepSeek's layers (python/sglang/srt/operations_strategy.py: the prefill strategy runs
//     `op_shared_experts` after `op_combine_a`, the decode one after `op_dispatch_a`; DeepSeek's day-6 prefill
//     diagram shows the same);
//   - a transfer starts when issued and the stream is free; (1 - overlap_efficiency) of it also holds the
//     compute stream (the part that does not hide);
//   - in a layer that communicates, compute runs 1 / (1 - the SMs communication holds) slower.
// The step is the end of the last op. A layer's steady-state time is the period of that layer repeated.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_TRANSFORMS_SCHEDULE_H
#define MOEC_TRANSFORMS_SCHEDULE_H

#include "moec/IR/Plan.h"

#include "llvm/ADT/ArrayRef.h"

#include <array>
#include <vector>

namespace moec {

/// One layer to schedule: its program and each op's time, in program order.
struct ScheduledLayer {
  const ir::Program *program = nullptr;
  llvm::ArrayRef<double> seconds;
};

/// Where every op of every layer runs, for micro-batches 0 and 1, in seconds from the schedule's start.
struct OverlapSchedule {
  std::vector<std::vector<std::array<double, 2>>> start; ///< [layer][op][micro-batch]
  std::vector<std::vector<double>> seconds;             ///< [layer][op]: its time as scheduled (compute stretched)
  std::vector<double> layerEnd;                         ///< when both micro-batches have finished each layer
  double end = 0;                                       ///< the last op's end
};

/// Which communication's shadow an op with room runs in.
enum class Shadow {
  Latest,   ///< the last before the op is needed (prefill)
  Earliest, ///< the first after its inputs are ready (decode)
};

/// The shadow policy of \p phase.
inline Shadow shadowOf(Phase phase) { return phase == Phase::Decode ? Shadow::Earliest : Shadow::Latest; }

/// The two-micro-batch schedule of \p layers, run in order; \p commSms is the share of SMs communication holds,
/// \p efficiency the share of each transfer that hides behind compute.
OverlapSchedule scheduleTwoMicroBatches(llvm::ArrayRef<ScheduledLayer> layers, double commSms, double efficiency,
                                        Shadow shadow);

/// The layers of pipeline stage \p stage with the times \p cost gave their ops (each MoE layer its own).
std::vector<ScheduledLayer> stageLayers(const ir::Plan &plan, const ir::CostResult &cost, size_t stage);

/// One micro-batch's share of the steady-state period of \p layer repeated: the time a layer adds to the step.
double steadyStateLayerTime(const ScheduledLayer &layer, double commSms, double efficiency, Shadow shadow);

} // namespace moec

#endif // MOEC_TRANSFORMS_SCHEDULE_H
