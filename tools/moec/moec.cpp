//===- moec.cpp - The moec compiler driver --------------------------------===//
//
// moec compiles a deployment spec for a Mixture-of-Experts model into an execution plan.
//
//   moec [options] <file.moe>
//
// The driver only parses options and calls the libraries. Exit codes:
//   0  success;
//   1  the input was diagnosed as wrong (every error printed as file:line:col with the source line);
//   2  bad invocation or I/O error (unknown option, unreadable input, unwritable output).
// Outputs are written to a temporary file and renamed only on success, so a failed run never leaves a partial
// output behind.
//
//===----------------------------------------------------------------------===//
#include "moec/Frontend/Frontend.h"
#include "moec/Pipeline/Pipeline.h"
#include "moec/Pipeline/Search.h"
#include "moec/Pipeline/Service.h"
#include "moec/Support/Diagnostics.h"
#include "moec/Support/VerifyDiagnostics.h"
#include "moec/TestPasses/TestPasses.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#ifndef MOEC_VERSION
#define MOEC_VERSION "0.0.0"
#endif

using namespace moec;
namespace cl = llvm::cl;

namespace {
enum ExitCode { ExitSuccess = 0, ExitInputError = 1, ExitUsageError = 2 };

cl::OptionCategory moecCategory("moec options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<file.moe>"), cl::Required, cl::cat(moecCategory));

cl::opt<EmitKind> emit("emit", cl::desc("What to print"), cl::init(EmitKind::Ast),
                       cl::values(clEnumValN(EmitKind::Ast, "ast",
                                             "the checked AST with locations, values and derived values"),
                                  clEnumValN(EmitKind::IR, "ir", "the Plan IR after the pass pipeline"),
                                  clEnumValN(EmitKind::Report, "report",
                                             "the deployment report: validation, memory, time, communication"),
                                  clEnumValN(EmitKind::Dot, "dot", "a Graphviz view of the plan (-view)"),
                                  clEnumValN(EmitKind::Svg, "svg", "the same view laid out as SVG"),
                                  clEnumValN(EmitKind::Manifest, "manifest", "the JSON launch manifest"),
                                  clEnumValN(EmitKind::Placement, "placement",
                                             "the expert placement as CSV: layer,expert,replica,rank"),
                                  clEnumValN(EmitKind::Search, "search",
                                             "a searching strategy's ranked candidates (-format=json for tools)"),
                                  clEnumValN(EmitKind::Strategy, "strategy",
                                             "the search's winning strategy, as a block to paste"),
                                  clEnumValN(EmitKind::Launch, "launch",
                                             "launcher files and the manifest, in the directory -o names"),
                                  clEnumValN(EmitKind::Trace, "trace",
                                             "the forecast step as a Chrome Trace / Perfetto JSON timeline"),
                                  clEnumValN(EmitKind::Html, "html",
                                             "one self-contained HTML page: report, charts, views")),
                       cl::cat(moecCategory));

cl::opt<Launcher> launcher(
    "launcher", cl::desc("The launcher -emit=launch writes files for (default: torchrun)"),
    cl::init(Launcher::Torchrun),
    cl::values(clEnumValN(Launcher::Torchrun, "torchrun", "one torchrun command per node, static rendezvous"),
               clEnumValN(Launcher::Slurm, "slurm", "an sbatch script starting one torchrun per node"),
               clEnumValN(Launcher::Mpirun, "mpirun", "an Open MPI hostfile, run script and per-rank GPU wrapper"),
               clEnumValN(Launcher::Kubernetes, "kubernetes", "a LeaderWorkerSet, one pod per node"),
               clEnumValN(Launcher::SGLang, "sglang", "SGLang server flags and its expert-location file"),
               clEnumValN(Launcher::VLLM, "vllm", "vLLM serve flags"),
               clEnumValN(Launcher::Megatron, "megatron", "Megatron-Core parallelism flags"),
               clEnumValN(Launcher::TrtLlm, "trtllm",
                          "TensorRT-LLM trtllm-serve under mpirun, with its LLM API options"),
               clEnumValN(Launcher::LlmD, "llm-d", "llm-d-modelservice parallelism values"),
               clEnumValN(Launcher::AIConfigurator, "aiconfigurator",
                          "AIConfigurator generator_config.yaml Workers sections")),
    cl::cat(moecCategory));

