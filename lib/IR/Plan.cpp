//===- Plan.cpp - The moec Plan IR ----------------------------------------===//
#include "moec/IR/Plan.h"

#include "llvm/Support/ErrorHandling.h"

using namespace moec;
using namespace moec::ir;

llvm::StringRef ir::spell(GroupKind kind) {
  switch (kind) {
  case GroupKind::TP:
    return "tp";
  case GroupKind::ExpertTP:
    return "etp";
  case GroupKind::EP:
    return "ep";
  case GroupKind::DP:
    return "dp";
  case GroupKind::PP:
    return "pp";
  case GroupKind::AttentionDP:
    return "attention_dp";
  }
  llvm_unreachable("unknown group kind");
}

llvm::StringRef ir::spell(OpKind kind) {
  switch (kind) {
  case OpKind::Embedding:
    return "embedding";
  case OpKind::LayerNorm:
    return "layer_norm";
  case OpKind::Linear:
    return "linear";
  case OpKind::Rope:
    return "rope";
  case OpKind::Scale:
    return "scale";
  case OpKind::Matmul:
    return "matmul";
  case OpKind::Softmax:
    return "softmax";
  case OpKind::Dropout:
    return "dropout";
  case OpKind::Activation:
    return "activation";
  case OpKind::Add:
    return "add";
  case OpKind::Gate:
    return "gate";
  case OpKind::TopK:
    return "top_k";
  case OpKind::WeightedSum:
    return "weighted_sum";
  case OpKind::Dispatch:
    return "dispatch";
  case OpKind::Combine:
    return "combine";
  case OpKind::AllReduce:
    return "all_reduce";
  case OpKind::AllGather:
    return "all_gather";
  case OpKind::Send:
    return "send";
  case OpKind::Recv:
    return "recv";
  }
  llvm_unreachable("unknown op kind");
}

OpClass ir::classify(OpKind kind) {
  switch (kind) {
  case OpKind::Dispatch:
  case OpKind::Combine:
  case OpKind::AllReduce:
  case OpKind::AllGather:
  case OpKind::Send:
  case OpKind::Recv:
    return OpClass::Communication;
  case OpKind::Gate:
  case OpKind::TopK:
  case OpKind::WeightedSum:
    return OpClass::Routing;
  default:
    return OpClass::Compute;
  }
}

Precision ir::weightPrecision(const ModelSpec &m, OpPart part) {
  switch (part) {
  case OpPart::Attention:
    return m.parts.attention;
  case OpPart::DenseFfn:
    return m.parts.denseFfn;
  case OpPart::RoutedExperts:
  case OpPart::SharedExperts:
    return m.parts.experts;
  case OpPart::Embedding:
  case OpPart::LmHead:
    return m.parts.embedding;
  case OpPart::Router:
  case OpPart::MoeBlock:
  case OpPart::Pipeline:
    return m.precision;
  }
  return m.precision;
}

Precision moec::ir::activationPrecision(const ModelSpec &m) {
  return bytesPerElement(m.precision) < 2 ? Precision::BF16 : m.precision;
}

Precision moec::ir::dispatchPrecisionOf(const ModelSpec &m, const StrategySpec &s) {
  return s.dispatchPrecision.value_or(m.precision);
}

Precision moec::ir::combinePrecisionOf(const ModelSpec &m, const StrategySpec &s) {
  return s.combinePrecision.value_or(activationPrecision(m));
}

llvm::StringRef ir::spell(ParallelSplit split) {
  switch (split) {
  case ParallelSplit::None:
    return "";
  case ParallelSplit::Replicated:
    return "replicated";
  case ParallelSplit::Column:
    return "column";
  case ParallelSplit::Row:
    return "row";
  }
  llvm_unreachable("unknown split");
}

llvm::StringRef ir::spell(Collective c) {
  switch (c) {
  case Collective::AllToAll:
    return "all_to_all";
  case Collective::AllReduce:
    return "all_reduce";
  case Collective::AllGather:
    return "all_gather";
  case Collective::SendRecv:
    return "send_recv";
  }
  llvm_unreachable("unknown collective");
}

