//===- SemaImpl.h - The checker behind runSema, shared by its files -*- C++ -*-===//
//
// Sema is split along its steps (Sema.h lists them): BlockChecker.cpp checks one block against its schema,
// Definitions.cpp builds each kind of definition, DeployChecks.cpp checks each deploy across its parts, and
// Requirements.cpp evaluates `require`. This header is private to lib/Sema.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_LIB_SEMA_SEMAIMPL_H
#define MOEC_LIB_SEMA_SEMAIMPL_H

#include "moec/Sema/Sema.h"
#include "moec/Sema/Schema.h"
#include "moec/Support/Strings.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSet.h"

#include <optional>

namespace moec::sema {

/// Limits that keep every plan's memory and time bounded (docs/reliability.md).
inline constexpr int64_t kMaxWorld = int64_t(1) << 17;            // 131,072 GPUs
inline constexpr int64_t kMaxPlacementEntries = int64_t(1) << 24; // expert slots x MoE layers

inline std::string quoted(llvm::StringRef s) { return "'" + s.str() + "'"; }

/// Where character \p index of the string literal \p e's value is in the source: exact when the literal has no
/// escapes, else the literal's opening quote.
llvm::SMLoc charLoc(const Expr &e, size_t index);

/// Check the string \p value (the literal \p e) with \p rule; report what is wrong, at the offending character,
/// as "<what> '<value>' is not valid: <problem>". False when it broke the rule.
bool checkUserString(const Expr &e, llvm::StringRef value, llvm::StringRef what,
                     std::optional<StringProblem> (*rule)(llvm::StringRef), DiagEngine &diags);

inline std::string joinNames(llvm::ArrayRef<llvm::StringRef> names) {
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
  /// With \p keysOptional (a definition read from a file, whose body only overrides) no key is required.
  BlockChecker(const Block &block, const BlockDesc &desc, DiagEngine &diags, const Definitions &defs,
               Spec &spec, bool keysOptional = false)
      : block(block), desc(desc), diags(diags), defs(defs), spec(spec), keysOptional(keysOptional) {
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
  /// The expression assigned to \p key, or null when the key is not written.
  const Expr *valueExpr(llvm::StringRef key) const {
    const AssignStmt *assign = assigns.lookup(key);
    return assign ? &assign->getValue() : nullptr;
  }
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

  void collect();

  std::optional<Value> evaluateKey(const AssignStmt &assign, const KeyDesc &kd);

  std::optional<Value> coerce(const AssignStmt &assign, const KeyDesc &kd, Value v);

  const Block &block;
  const BlockDesc &desc;
  DiagEngine &diags;
  const Definitions &defs;
  Spec &spec;
  bool keysOptional = false;
  llvm::StringMap<const AssignStmt *> assigns;
  llvm::StringMap<const Block *> subs;
  std::vector<const RequireStmt *> requires_;
  llvm::StringMap<State> state;
  llvm::StringMap<Value> results;
  llvm::StringSet<> suggested;
  bool ok = true;
};

/// Runs the steps of Sema.h over one compilation's modules.
class Sema {
public:
  Sema(Spec &spec, DiagEngine &diags) : spec(spec), diags(diags) {}

  bool run();

private:
  void collectDefinitions();
  BlockChecker check(const Block &block, const BlockDesc &desc);
  void buildGpu(const Block &block, const BlockDesc &desc);
  void buildModel(const Block &block, const BlockDesc &desc);
  /// `model NAME from "config.json"`: the model from a Hugging Face config (HfConfig.cpp), its body's keys
  /// overriding.
  void buildImportedModel(const Block &block, const BlockDesc &desc);
  bool importHfConfig(const Block &block, ModelSpec &model);
  bool checkAttention(BlockChecker &a, AttentionSpec &att);
  bool checkMoe(BlockChecker &m, MoeSpec &moe);
  void buildCluster(const Block &block, const BlockDesc &desc);
  void buildStrategy(const Block &block, const BlockDesc &desc);
  void buildWorkload(const Block &block, const BlockDesc &desc);
  void buildDeploy(const Block &block, const BlockDesc &desc);
  void buildService(const Block &block, const BlockDesc &desc);
  void checkDeploy(DeploySpec &d);

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
  llvm::StringMap<const DeploySpec *> deploys;
};

} // namespace moec::sema

#endif // MOEC_LIB_SEMA_SEMAIMPL_H
