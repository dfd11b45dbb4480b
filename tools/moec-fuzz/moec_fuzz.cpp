//===- moec_fuzz.cpp - libFuzzer target over the whole pipeline -----------===//
//
// Feeds arbitrary bytes through everything moec does with a spec: parse, check, lower, the default pass pipeline,
// and every emitter writing to memory (AST, IR, report as text and JSON, manifest, placement, launcher files, the
// five DOT views). File imports are off (only the bundled library), so the fuzzer never touches the file system.
// Any crash, sanitizer report, hang or leak is a bug; see docs/reliability.md for how to build and run it.
//
//===----------------------------------------------------------------------===//
#include "moec/Frontend/Frontend.h"
#include "moec/Target/Dot.h"
#include "moec/Target/Manifest.h"
#include "moec/Target/Report.h"
#include "moec/Transforms/Pass.h"

#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

using namespace moec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::SourceMgr srcMgr;
  std::string messages;
  llvm::raw_string_ostream diagStream(messages);
  DiagEngine diags(srcMgr, diagStream);
  FrontendOptions options;
  options.allowFileImports = false;
  FrontendResult front = runFrontendOnText(text, "fuzz.moe", options, diags);
  diags.printSummary();
  if (front.status != FrontendStatus::Ok)
    return 0;
  std::string out;
  llvm::raw_string_ostream os(out);
  printSpec(*front.spec, srcMgr, os);
  for (const auto &deploy : front.spec->deploys) {
    // Keep each input fast: the bench measures big plans; the fuzzer looks for crashes.
    if (deploy->derived.world > 4096)
      continue;
    std::unique_ptr<ir::Plan> plan = ir::lowerToPlan(*deploy);
    PassManager pm;
    pm.addDefaultPipeline();
    PassContext ctx{diags};
    if (llvm::failed(pm.run(*plan, ctx)))
      continue;
    ir::printPlan(*plan, os, srcMgr);
    printReport(*plan, diags, os);
    printReportJson(*plan, diags, os);
    writeManifest(*plan, text, os);
    writePlacementCsv(*plan, os);
    for (Launcher l : {Launcher::Torchrun, Launcher::Slurm, Launcher::Mpirun, Launcher::Kubernetes, Launcher::SGLang,
                       Launcher::VLLM, Launcher::Megatron})
      for (const LaunchFile &f : launchFiles(*plan, text, l, diags))
        os << f.path << f.text;
    for (View v : {View::Overview, View::Attention, View::Expert, View::Routing, View::Layer}) {
      ViewOptions vo;
      vo.view = v;
      DotGraph graph;
      std::string error;
      if (buildView(*plan, vo, graph, error))
        writeDot(graph, os);
    }
    out.clear();
  }
  return 0;
}
