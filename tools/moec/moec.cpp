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
#include "moec/IR/Plan.h"
#include "moec/Target/Dot.h"
#include "moec/Target/Manifest.h"
#include "moec/Target/Report.h"
#include "moec/Transforms/Pass.h"
#include "moec/Support/Diagnostics.h"
#include "moec/Support/OutputFile.h"
#include "moec/Support/VerifyDiagnostics.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
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

enum class EmitKind { Ast, IR, Report, Dot, Svg, Manifest, Launch, Placement };
enum class ViewKind { Overview, Attention, Expert, Routing, Layer, All };
enum class Format { Text, Json };

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
                                  clEnumValN(EmitKind::Launch, "launch",
                                             "launcher files and the manifest, in the directory -o names")),
                       cl::cat(moecCategory));

cl::opt<Launcher> launcher(
    "launcher", cl::desc("The launcher -emit=launch writes files for"), cl::init(Launcher::Torchrun),
    cl::values(clEnumValN(Launcher::Torchrun, "torchrun", "one torchrun command per node, static rendezvous"),
               clEnumValN(Launcher::Slurm, "slurm", "an sbatch script starting one torchrun per node"),
               clEnumValN(Launcher::Mpirun, "mpirun", "an Open MPI hostfile, rankfile and command"),
               clEnumValN(Launcher::Kubernetes, "kubernetes", "a LeaderWorkerSet, one pod per node"),
               clEnumValN(Launcher::SGLang, "sglang", "SGLang server flags and its expert-location file"),
               clEnumValN(Launcher::VLLM, "vllm", "vLLM serve flags"),
               clEnumValN(Launcher::Megatron, "megatron", "Megatron-Core parallelism flags")),
    cl::cat(moecCategory));

cl::opt<ViewKind> view("view", cl::desc("Which view -emit=dot and -emit=svg draw"), cl::init(ViewKind::Overview),
                       cl::values(clEnumValN(ViewKind::Overview, "overview", "replicas, EP groups, nodes, GPUs, experts"),
                                  clEnumValN(ViewKind::Attention, "attention", "the attention ops of one GPU (-gpu)"),
                                  clEnumValN(ViewKind::Expert, "expert", "the MoE block of one GPU (-gpu)"),
                                  clEnumValN(ViewKind::Routing, "routing", "token routing of one layer (-layer)"),
                                  clEnumValN(ViewKind::Layer, "layer", "one layer of one replica (-layer, -replica)"),
                                  clEnumValN(ViewKind::All, "all", "all five, as files in the directory -o names")),
                       cl::cat(moecCategory));

cl::opt<int64_t> viewLayer("layer", cl::desc("The layer a view shows (default: the first MoE layer)"),
                           cl::value_desc("n"), cl::init(-1), cl::cat(moecCategory));
cl::opt<int64_t> viewReplica("replica", cl::desc("The data-parallel replica a view shows (default 0)"),
                             cl::value_desc("n"), cl::init(0), cl::cat(moecCategory));
cl::opt<int64_t> viewGpu("gpu", cl::desc("The GPU (global rank) a view shows (default 0)"), cl::value_desc("n"),
                         cl::init(0), cl::cat(moecCategory));

cl::opt<Format> format("format", cl::desc("Format of -emit=report"), cl::init(Format::Text),
                       cl::values(clEnumValN(Format::Text, "text", "aligned tables for people"),
                                  clEnumValN(Format::Json, "json", "JSON for tools")),
                       cl::cat(moecCategory));

cl::opt<std::string> passPipeline("passes",
                                  cl::desc("Run these passes, comma-separated, instead of the default pipeline "
                                           "(expert-placement,shape-inference,comm-insertion,cost-model,memory-check,verify)"),
                                  cl::value_desc("a,b,c"), cl::cat(moecCategory));

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

