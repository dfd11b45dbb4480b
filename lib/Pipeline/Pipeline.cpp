//===- Pipeline.cpp - From a checked spec to written outputs --------------===//
#include "moec/Pipeline/Pipeline.h"
#include "moec/Pipeline/Html.h"
#include "moec/Pipeline/Search.h"
#include "moec/Pipeline/Service.h"
#include "moec/Frontend/Frontend.h"
#include "moec/Support/OutputFile.h"
#include "moec/Target/Report.h"
#include "moec/Target/Trace.h"
#include "moec/Transforms/PlacementInputs.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <sys/resource.h>

using namespace moec;

namespace {
std::string deployNames(const Spec &spec) {
  std::string names;
  for (const auto &d : spec.deploys)
    names += (names.empty() ? "" : ", ") + d->name;
  return names;
}

size_t peakRss() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return size_t(usage.ru_maxrss) * 1024;
}
} // namespace

Outcome moec::selectDeploy(const Spec &spec, llvm::StringRef name, llvm::StringRef inputName, DiagEngine &diags,
                           const DeploySpec *&deploy) {
  deploy = nullptr;
  if (!name.empty()) {
    deploy = spec.findDeploy(name);
    if (deploy)
      return Outcome::ok();
    std::string names = deployNames(spec);
    return Outcome::usage("no deploy named '" + name.str() + "' in '" + inputName.str() + "'" +
                          (names.empty() ? std::string("; it defines none") : "; it defines: " + names));
  }
  if (spec.deploys.size() == 1) {
    deploy = spec.deploys.front().get();
    return Outcome::ok();
  }
  if (!spec.deploys.empty())
    return Outcome::usage("'" + inputName.str() + "' defines several deploys (" + deployNames(spec) +
                          "): choose one with -deploy");
  // At the start of the file: every input diagnostic carries a location.
  const llvm::SourceMgr &srcMgr = diags.getSourceMgr();
  const llvm::MemoryBuffer *main = srcMgr.getMemoryBuffer(srcMgr.getMainFileID());
  diags.error(llvm::SMLoc::getFromPointer(main->getBufferStart()),
              "'" + inputName.str() + "' defines no deploy block: nothing to compile");
  return Outcome::input();
}

Compilation moec::compileDeploy(const DeploySpec &deploy, const PipelineOptions &options, DiagEngine &diags) {
  Compilation result;
  if (deploy.strategy && deploy.strategy->search) {
    result.outcome = Outcome::usage("deploy '" + deploy.name + "' searches its strategy: search it first "
                                    "(moec/Pipeline/Search.h) and compile the winner");
    return result;
  }
  if (!deploy.checked) { // Sema only listed it (FrontendOptions::onlyDeploy named another): nothing to lower
    result.outcome = Outcome::usage("deploy '" + deploy.name + "' was not checked: compile it with -deploy=" +
                                    deploy.name);
    return result;
  }
  PassManager pm;
  std::string error;
  if (!pm.parsePipeline(options.passes.empty() ? llvm::StringRef(kDefaultPipeline) : llvm::StringRef(options.passes),
                        error)) {
    result.outcome = Outcome::usage(error);
    return result;
  }
  if (options.printIRAfterAll)
    pm.enablePrintIRAfterAll(*options.printIRAfterAll, diags.getSourceMgr());
  if (options.timing)
    pm.enableTiming();
  pm.setVerifyEach(options.verifyEach);
  // The files the placement reads come first: no pass does I/O.
  std::optional<PlacementInputs> inputs = readPlacementInputs(deploy, diags);
  if (!inputs) {
    result.outcome = Outcome::input();
    return result;
  }
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<ir::Plan> plan = ir::lowerToPlan(deploy);
  plan->placementInputs = std::make_shared<const PlacementInputs>(std::move(*inputs));
  if (options.timing)
    result.timings.push_back(
        {"lower", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), peakRss()});
  PassContext ctx{diags};
  llvm::LogicalResult ran = pm.run(*plan, ctx);
  if (options.timing)
    result.timings.insert(result.timings.end(), pm.getTimings().begin(), pm.getTimings().end());
  if (llvm::failed(ran) || diags.hasErrors()) {
    result.outcome = Outcome::input();
    return result;
  }
  result.plan = std::move(plan);
  return result;
}

