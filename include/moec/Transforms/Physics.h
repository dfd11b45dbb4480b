//===- Physics.h - The one model of time: calibrations and formulas ----*- C++ -*-===//
//
// Every time moec computes comes from here: the cost model's op, link and layer times, and the placer's estimate
// of what a placement changes. Two sets of physics share the formulas: the roofline bound (the GPU's peaks, or the
// workload's `mfu` and `bandwidth_efficiency`; the links' bandwidths and latencies; measured loads only) and the
// forecast (each kernel class at the achieved fraction of its peak that published kernel measurements give for
// the GPU's architecture, DeepEP's per-kernel overhead, the SMs communication takes while it overlaps compute, and
// a documented expert-load imbalance when no loads are measured). docs/cost-model.md states every formula and
// where each number comes from.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_TRANSFORMS_PHYSICS_H
#define MOEC_TRANSFORMS_PHYSICS_H

#include "moec/IR/Plan.h"

#include "llvm/ADT/ArrayRef.h"

namespace moec {

/// Achieved fractions of one GPU architecture's peaks, by kernel class, from published kernel measurements.
struct Calibration {
  GpuArch arch;
  double gemmCompute;       ///< FP8/BF16 GEMMs, grouped and dense, compute-bound (DeepGEMM)
  double gemmMemory;        ///< ... memory-bound (small M)
  double attentionCompute;  ///< attention kernels, compute-bound (FlashMLA / FlashAttention)
  double attentionMemory;   ///< ... reading the KV cache (decode)
  double elementwiseMemory; ///< norms, activations, residual adds, rotary embedding, routing
  double normalNetwork;     ///< DeepEP normal kernels: achieved RDMA bandwidth / the NIC's
  double normalNvlink;      ///< ... NVLink bandwidth / the link's
  double lowLatencyNetwork; ///< DeepEP low-latency kernels: achieved RDMA bandwidth / the NIC's
  double lowLatencyNvlink;  ///< ... inside a node
  double lowLatencyFixed;   ///< seconds each low-latency kernel takes beyond its bytes
  double allReduceBus;      ///< NCCL all-reduce bus bandwidth / the link's
  double commSms;           ///< share of the SMs normal-mode kernels hold while they overlap compute
  double singleBatchSms;    ///< share of the SMs single-batch overlap gives the combine beside compute
};

/// The calibration of \p arch (GpuArch::Generic: Hopper's, the most measured).
const Calibration &calibrationFor(GpuArch arch);
/// Every calibration, for the docs and bench/published.
llvm::ArrayRef<Calibration> calibrations();

/// Achieved fractions of a named MLA decode kernel whose published measurements differ from its architecture's
/// attention fractions (docs/cost-model.md). FlashMLA's are Hopper's fractions and TensorRT-LLM's trtllm-gen MLA's
/// are Blackwell's, so neither has a row; CUTLASS's Blackwell MLA does.
struct AttentionKernelCalibration {
  AttentionKernel kernel;
  double compute; ///< of the peak at the KV cache's precision
  double memory;  ///< of the HBM bandwidth
};
/// The calibration of \p kernel, or null when it runs at its architecture's attention fractions.
const AttentionKernelCalibration *attentionKernelCalibration(AttentionKernel kernel);
/// The calibration the forecast of \p plan runs its attention kernel at when it is not the architecture's: the
/// workload's named kernel's, in decode (a prefill runs the engine's prefill kernels); else null.
const AttentionKernelCalibration *ownAttentionCalibration(const ir::Plan &plan);
/// Every named kernel's calibration, for the docs and bench/published.
llvm::ArrayRef<AttentionKernelCalibration> attentionKernelCalibrations();

/// Published expert-load imbalance, (max - mean) / mean tokens per GPU of the EP group (TensorRT-LLM tech blog 4,
/// DeepSeek-R1 on 32 GB200, EP 32): without redundant experts (256 slots, 8 a GPU), and with them (EPLB, 288
/// slots, 9 a GPU).
constexpr double kImbalanceWithoutEplb = 1.564;
constexpr double kImbalanceWithEplb = 0.109;
constexpr double kImbalanceGpus = 32, kImbalanceSlotsWithoutEplb = 8, kImbalanceSlotsWithEplb = 9;

/// The forecast's expert-load imbalance without measured loads, for \p gpus GPUs of an EP group holding \p slots
/// expert slots in all (\p redundant of them replicas) with top-\p topK routing. A GPU's load is the sum of its
/// slots' loads and the busiest is the largest of \p gpus such sums, so the published figure scales as the
/// deviation of a sum of k slots and the largest of G of them do: x sqrt(k_published / k) x sqrt(ln G / ln 32)
/// (Gaussian extreme value of G draws); at most what every token reaching the busiest GPU gives, G min(k, top_k) /
/// top_k - 1. 0 with one GPU.
double defaultImbalance(int64_t gpus, int64_t slots, int64_t redundant, int64_t topK);

/// The physics of one cost computation.
struct Physics {
  bool forecast = false;
  double gemmCompute = 1, gemmMemory = 1, attentionCompute = 1, attentionMemory = 1, elementwiseMemory = 1;
  /// The fused attention kernel's fractions: the attention ones, or a named decode kernel's own.
  double fusedAttentionCompute = 1, fusedAttentionMemory = 1;
  double network = 1, nvlink = 1; ///< achieved fractions of the links, for the plan's dispatch mode
  double commFixed = 0;           ///< seconds per dispatch or combine beyond its bytes
  double allReduceBus = 1;
  double commSms = 0;             ///< share of SMs communication takes while overlapping compute
  double singleBatchSms = 0;      ///< ... the combine takes under single-batch overlap
  double imbalance = 0;           ///< (max - mean) / mean expert tokens per GPU, when no loads are measured

