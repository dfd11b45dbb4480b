//===- Schedule.h - Two micro-batches overlapped, op by op -------*- C++ -*-===//
//
// The schedule of two-micro-batch overlap (DeepSeek's dual micro-batch, SGLang's two-batch overlap), which the
// cost model times and the trace lays out: one compute stream, and one communication stream that carries the
// transfers in the order they are issued, each starting when issued and the stream is free ((1 - overlap_efficiency)
// of it also holds the compute stream: the part that does not hide). In a layer that communicates, compute runs
// 1 / (1 - the SMs communication holds) slower. An op that could run in more than one stage (a shared expert)
// runs after a transfer's issue, in its shadow: in prefill the last transfer's before the op is needed, in decode
// the first after its inputs, as SGLang's two-batch overlap orders DeepSeek's layers
// (python/sglang/srt/operations_strategy.py: the prefill strategy runs `op_shared_experts` after `op_combine_a`,
// the decode one after `op_dispatch_a`; DeepSeek's day-6 prefill diagram shows the same).
//   - Prefill (SGLang's prefill strategy, tbo_delta_stages = 0): each micro-batch's ops, layer after layer, are
//     cut into stages at its communications; the stream runs micro-batch 0's stage j then micro-batch 1's; a stage
//     starts when the stream is free and its micro-batch's previous transfer has arrived, runs its ops in program
//     order up to the transfer that ends it, and issues it.
//   - Decode (SGLang's decode strategy, tbo_delta_stages = 2; DeepSeek's five-stage decode): five stages a MoE
//     layer, [attention's preparation] [attention kernel to the router] [issue dispatch, shared experts] [wait for
//     the dispatch, experts, issue combine] [wait for the combine], the ops after it running into the next
//     layer's first; micro-batch 1 runs two stages behind micro-batch 0, and a wait holds the compute stream.
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

/// Whose order the two micro-batches run in.
enum class OverlapOrder {
  Prefill, ///< stages cut at communications, in turn (SGLang's prefill strategy)
  Decode,  ///< five stages a MoE layer, micro-batch 1 two behind (SGLang's and DeepSeek's decode)
};

/// The order of \p phase.
inline OverlapOrder overlapOrderOf(Phase phase) {
  return phase == Phase::Decode ? OverlapOrder::Decode : OverlapOrder::Prefill;
}

/// The two-micro-batch schedule of \p layers, run in order; \p commSms is the share of SMs communication holds,
/// \p efficiency the share of each transfer that hides behind compute.
OverlapSchedule scheduleTwoMicroBatches(llvm::ArrayRef<ScheduledLayer> layers, double commSms, double efficiency,
                                        OverlapOrder order);

/// The layers of pipeline stage \p stage with the times \p cost gave their ops (each MoE layer its own).
std::vector<ScheduledLayer> stageLayers(const ir::Plan &plan, const ir::CostResult &cost, size_t stage);

/// One micro-batch's share of the steady-state period of \p layer repeated: the time a layer adds to the step.
double steadyStateLayerTime(const ScheduledLayer &layer, double commSms, double efficiency, OverlapOrder order);

/// Where each op of one layer runs under single-batch overlap, in seconds from the layer's start.
struct SingleBatchSchedule {
  std::vector<double> start, seconds; ///< [op]; seconds as scheduled (compute beside the combine stretched)
  double end = 0;                     ///< the layer's last op's end
};

/// SGLang's single-batch overlap of \p layer (python/sglang/srt/batch_overlap/single_batch_overlap.py,
/// `execute_sbo`): the combine runs on its own stream with \p combineSms of the SMs, from the end of the down GEMM
/// that feeds it or, with \p downGemm, from its start (the GEMM signals each expert's finished tiles), and ends no
/// earlier than that GEMM. The ops after the combine that do not read it (the shared experts) run beside it, and
/// the GEMM too with \p downGemm, on the other SMs: 1 / (1 - combineSms) slower. The ops that read the combine
/// start when it ends. Everything else runs one op after another, as without overlap.
SingleBatchSchedule scheduleSingleBatch(const ScheduledLayer &layer, double combineSms, bool downGemm);

} // namespace moec

#endif // MOEC_TRANSFORMS_SCHEDULE_H
