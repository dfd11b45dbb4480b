//===- Physics.cpp - Calibrations and the formulas of time -----------------===//
//
// The calibrations are the published kernel figures of docs/cost-model.md, one row per GPU architecture, never
// per deployment: an achieved rate over the peak the datasheet gives.
//
//===----------------------------------------------------------------------===//
#include "moec/Transforms/Physics.h"

#include <algorithm>
#include <cmath>

using namespace moec;
using namespace moec::ir;

namespace {

// Hopper (H100, H800, H20, H200), from deepseek-ai/DeepGEMM, FlashMLA and DeepEP on H800 (docs/cost-model.md):
//   GEMM compute 0.66: DeepGEMM's grouped contiguous FP8 GEMMs, 1093-1297 of 1979 TFLOPS, with their BF16 output
//     stored after the main loop (gemmTime); all four rows within 8%;
//   GEMM memory 0.66: its memory-bound dense GEMMs at M = 64, 1.7-2.7 of 3.35 TB/s (midpoint 2.2);
//   attention compute 0.63: FlashMLA decode, 580-660 of 989 TFLOPS; attention memory 0.90: 3000 of 3350 GB/s;
//   elementwise memory 0.66: as the memory-bound GEMMs (no published figure of its own);
//   DeepEP normal 0.88 over RDMA (EP32 58 and EP64 51 GB/s as its test counts them, a token's own node included,
//     are 43.5 and 44.6 GB/s of the 50 GB/s NIC) and 0.78 over NVLink (153-158 of 200 GB/s received per GPU);
//   DeepEP low-latency 0.85 of the NIC and 0.72 of NVLink plus 20 us per kernel: its EP8-EP256 table
//     (dispatch 77-194 us, combine 114-369 us) fitted with one line per link;
//   NCCL all-reduce bus bandwidth 1.0: nccl-tests on 8 x H100 SXM reach 460-480 GB/s busbw of 450 GB/s;
//   communication SMs 24 of 132: DeepSeek's prefill profile computes on 108 SMs while 24 communicate
//     (deepseek-ai/profile-data, open-infra-index day 6).
// Blackwell reuses Hopper's fractions but DeepEP low-latency over NVLink, 0.38: SGLang's GB200 profile without
// single-batch overlap (shifangx/Scripts-SGLang logs_gb200_blog2_fp4/2.fp4_wo-sbo_eplb, rank 0; 1,024 tokens a GPU,
// EP 48 in one rack, NVFP4 dispatch) takes 159 us for dispatch and 372 us for combine a MoE layer, their sum at
// 0.38 with 20 us a kernel. CDNA3 reuses Hopper's until its kernels are published the same way; Ampere has no FP8
// and its NCCL busbw is 230-250 of 300 GB/s.
// Single-batch overlap gives the combine 32 SMs (SGLang's SGLANG_DEEPEP_LL_COMBINE_SEND_NUM_SMS default; the GB200
// profile with it, logs_gb200_blog2_fp4/1.fp4_sbo_eplb, runs the combine's send on 32 blocks beside a down GEMM of
// 120), of 132 on Hopper, 152 on GB200, 304 compute units on MI300X and 108 on A100.
const Calibration kCalibrations[] = {
    {GpuArch::Hopper, 0.66, 0.66, 0.63, 0.90, 0.66, 0.88, 0.78, 0.85, 0.72, 20e-6, 1.00, 24.0 / 132, 32.0 / 132},
    {GpuArch::Blackwell, 0.66, 0.66, 0.63, 0.90, 0.66, 0.88, 0.78, 0.85, 0.38, 20e-6, 1.00, 24.0 / 132, 32.0 / 152},
    {GpuArch::Cdna3, 0.66, 0.66, 0.63, 0.90, 0.66, 0.88, 0.78, 0.85, 0.72, 20e-6, 1.00, 24.0 / 132, 32.0 / 304},
    {GpuArch::Ampere, 0.66, 0.66, 0.63, 0.90, 0.66, 0.88, 0.78, 0.85, 0.72, 20e-6, 0.80, 24.0 / 132, 32.0 / 108},
};

// CUTLASS's Blackwell MLA decode kernel (cutlass_mla_decode of sgl-kernel), from sgl-kernel's
// benchmark/bench_cutlass_mla.py as sgl-project/sglang#6929 published it: 128 heads, BF16, pages of 128, at batch
// 256 it moves 4,047 GB/s at 2,048 keys (4,015 at 4,096, 4,124 at 8,192), its own count of bytes (the KV cache, the
// query and the output). At 2,048 keys that is 675 MB in 167 us: 146 GFLOPs at 875 TFLOPS, 0.39 of the 2,250 a
// B200 has in BF16, and 0.51 of its 8 TB/s (the PR does not name its GPU; a GB200's 2,500 would make it 0.35).
// Both limits are near, so both are the kernel's fractions.
const AttentionKernelCalibration kAttentionKernels[] = {
    {AttentionKernel::CutlassMla, 0.39, 0.51},
};

} // namespace

