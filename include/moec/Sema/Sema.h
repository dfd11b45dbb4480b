//===- Sema.h - Semantic analysis of moec modules ---------------*- C++ -*-===//
//
// Sema checks the parsed modules of one compilation and produces the typed deployment (moec/Deploy/Deploy.h):
//   1. collect the definitions of every module (unknown block kinds, missing names, duplicates);
//   2. check each block against its schema (unknown and duplicate keys, missing required keys) and evaluate its
//      keys (units, dimensions, types, ranges, references between keys, cycles);
//   3. check each definition on its own (attention kinds, route groups, hosts, rank order);
//   4. resolve each deploy, check the parallel arithmetic across its parts, compute the derived values, and
//      evaluate the strategy's `require` constraints.
// All problems are reported, not just the first; the result is usable only when no error was reported.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_SEMA_SEMA_H
#define MOEC_SEMA_SEMA_H

#include "moec/AST/AST.h"
#include "moec/Deploy/Deploy.h"
#include "moec/Sema/Value.h"
#include "moec/Support/Diagnostics.h"

#include "llvm/ADT/DenseMap.h"

#include <memory>
#include <vector>

namespace moec {

/// Everything one compilation knows about its input: the modules (the main file first, then its imports in the
/// order they were first reached) and the checked definitions, each in definition order.
class Spec : public RequirementChecker {
public:
  std::vector<std::unique_ptr<Module>> modules;
  std::vector<std::unique_ptr<GpuSpec>> gpus;
  std::vector<std::unique_ptr<ModelSpec>> models;
  std::vector<std::unique_ptr<ClusterSpec>> clusters;
  std::vector<std::unique_ptr<StrategySpec>> strategies;
  std::vector<std::unique_ptr<WorkloadSpec>> workloads;
  std::vector<std::unique_ptr<DeploySpec>> deploys;
  std::vector<std::unique_ptr<ServiceSpec>> services;
  /// The evaluated value of every assignment, for -emit=ast.
  llvm::DenseMap<const AssignStmt *, Value> values;
  /// When set, the one deploy to check (-deploy); the others are listed by name only, unchecked.
  std::string onlyDeploy;
  /// The buffer of each `model NAME from "file"` block's file, loaded by the front end.
  llvm::DenseMap<const Block *, unsigned> fromBuffers;
  /// The condition of every `require`, indexed by RequireSpec::id.
  std::vector<const Expr *> requireConditions;

  const DeploySpec *findDeploy(llvm::StringRef name) const;
  const ServiceSpec *findService(llvm::StringRef name) const;

  /// Evaluate the `require` constraints of \p deploy's strategy against the deploy's values, reporting each one
  /// that does not hold (with the values that made it fail). \p measured adds or overrides named values (the
  /// check-requirements pass passes what it measured on the final plan).
  bool check(const DeploySpec &deploy, const llvm::StringMap<int64_t> &measured,
             DiagEngine &diags) const override;
};

/// Check \p spec's modules and fill in its definitions. Returns false when any error was reported.
bool runSema(Spec &spec, DiagEngine &diags);

/// Check \p deploy across its parts (the degrees against the cluster and the model, the rank order, the `require`
/// lines) and compute its derived values, as Sema does for every deploy it checks; the strategy search calls it
/// for each candidate. Returns false when an error was reported.
bool checkDeployParts(const Spec &spec, DeploySpec &deploy, DiagEngine &diags);

/// The named values a `require` expression can use for \p deploy (world, ep, experts_per_gpu, ...).
llvm::StringMap<Value> requireEnvironment(const DeploySpec &deploy);

} // namespace moec

#endif // MOEC_SEMA_SEMA_H
