//===- Deploy.cpp - The typed deployment ----------------------------------===//
#include "moec/Deploy/Deploy.h"

using namespace moec;

RequirementChecker::~RequirementChecker() = default;

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

std::string StrategySpec::orderString() const {
  std::string out;
  for (Axis a : order)
    out += (out.empty() ? "" : "-") + spell(a).str();
  return out;
}
