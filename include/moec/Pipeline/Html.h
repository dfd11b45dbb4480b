//===- Html.h - One self-contained HTML page of a plan ----------*- C++ -*-===//
//
// -emit=html (docs/views.md, *HTML report*): the report, charts as inline SVG, the DAG views, and the search or
// the service when there is one; no network, script, external style or font, the same bytes every time.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_PIPELINE_HTML_H
#define MOEC_PIPELINE_HTML_H

#include "moec/Pipeline/Pipeline.h"

namespace moec {

/// Write the page of \p plan (null for a service: \p options.service holds it).
Outcome writeHtml(const ir::Plan *plan, const EmitOptions &options, const DiagEngine &diags, llvm::raw_ostream &os);

} // namespace moec

#endif // MOEC_PIPELINE_HTML_H
