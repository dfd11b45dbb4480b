//===- Spec.cpp - Spellings of the spec's enumerations --------------------===//
//
// The spellings are the language's own enumerators (docs/language.md), so that every backend prints a value
// the way the user wrote it.
//
//===----------------------------------------------------------------------===//
#include "moec/Sema/Spec.h"

#include "llvm/Support/ErrorHandling.h"

using namespace moec;

llvm::StringRef moec::spell(Precision p) {
  switch (p) {
  case Precision::BF16:
    return "bf16";
  case Precision::FP16:
    return "fp16";
  case Precision::FP8:
    return "fp8";
  case Precision::FP32:
    return "fp32";
  }
  llvm_unreachable("unknown precision");
}

unsigned moec::bytesPerElement(Precision p) {
  switch (p) {
  case Precision::BF16:
  case Precision::FP16:
    return 2;
  case Precision::FP8:
    return 1;
  case Precision::FP32:
    return 4;
  }
  llvm_unreachable("unknown precision");
}

llvm::StringRef moec::spell(AttentionKind k) {
  static const char *names[] = {"mha", "gqa", "mla"};
  return names[static_cast<unsigned>(k)];
}
llvm::StringRef moec::spell(Activation a) {
  static const char *names[] = {"gelu", "relu", "silu", "swiglu"};
  return names[static_cast<unsigned>(a)];
}
llvm::StringRef moec::spell(Phase p) { return p == Phase::Prefill ? "prefill" : "decode"; }
llvm::StringRef moec::spell(Overlap o) { return o == Overlap::None ? "none" : "two_micro_batch"; }
llvm::StringRef moec::spell(AttentionKernel k) { return k == AttentionKernel::Fused ? "fused" : "naive"; }
llvm::StringRef moec::spell(PlacementPolicy p) {
  static const char *names[] = {"contiguous", "round_robin", "topology_aware", "explicit", "balanced"};
  return names[static_cast<unsigned>(p)];
}
llvm::StringRef moec::spell(PlacementObjective o) {
  static const char *names[] = {"time", "balance", "locality"};
  return names[static_cast<unsigned>(o)];
}
llvm::StringRef moec::spell(Axis a) {
  static const char *names[] = {"tp", "ep", "dp", "pp"};
  return names[static_cast<unsigned>(a)];
}

std::string StrategySpec::orderString() const {
  std::string out;
  for (Axis a : order)
    out += (out.empty() ? "" : "-") + spell(a).str();
  return out;
}