cl::opt<PlacementFormat> placementFormat(
    "placement-format", cl::desc("Format of -emit=placement (docs/interop.md)"), cl::init(PlacementFormat::Csv),
    cl::values(clEnumValN(PlacementFormat::Csv, "csv", "layer,expert,replica,rank (placement_file reads it back)"),
               clEnumValN(PlacementFormat::SGLang, "sglang", "SGLang's --init-expert-location JSON"),
               clEnumValN(PlacementFormat::TrtLlm, "trtllm", "TensorRT-LLM's moe_load_balancer YAML"),
               clEnumValN(PlacementFormat::VLLM, "vllm", "vLLM's proposed initial expert map (MoE layers only)")),
    cl::cat(moecCategory));
cl::opt<ViewChoice> view(
    "view", cl::desc("Which view -emit=dot and -emit=svg draw"), cl::init(ViewChoice::Overview),
    cl::values(clEnumValN(ViewChoice::Overview, "overview", "replicas, EP groups, nodes, GPUs, experts"),
               clEnumValN(ViewChoice::Attention, "attention", "the attention ops of one GPU (-gpu)"),
               clEnumValN(ViewChoice::Expert, "expert", "the MoE block of one GPU (-gpu)"),
               clEnumValN(ViewChoice::Routing, "routing", "token routing of one layer (-layer)"),
               clEnumValN(ViewChoice::Layer, "layer", "one layer of one replica (-layer, -replica)"),
               clEnumValN(ViewChoice::All, "all", "all five, as files in the directory -o names")),
    cl::cat(moecCategory));

cl::opt<int64_t> viewLayer("layer", cl::desc("The layer a view shows (default: the first MoE layer)"),
                           cl::value_desc("n"), cl::init(-1), cl::cat(moecCategory));
cl::opt<int64_t> viewReplica("replica", cl::desc("The data-parallel replica a view shows (default 0)"),
                             cl::value_desc("n"), cl::init(0), cl::cat(moecCategory));
cl::opt<bool> traceAllGpus("all-gpus", cl::desc("-emit=trace: show every GPU (default: per pipeline stage its busiest "
                                                "GPU and one GPU on each other node of its EP group)"),
                           cl::cat(moecCategory));
cl::opt<int64_t> viewGpu("gpu", cl::desc("The GPU (global rank) a view or the trace shows (default 0; the trace: "
                                         "see -all-gpus)"),
                         cl::value_desc("n"),
                         cl::init(0), cl::cat(moecCategory));

cl::opt<ReportFormat> format("format", cl::desc("Format of -emit=report"), cl::init(ReportFormat::Text),
                             cl::values(clEnumValN(ReportFormat::Text, "text", "aligned tables for people"),
                                        clEnumValN(ReportFormat::Json, "json", "JSON for tools")),
                             cl::cat(moecCategory));

const std::string passesHelp =
    "Run these passes, comma-separated, instead of the default pipeline (" + kDefaultPipeline.str() + ")";
cl::opt<std::string> passPipeline("passes", cl::desc(passesHelp), cl::value_desc("a,b,c"), cl::cat(moecCategory));

cl::opt<bool> printIRAfterAll("print-ir-after-all", cl::desc("Print the IR to stderr after every pass"),
                              cl::cat(moecCategory));

cl::opt<bool> timePasses("time-passes", cl::desc("Print each pass's wall time and peak memory to stderr"),
                         cl::cat(moecCategory));

cl::opt<std::string> outputPath("o", cl::desc("Write the output to <path> ('-' for standard output)"),
                                cl::value_desc("path"), cl::init("-"), cl::cat(moecCategory));

cl::list<std::string> includeDirs("I", cl::desc("Add <dir> to the import search path"), cl::value_desc("dir"),
                                  cl::Prefix, cl::cat(moecCategory));

cl::opt<std::string> deployName("deploy", cl::desc("The deploy block to compile (default: the only one)"),
                                cl::value_desc("name"), cl::cat(moecCategory));

cl::opt<std::string> serviceName("service", cl::desc("The service block to plan (default: the only one, when no "
                                                     "-deploy is given)"),
                                 cl::value_desc("name"), cl::cat(moecCategory));
cl::opt<unsigned> searchThreads("j", cl::desc("Threads that compile a search's candidates (0: one per core; the "
                                             "result is the same for any count)"),
                                 cl::value_desc("n"), cl::init(0), cl::cat(moecCategory));
cl::opt<bool> warningsAsErrors("Werror", cl::desc("Treat warnings as errors"), cl::cat(moecCategory));

cl::opt<bool> verifyDiags("verify-diagnostics",
                          cl::desc("Check the diagnostics against `expected-error {{...}}` comments in the input "
                                   "instead of printing them (exit 0 when they agree)"),
                          cl::cat(moecCategory));