const AttentionKernelCalibration *moec::attentionKernelCalibration(AttentionKernel kernel) {
  for (const AttentionKernelCalibration &k : kAttentionKernels)
    if (k.kernel == kernel)
      return &k;
  return nullptr;
}

const AttentionKernelCalibration *moec::ownAttentionCalibration(const Plan &plan) {
  const WorkloadSpec &w = plan.workload();
  return w.phase == Phase::Decode ? attentionKernelCalibration(w.attentionKernel) : nullptr;
}

llvm::ArrayRef<AttentionKernelCalibration> moec::attentionKernelCalibrations() { return kAttentionKernels; }

const Calibration &moec::calibrationFor(GpuArch arch) {
  for (const Calibration &c : kCalibrations)
    if (c.arch == arch)
      return c;
  return kCalibrations[0];
}

llvm::ArrayRef<Calibration> moec::calibrations() { return kCalibrations; }

Physics Physics::bound(const Plan &plan) {
  Physics p;
  const WorkloadSpec &w = plan.workload();
  double mfu = w.mfu.value_or(1.0), bw = w.bandwidthEfficiency.value_or(1.0);
  p.gemmCompute = p.attentionCompute = p.fusedAttentionCompute = mfu;
  p.gemmMemory = p.attentionMemory = p.fusedAttentionMemory = p.elementwiseMemory = bw;
  return p;
}

Physics Physics::ofKernels(const Calibration &c) {
  Physics p;
  p.forecast = true;
  p.gemmCompute = c.gemmCompute;
  p.attentionCompute = c.attentionCompute;
  p.gemmMemory = c.gemmMemory;
  p.attentionMemory = c.attentionMemory;
  p.fusedAttentionCompute = c.attentionCompute;
  p.fusedAttentionMemory = c.attentionMemory;
  p.elementwiseMemory = c.elementwiseMemory;
  p.network = c.normalNetwork;
  p.nvlink = c.normalNvlink;
  p.allReduceBus = c.allReduceBus;
  p.commSms = c.commSms;
  p.singleBatchSms = c.singleBatchSms;
  return p;
}

Physics Physics::forecastOf(const Plan &plan) {
  const Calibration &c = calibrationFor(plan.cluster().gpu->arch);
  Physics p = ofKernels(c);
  const WorkloadSpec &w = plan.workload();
  const StrategySpec &s = plan.strategy();
  p.gemmCompute = w.mfu.value_or(c.gemmCompute);
  p.attentionCompute = w.mfu.value_or(c.attentionCompute);
  p.gemmMemory = w.bandwidthEfficiency.value_or(c.gemmMemory);
  p.attentionMemory = w.bandwidthEfficiency.value_or(c.attentionMemory);
  p.elementwiseMemory = w.bandwidthEfficiency.value_or(c.elementwiseMemory);
  // A named decode kernel runs at its own fractions; in prefill the engines run their prefill kernels whatever
  // decode kernel is named (SGLang's cutlass_mla backend extends through FlashInfer's).
  const AttentionKernelCalibration *k = ownAttentionCalibration(plan);
  p.fusedAttentionCompute = w.mfu.value_or(k ? k->compute : c.attentionCompute);
  p.fusedAttentionMemory = w.bandwidthEfficiency.value_or(k ? k->memory : c.attentionMemory);
  if (plan.sizes.dispatchMode == DispatchMode::LowLatency) {
    p.network = c.lowLatencyNetwork;
    p.nvlink = c.lowLatencyNvlink;
    p.commFixed = c.lowLatencyFixed;
    // DeepEP's low-latency kernels move data without holding SMs (hook-based overlap); the normal ones hold some.
    p.commSms = 0;
  }
  const ModelSpec &m = plan.model();
  p.imbalance = s.expertImbalance.value_or(
      defaultImbalance(s.ep, m.moe.experts + s.redundantExperts, s.redundantExperts, m.moe.topK));
  return p;
}

