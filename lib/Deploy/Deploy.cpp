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

namespace {
/// Weights of one attention layer, unsplit (projections, biases, norms, sinks).
double attentionWeights(const moec::AttentionSpec &a, int64_t hidden) {
  double h = double(hidden), heads = double(a.heads), d = double(a.headDim);
  double w = h; // the attention norm
  if (a.kind == moec::AttentionKind::MLA) {
    double rope = double(a.ropeHeadDim), kv = double(a.kvLoraRank);
    double qOut = heads * (d + rope);
    w += a.qLoraRank ? h * double(a.qLoraRank) + double(a.qLoraRank) + double(a.qLoraRank) * qOut : h * qOut;
    w += h * (kv + rope) + kv;   // KV compression with the rotary key, and its norm
    w += kv * heads * (d + d);   // key and value decompression
    w += heads * d * h;          // output projection
    return w;
  }
  double kvOut = double(a.kvHeads) * d;
  w += h * heads * d + 2 * h * kvOut + heads * d * h;
  if (a.bias != moec::AttentionBias::None)
    w += heads * d + 2 * kvOut + (a.bias == moec::AttentionBias::All ? h : 0);
  if (a.qkNorm)
    w += 2 * d;
  if (a.sinks)
    w += heads;
  return w;
}

double ffnWeights(int64_t hidden, int64_t width, moec::Activation act, bool bias) {
  double matrices = act == moec::Activation::SwiGLU ? 3 : 2;
  double w = matrices * double(hidden) * double(width);
  if (bias)
    w += (matrices - 1) * double(width) + double(hidden);
  return w;
}
} // namespace

double ModelSpec::kvBytes(int64_t tokens) const {
  const AttentionSpec &a = attention;
  double perToken = a.kind == AttentionKind::MLA ? double(a.kvLoraRank + a.ropeHeadDim)
                                                 : 2.0 * double(a.kvHeads) * double(a.headDim);
  double held = 0;
  for (int64_t l = 0; l < layers; ++l)
    held += double(a.kvTokens(l, tokens));
  return held * perToken * bytesPerElement(parts.kvCache);
}

ModelSpec::Parameters ModelSpec::parameters() const {
  Parameters p;
  double h = double(hidden);
  double attn = attentionWeights(attention, hidden);
  double dense = mlp ? ffnWeights(hidden, mlp->hidden, mlp->activation, false) + h : 0; // + its norm
  double expert = ffnWeights(hidden, moe.expertHidden, moe.activation, moe.bias);
  double shared = double(moe.sharedExperts) * ffnWeights(hidden, moe.expertHidden, moe.activation, false);
  double router = h * double(moe.experts) + (moe.bias ? double(moe.experts) : 0) + h; // + the MoE norm
  p.embedding = double(vocab) * h * (tieEmbeddings ? 1 : 2);
  double layersTotal = 0, layersActive = 0;
  for (int64_t l = 0; l < layers; ++l) {
    layersTotal += attn;
    layersActive += attn;
    if (isMoeLayer(l)) {
      layersTotal += router + shared + double(moe.experts) * expert;
      layersActive += router + shared + double(std::min(moe.topK, moe.experts)) * expert;
    } else {
      layersTotal += dense;
      layersActive += dense;
    }
  }
  double finalNorm = vocab ? h : 0;
  p.total = layersTotal + p.embedding + finalNorm;
  p.active = layersActive + p.embedding + finalNorm;
  return p;
}

double ModelSpec::flopsPerToken(double keys, bool decode) const {
  Parameters p = parameters();
  // The lookup is not a product: the embedding table does not count, the LM head does.
  double lookup = double(vocab) * double(hidden) * (tieEmbeddings ? 0 : 1);
  double flops = 2 * (p.active - lookup);
  const AttentionSpec &a = attention;
  double perLayer;
  if (a.kind == AttentionKind::MLA)
    perLayer = decode ? 2.0 * double(a.heads) * keys * double(2 * a.kvLoraRank + a.ropeHeadDim)
                      : 2.0 * double(a.heads) * keys * double(2 * a.headDim + a.ropeHeadDim);
  else
    perLayer = 4.0 * double(a.heads) * keys * double(a.headDim);
  double attentionFlops = 0;
  for (int64_t l = 0; l < layers; ++l)
    attentionFlops += perLayer * double(a.kvTokens(l, int64_t(keys))) / std::max(1.0, keys); // a window caps it
  return flops + attentionFlops;
}
