//===- Sema.cpp - Semantic analysis of moec modules -----------------------===//
//
// The algorithm is in Sema.h. Two helpers carry the weight: BlockChecker checks one block against its schema
// and evaluates its keys lazily (so that a key may refer to another key of its block, in any order, and a
// cycle is found rather than followed), and the per-kind `build*` functions turn checked keys into Spec structs
// and run the checks that span keys of one definition. Checks that span definitions run per deploy.
//
//===----------------------------------------------------------------------===//
#include "moec/Sema/Sema.h"
#include "moec/Deploy/Parallel.h"
#include "moec/Sema/Schema.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>

using namespace moec;

const DeploySpec *Spec::findDeploy(llvm::StringRef name) const {
  for (const auto &d : deploys)
    if (d->name == name)
      return d.get();
  return nullptr;
}

namespace {

/// Limits that keep every plan's memory and time bounded (docs/reliability.md).
constexpr int64_t kMaxWorld = int64_t(1) << 17;            // 131,072 GPUs
constexpr int64_t kMaxPlacementEntries = int64_t(1) << 24; // expert slots x MoE layers

std::string quoted(llvm::StringRef s) { return "'" + s.str() + "'"; }

std::string joinNames(llvm::ArrayRef<llvm::StringRef> names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i ? ", " : "") + names[i].str();
  return out;
}

/// The definitions of all modules, by kind, in definition order.
struct Definitions {
  llvm::StringMap<llvm::StringMap<const Block *>> byKind;

  const Block *find(llvm::StringRef kind, llvm::StringRef name) const {
    auto k = byKind.find(kind);
    if (k == byKind.end())
      return nullptr;
    auto d = k->second.find(name);
    return d == k->second.end() ? nullptr : d->second;
  }
  std::vector<llvm::StringRef> names(llvm::StringRef kind) const {
    std::vector<llvm::StringRef> out;
    auto k = byKind.find(kind);
    if (k != byKind.end())
      for (const auto &entry : k->second)
        out.push_back(entry.getKey());
    llvm::sort(out);
    return out;
  }
};

/// Checks one block against its schema and evaluates its keys on demand.
class BlockChecker {
public:
  BlockChecker(const Block &block, const BlockDesc &desc, DiagEngine &diags, const Definitions &defs,
               Spec &spec)
      : block(block), desc(desc), diags(diags), defs(defs), spec(spec) {
    collect();
  }

  /// The checked value of \p key, or nullopt when it is absent or wrong (already reported).
  std::optional<Value> get(llvm::StringRef key) {
    auto it = assigns.find(key);
    if (it == assigns.end())
      return std::nullopt;
    auto st = state.find(key);
    if (st != state.end()) {
      if (st->second == State::Done)
        return results.lookup(key);
      if (st->second == State::Failed)
        return std::nullopt;
      // InProgress: reported by the reference that closed the cycle.
      return std::nullopt;
    }
    state[key] = State::InProgress;
    const AssignStmt *assign = it->second;
    const KeyDesc *kd = desc.findKey(key);
    std::optional<Value> v = evaluateKey(*assign, *kd);
    if (v) {
      v = coerce(*assign, *kd, std::move(*v));
    }
    if (!v) {
      state[key] = State::Failed;
      ok = false;
      return std::nullopt;
    }
    state[key] = State::Done;
    results[key] = *v;
    spec.values[assign] = *v;
    return v;
  }

  bool has(llvm::StringRef key) const { return assigns.count(key) != 0; }
  /// True when \p key is set and its value checked out.
  bool valid(llvm::StringRef key) { return has(key) && get(key).has_value(); }

  int64_t getInt(llvm::StringRef key, int64_t dflt) {
    std::optional<Value> v = get(key);
    return v ? v->i : dflt;
  }
  double getReal(llvm::StringRef key, double dflt) {
    std::optional<Value> v = get(key);
    return v ? v->r : dflt;
  }
  std::optional<double> getOptionalReal(llvm::StringRef key) {
    std::optional<Value> v = get(key);
    return v ? std::optional<double>(v->r) : std::nullopt;
  }
  std::string getString(llvm::StringRef key) {
    std::optional<Value> v = get(key);
    return v ? v->s : std::string();
  }
  /// The enumerator chosen for \p key (the schema lists the same table's names), or \p dflt.
  template <SpelledEnum E> E getEnum(llvm::StringRef key, E dflt) {
    std::optional<Value> v = get(key);
    return v ? parseEnum<E>(v->s).value_or(dflt) : dflt;
  }

  /// Evaluate every key, so that each error is reported even when no later check reads the key.
  void evaluateAll() {
    for (const KeyDesc &k : desc.keys)
      get(k.name);
  }

  /// Fill in the locations of \p located.
  void locate(Located &located) const {
    located.loc = block.getLoc();
    for (const auto &entry : assigns)
      located.keys[entry.getKey()] = entry.second->getLoc();
  }

  const Block *subBlock(llvm::StringRef kind) const { return subs.lookup(kind); }
  const std::vector<const RequireStmt *> &getRequires() const { return requires_; }
  llvm::SMLoc locOf(llvm::StringRef key) const {
    auto it = assigns.find(key);
    return it == assigns.end() ? block.getLoc() : it->second->getLoc();
  }
  /// False when any key of this block failed to check.
  bool isOk() const { return ok; }
  const Block &getBlock() const { return block; }

private:
  enum class State { InProgress, Done, Failed };