llvm::StringRef moec::spell(EmitKind kind) {
  switch (kind) {
  case EmitKind::Ast:
    return "ast";
  case EmitKind::IR:
    return "ir";
  case EmitKind::Report:
    return "report";
  case EmitKind::Dot:
    return "dot";
  case EmitKind::Svg:
    return "svg";
  case EmitKind::Manifest:
    return "manifest";
  case EmitKind::Launch:
    return "launch";
  case EmitKind::Placement:
    return "placement";
  case EmitKind::Search:
    return "search";
  case EmitKind::Strategy:
    return "strategy";
  case EmitKind::Trace:
    return "trace";
  case EmitKind::Html:
    return "html";
  }
  llvm_unreachable("unknown emit");
}

std::vector<View> moec::expandViews(ViewChoice choice) {
  switch (choice) {
  case ViewChoice::Overview:
    return {View::Overview};
  case ViewChoice::Attention:
    return {View::Attention};
  case ViewChoice::Expert:
    return {View::Expert};
  case ViewChoice::Routing:
    return {View::Routing};
  case ViewChoice::Layer:
    return {View::Layer};
  case ViewChoice::All:
    return {View::Overview, View::Attention, View::Expert, View::Routing, View::Layer};
  }
  llvm_unreachable("unknown view choice");
}

namespace {
bool toStdout(llvm::StringRef path) { return path == "-" || path.empty(); }

/// -emit=dot / -emit=svg: every view is built and rendered before anything is written.
Outcome emitViews(const ir::Plan &plan, const EmitOptions &options, DiagEngine &diags, OutputSet &out) {
  bool svg = options.emit == EmitKind::Svg;
  if (options.views == ViewChoice::All && toStdout(options.outputPath))
    return Outcome::usage("-view=all writes five files: name their directory with -o");
  out.directory = options.views == ViewChoice::All;
  for (View v : expandViews(options.views)) {
    ViewOptions where = options.where;
    where.view = v;
    DotGraph graph;
    std::string error;
    if (!buildView(plan, where, graph, error)) {
      if (options.views != ViewChoice::All)
        return Outcome::usage(error);
      // -view=all writes the views that fit (FINDINGS.md D6) and says which it left out, and why.
      diags.warning(plan.deploy->loc, viewFileName(plan, where, svg ? "svg" : "dot") + " is not written: " + error);
      continue;
    }
    std::string text;
    llvm::raw_string_ostream os(text);
    writeDot(graph, os);
    if (svg) {
      std::string rendered;
      if (!renderSvg(text, rendered, error))
        return Outcome::usage(error);
      text = std::move(rendered);
    }
    out.files.push_back({out.directory ? viewFileName(plan, where, svg ? "svg" : "dot") : std::string(),
                         std::move(text), false});
  }
  return Outcome::ok();
}
} // namespace

namespace {

/// -emit=placement in \p format; an error at the strategy when the engine cannot express the placement.
Outcome writePlacement(const ir::Plan &plan, PlacementFormat format, DiagEngine &diags, llvm::raw_ostream &os) {
  const StrategySpec &s = plan.strategy();
  bool uneven = false;
  std::string text;
  switch (format) {
  case PlacementFormat::Csv:
    writePlacementCsv(plan, os);
    return Outcome::ok();
  case PlacementFormat::SGLang:
    text = writeSglangLocation(plan, uneven);
    if (uneven)
      diags.warning(s.locOf("redundant_experts"),
                    "SGLang needs the same number of expert slots on every GPU; this plan's uneven slots are padded "
                    "with repeated experts");
    break;
  case PlacementFormat::TrtLlm:
  case PlacementFormat::VLLM:
    text = format == PlacementFormat::TrtLlm ? writeTrtllmLoadBalancer(plan) : writeVllmExpertMap(plan);
    if (text.empty()) {
      int64_t slots = plan.model().moe.experts + s.redundantExperts;
      diags.error(s.locOf(s.keys.count("redundant_experts") ? "redundant_experts" : "ep"),
                  std::string(format == PlacementFormat::TrtLlm ? "TensorRT-LLM" : "vLLM") +
                      " gives every rank the same number of expert slots, but " + std::to_string(slots) +
                      " slots do not divide over ep = " + std::to_string(s.ep) + "; choose redundant_experts so " +
                      "that experts + redundant_experts is a multiple of ep");
      return Outcome::input();
    }
    break;
  }
  os << text;
  return Outcome::ok();
}

} // namespace

