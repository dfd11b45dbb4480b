//===- DotWriter.cpp - A DotGraph as Graphviz text --------------------------===//
//
// Generic, in the spirit of MLIR's ViewOpGraph: nodes nested in clusters (first-seen order), then the edges. Every
// id and label goes through quote(), the one place DOT strings are escaped.
//
//===----------------------------------------------------------------------===//
#include "moec/Target/DotGraph.h"

#include <map>

using namespace moec;

namespace {

/// The one place labels and ids are quoted: `"` and `\` escaped, the `\n` line breaks kept.
std::string quote(llvm::StringRef text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
      out += "\\n";
      ++i;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

struct ClusterTree {
  std::vector<std::string> order; ///< child cluster ids, in first-seen order
  std::map<std::string, ClusterTree> children;
  std::vector<const DotNode *> nodes;
};

void writeCluster(const DotGraph &g, const ClusterTree &tree, unsigned depth, llvm::raw_ostream &os) {
  std::string indent(2 * depth, ' ');
  for (const DotNode *n : tree.nodes)
    os << indent << quote(n->id) << " [label=" << quote(n->label) << ", shape=" << n->shape << "];\n";
  for (const std::string &id : tree.order) {
    os << indent << "subgraph " << quote("cluster_" + id) << " {\n";
    auto label = g.clusterLabels.find(id);
    os << indent << "  label=" << quote(label == g.clusterLabels.end() ? id : label->second) << ";\n";
    writeCluster(g, tree.children.at(id), depth + 1, os);
    os << indent << "}\n";
  }
}

} // namespace

void moec::writeDot(const DotGraph &g, llvm::raw_ostream &os) {
  os << "digraph " << quote(g.name) << " {\n";
  os << "  label=" << quote(g.label) << ";\n  labelloc=t;\n  rankdir=" << g.rankdir << ";\n";
  if (g.orderedOut)
    os << "  ordering=out;\n";
  os << "  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n";
  if (g.nodes.size() > kFastLayoutNodes)
    os << "  nslimit=0.02;\n  nslimit1=0.02;\n  mclimit=0.1;\n  splines=line;\n";
  ClusterTree root;
  for (const DotNode &n : g.nodes) {
    ClusterTree *t = &root;
    for (const std::string &c : n.cluster) {
      if (!t->children.count(c))
        t->order.push_back(c);
      t = &t->children[c];
    }
    t->nodes.push_back(&n);
  }
  writeCluster(g, root, 1, os);
  for (const DotEdge &e : g.edges) {
    os << "  " << quote(e.from) << " -> " << quote(e.to);
    if (e.dashed || !e.label.empty()) {
      os << " [";
      if (e.dashed)
        os << "style=dashed";
      if (!e.label.empty())
        os << (e.dashed ? ", " : "") << "label=" << quote(e.label);
      os << "]";
    }
    os << ";\n";
  }
  os << "}\n";
}