cl::opt<unsigned> errorLimit("error-limit", cl::desc("Stop printing errors after <n> (0: no limit)"),
                             cl::value_desc("n"), cl::init(20), cl::cat(moecCategory));

void printVersion(llvm::raw_ostream &os) { os << "moec " << MOEC_VERSION << "\n"; }

int usageError(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "moec") << message << "\n";
  return ExitUsageError;
}

int fail(DiagEngine &diags, const Outcome &outcome) {
  if (outcome.status == Status::UsageError)
    return usageError(outcome.message);
  diags.printSummary();
  return int(outcome.status);
}
} // namespace

int compile(llvm::SourceMgr &srcMgr, DiagEngine &diags);

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerTestPasses();
  cl::HideUnrelatedOptions(moecCategory);
  cl::SetVersionPrinter(printVersion);
  cl::AddExtraVersionPrinter([](llvm::raw_ostream &) {});
  if (!cl::ParseCommandLineOptions(argc, argv,
                                   "moec: compile a Mixture-of-Experts deployment spec into an execution plan\n\n"
                                   "  Exit codes: 0 success; 1 the input was diagnosed as wrong;\n"
                                   "  2 bad invocation or I/O error.\n",
                                   &llvm::errs()))
    return ExitUsageError;

  llvm::SourceMgr srcMgr;
  DiagEngine diags(srcMgr);
  diags.setWarningsAsErrors(warningsAsErrors);
  diags.setErrorLimit(verifyDiags ? 0 : unsigned(errorLimit));
  diags.setSilent(verifyDiags);
  int rc = compile(srcMgr, diags);
  if (!verifyDiags || rc == ExitUsageError)
    return rc;
  // The diagnostics were recorded, not printed: compare them with the input's expectations.
  return verifyDiagnostics(diags, llvm::errs()) ? ExitSuccess : ExitInputError;
}

