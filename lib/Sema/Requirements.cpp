//===- Requirements.cpp - The `require` lines of a strategy ------------------ -===//
//
// Each deploy evaluates its strategy's conditions against its derived values (requireEnvironment); the
// check-requirements pass calls Spec::check again on the final plan with what the plan measured.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

using namespace moec;
using namespace moec::sema;

namespace {
void collectIdents(const Expr &e, llvm::SmallVectorImpl<llvm::StringRef> &out) {
  switch (e.getKind()) {
  case Expr::Kind::Ident:
    if (!llvm::is_contained(out, llvm::cast<IdentExpr>(e).getName()))
      out.push_back(llvm::cast<IdentExpr>(e).getName());
    break;
  case Expr::Kind::Unary:
    collectIdents(llvm::cast<UnaryExpr>(e).getOperand(), out);
    break;
  case Expr::Kind::Binary:
    collectIdents(llvm::cast<BinaryExpr>(e).getLhs(), out);
    collectIdents(llvm::cast<BinaryExpr>(e).getRhs(), out);
    break;
  case Expr::Kind::List:
    for (const ExprPtr &x : llvm::cast<ListExpr>(e).getElements())
      collectIdents(*x, out);
    break;
  default:
    break;
  }
}

} // namespace


llvm::StringMap<Value> moec::requireEnvironment(const DeploySpec &d) {
  const ModelSpec &m = *d.model;
  const StrategySpec &s = *d.strategy;
  const DerivedValues &dv = d.derived;
  llvm::StringMap<Value> env;
  auto set = [&](llvm::StringRef name, int64_t v) { env[name] = Value::integer(v); };
  set("world", dv.world);
  set("nodes", d.cluster->nodes);
  set("gpus_per_node", d.cluster->gpusPerNode);
  set("ep", s.ep);
  set("dp", s.dp);
  set("tp", s.tp);
  set("etp", s.etp());
  set("pp", s.pp);
  set("redundant_experts", s.redundantExperts);
  set("experts", m.moe.experts);
  set("top_k", m.moe.topK);
  set("expert_slots", dv.expertSlots);
  set("experts_per_gpu", dv.expertsPerGpu);
  set("attention_dp", dv.attentionDp);
  set("ep_group_nodes", dv.epGroupNodes);
  set("layers", m.layers);
  set("dense_layers", m.denseLayerCount());
  set("moe_layers", dv.moeLayers);
  set("layers_per_stage", dv.layersPerStage);
  set("heads", m.attention.heads);
  set("kv_heads", m.attention.kvHeads);
  set("hidden", m.hidden);
  set("micro_batch", d.workload->microBatch);
  env["memory"] = Value::real(d.cluster->gpu->memory, Dim::Bytes);
  return env;
}

bool Spec::check(const DeploySpec &d, const llvm::StringMap<int64_t> &measured, DiagEngine &diags) const {
  llvm::StringMap<Value> env = requireEnvironment(d);
  for (const auto &entry : measured)
    env[entry.getKey()] = Value::integer(entry.getValue());
  bool ok = true;
  for (const RequireSpec &req : d.strategy->requires_) {
    const Expr &cond = *requireConditions[req.id];
    std::optional<Value> v = evaluate(cond, diags, [&](const IdentExpr &ident) -> std::optional<Value> {
      auto it = env.find(ident.getName());
      if (it != env.end())
        return it->second;
      std::vector<llvm::StringRef> names;
      for (const auto &entry : env)
        names.push_back(entry.getKey());
      llvm::sort(names);
      std::string hint = didYouMean(ident.getName(), names);
      diags.error(ident.getLoc(), "unknown name " + quoted(ident.getName()) + " in 'require'" +
                                      (hint.empty() ? "; the names are " + joinNames(names) : hint));
      return std::nullopt;
    });
    if (!v) {
      ok = false;
      continue;
    }
    if (v->kind != Value::Kind::Bool) {
      diags.error(cond.getLoc(), "'require' needs a condition, such as 'ep >= 16', but this is " +
                                     v->describeKind(), {cond.getRange()});
      ok = false;
      continue;
    }
    if (v->b)
      continue;
    llvm::SmallVector<llvm::StringRef, 4> idents;
    collectIdents(cond, idents);
    std::string values;
    for (llvm::StringRef name : idents)
      values += (values.empty() ? "" : ", ") + name.str() + " = " + env.find(name)->second.str();
    diags.error(req.loc, "requirement '" + req.text + "' does not hold in deploy " + quoted(d.name) +
                             (values.empty() ? std::string() : ": " + values),
                {cond.getRange()});
    ok = false;
  }
  return ok;
}

