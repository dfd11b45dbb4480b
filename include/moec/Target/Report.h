//===- Report.h - The deployment report (-emit=report) ----------*- C++ -*-===//
//
// One page a person reads before launching: the deployment, its parallel layout, a validation table of computed
// facts, memory per GPU, time per layer and end to end, communication, and the warnings. The same content as JSON
// for tools (-format=json).
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_TARGET_REPORT_H
#define MOEC_TARGET_REPORT_H

#include "moec/IR/Plan.h"
#include "moec/Support/Diagnostics.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <utility>
#include <vector>

namespace moec {

/// Print the report of a plan that went through the whole pipeline. \p diags supplies the warnings reported
/// while compiling it.
void printReport(const ir::Plan &plan, const DiagEngine &diags, llvm::raw_ostream &os);
void printReportJson(const ir::Plan &plan, const DiagEngine &diags, llvm::raw_ostream &os);
/// Rows of `  key  value`, the keys padded to the longest: the layout of every section of the text report.
void printTable(llvm::raw_ostream &os, const std::vector<std::pair<std::string, std::string>> &rows);

} // namespace moec

#endif // MOEC_TARGET_REPORT_H