int compile(llvm::SourceMgr &srcMgr, DiagEngine &diags) {
  FrontendOptions options;
  options.includeDirs.assign(includeDirs.begin(), includeDirs.end());
  // Past the AST only the selected deploy is compiled, so only it is checked: another deploy's problems (or
  // warnings, under -Werror) do not break it. -emit=ast checks them all.
  if (emit != EmitKind::Ast)
    options.onlyDeploy = deployName;
  FrontendResult front = runFrontend(inputFile, options, diags);
  if (front.status != FrontendStatus::Ok) {
    diags.printSummary();
    return front.status == FrontendStatus::IoError ? ExitUsageError : ExitInputError;
  }
  const Spec &spec = *front.spec;

  if (!deployName.empty() && !spec.findDeploy(deployName)) {
    const DeploySpec *unused;
    return fail(diags, selectDeploy(spec, deployName, inputFile, diags, unused));
  }
  if (emit == EmitKind::Ast && (!passPipeline.empty() || printIRAfterAll || timePasses))
    return usageError("-passes, -print-ir-after-all and -time-passes act on the plan: use them with -emit=ir");
  // No option is ignored silently: one that the chosen emit does not read is an error.
  llvm::StringRef emitName = spell(emit.getValue());
  auto notFor = [&](llvm::StringRef option, llvm::StringRef needs) {
    return usageError(option + " has no effect with -emit=" + emitName + ": it applies to " + needs);
  };
  if (format.getNumOccurrences() && emit != EmitKind::Report && emit != EmitKind::Search)
    return notFor("-format", "-emit=report and -emit=search");
  if (!passPipeline.empty() && emit != EmitKind::IR)
    return notFor("-passes", "-emit=ir (every other emit needs the whole default pipeline)");
  if (launcher.getNumOccurrences() && emit != EmitKind::Launch)
    return notFor("-launcher", "-emit=launch");
  if (placementFormat.getNumOccurrences() && emit != EmitKind::Placement)
    return notFor("-placement-format", "-emit=placement");
  if (searchThreads.getNumOccurrences() && emit == EmitKind::Ast)
    return notFor("-j", "a deploy whose strategy searches");
  if (traceAllGpus && emit != EmitKind::Trace)
    return notFor("-all-gpus", "-emit=trace");
  if (traceAllGpus && viewGpu.getNumOccurrences())
    return usageError("-gpu and -all-gpus choose the GPUs a trace shows: give one");
  if (viewGpu.getNumOccurrences() && emit == EmitKind::Trace && !(view.getNumOccurrences() ||
      viewLayer.getNumOccurrences() || viewReplica.getNumOccurrences())) {
    // -gpu=N chooses the trace's one GPU.
  } else if ((view.getNumOccurrences() || viewLayer.getNumOccurrences() || viewReplica.getNumOccurrences() ||
       viewGpu.getNumOccurrences()) &&
      emit != EmitKind::Dot && emit != EmitKind::Svg)
    return notFor(view.getNumOccurrences() ? "-view" : viewLayer.getNumOccurrences() ? "-layer"
                  : viewReplica.getNumOccurrences()  ? "-replica"
                                                     : "-gpu",
                  "-emit=dot and -emit=svg");

  // A service plans all its pools (docs/serving.md).
  const ServiceSpec *service = nullptr;
  if (!serviceName.empty() && !deployName.empty())
    return usageError("-service and -deploy choose what to compile: give one");
  if (Outcome selected = selectService(spec, serviceName, deployName, inputFile, service); !selected)
    return fail(diags, selected);
  ServiceResult planned;
  if (service && emit != EmitKind::Ast) {
    if (emit == EmitKind::Search || emit == EmitKind::Strategy)
      return usageError("-emit=" + emitName + " searches one deploy; service '" + service->name +
                        "' searches each pool whose strategy searches: use -emit=report");
    bool searches = false;
    for (const DeploySpec *d : {service->prefill, service->decode, service->aggregated})
      searches |= d && d->strategy->search;
    if (searchThreads.getNumOccurrences() && !searches)
      return usageError("-j sets the threads of a strategy search; no pool of service '" + service->name +
                        "' searches its strategy");
    if (Outcome ok = planService(spec, *service, searchThreads, diags, planned); !ok)
      return fail(diags, ok);
  } else if (!serviceName.empty() && emit == EmitKind::Ast) {
    return notFor("-service", "a plan (every emit but -emit=ast)");
  }

  // Everything past the AST works on one deploy.
  Compilation compiled;
  SearchResult search;
  const DeploySpec *searched = nullptr;
  if (emit != EmitKind::Ast && !service) {
    const DeploySpec *deploy = nullptr;
    if (Outcome selected = selectDeploy(spec, deployName, inputFile, diags, deploy); !selected)
      return fail(diags, selected);
    if ((emit == EmitKind::Search || emit == EmitKind::Strategy) && !deploy->strategy->search)
      return usageError("-emit=" + emitName + " needs a strategy with a 'search' block; strategy '" +
                        deploy->strategy->name + "' has none");
    if (searchThreads.getNumOccurrences() && !deploy->strategy->search)
      return usageError("-j sets the threads of a strategy search; strategy '" + deploy->strategy->name +
                        "' of deploy '" + deploy->name + "' has no 'search' block");
    if (deploy->strategy->search) {
      // Search, then compile the winner for every other emit (docs/language.md, *Strategy search*).
      if (Outcome found = searchDeploy(spec, *deploy, diags, search, searchThreads); !found)
        return fail(diags, found);
      searched = deploy;
      deploy = search.winner()->deploy.get();
    }
    if (emit != EmitKind::Search && emit != EmitKind::Strategy) {
      PipelineOptions pipeline;
      pipeline.passes = passPipeline;
      pipeline.printIRAfterAll = printIRAfterAll ? &llvm::errs() : nullptr;
      pipeline.timing = timePasses;
      compiled = compileDeploy(*deploy, pipeline, diags);
      if (timePasses && compiled.outcome.status != Status::UsageError)
        printTimings(compiled.timings, llvm::errs());
      if (!compiled.outcome)
        return fail(diags, compiled.outcome);
    }
  }

  EmitOptions emitOptions;
  emitOptions.emit = emit;
  emitOptions.format = format;
  emitOptions.launcher = launcher;
  emitOptions.placementFormat = placementFormat;
  emitOptions.views = view;
  emitOptions.where.layer = viewLayer;
  emitOptions.where.replica = viewReplica;
  emitOptions.where.gpu = viewGpu;
  if (emit == EmitKind::Trace && viewGpu.getNumOccurrences())
    emitOptions.traceRanks = {viewGpu};
  emitOptions.traceAllRanks = traceAllGpus;
  emitOptions.outputPath = outputPath;
  emitOptions.search = searched ? &search : nullptr;
  emitOptions.searched = searched;
  emitOptions.service = service && emit != EmitKind::Ast ? &planned : nullptr;
  llvm::StringRef sourceText = srcMgr.getMemoryBuffer(srcMgr.getMainFileID())->getBuffer();
  OutputSet outputs;
  if (Outcome emitted = emitOutputs(spec, compiled.plan.get(), emitOptions, sourceText, srcMgr, diags, outputs);
      !emitted)
    return fail(diags, emitted);
  if (Outcome written = writeOutputs(outputs, outputPath); !written)
    return fail(diags, written);
  diags.printSummary();
  return ExitSuccess;
}