std::string ir::formatSizes(const Tensor &t) {
  std::string out = "[";
  for (size_t i = 0; i < t.shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(t.shape[i].size);
  return out + "]";
}

int64_t Tensor::numElements() const {
  int64_t n = 1;
  for (const ShapeDim &d : shape)
    n *= d.size;
  return shape.empty() ? 0 : n;
}

Tensor &Program::addTensor(std::string name, unsigned producer) {
  Tensor t;
  t.id = unsigned(tensors.size());
  t.name = std::move(name);
  t.producer = producer;
  tensors.push_back(std::move(t));
  return tensors.back();
}

Op &Program::addOp(OpTag tag, std::string name, llvm::ArrayRef<unsigned> inputs, llvm::SMLoc loc, OpSite site) {
  Op op;
  op.id = unsigned(ops.size());
  op.kind = tag.kind;
  op.role = tag.role;
  op.part = tag.part;
  op.name = std::move(name);
  op.site = site;
  op.inputs.assign(inputs.begin(), inputs.end());
  op.loc = loc;
  ops.push_back(std::move(op));
  return ops.back();
}

unsigned Program::add(OpTag tag, std::string name, llvm::ArrayRef<unsigned> inputs, llvm::SMLoc loc,
                      OpSite site) {
  Op &op = addOp(tag, name, inputs, loc, site);
  unsigned opId = op.id;
  unsigned out = addTensor(std::move(name), opId).id;
  ops[opId].outputs.push_back(out);
  return out;
}

const Op *Program::findOp(OpRole role) const {
  for (const Op &op : ops)
    if (op.role == role)
      return &op;
  return nullptr;
}

unsigned Program::insertOp(OpTag tag, std::string name, OpSite site, llvm::SMLoc loc,
                           llvm::ArrayRef<unsigned> inputs, llvm::function_ref<bool(const Op &)> redirect) {
  size_t position = 0;
  for (unsigned in : inputs)
    if (tensors[in].producer != ~0u)
      position = std::max<size_t>(position, tensors[in].producer + 1);
  unsigned intercepted = inputs.front();
  unsigned out = unsigned(tensors.size());
  for (size_t i = 0; i < ops.size(); ++i)
    if (redirect(ops[i]))
      for (unsigned &in : ops[i].inputs)
        if (in == intercepted) {
          assert(i >= position && "a redirected consumer precedes the new op's inputs");
          in = out;
        }
  Op op;
  op.kind = tag.kind;
  op.role = tag.role;
  op.part = tag.part;
  op.name = name;
  op.site = site;
  op.inputs.assign(inputs.begin(), inputs.end());
  op.outputs.push_back(out);
  op.loc = loc;
  ops.insert(ops.begin() + position, std::move(op));
  Tensor t;
  t.id = out;
  t.name = std::move(name);
  t.dtype = tensors[intercepted].dtype;
  tensors.push_back(std::move(t));
  if (output == intercepted && redirect(ops[position]))
    output = out;
  for (size_t i = 0; i < ops.size(); ++i) {
    ops[i].id = unsigned(i);
    for (unsigned o : ops[i].outputs)
      tensors[o].producer = unsigned(i);
  }
  return out;
}

std::vector<llvm::SmallVector<int32_t, 2>> LayerPlacement::slots(int64_t positions) const {
  std::vector<llvm::SmallVector<int32_t, 2>> out(positions);
  for (size_t e = 0; e < replicas.size(); ++e)
    for (int32_t p : replicas[e])
      if (p >= 0 && p < positions)
        out[p].push_back(int32_t(e));
  return out;
}

const LayerPlacement *Placement::forLayer(int64_t layer) const {
  for (const LayerPlacement &lp : layers)
    if (lp.layer == layer)
      return &lp;
  return nullptr;
}

Plan::Plan(const DeploySpec &d) : deploy(&d), layout(*d.strategy) {}

const ProcessGroup &Plan::group(GroupKind kind, int64_t index) const {
  for (const ProcessGroup &g : groups)
    if (g.kind == kind && g.index == index)
      return g;
  llvm_unreachable("no such group");
}

std::vector<const ProcessGroup *> Plan::groupsOf(GroupKind kind) const {
  std::vector<const ProcessGroup *> out;
  for (const ProcessGroup &g : groups)
    if (g.kind == kind)
      out.push_back(&g);
  return out;
}

int64_t Plan::maxSlotsPerGpu() const {
  if (!placed)
    return deploy->derived.expertsPerGpu;
  int64_t most = 0;
  for (const LayerPlacement &lp : placement.layers)
    for (const auto &held : lp.slots(ep()))
      most = std::max<int64_t>(most, int64_t(held.size()));
  return most;
}

bool Plan::crossesNodes(GroupKind kind) const {
  for (const ProcessGroup &g : groups)
    if (g.kind == kind) {
      for (int64_t r : g.ranks)
        if (devices[r].node != devices[g.ranks.front()].node)
          return true;
      return false;
    }
  return false;
}

std::vector<Program *> Plan::programs() {
  std::vector<Program *> out;
  if (prologue)
    out.push_back(&*prologue);
  if (!dense.ops.empty())
    out.push_back(&dense);
  if (!moe.ops.empty())
    out.push_back(&moe);
  if (epilogue)
    out.push_back(&*epilogue);
  if (boundary)
    out.push_back(&*boundary);
  return out;
}

std::vector<const Program *> Plan::programs() const {
  std::vector<const Program *> out;
  for (Program *p : const_cast<Plan *>(this)->programs())
    out.push_back(p);
  return out;
}

std::string ir::formatRanks(llvm::ArrayRef<int64_t> ranks) {
  std::string out = "[";
  for (size_t i = 0; i < ranks.size();) {
    size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1)
      ++j;
    if (i != 0)
      out += ", ";
    out += std::to_string(ranks[i]);
    if (j > i + 1)
      out += ".." + std::to_string(ranks[j]);
    else if (j == i + 1)
      out += ", " + std::to_string(ranks[j]);
    i = j + 1;
  }
  return out + "]";
}
