//===- Pipeline.h - From a checked spec to written outputs ------*- C++ -*-===//
//
// The one path every client of moec takes after the front end, in the way CIRCT's firtool library holds its
// pipeline: choose the deploy, lower it and run the pass pipeline (the default one is spelled here, once), and
// produce the outputs of an emit as a set of files written all-or-nothing. The driver is options plus calls to
// this library; the fuzzer, the benches and the strategy search run the same code.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_PIPELINE_PIPELINE_H
#define MOEC_PIPELINE_PIPELINE_H

#include "moec/IR/Plan.h"
#include "moec/Sema/Sema.h"
#include "moec/Support/Diagnostics.h"
#include "moec/Target/Dot.h"
#include "moec/Target/Manifest.h"
#include "moec/Transforms/Pass.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>
#include <vector>

namespace moec {
struct SearchResult;
struct ServiceResult;

/// The default pass pipeline.
inline constexpr llvm::StringLiteral kDefaultPipeline =
    "expert-placement,shape-inference,comm-insertion,cost-model,memory-check,verify,check-requirements";

/// How a step ended; the values are the driver's exit codes.
enum class Status {
  Ok = 0,
  InputError = 1, ///< the input was diagnosed as wrong (the diagnostics say why)
  UsageError = 2, ///< bad invocation or I/O (the message says why)
};

/// A status with the message of a usage error.
struct Outcome {
  Status status = Status::Ok;
  std::string message; ///< For UsageError.
  static Outcome ok() { return {}; }
  static Outcome input() { return {Status::InputError, {}}; }
  static Outcome usage(std::string message) { return {Status::UsageError, std::move(message)}; }
  explicit operator bool() const { return status == Status::Ok; }
};

/// The deploy named \p name, or the file's only deploy when \p name is empty. \p inputName names the file in
/// messages. A file without deploys is an input error located at its start.
Outcome selectDeploy(const Spec &spec, llvm::StringRef name, llvm::StringRef inputName, DiagEngine &diags,
                     const DeploySpec *&deploy);

struct PipelineOptions {
  std::string passes;                           ///< "a,b,c"; empty: kDefaultPipeline
  llvm::raw_ostream *printIRAfterAll = nullptr; ///< print the IR after each pass here
  bool timing = false;                          ///< collect Compilation::timings
  bool verifyEach = true;                       ///< verify after every pass; false: after the last one only
};

struct Compilation {
  Outcome outcome;
  std::unique_ptr<ir::Plan> plan; ///< Set when the outcome is Ok.
  /// With PipelineOptions::timing: "lower", then each pass, with wall time and peak memory.
  std::vector<PassManager::Timing> timings;
};

/// Lower \p deploy and run the pipeline, verifying after every pass (or the last, PipelineOptions::verifyEach).
Compilation compileDeploy(const DeploySpec &deploy, const PipelineOptions &options, DiagEngine &diags);

enum class EmitKind { Ast, IR, Report, Dot, Svg, Manifest, Launch, Placement, Search, Strategy, Trace, Html };
/// The -emit= spelling of \p kind.
llvm::StringRef spell(EmitKind kind);
enum class ReportFormat { Text, Json };

/// -view: one of the five views, or all of them.
enum class ViewChoice { Overview, Attention, Expert, Routing, Layer, All };
/// The views \p choice stands for, in the order -view=all writes them.
std::vector<View> expandViews(ViewChoice choice);

struct EmitOptions {
  EmitKind emit = EmitKind::Ast;
  ReportFormat format = ReportFormat::Text;
  Launcher launcher = Launcher::Torchrun;
  PlacementFormat placementFormat = PlacementFormat::Csv; ///< -emit=placement: whose format
  std::vector<int64_t> traceRanks; ///< -emit=trace: the GPUs shown (empty: defaultTraceRanks)
  bool traceAllRanks = false;      ///< -emit=trace -all-gpus
  ViewChoice views = ViewChoice::Overview; ///< -emit=dot/svg: which views
  ViewOptions where; ///< -emit=dot/svg: the layer, replica and GPU they show (its view is set per view)
  /// Where the output goes ("-" for standard output); outputs of several files need a directory.
  std::string outputPath = "-";
  /// -emit=search and -emit=strategy: the search of the selected deploy.
  const SearchResult *search = nullptr;
  const DeploySpec *searched = nullptr;
  /// A planned service (docs/serving.md): -emit=report, manifest and launch cover all its pools.
  const ServiceResult *service = nullptr;
};

/// What an emit produces: one file (written to the output path), or files of a directory (named by it).
struct OutputSet {
  bool directory = false;
  std::vector<LaunchFile> files; ///< One file with an empty path when !directory.
};

/// Produce the output of \p options.emit. \p plan is null only for -emit=ast. \p sourceText is the main file's
/// text (hashed into the manifest).
Outcome emitOutputs(const Spec &spec, const ir::Plan *plan, const EmitOptions &options, llvm::StringRef sourceText,
                    const llvm::SourceMgr &srcMgr, DiagEngine &diags, OutputSet &out);

/// Write \p outputs to \p path: every file is prepared before any is renamed into place, so a failure leaves no
/// partial set behind; the files marked executable get mode 0755.
Outcome writeOutputs(const OutputSet &outputs, llvm::StringRef path);

} // namespace moec

#endif // MOEC_PIPELINE_PIPELINE_H