  void collect() {
    for (const StmtPtr &stmt : block.getBody()) {
      if (auto *assign = llvm::dyn_cast<AssignStmt>(stmt.get())) {
        llvm::StringRef key = assign->getKey();
        if (!desc.findKey(key)) {
          std::vector<llvm::StringRef> names;
          for (const KeyDesc &k : desc.keys)
            names.push_back(k.name);
          std::string hint = didYouMean(key, names);
          if (!hint.empty())
            suggested.insert(closestMatch(key, names));
          if (hint.empty() && findNestedBlock(desc, key))
            hint = "; '" + key.str() + "' is a block: write '" + key.str() + " { ... }'";
          diags.error(assign->getLoc(), "unknown key " + quoted(key) + " in " + quoted(desc.kind) + " block" + hint,
                      assign->getKeyRange());
          ok = false;
          continue;
        }
        auto [it, inserted] = assigns.try_emplace(key, assign);
        if (!inserted) {
          diags.error(assign->getLoc(), "duplicate key " + quoted(key) + " in " + quoted(desc.kind) + " block",
                      assign->getKeyRange());
          diags.note(it->second->getLoc(), "first set here");
          ok = false;
        }
        continue;
      }
      if (auto *req = llvm::dyn_cast<RequireStmt>(stmt.get())) {
        if (!desc.allowsRequire) {
          diags.error(req->getLoc(), "'require' is only allowed in a strategy block, not in " +
                                         quoted(desc.kind));
          ok = false;
          continue;
        }
        requires_.push_back(req);
        continue;
      }
      const Block &sub = llvm::cast<BlockStmt>(stmt.get())->getBlock();
      const BlockDesc *subDesc = findNestedBlock(desc, sub.getKind());
      if (!subDesc) {
        std::string hint = didYouMean(sub.getKind(), desc.subBlocks);
        if (desc.subBlocks.empty())
          diags.error(sub.getLoc(), quoted(desc.kind) + " block takes no nested blocks; found " +
                                        quoted(sub.getKind()));
        else
          diags.error(sub.getLoc(), "unknown block " + quoted(sub.getKind()) + " in " + quoted(desc.kind) +
                                        " block; expected one of " + joinNames(desc.subBlocks) + hint);
        ok = false;
        continue;
      }
      if (sub.hasName()) {
        diags.error(sub.getNameLoc(), "nested block " + quoted(sub.getKind()) + " takes no name");
        ok = false;
      }
      auto [it, inserted] = subs.try_emplace(sub.getKind(), &sub);
      if (!inserted) {
        diags.error(sub.getLoc(), "duplicate block " + quoted(sub.getKind()) + " in " + quoted(desc.kind));
        diags.note(it->second->getLoc(), "first defined here");
        ok = false;
      }
    }
    // A key that an unknown key was taken for is not reported missing as well: one mistake, one error.
    for (const KeyDesc &k : desc.keys)
      if (k.required && !assigns.count(k.name) && !suggested.count(k.name)) {
        diags.error(block.getNameLoc(), "missing required key " + quoted(k.name) + " in " +
                                            (block.hasName() ? desc.kind.str() + " " + quoted(block.getName())
                                                             : quoted(desc.kind) + " block"));
        ok = false;
      }
      else if (k.required && !assigns.count(k.name))
        ok = false;
  }

  std::optional<Value> evaluateKey(const AssignStmt &assign, const KeyDesc &kd) {
    const Expr &expr = assign.getValue();
    // A bare name in an enumerator or reference key is the enumerator or the definition's name.
    if ((kd.type == KeyType::Enum || kd.type == KeyType::Ref) && llvm::isa<IdentExpr>(expr))
      return Value::symbol(llvm::cast<IdentExpr>(expr).getName().str());
    return evaluate(expr, diags, [&](const IdentExpr &ident) -> std::optional<Value> {
      llvm::StringRef name = ident.getName();
      if (assigns.count(name)) {
        auto st = state.find(name);
        if (st != state.end() && st->second == State::InProgress) {
          diags.error(ident.getLoc(), "cyclic reference: " + quoted(name) + " depends on itself");
          return std::nullopt;
        }
        std::optional<Value> v = get(name);
        if (v && v->kind == Value::Kind::Symbol) {
          diags.error(ident.getLoc(), quoted(name) + " is " + v->s + ", not a number");
          return std::nullopt;
        }
        return v;
      }
      std::vector<llvm::StringRef> names;
      for (const auto &entry : assigns)
        names.push_back(entry.getKey());
      llvm::sort(names);
      std::string msg = "unknown name " + quoted(name) + " in " + quoted(desc.kind) + " block";
      if (desc.findKey(name))
        msg = quoted(name) + " is not set in this " + quoted(desc.kind) + " block";
      diags.error(ident.getLoc(), msg + didYouMean(name, names));
      return std::nullopt;
    });
  }

