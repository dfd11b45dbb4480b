//===- Deploy.cpp - The typed deployment ----------------------------------===//
#include "moec/Deploy/Deploy.h"

using namespace moec;

RequirementChecker::~RequirementChecker() = default;

double moec::bytesPerElement(Precision p) {
  switch (p) {
  case Precision::BF16:
  case Precision::FP16:
    return 2;
  case Precision::FP8:
    return 1;
  case Precision::FP32:
    return 4;
  case Precision::FP4:
    return 0.5;
  case Precision::MXFP4:
    return (4.0 + 8.0 / 32.0) / 8.0;
  case Precision::NVFP4:
    return (4.0 + 8.0 / 16.0) / 8.0;
  }
  llvm_unreachable("unknown precision");
}

std::string ModelSpec::describePrecision() const {
  std::string parts;
  for (auto [name, p] : {std::pair{"attention", this->parts.attention}, std::pair{"dense FFN", this->parts.denseFfn},
                         std::pair{"experts", this->parts.experts}, std::pair{"embedding", this->parts.embedding},
                         std::pair{"KV cache", this->parts.kvCache}})
    if (p != precision)
      parts += (parts.empty() ? "" : ", ") + std::string(name) + " " + spell(p).str();
  return spell(precision).str() + (parts.empty() ? "" : " (" + parts + ")");
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

std::string StrategySpec::describeGrid() const {
  std::string out = "pp " + std::to_string(pp) + " x dp " + std::to_string(dp) + " x ep " + std::to_string(ep);
  if (!folded())
    return out + " x tp " + std::to_string(tp);
  return out + " x etp " + std::to_string(etp()) + " (attention tp " + std::to_string(tp) + " x dp " +
         std::to_string(stageSize() / tp) + ")";
}

std::string StrategySpec::orderString() const {
  std::string out;
  for (Axis a : order)
    out += (out.empty() ? "" : "-") + spell(a).str();
  return out;
}