/// Write \p files into the directory \p dir: every file is prepared before any is renamed into place.
int writeFiles(llvm::StringRef dir, const std::vector<std::pair<std::string, std::string>> &files,
               const std::vector<bool> &executable) {
  std::vector<std::unique_ptr<OutputFile>> outputs;
  std::vector<std::string> paths;
  for (const auto &[name, text] : files) {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    if (std::error_code ec = llvm::sys::fs::create_directories(llvm::sys::path::parent_path(p)))
      return usageError("cannot create directory '" + llvm::sys::path::parent_path(p) + "': " + ec.message());
    std::string error;
    std::unique_ptr<OutputFile> out = OutputFile::create(p, error);
    if (!out)
      return usageError(error);
    out->os() << text;
    outputs.push_back(std::move(out));
    paths.push_back(std::string(p));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string error;
    if (!outputs[i]->commit(error))
      return usageError(error);
    if (i < executable.size() && executable[i])
      llvm::sys::fs::setPermissions(paths[i], llvm::sys::fs::perms(0755));
  }
  return ExitSuccess;
}

/// -emit=launch: the manifest and the launcher's files, in the directory -o names.
int emitLaunch(const ir::Plan &plan, llvm::StringRef sourceText, DiagEngine &diags) {
  if (outputPath == "-" || outputPath.empty())
    return usageError("-emit=launch writes several files: name their directory with -o");
  std::vector<LaunchFile> files = launchFiles(plan, sourceText, launcher, diags);
  if (diags.hasErrors()) {
    diags.printSummary();
    return ExitInputError;
  }
  std::vector<std::pair<std::string, std::string>> named;
  std::vector<bool> executable;
  for (LaunchFile &f : files) {
    named.push_back({f.path, std::move(f.text)});
    executable.push_back(f.executable);
  }
  int rc = writeFiles(outputPath, named, executable);
  if (rc == ExitSuccess)
    diags.printSummary();
  return rc;
}

/// -emit=dot / -emit=svg: one view to -o, or with -view=all the five views as files in the directory -o names.
/// Every view is built and rendered before any file is written, so a failure leaves no partial set behind.
int emitViews(const ir::Plan &plan, DiagEngine &diags) {
  bool svg = emit == EmitKind::Svg;
  std::vector<View> views;
  if (view == ViewKind::All)
    views = {View::Overview, View::Attention, View::Expert, View::Routing, View::Layer};
  else
    views = {static_cast<View>(static_cast<int>(view.getValue()))};
  if (view == ViewKind::All && (outputPath == "-" || outputPath.empty()))
    return usageError("-view=all writes five files: name their directory with -o");

  std::vector<std::pair<std::string, std::string>> files; // name, content
  for (View v : views) {
    ViewOptions options;
    options.view = v;
    options.layer = viewLayer;
    options.replica = viewReplica;
    options.gpu = viewGpu;
    DotGraph graph;
    std::string error;
    if (!buildView(plan, options, graph, error))
      return usageError(error);
    std::string text;
    llvm::raw_string_ostream os(text);
    writeDot(graph, os);
    if (svg) {
      std::string rendered;
      if (!renderSvg(text, rendered, error))
        return usageError(error);
      text = std::move(rendered);
    }
    files.push_back({viewFileName(plan, options, svg ? "svg" : "dot"), std::move(text)});
  }

  if (view == ViewKind::All) {
    if (int rc = writeFiles(outputPath, files, {}))
      return rc;
  } else {
    std::string error;
    std::unique_ptr<OutputFile> out = OutputFile::create(outputPath, error);
    if (!out)
      return usageError(error);
    out->os() << files.front().second;
    if (!out->commit(error))
      return usageError(error);
  }
  diags.printSummary();
  return ExitSuccess;
}
} // namespace