  std::optional<Value> coerce(const AssignStmt &assign, const KeyDesc &kd, Value v) {
    const Expr &expr = assign.getValue();
    llvm::SMLoc loc = expr.getLoc();
    llvm::SMRange range = expr.getRange();
    std::string key = quoted(kd.name);
    auto fail = [&](const std::string &msg) -> std::optional<Value> {
      diags.error(loc, msg, range);
      return std::nullopt;
    };
    auto shown = [&] { return quoted(expr.getSourceText()); };

    switch (kd.type) {
    case KeyType::Int: {
      if (v.kind == Value::Kind::Real && v.dim == Dim::None && std::floor(v.r) == v.r &&
          std::fabs(v.r) < 9.0e18)
        v = Value::integer(static_cast<int64_t>(v.r));
      if (v.kind == Value::Kind::Real && v.dim == Dim::None)
        return fail(key + " must be a whole number, but " + shown() + " is " + formatNumber(v.r));
      if (v.kind != Value::Kind::Int)
        return fail(key + " expects an integer, but " + shown() + " is " + v.describeKind());
      if (v.i < kd.minInt)
        return fail(key + " must be at least " + std::to_string(kd.minInt) + ", but it is " +
                    std::to_string(v.i));
      if (v.i > kd.maxInt)
        return fail(key + " must be at most " + std::to_string(kd.maxInt) + ", but it is " +
                    std::to_string(v.i));
      return v;
    }
    case KeyType::Quantity: {
      if (v.isNumeric() && v.dim == Dim::None)
        return fail(key + " needs a unit: it is " + describe(kd.dim).str() + ", such as " +
                    formatQuantity(kd.dim == Dim::Bytes      ? 64e9
                                   : kd.dim == Dim::ByteRate ? 900e9
                                   : kd.dim == Dim::FlopRate ? 400e12
                                                             : 2e-6,
                                   kd.dim));
      if (!v.isNumeric())
        return fail(key + " expects " + describe(kd.dim).str() + ", but " + shown() + " is " +
                    v.describeKind());
      if (v.dim != kd.dim)
        return fail(key + " expects " + describe(kd.dim).str() + ", but " + shown() + " is " +
                    describe(v.dim).str());
      bool allowZero = kd.dim == Dim::Time;
      if (v.r < 0 || (!allowZero && v.r == 0))
        return fail(key + " must be " + (allowZero ? "zero or more" : "positive") + ", but it is " + v.str());
      return v;
    }
    case KeyType::Fraction:
    case KeyType::Real: {
      if (!v.isNumeric() || (v.dim != Dim::None && v.dim != Dim::Ratio))
        return fail(key + " expects " + (kd.type == KeyType::Fraction ? "a percentage" : "a number") + ", but " +
                    shown() + " is " + v.describeKind());
      if (kd.type == KeyType::Real && v.dim == Dim::Ratio)
        return fail(key + " expects a plain number, not a percentage");
      double r = v.asDouble();
      if (kd.type == KeyType::Fraction && v.dim == Dim::None && r > 1)
        return fail(key + " is a fraction of 1 or a percentage; " + formatNumber(r) + " is more than 100%" +
                    (r <= 100 ? "; did you mean " + formatNumber(r) + "%?" : std::string()));
      Value out = Value::real(r, kd.type == KeyType::Fraction ? Dim::Ratio : Dim::None);
      if (r < kd.minReal || r > kd.maxReal)
        return fail(key + " must be between " + Value::real(kd.minReal, out.dim).str() + " and " +
                    Value::real(kd.maxReal, out.dim).str() + ", but it is " + out.str());
      return out;
    }
    case KeyType::Enum: {
      if (v.kind != Value::Kind::Symbol)
        return fail(key + " expects one of " + joinNames(kd.enumerators) + ", written as a bare name");
      if (!llvm::is_contained(kd.enumerators, v.s))
        return fail("unknown " + key + " value " + quoted(v.s) + "; expected one of " +
                    joinNames(kd.enumerators) + didYouMean(v.s, kd.enumerators));
      return v;
    }
    case KeyType::Ref: {
      if (v.kind != Value::Kind::Symbol)
        return fail(key + " expects the name of a " + kd.refKind.str() + " definition");
      if (!defs.find(kd.refKind, v.s)) {
        std::vector<llvm::StringRef> names = defs.names(kd.refKind);
        std::string msg = "unknown " + kd.refKind.str() + " " + quoted(v.s);
        if (names.empty())
          msg += "; no " + kd.refKind.str() + " is defined";
        return fail(msg + didYouMean(v.s, names));
      }
      return v;
    }
    case KeyType::String:
      if (v.kind != Value::Kind::String)
        return fail(key + " expects a string, but " + shown() + " is " + v.describeKind());
      return v;
    case KeyType::StringList:
      if (v.kind != Value::Kind::List)
        return fail(key + " expects a list of strings, such as [\"host-a\", \"host-b\"]");
      for (const Value &e : v.list)
        if (e.kind != Value::Kind::String)
          return fail(key + " expects a list of strings, but an element is " + e.describeKind());
      return v;
    }
    llvm_unreachable("unknown key type");
  }

  const Block &block;
  const BlockDesc &desc;
  DiagEngine &diags;
  const Definitions &defs;
  Spec &spec;
  llvm::StringMap<const AssignStmt *> assigns;
  llvm::StringMap<const Block *> subs;
  std::vector<const RequireStmt *> requires_;
  llvm::StringMap<State> state;
  llvm::StringMap<Value> results;
  llvm::StringSet<> suggested;
  bool ok = true;
};

