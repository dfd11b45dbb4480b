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

std::string ModelSpec::describeMoeLayers() const {
  std::vector<int64_t> moe;
  for (int64_t l = 0; l < int64_t(moeMask.size()); ++l)
    if (moeMask[l])
      moe.push_back(l);
  if (moe.empty())
    return "none";
  if (moe.back() - moe.front() + 1 == int64_t(moe.size()))
    return std::to_string(moe.front()) + ".." + std::to_string(moe.back());
  std::string out;
  for (size_t i = 0; i < moe.size(); ++i) {
    if (moe.size() > 8 && i == 3) {
      out += ", ..., " + std::to_string(moe.back());
      break;
    }
    out += (i ? ", " : "") + std::to_string(moe[i]);
  }
  return out;
}

std::string StrategySpec::orderString() const {
  std::string out;
  for (Axis a : order)
    out += (out.empty() ? "" : "-") + spell(a).str();
  return out;
}