int compile(llvm::SourceMgr &srcMgr, DiagEngine &diags);

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
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
  FrontendResult front = runFrontend(inputFile, options, diags);
  if (front.status == FrontendStatus::IoError) {
    diags.printSummary();
    return ExitUsageError;
  }
  if (front.status != FrontendStatus::Ok) {
    diags.printSummary();
    return ExitInputError;
  }
  const Spec &spec = *front.spec;

  if (!deployName.empty() && !spec.findDeploy(deployName)) {
    std::string names;
    for (const auto &d : spec.deploys)
      names += (names.empty() ? "" : ", ") + d->name;
    return usageError("no deploy named '" + deployName + "' in '" + inputFile + "'" +
                      (names.empty() ? std::string("; it defines none") : "; it defines: " + names));
  }

  if (emit == EmitKind::Ast && (!passPipeline.empty() || printIRAfterAll || timePasses))
    return usageError("-passes, -print-ir-after-all and -time-passes act on the plan: use them with -emit=ir");

  // Everything past the AST works on one deploy.
  const DeploySpec *deploy = nullptr;
  if (emit != EmitKind::Ast) {
    if (!deployName.empty()) {
      deploy = spec.findDeploy(deployName);
    } else if (spec.deploys.size() == 1) {
      deploy = spec.deploys.front().get();
    } else if (spec.deploys.empty()) {
      // At the start of the file: every input diagnostic carries a location.
      const llvm::MemoryBuffer *main = srcMgr.getMemoryBuffer(srcMgr.getMainFileID());
      diags.error(llvm::SMLoc::getFromPointer(main->getBufferStart()),
                  "'" + inputFile + "' defines no deploy block: nothing to compile");
    } else {
      std::string names;
      for (const auto &d : spec.deploys)
        names += (names.empty() ? "" : ", ") + d->name;
      return usageError("'" + inputFile + "' defines several deploys (" + names + "): choose one with -deploy");
    }
    if (!deploy) {
      diags.printSummary();
      return ExitInputError;
    }
  }

  std::unique_ptr<ir::Plan> plan;
  if (deploy) {
    PassManager pm;
    if (passPipeline.empty()) {
      pm.addDefaultPipeline();
    } else {
      std::string error;
      if (!pm.parsePipeline(passPipeline, error))
        return usageError(error);
    }
    if (printIRAfterAll)
      pm.enablePrintIRAfterAll(llvm::errs(), srcMgr);
    if (timePasses)
      pm.enableTiming();
    plan = ir::lowerToPlan(*deploy);
    PassContext ctx{diags};
    llvm::LogicalResult result = pm.run(*plan, ctx);
    if (timePasses)
      pm.printTimings(llvm::errs());
    if (llvm::failed(result) || diags.hasErrors()) {
      diags.printSummary();
      return ExitInputError;
    }
  }

  std::string error;
  if (emit == EmitKind::Dot || emit == EmitKind::Svg)
    return emitViews(*plan, diags);
  llvm::StringRef sourceText = srcMgr.getMemoryBuffer(srcMgr.getMainFileID())->getBuffer();
  if (emit == EmitKind::Launch)
    return emitLaunch(*plan, sourceText, diags);

  std::unique_ptr<OutputFile> out = OutputFile::create(outputPath, error);
  if (!out)
    return usageError(error);
  switch (emit) {
  case EmitKind::Ast:
    printSpec(spec, srcMgr, out->os());
    break;
  case EmitKind::IR:
    ir::printPlan(*plan, out->os(), srcMgr);
    break;
  case EmitKind::Report:
    if (format == Format::Json)
      printReportJson(*plan, diags, out->os());
    else
      printReport(*plan, diags, out->os());
    break;
  case EmitKind::Manifest:
    writeManifest(*plan, sourceText, out->os());
    break;
  case EmitKind::Placement:
    writePlacementCsv(*plan, out->os());
    break;
  case EmitKind::Dot:
  case EmitKind::Svg:
  case EmitKind::Launch:
    llvm_unreachable("written above");
  }
  if (!out->commit(error))
    return usageError(error);
  diags.printSummary();
  return ExitSuccess;
}
