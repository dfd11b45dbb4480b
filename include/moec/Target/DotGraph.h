//===- DotGraph.h - A generic graph for Graphviz ----------------*- C++ -*-===//
//
// What every view builds and what the writer and the SVG renderer take: nodes with labels and shapes nested in
// clusters, and edges. Knows nothing of the plan (moec/Target/Dot.h builds the views).
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_TARGET_DOTGRAPH_H
#define MOEC_TARGET_DOTGRAPH_H

#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>
#include <vector>

namespace moec {

/// Above this many nodes, the layout attributes that keep dot fast are set.
constexpr size_t kFastLayoutNodes = 2000;

struct DotNode {
  std::string id;
  std::string label;
  std::string shape;                ///< box, ellipse, parallelogram
  std::vector<std::string> cluster; ///< cluster ids, outermost first
};

struct DotEdge {
  std::string from, to;
  bool dashed = false;
  std::string label = {}; ///< bytes and time on a communication edge; empty: none
};

struct DotGraph {
  std::string name;
  std::string label;
  std::string rankdir = "TB"; ///< LR for views that are wide rather than deep
  bool orderedOut = false;    ///< keep each node's out-edges in the order added (GPUs in rank order)
  std::vector<DotNode> nodes;
  std::vector<DotEdge> edges;
  std::map<std::string, std::string> clusterLabels;
};

/// Write \p graph in DOT: clusters nested as their ids say, nodes first, then edges, every label quoted and
/// escaped by one helper.
void writeDot(const DotGraph &graph, llvm::raw_ostream &os);

/// Lay out \p dot with Graphviz's dot engine and render SVG. False with \p error on failure.
bool renderSvg(const std::string &dot, std::string &svg, std::string &error);

} // namespace moec

#endif // MOEC_TARGET_DOTGRAPH_H