double moec::gemmTime(double flops, double inBytes, double outBytes, Precision precision, const GpuSpec &gpu,
                      const Physics &ph) {
  double memory = gpu.memBandwidth * ph.gemmMemory;
  double compute = flops / (gpu.peakFor(precision) * ph.gemmCompute);
  // The bound lets a kernel hide its stores too (an epilogue overlapped with the next tile's main loop).
  if (!ph.forecast)
    return std::max(compute, (inBytes + outBytes) / memory);
  return std::max(compute, inBytes / memory) + outBytes / memory;
}

double moec::gemmOutputBytes(double elements, Precision type) {
  return elements * std::max(2.0, bytesPerElement(type));
}

double moec::commTime(const LinkBytes &bytes, const ClusterSpec &c, const Physics &ph) {
  if (bytes.send <= 0)
    return 0;
  double network = bytes.network > 0 ? bytes.network / (c.interNode.bandwidth * ph.network) : 0;
  double nvlink = bytes.nvlink > 0 ? bytes.nvlink / (c.intraNode.bandwidth * ph.nvlink) : 0;
  double latency = bytes.network > 0 ? c.interNode.latency : c.intraNode.latency;
  return std::max(network, nvlink) + latency + ph.commFixed;
}

double moec::allReduceTime(double bytes, int64_t ranks, const LinkSpec &link, const Physics &ph) {
  if (ranks <= 1)
    return 0;
  double steps = 2.0 * double(ranks - 1);
  return bytes * steps / double(ranks) / (link.bandwidth * ph.allReduceBus) + steps * link.latency;
}

double moec::allGatherTime(double bytes, int64_t shares, const LinkSpec &link, const Physics &ph) {
  if (shares <= 1)
    return 0;
  double steps = double(shares - 1);
  return bytes * steps / double(shares) / (link.bandwidth * ph.allReduceBus) + steps * link.latency;
}

double moec::expertFlopsPerAssignment(const ModelSpec &m, int64_t etp) {
  double matrices = m.moe.activation == Activation::SwiGLU ? 3 : 2;
  return 2 * matrices * double(m.hidden) * double(m.moe.expertHidden) / double(etp);
}

double moec::expertSecondsPerAssignment(const ModelSpec &m, int64_t etp, const GpuSpec &gpu, const Physics &ph) {
  // Gate and up (or fc1) write expert_hidden each, down (or fc2) hidden: at least BF16 (gemmOutputBytes).
  double inner = double(m.moe.expertHidden) / double(etp);
  double outputs = (m.moe.activation == Activation::SwiGLU ? 2 * inner : inner) + double(m.hidden);
  return expertFlopsPerAssignment(m, etp) / (gpu.peakFor(m.parts.experts) * ph.gemmCompute) +
         gemmOutputBytes(outputs, activationPrecision(m)) / (gpu.memBandwidth * ph.gemmMemory);
}

double moec::defaultImbalance(int64_t gpus, int64_t slots, int64_t redundant, int64_t topK) {
  if (gpus <= 1 || slots <= 0 || topK <= 0)
    return 0;
  double g = double(gpus), k = std::max(1.0, double(slots) / g);
  bool eplb = redundant > 0;
  double published = eplb ? kImbalanceWithEplb : kImbalanceWithoutEplb;
  double kPublished = eplb ? kImbalanceSlotsWithEplb : kImbalanceSlotsWithoutEplb;
  double scaled = published * std::sqrt(kPublished / k) * std::sqrt(std::log(g) / std::log(kImbalanceGpus));
  double most = g * std::min(k, double(topK)) / double(topK) - 1.0;
  return std::max(0.0, std::min(scaled, most));
}
