//===- Svg.cpp - Render DOT to SVG with Graphviz's library ----------------===//
//
// moec links Graphviz's gvc library (Debian's libgraphviz-dev) rather than running the `dot` program. When it
// was built without it, -emit=svg says how to get it.
//
//===----------------------------------------------------------------------===//
#include "moec/Target/DotGraph.h"

#ifdef MOEC_HAVE_GRAPHVIZ
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#endif

using namespace moec;

bool moec::renderSvg(const std::string &dot, std::string &svg, std::string &error) {
#ifdef MOEC_HAVE_GRAPHVIZ
  GVC_t *gvc = gvContext();
  if (!gvc) {
    error = "Graphviz could not start";
    return false;
  }
  agseterr(AGMAX); // moec reports failures itself
  Agraph_t *graph = agmemread(dot.c_str());
  if (!graph) {
    gvFreeContext(gvc);
    error = "Graphviz could not read the view";
    return false;
  }
  bool ok = gvLayout(gvc, graph, "dot") == 0;
  char *data = nullptr;
  unsigned int length = 0; // Graphviz 2.43 takes unsigned int; later versions size_t
  if (ok)
    ok = gvRenderData(gvc, graph, "svg", &data, &length) == 0;
  if (ok)
    svg.assign(data, length);
  else
    error = "Graphviz could not lay out or render the view";
  if (data)
    gvFreeRenderData(data);
  gvFreeLayout(gvc, graph);
  agclose(graph);
  gvFreeContext(gvc);
  return ok;
#else
  (void)dot;
  (void)svg;
  error = "this moec was built without Graphviz's library: install Debian's libgraphviz-dev and rebuild, or use "
          "-emit=dot and run `dot -Tsvg`";
  return false;
#endif
}
