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
#include "moec/Transforms/EngineInputs.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

using namespace moec;

namespace {

/// A small deploy (4 decoder layers, the first dense; 8 experts, ep 8 with 8 redundant) for the engine readers.
const DeploySpec &engineDeploy() {
  static llvm::SourceMgr srcMgr;
  static std::string messages;
  static llvm::raw_string_ostream stream(messages);
  static DiagEngine diags(srcMgr, stream);
  static FrontendResult front = [] {
    FrontendOptions options;
    options.allowFileImports = false;
    return runFrontendOnText(R"(
gpu G { memory = 80 GB; compute = 989 TFLOPS; mem_bandwidth = 3.35 TB/s; }
model M { layers = 4; dense_layers = 1; hidden = 256; precision = bf16;
  attention { kind = mha; heads = 4; head_dim = 64; } mlp { hidden = 512; activation = gelu; }
  moe { experts = 8; top_k = 2; expert_hidden = 128; activation = silu; } }
cluster C { nodes = 1; gpus_per_node = 8; gpu = G; intra_node { bandwidth = 450 GB/s; latency = 2 us; } }
strategy S { ep = 8; dp = 1; tp = 1; pp = 1; placement = contiguous; redundant_experts = 8; }
workload W { phase = prefill; micro_batch = 1; seq = 16; }
deploy D { model = M; cluster = C; strategy = S; workload = W; }
)",
                             "engine.moe", options, diags);
  }();
  return *front.spec->deploys.front();
}

/// The input as each engine file moec reads: JSON loads and placements, TensorRT-LLM's YAML and safetensors.
void fuzzEngineReaders(llvm::StringRef text) {
  const DeploySpec &d = engineDeploy();
  llvm::SourceMgr srcMgr;
  std::string messages;
  llvm::raw_string_ostream stream(messages);
  DiagEngine diags(srcMgr, stream);
  unsigned id = srcMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "engine-input"), llvm::SMLoc());
  llvm::StringRef held = srcMgr.getMemoryBuffer(id)->getBuffer();
  (void)engine::readJsonLoads(held, "engine-input", *d.model, diags);
  (void)engine::readJsonPlacement(held, "engine-input", d, diags);
  (void)engine::readTrtllmPlacement(held, "engine-input", d, diags);
  engine::Loads loads;
  (void)engine::addSafetensorsCounts(held, "engine-input", *d.model, loads, diags);
  diags.printSummary();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  {
    JsonValue json;
    const char *errorAt = nullptr;
    std::string error;
    (void)parseJson(text, json, errorAt, error);
  }
  fuzzEngineReaders(text);
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
    for (EmitKind emit : {EmitKind::IR, EmitKind::Report, EmitKind::Manifest, EmitKind::Placement, EmitKind::Trace}) {
      options.emit = emit;
      emitAll(compiled.plan.get(), options);
    }
    options.emit = EmitKind::Report;
    options.format = ReportFormat::Json;
    emitAll(compiled.plan.get(), options);
    options.emit = EmitKind::Launch;
    for (Launcher l : {Launcher::Torchrun, Launcher::Slurm, Launcher::Mpirun, Launcher::Kubernetes, Launcher::SGLang,
                       Launcher::VLLM, Launcher::Megatron, Launcher::LlmD, Launcher::AIConfigurator,
                       Launcher::TrtLlm}) {
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