class Sema {
public:
  Sema(Spec &spec, DiagEngine &diags) : spec(spec), diags(diags) {}

  bool run() {
    diags.beginSorted();
    collectDefinitions();
    for (const auto &[kind, build] : std::initializer_list<std::pair<llvm::StringRef, void (Sema::*)(
                                         const Block &, const BlockDesc &)>>{
             {"gpu", &Sema::buildGpu},
             {"model", &Sema::buildModel},
             {"cluster", &Sema::buildCluster},
             {"strategy", &Sema::buildStrategy},
             {"workload", &Sema::buildWorkload},
             {"deploy", &Sema::buildDeploy}}) {
      for (const Block *block : ordered[kind])
        (this->*build)(*block, *findTopLevelBlock(kind));
    }
    diags.flushSorted();
    return !diags.hasErrors();
  }

private:
  void collectDefinitions() {
    for (const auto &module : spec.modules) {
      for (const auto &block : module->getBlocks()) {
        const BlockDesc *desc = findTopLevelBlock(block->getKind());
        if (!desc) {
          std::vector<llvm::StringRef> kinds;
          for (const BlockDesc *b : topLevelBlocks())
            kinds.push_back(b->kind);
          std::string hint = didYouMean(block->getKind(), kinds);
          for (const BlockDesc *b : topLevelBlocks())
            if (findNestedBlock(*b, block->getKind()))
              hint = "; " + quoted(block->getKind()) + " blocks belong inside a " + quoted(b->kind) + " block";
          diags.error(block->getLoc(), "unknown block kind " + quoted(block->getKind()) + hint);
          continue;
        }
        if (!block->hasName()) {
          diags.error(block->getLoc(), quoted(desc->kind) + " block needs a name, as in '" + desc->kind.str() +
                                           " Name { ... }'");
          continue;
        }
        auto &names = defs.byKind[desc->kind];
        auto [it, inserted] = names.try_emplace(block->getName(), block.get());
        if (!inserted) {
          diags.error(block->getNameLoc(),
                      "redefinition of " + desc->kind.str() + " " + quoted(block->getName()));
          diags.note(it->second->getNameLoc(), "previous definition is here");
          continue;
        }
        ordered[desc->kind].push_back(block.get());
      }
    }
  }

  BlockChecker check(const Block &block, const BlockDesc &desc) {
    return BlockChecker(block, desc, diags, defs, spec);
  }

  void buildGpu(const Block &block, const BlockDesc &desc) {
    BlockChecker c = check(block, desc);
    auto gpu = std::make_unique<GpuSpec>();
    c.locate(*gpu);
    gpu->name = block.getName().str();
    gpu->memory = c.getReal("memory", 0);
    gpu->compute = c.getReal("compute", 0);
    gpu->memBandwidth = c.getReal("mem_bandwidth", 0);
    gpu->launchOverhead = c.getReal("launch_overhead", 2e-6);
    gpu->reservedMemory = c.getReal("reserved_memory", 512.0 * 1024 * 1024);
    c.evaluateAll();
    valid[block.getName().str() + "@gpu"] = c.isOk();
    gpus[block.getName()] = gpu.get();
    spec.gpus.push_back(std::move(gpu));
  }

  void buildModel(const Block &block, const BlockDesc &desc) {
    BlockChecker c = check(block, desc);
    auto model = std::make_unique<ModelSpec>();
    c.locate(*model);
    model->name = block.getName().str();
    model->layers = c.getInt("layers", 1);
    model->denseLayers = c.getInt("dense_layers", 0);
    model->hidden = c.getInt("hidden", 1);
    model->vocab = c.getInt("vocab", 0);
    model->precision = c.getEnum("precision", Precision::BF16);
    model->dropout = c.getReal("dropout", 0);
    c.evaluateAll();
    bool ok = c.isOk();

    if (c.valid("dense_layers") && c.valid("layers") && model->denseLayers > model->layers) {
      diags.error(c.locOf("dense_layers"), "dense_layers = " + std::to_string(model->denseLayers) +
                                               " is more than the model's " + std::to_string(model->layers) +
                                               " layers");
      ok = false;
    }

    // attention
    if (const Block *sub = c.subBlock("attention")) {
      BlockChecker a = check(*sub, *findNestedBlock(desc, "attention"));
      AttentionSpec &att = model->attention;
      a.locate(att);
      att.kind = a.getEnum("kind", AttentionKind::MHA);
      att.heads = a.getInt("heads", 1);
      att.headDim = a.getInt("head_dim", 1);
      att.kvHeads = a.getInt("kv_heads", att.heads);
      att.qLoraRank = a.getInt("q_lora_rank", 0);
      att.kvLoraRank = a.getInt("kv_lora_rank", 0);
      att.ropeHeadDim = a.getInt("rope_head_dim", 0);
      a.evaluateAll();
      ok &= a.isOk();
      if (a.isOk())
        ok &= checkAttention(a, att);
    } else {
      diags.error(block.getNameLoc(), "model " + quoted(block.getName()) + " has no 'attention' block");
      ok = false;
    }

    if (const Block *sub = c.subBlock("mlp")) {
      BlockChecker m = check(*sub, *findNestedBlock(desc, "mlp"));
      MlpSpec mlp;
      m.locate(mlp);
      mlp.hidden = m.getInt("hidden", 1);
      mlp.activation = m.getEnum("activation", Activation::Gelu);
      m.evaluateAll();
      ok &= m.isOk();
      model->mlp = mlp;
    } else if (model->denseLayers > 0) {
      diags.error(c.locOf("dense_layers"), "model " + quoted(block.getName()) + " has " +
                                               std::to_string(model->denseLayers) +
                                               (model->denseLayers == 1 ? " dense layer" : " dense layers") +
                                               " but no 'mlp' block to define their FFN");
      ok = false;
    }

    if (const Block *sub = c.subBlock("moe")) {
      BlockChecker m = check(*sub, *findNestedBlock(desc, "moe"));
      MoeSpec &moe = model->moe;
      m.locate(moe);
      moe.experts = m.getInt("experts", 1);
      moe.topK = m.getInt("top_k", 1);
      moe.expertHidden = m.getInt("expert_hidden", 1);
      moe.activation = m.getEnum("activation", Activation::Gelu);
      moe.sharedExperts = m.getInt("shared_experts", 0);
      moe.routeGroups = m.getInt("route_groups", 0);
      moe.routeNodes = m.getInt("route_nodes", 0);
      moe.capacityFactor = m.getOptionalReal("capacity_factor");
      m.evaluateAll();
      ok &= m.isOk();
      if (m.isOk())
        ok &= checkMoe(m, moe);
    } else {
      diags.error(block.getNameLoc(), "model " + quoted(block.getName()) +
                                          " has no 'moe' block; moec plans Mixture-of-Experts models");
      ok = false;
    }
    if (ok && model->denseLayers == model->layers)
      diags.warning(c.locOf("dense_layers"), "every layer of model " + quoted(block.getName()) +
                                                 " is dense; its 'moe' block is never used");
    valid[block.getName().str() + "@model"] = ok;
    models[block.getName()] = model.get();
    spec.models.push_back(std::move(model));
  }

