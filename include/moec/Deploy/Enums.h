//===- Enums.h - The deployment's enumerations and their spellings -*- C++ -*-===//
//
// One table per enumeration pairs each value with the language's enumerator (docs/language.md). The schema's
// enumerator lists, Sema's conversion of a written name to a value, and every printer's spell() all read the same
// table, so a new value is added in one place and no value is ever produced by casting an index.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_DEPLOY_ENUMS_H
#define MOEC_DEPLOY_ENUMS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/ErrorHandling.h"

#include <optional>
#include <vector>

namespace moec {

enum class Precision { BF16, FP16, FP8, FP32, FP4, MXFP4, NVFP4 };
enum class GpuVendor { Nvidia, Amd };
enum class GpuArch { Generic, Ampere, Hopper, Blackwell, Cdna3 }; ///< which kernel calibration applies
enum class AttentionKind { MHA, GQA, MLA };
enum class Activation { Gelu, Relu, Silu, SwiGLU };
enum class Phase { Prefill, Decode };
/// Compute/communication overlap: two micro-batches (SGLang's two-batch overlap, DeepSeek's dual micro-batch), or
/// SGLang's single-batch overlap, the combine on its own stream beside the shared experts, and with
/// SingleBatchDownGemm also beside the down GEMM whose tiles it streams.
enum class Overlap { None, TwoMicroBatch, SingleBatch, SingleBatchDownGemm };
/// The attention kernel: any fused one (the engine's default for the GPU), the naive ops, or a named MLA decode
/// kernel whose own calibration the forecast uses (FlashMLA, TensorRT-LLM's trtllm-gen MLA, CUTLASS's MLA).
enum class AttentionKernel { Fused, Naive, FlashMla, TrtllmMla, CutlassMla };
enum class DispatchMode { Normal, LowLatency }; ///< DeepEP's kernels: once per remote node, or per token-expert pair
enum class Switch { Off, On };
enum class Engine { SGLang, VLLM, TrtLlm, Megatron }; ///< what a strategy search restricts its candidates to
enum class Objective { ThroughputPerGpu, Tpot, Ttft }; ///< what a strategy search maximises or minimises                ///< a yes/no key: `false` or `true`
enum class AttentionBias { None, Qkv, All };  ///< which attention projections add a bias
enum class PlacementPolicy { Contiguous, RoundRobin, TopologyAware, Explicit, Balanced };
enum class PlacementObjective { Time, Balance, Locality };
/// The four parallel axes, in the order the default rank order lists them (fastest-varying first).
enum class Axis { TP, EP, DP, PP };

template <typename E> struct EnumEntry {
  E value;
  llvm::StringRef name;
};

/// The spelling table of an enumeration: `entries`, in the order the language reference lists them.
template <typename E> struct EnumTable;

#define MOEC_ENUM_TABLE(E, ...)                                                                                    \
  template <> struct EnumTable<E> {                                                                                \
    static constexpr EnumEntry<E> entries[] = {__VA_ARGS__};                                                       \
  };
MOEC_ENUM_TABLE(Precision, {Precision::BF16, "bf16"}, {Precision::FP16, "fp16"}, {Precision::FP8, "fp8"},
                {Precision::FP32, "fp32"}, {Precision::FP4, "fp4"}, {Precision::MXFP4, "mxfp4"},
                {Precision::NVFP4, "nvfp4"})
MOEC_ENUM_TABLE(GpuVendor, {GpuVendor::Nvidia, "nvidia"}, {GpuVendor::Amd, "amd"})
MOEC_ENUM_TABLE(GpuArch, {GpuArch::Generic, "generic"}, {GpuArch::Ampere, "ampere"}, {GpuArch::Hopper, "hopper"},
                {GpuArch::Blackwell, "blackwell"}, {GpuArch::Cdna3, "cdna3"})
MOEC_ENUM_TABLE(AttentionKind, {AttentionKind::MHA, "mha"}, {AttentionKind::GQA, "gqa"},
                {AttentionKind::MLA, "mla"})
MOEC_ENUM_TABLE(Activation, {Activation::Gelu, "gelu"}, {Activation::Relu, "relu"}, {Activation::Silu, "silu"},
                {Activation::SwiGLU, "swiglu"})
MOEC_ENUM_TABLE(Phase, {Phase::Prefill, "prefill"}, {Phase::Decode, "decode"})
MOEC_ENUM_TABLE(Overlap, {Overlap::None, "none"}, {Overlap::TwoMicroBatch, "two_micro_batch"},
                {Overlap::SingleBatch, "single_batch"}, {Overlap::SingleBatchDownGemm, "single_batch_down_gemm"})
MOEC_ENUM_TABLE(AttentionKernel, {AttentionKernel::Fused, "fused"}, {AttentionKernel::Naive, "naive"},
                {AttentionKernel::FlashMla, "flashmla"}, {AttentionKernel::TrtllmMla, "trtllm_mla"},
                {AttentionKernel::CutlassMla, "cutlass_mla"})
MOEC_ENUM_TABLE(Switch, {Switch::Off, "false"}, {Switch::On, "true"})
MOEC_ENUM_TABLE(Engine, {Engine::SGLang, "sglang"}, {Engine::VLLM, "vllm"}, {Engine::TrtLlm, "trtllm"},
                {Engine::Megatron, "megatron"})
MOEC_ENUM_TABLE(Objective, {Objective::ThroughputPerGpu, "throughput_per_gpu"}, {Objective::Tpot, "tpot"},
                {Objective::Ttft, "ttft"})
MOEC_ENUM_TABLE(DispatchMode, {DispatchMode::Normal, "normal"}, {DispatchMode::LowLatency, "low_latency"})
MOEC_ENUM_TABLE(AttentionBias, {AttentionBias::None, "none"}, {AttentionBias::Qkv, "qkv"}, {AttentionBias::All, "all"})
MOEC_ENUM_TABLE(PlacementPolicy, {PlacementPolicy::Contiguous, "contiguous"},
                {PlacementPolicy::RoundRobin, "round_robin"}, {PlacementPolicy::TopologyAware, "topology_aware"},
                {PlacementPolicy::Explicit, "explicit"}, {PlacementPolicy::Balanced, "balanced"})
MOEC_ENUM_TABLE(PlacementObjective, {PlacementObjective::Time, "time"}, {PlacementObjective::Balance, "balance"},
                {PlacementObjective::Locality, "locality"})
MOEC_ENUM_TABLE(Axis, {Axis::TP, "tp"}, {Axis::EP, "ep"}, {Axis::DP, "dp"}, {Axis::PP, "pp"})
#undef MOEC_ENUM_TABLE

template <typename E>
concept SpelledEnum = requires { EnumTable<E>::entries; };

/// The language's name of \p value.
template <SpelledEnum E> llvm::StringRef spell(E value) {
  for (const EnumEntry<E> &e : EnumTable<E>::entries)
    if (e.value == value)
      return e.name;
  llvm_unreachable("a value missing from its spelling table");
}

/// The value spelled \p name, if any.
template <SpelledEnum E> std::optional<E> parseEnum(llvm::StringRef name) {
  for (const EnumEntry<E> &e : EnumTable<E>::entries)
    if (e.name == name)
      return e.value;
  return std::nullopt;
}

/// Every name of \p E, in table order (the schema's enumerator list).
template <SpelledEnum E> llvm::ArrayRef<llvm::StringRef> enumNames() {
  static const std::vector<llvm::StringRef> names = [] {
    std::vector<llvm::StringRef> out;
    for (const EnumEntry<E> &e : EnumTable<E>::entries)
      out.push_back(e.name);
    return out;
  }();
  return names;
}

/// Bytes per element of \p p, scales included: MXFP4 stores 4-bit values with one 8-bit scale per 32 (4.25 bits),
/// NVFP4 one 8-bit scale per 16 (4.5 bits; its per-tensor scale is negligible), plain FP4 none (docs/language.md).
double bytesPerElement(Precision p);
/// Bytes per element of an activation quantized to \p p for a kernel: FP8 with one FP32 scale per 128 channels
/// (DeepGEMM's and DeepEP's 1 x 128 blocks, 1 + 4/128 B), otherwise as bytesPerElement (the 4-bit formats carry
/// their scales already).
inline double quantizedBytesPerElement(Precision p) {
  return p == Precision::FP8 ? 1.0 + 4.0 / 128.0 : bytesPerElement(p);
}
/// Whether \p o is one of single-batch overlap's forms.
inline bool isSingleBatch(Overlap o) { return o == Overlap::SingleBatch || o == Overlap::SingleBatchDownGemm; }
/// Micro-batches a step runs at once under \p o: two with two-micro-batch overlap, else one.
inline int64_t microBatchesOf(Overlap o) { return o == Overlap::TwoMicroBatch ? 2 : 1; }
/// Whether \p k keeps the scale, scores, softmax and context in one kernel (every kernel but `naive`).
inline bool isFused(AttentionKernel k) { return k != AttentionKernel::Naive; }
/// The GPU architecture a named MLA kernel runs on: FlashMLA's dense decode on Hopper (SM90), TensorRT-LLM's and
/// CUTLASS's MLA on Blackwell (SM100); Generic for `fused` and `naive`, which run on any GPU and any attention.
inline GpuArch archOf(AttentionKernel k) {
  return k == AttentionKernel::FlashMla                                          ? GpuArch::Hopper
         : k == AttentionKernel::TrtllmMla || k == AttentionKernel::CutlassMla ? GpuArch::Blackwell
                                                                                 : GpuArch::Generic;
}
/// The 4-bit formats, which hold weights only.
inline bool isFourBit(Precision p) { return p == Precision::FP4 || p == Precision::MXFP4 || p == Precision::NVFP4; }

} // namespace moec

#endif // MOEC_DEPLOY_ENUMS_H
