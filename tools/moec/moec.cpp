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
#include "moec/Support/Diagnostics.h"
#include "moec/Support/OutputFile.h"

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

enum class EmitKind { Ast };

cl::OptionCategory moecCategory("moec options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<file.moe>"), cl::Required, cl::cat(moecCategory));

cl::opt<EmitKind> emit("emit", cl::desc("What to print"), cl::init(EmitKind::Ast),
                       cl::values(clEnumValN(EmitKind::Ast, "ast",
                                             "the checked AST with locations, values and derived values")),
                       cl::cat(moecCategory));

cl::opt<std::string> outputPath("o", cl::desc("Write the output to <path> ('-' for standard output)"),
                                cl::value_desc("path"), cl::init("-"), cl::cat(moecCategory));

cl::list<std::string> includeDirs("I", cl::desc("Add <dir> to the import search path"), cl::value_desc("dir"),
                                  cl::Prefix, cl::cat(moecCategory));

cl::opt<std::string> deployName("deploy", cl::desc("The deploy block to compile (default: the only one)"),
                                cl::value_desc("name"), cl::cat(moecCategory));

cl::opt<bool> warningsAsErrors("Werror", cl::desc("Treat warnings as errors"), cl::cat(moecCategory));

cl::opt<unsigned> errorLimit("error-limit", cl::desc("Stop printing errors after <n> (0: no limit)"),
                             cl::value_desc("n"), cl::init(20), cl::cat(moecCategory));

void printVersion(llvm::raw_ostream &os) { os << "moec " << MOEC_VERSION << "\n"; }

int usageError(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "moec") << message << "\n";
  return ExitUsageError;
}
} // namespace

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
  diags.setErrorLimit(errorLimit);

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
  const Program &program = *front.program;

  if (!deployName.empty() && !program.findDeploy(deployName)) {
    std::string names;
    for (const auto &d : program.deploys)
      names += (names.empty() ? "" : ", ") + d->name;
    return usageError("no deploy named '" + deployName + "' in '" + inputFile + "'" +
                      (names.empty() ? std::string("; it defines none") : "; it defines: " + names));
  }

  std::string error;
  std::unique_ptr<OutputFile> out = OutputFile::create(outputPath, error);
  if (!out)
    return usageError(error);
  switch (emit) {
  case EmitKind::Ast:
    printProgram(program, srcMgr, out->os());
    break;
  }
  if (diags.hasErrors()) {
    diags.printSummary();
    return ExitInputError;
  }
  if (!out->commit(error))
    return usageError(error);
  diags.printSummary();
  return ExitSuccess;
}