  bool checkAttention(BlockChecker &a, AttentionSpec &att) {
    bool ok = true;
    auto only = [&](llvm::StringRef key, llvm::StringRef kinds) {
      if (a.has(key)) {
        diags.error(a.locOf(key), quoted(key) + " applies only to attention kind " + kinds.str() +
                                      ", not " + spell(att.kind).str());
        ok = false;
      }
    };
    auto need = [&](llvm::StringRef key) {
      if (!a.has(key)) {
        diags.error(a.getBlock().getLoc(), "attention kind " + spell(att.kind).str() + " needs " + quoted(key));
        ok = false;
      }
    };
    switch (att.kind) {
    case AttentionKind::MHA:
      if (a.has("kv_heads") && att.kvHeads != att.heads) {
        diags.error(a.locOf("kv_heads"), "multi-head attention has one KV head per head: kv_heads = " +
                                             std::to_string(att.kvHeads) + " differs from heads = " +
                                             std::to_string(att.heads) + "; use kind = gqa");
        ok = false;
      }
      only("q_lora_rank", "mla");
      only("kv_lora_rank", "mla");
      only("rope_head_dim", "mla");
      break;
    case AttentionKind::GQA:
      need("kv_heads");
      only("q_lora_rank", "mla");
      only("kv_lora_rank", "mla");
      only("rope_head_dim", "mla");
      if (a.has("kv_heads") && att.heads % att.kvHeads != 0) {
        diags.error(a.locOf("kv_heads"), "kv_heads = " + std::to_string(att.kvHeads) +
                                             " does not divide heads = " + std::to_string(att.heads));
        ok = false;
      }
      break;
    case AttentionKind::MLA:
      need("kv_lora_rank");
      need("rope_head_dim");
      only("kv_heads", "gqa");
      att.kvHeads = att.heads;
      break;
    }
    return ok;
  }

  bool checkMoe(BlockChecker &m, MoeSpec &moe) {
    bool ok = true;
    if (moe.topK > moe.experts) {
      diags.error(m.locOf("top_k"), "top_k = " + std::to_string(moe.topK) + " is more than the " +
                                        std::to_string(moe.experts) + " experts");
      ok = false;
    }
    if (moe.routeGroups) {
      if (moe.experts % moe.routeGroups != 0) {
        diags.error(m.locOf("route_groups"), "route_groups = " + std::to_string(moe.routeGroups) +
                                                 " does not divide the " + std::to_string(moe.experts) +
                                                 " experts");
        ok = false;
      }
    }
    if (moe.routeNodes && moe.routeGroups && moe.routeNodes > moe.routeGroups) {
      diags.error(m.locOf("route_nodes"), "route_nodes = " + std::to_string(moe.routeNodes) +
                                              " is more than route_groups = " + std::to_string(moe.routeGroups));
      ok = false;
    }
    if (moe.routeNodes && moe.routeNodes > moe.topK)
      diags.warning(m.locOf("route_nodes"), "route_nodes = " + std::to_string(moe.routeNodes) +
                                                " is more than top_k = " + std::to_string(moe.topK) +
                                                ": a token cannot reach more nodes than experts");
    if (moe.capacityFactor && *moe.capacityFactor < 1)
      diags.warning(m.locOf("capacity_factor"),
                    "capacity_factor below 1 drops tokens even under perfectly uniform routing");
    return ok;
  }