  /// The roofline bound: peaks (scaled by the workload's mfu and bandwidth_efficiency when given).
  static Physics bound(const ir::Plan &plan);
  /// The forecast: the calibration of the plan's GPU, and in decode that of the workload's named attention kernel
  /// when it has one; the workload's mfu and bandwidth_efficiency, when given, replace the compute and memory
  /// fractions.
  static Physics forecastOf(const ir::Plan &plan);
  /// The kernel fractions of \p calibration alone (no plan: normal-mode links, no imbalance), for bench-gemm.
  static Physics ofKernels(const Calibration &calibration);
};

/// Time of one GEMM kernel of \p flops that reads \p inBytes (weights and activations) and writes \p outBytes on
/// \p gpu whose weights are in \p precision: max(flops / (the precision's peak x gemmCompute), inBytes / (HBM x
/// gemmMemory)) + outBytes / (HBM x gemmMemory). A tile's main loop streams its inputs while it computes; its
/// output is stored after it, in the epilogue. bench-gemm reproduces DeepGEMM's published table with it. The
/// bound (physics.forecast false) hides the stores too: max(compute, (inBytes + outBytes) / HBM).
double gemmTime(double flops, double inBytes, double outBytes, Precision precision, const GpuSpec &gpu,
                const Physics &physics);
/// Bytes a GEMM writes for \p elements outputs of \p type: FP8 and 4-bit GEMMs accumulate and store BF16
/// (DeepGEMM, CUTLASS), so at least 2 bytes an element.
double gemmOutputBytes(double elements, Precision type);
/// Time of one dispatch or combine for the busiest rank: max(network bytes / (NIC x its fraction), NVLink bytes /
/// (NVLink x its fraction)) plus the latency of the slower link it uses and the kernel's fixed time.
double commTime(const ir::LinkBytes &bytes, const ClusterSpec &cluster, const Physics &physics);
/// A ring all-reduce of \p bytes over \p ranks: 2 (g - 1) / g of the bytes over the link, 2 (g - 1) latencies.
double allReduceTime(double bytes, int64_t ranks, const LinkSpec &link, const Physics &physics);
/// A ring all-gather ending with \p bytes over \p shares distinct shares: (g - 1) / g of them, g - 1 latencies.
double allGatherTime(double bytes, int64_t shares, const LinkSpec &link, const Physics &physics);
/// FLOPs of one token-expert pair through one routed expert (its share on one expert TP rank).
double expertFlopsPerAssignment(const ModelSpec &model, int64_t etp);
/// Time one token-expert pair adds to the busiest GPU's compute-bound expert GEMMs on \p gpu: its FLOPs at the
/// experts' peak and the GEMM fraction, plus the outputs each GEMM stores after its main loop (gemmTime).
double expertSecondsPerAssignment(const ModelSpec &model, int64_t etp, const GpuSpec &gpu, const Physics &physics);

} // namespace moec

#endif // MOEC_TRANSFORMS_PHYSICS_H
