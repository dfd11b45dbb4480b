//===- Sema.cpp - Semantic analysis of moec modules -----------------------===//
//
// The algorithm is in Sema.h; this file runs its steps and collects the definitions. Two helpers carry the
// weight: BlockChecker (BlockChecker.cpp) checks one block against its schema and evaluates its keys lazily (so that
// a key may refer to another key of its block, in any order, and a cycle is found rather than followed), and the
// per-kind `build*` functions (Definitions.cpp) turn checked keys into Deploy structs and run the checks that span
// keys of one definition. Checks that span definitions run per deploy (DeployChecks.cpp).
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>

using namespace moec;
using namespace moec::sema;

const DeploySpec *Spec::findDeploy(llvm::StringRef name) const {
  for (const auto &d : deploys)
    if (d->name == name)
      return d.get();
  return nullptr;
}

const ServiceSpec *Spec::findService(llvm::StringRef name) const {
  for (const auto &s : services)
    if (s->name == name)
      return s.get();
  return nullptr;
}

bool Sema::run() {
  diags.beginSorted();
  collectDefinitions();
  for (const auto &[kind, build] : std::initializer_list<std::pair<llvm::StringRef, void (Sema::*)(
                                       const Block &, const BlockDesc &)>>{
           {"gpu", &Sema::buildGpu},
           {"model", &Sema::buildModel},
           {"cluster", &Sema::buildCluster},
           {"strategy", &Sema::buildStrategy},
           {"workload", &Sema::buildWorkload},
           {"deploy", &Sema::buildDeploy},
           {"service", &Sema::buildService}}) {
    for (const Block *block : ordered[kind])
      (this->*build)(*block, *findTopLevelBlock(kind));
  }
  diags.flushSorted();
  return !diags.hasErrors();
}

void Sema::collectDefinitions() {
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

BlockChecker Sema::check(const Block &block, const BlockDesc &desc) {
  return BlockChecker(block, desc, diags, defs, spec);
}

bool moec::runSema(Spec &spec, DiagEngine &diags) { return Sema(spec, diags).run(); }