  void buildCluster(const Block &block, const BlockDesc &desc) {
    BlockChecker c = check(block, desc);
    auto cluster = std::make_unique<ClusterSpec>();
    c.locate(*cluster);
    cluster->name = block.getName().str();
    cluster->nodes = c.getInt("nodes", 1);
    cluster->gpusPerNode = c.getInt("gpus_per_node", 1);
    if (std::optional<Value> g = c.get("gpu"))
      cluster->gpu = gpus.lookup(g->s);
    if (std::optional<Value> h = c.get("hosts"))
      for (const Value &v : h->list)
        cluster->hosts.push_back(v.s);
    cluster->networkInterface = c.getString("network_interface");
    cluster->rendezvousPort = c.getInt("rendezvous_port", 29500);
    c.evaluateAll();
    bool ok = c.isOk();
    if (cluster->gpu && !valid[cluster->gpu->name + "@gpu"])
      ok = false;

    for (auto [kind, link] : {std::pair<llvm::StringRef, LinkSpec *>{"intra_node", &cluster->intraNode},
                              {"inter_node", &cluster->interNode}}) {
      const Block *sub = c.subBlock(kind);
      if (!sub) {
        diags.error(block.getNameLoc(), "cluster " + quoted(block.getName()) + " has no " + quoted(kind) +
                                            " block (its bandwidth and latency)");
        ok = false;
        continue;
      }
      BlockChecker l = check(*sub, *findNestedBlock(desc, kind));
      l.locate(*link);
      link->bandwidth = l.getReal("bandwidth", 1);
      link->latency = l.getReal("latency", 0);
      l.evaluateAll();
      ok &= l.isOk();
    }

    if (c.has("hosts") && c.get("hosts")) {
      if (int64_t(cluster->hosts.size()) != cluster->nodes) {
        diags.error(c.locOf("hosts"), "hosts lists " + std::to_string(cluster->hosts.size()) +
                                          " names for " + std::to_string(cluster->nodes) + " nodes");
        ok = false;
      }
      llvm::StringMap<size_t> seen;
      for (size_t i = 0; i < cluster->hosts.size(); ++i) {
        if (cluster->hosts[i].empty()) {
          diags.error(c.locOf("hosts"), "host name " + std::to_string(i) + " is empty");
          ok = false;
        } else if (!seen.try_emplace(cluster->hosts[i], i).second) {
          diags.error(c.locOf("hosts"), "host " + quoted(cluster->hosts[i]) + " is listed twice");
          ok = false;
        }
      }
    }
    if (c.valid("nodes") && c.valid("gpus_per_node") && cluster->world() > kMaxWorld) {
      diags.error(c.locOf("nodes"), "the cluster has " + std::to_string(cluster->world()) +
                                        " GPUs, more than the limit of " + std::to_string(kMaxWorld));
      ok = false;
    }
    if (ok && cluster->nodes > 1 && cluster->interNode.bandwidth > cluster->intraNode.bandwidth)
      diags.warning(cluster->interNode.locOf("bandwidth"),
                    "inter_node bandwidth is higher than intra_node bandwidth; are they swapped?");
    valid[block.getName().str() + "@cluster"] = ok;
    clusters[block.getName()] = cluster.get();
    spec.clusters.push_back(std::move(cluster));
  }

  void buildStrategy(const Block &block, const BlockDesc &desc) {
    BlockChecker c = check(block, desc);
    auto s = std::make_unique<StrategySpec>();
    c.locate(*s);
    s->name = block.getName().str();
    s->ep = c.getInt("ep", 1);
    s->dp = c.getInt("dp", 1);
    s->tp = c.getInt("tp", 1);
    s->pp = c.getInt("pp", 1);
    s->placement = c.getEnum("placement", PlacementPolicy::Contiguous);
    s->redundantExperts = c.getInt("redundant_experts", 0);
    s->expertLoad = c.getString("expert_load");
    s->expertRoutes = c.getString("expert_routes");
    s->placementFile = c.getString("placement_file");
    s->placementObjective = c.getEnum("placement_objective", PlacementObjective::Time);
    if (c.valid("dispatch_precision"))
      s->dispatchPrecision = c.getEnum("dispatch_precision", Precision::BF16);
    if (c.valid("combine_precision"))
      s->combinePrecision = c.getEnum("combine_precision", Precision::BF16);
    c.evaluateAll();
    bool ok = c.isOk();
    if (std::optional<Value> order = c.get("order")) {
      if (!parseOrder(order->s, s->order)) {
        diags.error(c.locOf("order"), "order " + quoted(order->s) +
                                          " is not a permutation of tp, ep, dp and pp separated by '-', "
                                          "fastest-varying first, such as \"tp-ep-dp-pp\"");
        ok = false;
      }
    }
    for (const RequireStmt *req : c.getRequires()) {
      s->requires_.push_back({req->getCondition().getSourceText().str(), req->getLoc(),
                              unsigned(spec.requireConditions.size())});
      spec.requireConditions.push_back(&req->getCondition());
    }

    auto needsFile = [&](PlacementPolicy policy, llvm::StringRef key, const std::string &value) {
      if (ok && s->placement == policy && value.empty()) {
        diags.error(c.locOf("placement"), "placement = " + spell(policy).str() + " needs " + quoted(key));
        ok = false;
      }
    };
    needsFile(PlacementPolicy::Explicit, "placement_file", s->placementFile);
    needsFile(PlacementPolicy::Balanced, "expert_load", s->expertLoad);
    if (ok && s->placement != PlacementPolicy::Balanced)
      for (llvm::StringRef key : {"expert_load", "expert_routes", "placement_objective"})
        if (c.has(key))
          diags.warning(c.locOf(key), quoted(key) + " is only read by placement = balanced");
    if (ok && !s->placementFile.empty() && s->placement != PlacementPolicy::Explicit)
      diags.warning(c.locOf("placement_file"), "placement_file is only read by placement = explicit");
    valid[block.getName().str() + "@strategy"] = ok;
    strategies[block.getName()] = s.get();
    spec.strategies.push_back(std::move(s));
  }

