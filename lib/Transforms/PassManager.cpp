//===- PassManager.cpp - Running, verifying, printing and timing passes ---===//
#include "moec/Transforms/Pass.h"

#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"

#include "fmt/format.h"

#include <chrono>
#include <sys/resource.h>

using namespace moec;

namespace {
std::vector<PassInfo> &registry() {
  static std::vector<PassInfo> passes = {
      {"expert-placement", "place every expert replica of every MoE layer on a rank of its EP group",
       createExpertPlacementPass, false},
      {"shape-inference", "infer every tensor's shape and every op's FLOPs and bytes", createShapeInferencePass,
       false},
      {"comm-insertion", "insert dispatch, combine, all-reduce and send/recv, with their traffic",
       createCommInsertionPass, false},
      {"cost-model", "time of every op, layer and step; throughput and achieved MFU", createCostModelPass, false},
      {"memory-check", "what the fullest GPU holds; an error when it does not fit", createMemoryCheckPass, false},
      {"verify", "check every invariant of the plan", createVerifyPass, false},
      {"check-requirements", "check the strategy's require constraints with what the plan measured",
       createCheckRequirementsPass, false},
  };
  return passes;
}
} // namespace

llvm::ArrayRef<PassInfo> moec::registeredPasses() { return registry(); }

void moec::registerPass(PassInfo info) {
  for (const PassInfo &p : registry())
    if (p.name == info.name)
      return;
  registry().push_back(std::move(info));
}

bool PassManager::parsePipeline(llvm::StringRef pipeline, std::string &error) {
  llvm::SmallVector<llvm::StringRef, 8> names;
  pipeline.split(names, ',', -1, /*KeepEmpty=*/false);
  if (names.empty()) {
    error = "empty pass pipeline";
    return false;
  }
  for (llvm::StringRef name : names) {
    name = name.trim();
    const PassInfo *found = nullptr;
    for (const PassInfo &info : registeredPasses())
      if (info.name == name)
        found = &info;
    if (!found) {
      error = "unknown pass '" + name.str() + "'; the passes are:";
      for (const PassInfo &info : registeredPasses())
        if (!info.testOnly)
          error += " " + info.name.str();
      return false;
    }
    addPass(found->create());
  }
  return true;
}

static size_t peakRss() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return size_t(usage.ru_maxrss) * 1024;
}

llvm::LogicalResult PassManager::run(ir::Plan &plan, PassContext &ctx) {
  for (size_t i = 0; i < passes.size(); ++i) {
    const std::unique_ptr<Pass> &pass = passes[i];
    auto start = std::chrono::steady_clock::now();
    llvm::LogicalResult result = pass->run(plan, ctx);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (timing)
      timings.push_back({pass->getName().str(), seconds, peakRss()});
    if (llvm::failed(result))
      return llvm::failure();
    // The verifier runs after every pass: a pass that breaks an invariant is caught where it did. Without
    // verifyEach, after the last one: what any pass broke is still caught before the plan is used.
    if ((verifyEach || i + 1 == passes.size()) && llvm::failed(verifyPlan(plan, ctx.diags)))
      return llvm::failure();
    if (printStream) {
      *printStream << "// -----// IR after " << pass->getName() << " //----- //\n";
      printPlan(plan, *printStream, *printSrcMgr);
    }
  }
  return llvm::success();
}

void moec::printTimings(llvm::ArrayRef<PassManager::Timing> timings, llvm::raw_ostream &os) {
  double total = 0;
  for (const PassManager::Timing &t : timings)
    total += t.seconds;
  os << "===-------------------------------------------------------------------------===\n"
     << "                         moec pass execution timing report\n"
     << "===-------------------------------------------------------------------------===\n";
  os << fmt::format("  Total: {:.4f} s\n\n", total);
  os << fmt::format("  {:>10}  {:>7}  {:>14}  {}\n", "wall (s)", "share", "peak RSS (MB)", "pass");
  for (const PassManager::Timing &t : timings)
    os << fmt::format("  {:>10.4f}  {:>6.1f}%  {:>14.1f}  {}\n", t.seconds,
                      total > 0 ? 100 * t.seconds / total : 0.0, double(t.peakBytes) / 1e6, t.name);
}