Outcome moec::emitOutputs(const Spec &spec, const ir::Plan *plan, const EmitOptions &options,
                          llvm::StringRef sourceText, const llvm::SourceMgr &srcMgr, DiagEngine &diags,
                          OutputSet &out) {
  out = OutputSet();
  if (options.service)
    return emitServiceOutputs(*options.service, options, sourceText, diags, out);
  if (options.emit == EmitKind::Dot || options.emit == EmitKind::Svg)
    return emitViews(*plan, options, diags, out);
  if (options.emit == EmitKind::Launch) {
    if (toStdout(options.outputPath))
      return Outcome::usage("-emit=launch writes several files: name their directory with -o");
    out.directory = true;
    out.files = launchFiles(*plan, sourceText, options.launcher, diags);
    return diags.hasErrors() ? Outcome::input() : Outcome::ok();
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  switch (options.emit) {
  case EmitKind::Ast:
    printSpec(spec, srcMgr, os);
    break;
  case EmitKind::IR:
    ir::printPlan(*plan, os, srcMgr);
    break;
  case EmitKind::Report:
    if (options.format == ReportFormat::Json)
      printReportJson(*plan, diags, os);
    else
      printReport(*plan, diags, os);
    break;
  case EmitKind::Manifest:
    writeManifest(*plan, sourceText, os);
    break;
  case EmitKind::Placement:
    if (Outcome written = writePlacement(*plan, options.placementFormat, diags, os); !written)
      return written;
    break;
  case EmitKind::Search:
    printSearch(*options.search, *options.searched, options.format == ReportFormat::Json, os);
    break;
  case EmitKind::Strategy:
    os << winnerBlock(*options.search, *options.searched);
    break;
  case EmitKind::Trace: {
    std::vector<int64_t> ranks = options.traceRanks;
    if (options.traceAllRanks)
      for (const ir::Device &d : plan->devices)
        ranks.push_back(d.rank);
    if (ranks.empty())
      ranks = defaultTraceRanks(*plan);
    for (int64_t r : ranks)
      if (r < 0 || r >= int64_t(plan->devices.size()))
        return Outcome::usage("-gpu=" + std::to_string(r) + " is not a GPU of deploy '" + plan->deploy->name +
                              "' (ranks 0.." + std::to_string(plan->devices.size() - 1) + ")");
    writeTrace(*plan, ranks, os);
    break;
  }
  case EmitKind::Html:
    if (Outcome written = writeHtml(plan, options, diags, os); !written)
      return written;
    break;
  case EmitKind::Dot:
  case EmitKind::Svg:
  case EmitKind::Launch:
    llvm_unreachable("emitted above");
  }
  out.files.push_back({std::string(), std::move(text), false});
  return Outcome::ok();
}

Outcome moec::writeOutputs(const OutputSet &outputs, llvm::StringRef path) {
  std::vector<std::unique_ptr<OutputFile>> files;
  std::vector<std::string> paths;
  for (const LaunchFile &f : outputs.files) {
    llvm::SmallString<256> p(path);
    if (outputs.directory) {
      llvm::sys::path::append(p, f.path);
      if (std::error_code ec = llvm::sys::fs::create_directories(llvm::sys::path::parent_path(p)))
        return Outcome::usage("cannot create directory '" + llvm::sys::path::parent_path(p).str() +
                              "': " + ec.message());
    }
    std::string error;
    std::unique_ptr<OutputFile> out = OutputFile::create(p, error);
    if (!out)
      return Outcome::usage(error);
    out->os() << f.text;
    files.push_back(std::move(out));
    paths.push_back(std::string(p));
  }
  for (size_t i = 0; i < files.size(); ++i) {
    std::string error;
    if (!files[i]->commit(error))
      return Outcome::usage(error);
    if (outputs.files[i].executable)
      llvm::sys::fs::setPermissions(paths[i], llvm::sys::fs::perms(0755));
  }
  return Outcome::ok();
}