  void buildWorkload(const Block &block, const BlockDesc &desc) {
    BlockChecker c = check(block, desc);
    auto w = std::make_unique<WorkloadSpec>();
    c.locate(*w);
    w->name = block.getName().str();
    w->phase = c.getEnum("phase", Phase::Prefill);
    w->microBatch = c.getInt("micro_batch", 1);
    w->seq = c.getInt("seq", 0);
    w->context = c.getInt("context", 0);
    w->mfu = c.getOptionalReal("mfu");
    w->bandwidthEfficiency = c.getOptionalReal("bandwidth_efficiency");
    w->overlap = c.getEnum("overlap", Overlap::None);
    w->overlapEfficiency = c.getReal("overlap_efficiency", 1);
    w->attentionKernel = c.getEnum("attention_kernel", AttentionKernel::Fused);
    c.evaluateAll();
    bool ok = c.isOk();
    if (c.has("phase") && c.get("phase")) {
      if (w->phase == Phase::Prefill) {
        if (!c.has("seq")) {
          diags.error(block.getNameLoc(), "a prefill workload needs 'seq', the tokens per sequence");
          ok = false;
        }
        if (c.has("context"))
          diags.warning(c.locOf("context"), "'context' is the KV length of a decode workload; prefill ignores it");
      } else {
        if (!c.has("context")) {
          diags.error(block.getNameLoc(), "a decode workload needs 'context', the KV-cache length per sequence");
          ok = false;
        }
        if (c.has("seq"))
          diags.warning(c.locOf("seq"), "'seq' is the prompt length of a prefill workload; decode ignores it");
      }
    }
    if (ok && w->phase == Phase::Prefill && w->microBatch * w->seq > (int64_t(1) << 32)) {
      diags.error(c.locOf("micro_batch"), "micro_batch * seq = " + std::to_string(w->microBatch * w->seq) +
                                              " tokens per group is more than the limit of 2^32");
      ok = false;
    }
    valid[block.getName().str() + "@workload"] = ok;
    workloads[block.getName()] = w.get();
    spec.workloads.push_back(std::move(w));
  }

  void buildDeploy(const Block &block, const BlockDesc &desc) {
    BlockChecker c = check(block, desc);
    auto d = std::make_unique<DeploySpec>();
    c.locate(*d);
    d->name = block.getName().str();
    d->requirements = &spec;
    d->sourcePath = diags.getSourceMgr()
                        .getMemoryBuffer(diags.getSourceMgr().FindBufferContainingLoc(block.getLoc()))
                        ->getBufferIdentifier()
                        .str();
    bool ok = true;
    auto ref = [&](llvm::StringRef key, auto &map) -> decltype(map.lookup("")) {
      std::optional<Value> v = c.get(key);
      if (!v) {
        ok = false;
        return nullptr;
      }
      if (!valid[v->s + "@" + key.str()])
        ok = false;
      return map.lookup(v->s);
    };
    d->model = ref("model", models);
    d->cluster = ref("cluster", clusters);
    d->strategy = ref("strategy", strategies);
    d->workload = ref("workload", workloads);
    c.evaluateAll();
    if (ok && c.isOk())
      checkDeploy(*d);
    spec.deploys.push_back(std::move(d));
  }

