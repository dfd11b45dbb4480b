//===- moec_fuzz.cpp - libFuzzer target over the whole pipeline -----------===//
//
// Feeds arbitrary bytes through everything moec does with a spec, by the driver's own path (the Pipeline
// library): parse, check, lower, the default pass pipeline, and every emitter writing to memory (AST, IR, report
// as text and JSON, manifest, placement, launcher files, the five DOT views), the strategy search of small
// searching deploys, and the JSON reader of `model ... from` configs (the same bytes, read as JSON). File imports
// are off (only the bundled library), so the fuzzer never touches the file system.
// Any crash, sanitizer report, hang or leak is a bug; see docs/reliability.md for how to build and run it.
//
//===----------------------------------------------------------------------===//
#include "moec/Frontend/Frontend.h"
#include "moec/Pipeline/Pipeline.h"
#include "moec/Pipeline/Search.h"
#include "moec/Pipeline/Service.h"
#include "moec/Support/LocatedJson.h"

#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

using namespace moec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  {
    JsonValue json;
    const char *errorAt = nullptr;
    std::string error;
    (void)parseJson(text, json, errorAt, error);
  }
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
  auto emitAll = [&](const ir::Plan *plan, EmitOptions options) {
    OutputSet outputs;
    emitOutputs(*front.spec, plan, options, text, srcMgr, diags, outputs);
  };
  emitAll(nullptr, EmitOptions());
  for (const auto &deploy : front.spec->deploys) {
    // Keep each input fast: the bench measures big plans; the fuzzer looks for crashes.
    if (deploy->derived.world > 4096)
      continue;
    if (deploy->strategy && deploy->strategy->search) {
      SearchResult search;
      if (deploy->derived.world <= 64 && searchDeploy(*front.spec, *deploy, diags, search)) {
        std::string table;
        llvm::raw_string_ostream os(table);
        printSearch(search, *deploy, false, os);
        printSearch(search, *deploy, true, os);
        (void)strategyBlock(*search.winner()->strategy);
      }
      continue;
    }
    Compilation compiled = compileDeploy(*deploy, PipelineOptions(), diags);
    if (!compiled.outcome)
      continue;
    EmitOptions options;
    options.outputPath = "fuzz-out"; // never written: the outputs stay in memory
    for (EmitKind emit : {EmitKind::IR, EmitKind::Report, EmitKind::Manifest, EmitKind::Placement}) {
      options.emit = emit;
      emitAll(compiled.plan.get(), options);
    }
    options.emit = EmitKind::Report;
    options.format = ReportFormat::Json;
    emitAll(compiled.plan.get(), options);
    options.emit = EmitKind::Launch;
    for (Launcher l : {Launcher::Torchrun, Launcher::Slurm, Launcher::Mpirun, Launcher::Kubernetes, Launcher::SGLang,
                       Launcher::VLLM, Launcher::Megatron, Launcher::LlmD, Launcher::AIConfigurator}) {
      options.launcher = l;
      emitAll(compiled.plan.get(), options);
    }
    options.emit = EmitKind::Dot;
    options.views = ViewChoice::All;
    emitAll(compiled.plan.get(), options);
  }
  for (const auto &service : front.spec->services) {
    // Small pools only, as above; the planner's probes compile each pool a few more times.
    bool small = true;
    for (const DeploySpec *d : {service->prefill, service->decode, service->aggregated})
      small &= !d || (d->derived.world <= 64 && !d->strategy->search);
    ServiceResult planned;
    if (!small || !planService(*front.spec, *service, 1, diags, planned))
      continue;
    EmitOptions options;
    options.outputPath = "fuzz-out";
    options.service = &planned;
    for (EmitKind emit : {EmitKind::Report, EmitKind::Manifest, EmitKind::Launch, EmitKind::IR}) {
      options.emit = emit;
      emitAll(nullptr, options);
    }
    options.emit = EmitKind::Report;
    options.format = ReportFormat::Json;
    emitAll(nullptr, options);
    options.emit = EmitKind::Launch;
    for (Launcher l : {Launcher::SGLang, Launcher::VLLM, Launcher::LlmD, Launcher::AIConfigurator}) {
      options.launcher = l;
      emitAll(nullptr, options);
    }
  }
  return 0;
}