  /// The checks that span the parts of a deploy, and the derived values.
  void checkDeploy(DeploySpec &d) {
    const ModelSpec &m = *d.model;
    const ClusterSpec &cl = *d.cluster;
    const StrategySpec &s = *d.strategy;
    DerivedValues &dv = d.derived;
    auto num = [](int64_t v) { return std::to_string(v); };
    auto inDeploy = [&] { diags.note(d.locOf("strategy"), "in deploy " + quoted(d.name)); };

    dv.world = cl.world();
    int64_t product = 1;
    bool overflow = false;
    for (int64_t degree : {s.pp, s.dp, s.ep, s.tp})
      overflow |= __builtin_mul_overflow(product, degree, &product);
    if (overflow || product != dv.world) {
      diags.error(s.loc, "strategy " + quoted(s.name) + " does not fit cluster " + quoted(cl.name) +
                             ": pp * dp * ep * tp = " + num(s.pp) + " * " + num(s.dp) + " * " + num(s.ep) +
                             " * " + num(s.tp) + " = " + (overflow ? "(overflows)" : num(product)) +
                             ", but nodes * gpus_per_node = " + num(cl.nodes) + " * " + num(cl.gpusPerNode) +
                             " = " + num(dv.world));
      inDeploy();
      return;
    }
    bool ok = true;
    if (m.attention.heads % s.tp != 0) {
      diags.error(s.locOf("tp"), "tp = " + num(s.tp) + " does not divide the " + num(m.attention.heads) +
                                     " attention heads of model " + quoted(m.name));
      diags.note(m.attention.locOf("heads"), "heads set here");
      ok = false;
    } else if (m.attention.kind == AttentionKind::GQA && m.attention.kvHeads % s.tp != 0 &&
               s.tp % m.attention.kvHeads != 0) {
      diags.error(s.locOf("tp"), "tp = " + num(s.tp) + " neither divides nor is a multiple of the " +
                                     num(m.attention.kvHeads) + " KV heads of model " + quoted(m.name));
      diags.note(m.attention.locOf("kv_heads"), "kv_heads set here");
      ok = false;
    }
    if (m.moe.expertHidden % s.tp != 0) {
      diags.error(s.locOf("tp"), "tp = " + num(s.tp) + " does not divide expert_hidden = " +
                                     num(m.moe.expertHidden) + " of model " + quoted(m.name) +
                                     " (experts are split tp ways)");
      ok = false;
    }
    if (m.mlp && m.denseLayers > 0 && m.mlp->hidden % s.tp != 0) {
      diags.error(s.locOf("tp"), "tp = " + num(s.tp) + " does not divide the dense FFN hidden size " +
                                     num(m.mlp->hidden) + " of model " + quoted(m.name));
      ok = false;
    }
    if (s.pp > m.layers) {
      diags.error(s.locOf("pp"), "pp = " + num(s.pp) + " is more than the " + num(m.layers) + " layers of model " +
                                     quoted(m.name));
      ok = false;
    }
    if (!ok) {
      inDeploy();
      return;
    }

    RankLayout layout(s);
    dv.expertSlots = m.moe.experts + s.redundantExperts;
    if (dv.expertSlots * m.moeLayers() > kMaxPlacementEntries) {
      diags.error(s.locOf("redundant_experts"),
                  "the placement table would hold " + num(dv.expertSlots * m.moeLayers()) +
                      " entries (expert slots x MoE layers), more than the limit of " + num(kMaxPlacementEntries));
      inDeploy();
      return;
    }
    dv.expertsPerGpu = (dv.expertSlots + s.ep - 1) / s.ep;
    dv.attentionDp = s.dp * s.ep;
    dv.layersPerStage = (m.layers + s.pp - 1) / s.pp;
    dv.moeLayers = m.moeLayers();
    llvm::SmallVector<int64_t, 16> nodes;
    for (int64_t r : layout.group(Axis::EP, 0))
      nodes.push_back(r / cl.gpusPerNode);
    llvm::sort(nodes);
    dv.epGroupNodes = std::unique(nodes.begin(), nodes.end()) - nodes.begin();

    if (dv.expertSlots % s.ep != 0) {
      int64_t fewer = s.ep - dv.expertSlots % s.ep;
      if (s.ep > dv.expertSlots)
        diags.warning(s.locOf("ep"), "ep = " + num(s.ep) + " is more than the " + num(dv.expertSlots) +
                                         " expert slots: " + num(s.ep - dv.expertSlots) +
                                         " GPUs of each EP group hold no expert");
      else
        diags.warning(s.locOf("ep"), num(dv.expertSlots) + " expert slots do not divide evenly over ep = " +
                                         num(s.ep) + ": " + num(fewer) + " GPUs of each EP group hold " +
                                         num(dv.expertsPerGpu - 1) + " instead of " + num(dv.expertsPerGpu));
      inDeploy();
    }
    if (m.moe.routeNodes > dv.epGroupNodes) {
      diags.error(m.moe.locOf("route_nodes"), "route_nodes = " + num(m.moe.routeNodes) +
                                                  " is more than the " + num(dv.epGroupNodes) +
                                                  " nodes one EP group spans");
      inDeploy();
      return;
    }
    spec.check(d, {}, diags);
  }

  Spec &spec;
  DiagEngine &diags;
  Definitions defs;
  llvm::StringMap<std::vector<const Block *>> ordered;
  llvm::StringMap<bool> valid;
  llvm::StringMap<const GpuSpec *> gpus;
  llvm::StringMap<const ModelSpec *> models;
  llvm::StringMap<const ClusterSpec *> clusters;
  llvm::StringMap<const StrategySpec *> strategies;
  llvm::StringMap<const WorkloadSpec *> workloads;
};

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
  set("pp", s.pp);
  set("redundant_experts", s.redundantExperts);
  set("experts", m.moe.experts);
  set("top_k", m.moe.topK);
  set("expert_slots", dv.expertSlots);
  set("experts_per_gpu", dv.expertsPerGpu);
  set("attention_dp", dv.attentionDp);
  set("ep_group_nodes", dv.epGroupNodes);
  set("layers", m.layers);
  set("dense_layers", m.denseLayers);
  set("moe_layers", dv.moeLayers);
  set("layers_per_stage", dv.layersPerStage);
  set("heads", m.attention.heads);
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
      diags.error(ident.getLoc(), "unknown name " + quoted(ident.getName()) + " in 'require'" +
                                      didYouMean(ident.getName(), names));
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

bool moec::runSema(Spec &spec, DiagEngine &diags) { return Sema(spec, diags).run(); }
