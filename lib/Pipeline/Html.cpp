//===- Html.cpp - One self-contained HTML page of a plan: report, charts, views -===//
//
// -emit=html (docs/views.md, *HTML report*): no script, no external style, font or image; every chart an inline
// SVG written here from the plan's numbers, with a title and an accessible label, so the page is the same bytes
// every time and opens offline. Sections: the report (deploy, validation, memory, forecast) as text; memory of the
// fullest GPU by category against its capacity; time per layer kind split into compute, exposed and hidden
// communication; communication bytes per link class; with measured loads, heatmaps of expert load per GPU and MoE
// layer for moec's placement and for contiguous placement; the five DAG views (through Graphviz's library); and,
// when the deploy searches, the candidates with a Pareto scatter, or for a service, the pools' sizing.
//
//===----------------------------------------------------------------------===//
#include "moec/Pipeline/Html.h"

#include "moec/Pipeline/Search.h"
#include "moec/Pipeline/Service.h"
#include "moec/Support/Units.h"
#include "moec/Target/Dot.h"
#include "moec/Target/Report.h"

#include "fmt/format.h"

#include <algorithm>
#include <cmath>

using namespace moec;
using namespace moec::ir;

namespace {

std::string esc(llvm::StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string num(double v) { return fmt::format("{:.1f}", v); }

const char *const kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

class Page {
public:
  explicit Page(llvm::raw_ostream &os) : os(os) {}

  void begin(llvm::StringRef title) {
    os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
          "img-src data:\">\n<title>"
       << esc(title)
       << "</title>\n<style>\n"
          "body{font-family:sans-serif;max-width:1100px;margin:0 auto;padding:1em;color:#222}\n"
          "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:2em}\n"
          "pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.8em}\n"
          "svg.chart{width:100%;height:auto;font-size:12px}\n"
          "table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:.2em .5em;"
          "text-align:right}th{background:#eee}td.l,th.l{text-align:left}\n"
          "div.view{overflow:auto;max-height:40em;border:1px solid #ddd;margin:.5em 0}\n"
          "div.view svg{max-width:none}\n"
          "</style>\n</head>\n<body>\n<h1>"
       << esc(title) << "</h1>\n";
  }
  void end() { os << "</body>\n</html>\n"; }
  void section(llvm::StringRef id, llvm::StringRef title) {
    os << "<section id=\"" << esc(id) << "\">\n<h2>" << esc(title) << "</h2>\n";
  }
  void endSection() { os << "</section>\n"; }
  void para(llvm::StringRef text) { os << "<p>" << esc(text) << "</p>\n"; }
  void pre(llvm::StringRef text) { os << "<pre>" << esc(text) << "</pre>\n"; }
  /// An SVG chart of \p width x \p height with \p title (its accessible name) and \p body.
  void chart(llvm::StringRef id, llvm::StringRef title, double width, double height, llvm::StringRef body) {
    os << "<svg class=\"chart\" id=\"" << esc(id) << "\" role=\"img\" aria-labelledby=\"" << esc(id)
       << "-title\" viewBox=\"0 0 " << num(width) << " " << num(height) << "\" xmlns=\"http://www.w3.org/2000/svg\">"
       << "<title id=\"" << esc(id) << "-title\">" << esc(title) << "</title>\n"
       << body << "</svg>\n";
  }
  llvm::raw_ostream &raw() { return os; }

private:
  llvm::raw_ostream &os;
};

std::string rect(double x, double y, double w, double h, llvm::StringRef fill, llvm::StringRef tip,
                 llvm::StringRef extra = "") {
  return fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}><title>{}</title></rect>\n",
                     num(x), num(y), num(std::max(0.0, w)), num(h), fill, extra.str(), esc(tip));
}
std::string text(double x, double y, llvm::StringRef s, llvm::StringRef anchor = "start") {
  return fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>\n", num(x), num(y), anchor.str(), esc(s));
}

/// Horizontal stacked bars: rows of (label, [(part, value)]), a legend, an optional vertical line at \p mark.
std::string stackedBars(const std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> &rows,
                        Dim dim, std::optional<std::pair<std::string, double>> mark, double &height) {
  const double left = 170, width = 640, rowH = 26, top = 10;
  double most = mark ? mark->second : 0;
  for (const auto &[label, parts] : rows) {
    double sum = 0;
    for (const auto &[p, v] : parts)
      sum += v;
    most = std::max(most, sum);
  }
  if (most <= 0)
    most = 1;
  std::string body;
  std::vector<std::string> legend;
  for (size_t r = 0; r < rows.size(); ++r) {
    double y = top + double(r) * rowH, x = left, sum = 0;
    body += text(left - 6, y + 16, rows[r].first, "end");
    for (size_t i = 0; i < rows[r].second.size(); ++i) {
      const auto &[part, v] = rows[r].second[i];
      if (std::find(legend.begin(), legend.end(), part) == legend.end())
        legend.push_back(part);
      size_t color = size_t(std::find(legend.begin(), legend.end(), part) - legend.begin());
      double w = v / most * width;
      body += rect(x, y, w, rowH - 6, kPalette[color % 10], part + ": " + formatQuantity(v, dim));
      x += w;
      sum += v;
    }
    body += text(x + 4, y + 16, formatQuantity(sum, dim));
  }
  double bottom = top + double(rows.size()) * rowH;
  if (mark) {
    double x = left + mark->second / most * width;
    body += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>\n",
                        num(x), num(top - 4), num(x), num(bottom));
    body += text(x, bottom + 14, mark->first + " " + formatQuantity(mark->second, dim), "middle");
    bottom += 18;
  }
  // Legend, wrapped.
  double lx = left, ly = bottom + 10;
  for (size_t i = 0; i < legend.size(); ++i) {
    double w = 24 + 7.0 * double(legend[i].size());
    if (lx + w > left + width) {
      lx = left;
      ly += 18;
    }
    body += rect(lx, ly, 12, 12, kPalette[i % 10], legend[i]);
    body += text(lx + 16, ly + 11, legend[i]);
    lx += w;
  }
  height = ly + 24;
  return body;
}

/// A heatmap of \p cells[row][col] (loads relative to the mean), with row labels and a colour scale.
std::string heatmap(const std::vector<std::vector<double>> &cells, const std::vector<std::string> &rowLabels,
                    const std::vector<std::string> &rowNotes, double &width, double &height) {
  const double left = 60, top = 24;
  size_t cols = cells.empty() ? 0 : cells.front().size();
  double cw = std::max(3.0, std::min(24.0, 760.0 / double(std::max<size_t>(1, cols)))), ch = 10;
  std::string body = text(left, 14, "GPU (EP position) 0 .. " + std::to_string(cols ? cols - 1 : 0) +
                                        "; colour: load / mean (white 0, blue 1, red 2 or more)");
  for (size_t r = 0; r < cells.size(); ++r) {
    double y = top + double(r) * ch;
    body += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"9\">{}</text>\n", num(left - 4),
                        num(y + 8), esc(rowLabels[r]));
    for (size_t c = 0; c < cols; ++c) {
      double v = std::min(2.0, std::max(0.0, cells[r][c]));
      // white -> blue at 1 -> red at 2
      int red = v <= 1 ? int(255 * (1 - v)) : int(255 * (v - 1));
      int green = v <= 1 ? int(255 * (1 - v)) : 0;
      int blue = v <= 1 ? 255 : int(255 * (2 - v));
      body += rect(left + double(c) * cw, y, cw, ch, fmt::format("rgb({},{},{})", red, green, blue),
                   rowLabels[r] + ", GPU " + std::to_string(c) + ": " + fmt::format("{:.2f}", cells[r][c]) +
                       " x the mean");
    }
    body += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"9\">{}</text>\n", num(left + double(cols) * cw + 6),
                        num(y + 8), esc(rowNotes[r]));
  }
  width = left + double(cols) * cw + 140;
  height = top + double(cells.size()) * ch + 10;
  return body;
}

/// Per GPU (EP position) load of one layer, relative to the mean, for replicas \p replicas and loads \p load.
std::vector<double> gpuLoads(const std::vector<llvm::SmallVector<int32_t, 2>> &replicas, const std::vector<double> &load,
                             int64_t ep) {
  std::vector<double> out(size_t(ep), 0.0);
  double total = 0;
  for (size_t e = 0; e < replicas.size() && e < load.size(); ++e) {
    total += load[e];
    for (int32_t p : replicas[e])
      out[size_t(p)] += load[e] / double(replicas[e].size());
  }
  double mean = total / double(ep);
  for (double &v : out)
    v = mean > 0 ? v / mean : 0;
  return out;
}

/// The contiguous baseline with the same replica counts: slots in expert order, slot s on GPU s / slots per GPU.
std::vector<llvm::SmallVector<int32_t, 2>> contiguous(const LayerPlacement &lp, int64_t ep) {
  int64_t slots = 0;
  for (const auto &r : lp.replicas)
    slots += int64_t(r.size());
  int64_t perGpu = (slots + ep - 1) / ep, s = 0;
  std::vector<llvm::SmallVector<int32_t, 2>> out(lp.replicas.size());
  for (size_t e = 0; e < lp.replicas.size(); ++e)
    for (size_t k = 0; k < lp.replicas[e].size(); ++k, ++s)
      out[e].push_back(int32_t(std::min(ep - 1, s / perGpu)));
  return out;
}

void planSections(Page &page, const Plan &plan, const DiagEngine &diags, llvm::StringRef prefix) {
  std::string id = prefix.str();
  // The report, as the text report prints it: deploy, model, layout, validation, memory, forecast.
  page.section(id + "report", "Report");
  std::string report;
  llvm::raw_string_ostream rs(report);
  printReport(plan, diags, rs);
  page.pre(report);
  page.endSection();

  if (plan.memory) {
    const MemoryResult &m = *plan.memory;
    page.section(id + "memory", "Memory per GPU");
    page.para(fmt::format("The fullest GPU of each pipeline stage (GPUs of a stage differ only where their expert "
                          "slots do), by category, against the capacity; GPU {} (node {}, stage {}) is the fullest.",
                          m.rank, plan.devices[m.rank].node, m.stage));
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> rows;
    for (const MemoryResult &r : plan.stageMemory.empty() ? std::vector<MemoryResult>{m} : plan.stageMemory) {
      std::vector<std::pair<std::string, double>> parts;
      for (const auto &[name, bytes] : r.parts())
        parts.emplace_back(name, bytes);
      rows.push_back({fmt::format("GPU {} (stage {})", r.rank, r.stage), std::move(parts)});
    }
    double h = 0;
    std::string body = stackedBars(rows, Dim::Bytes, std::pair<std::string, double>{"capacity", m.capacity}, h);
    page.chart(id + "memory-chart", "Memory per GPU by category, one bar per pipeline stage, and the capacity", 960,
               h, body);
    page.endSection();
  }

  if (plan.cost) {
    const CostResult &c = *plan.cost;
    page.section(id + "time", "Time per layer kind");
    page.para("Forecast per micro-batch (docs/cost-model.md): compute, the communication that compute does not "
              "hide, and the communication hidden behind compute by overlap.");
    auto parts = [](const LayerTime &t) {
      return std::vector<std::pair<std::string, double>>{{"compute", t.compute},
                                                         {"exposed communication", t.exposed},
                                                         {"hidden communication", t.communication - t.exposed}};
    };
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> rows;
    if (!plan.dense.ops.empty())
      rows.push_back({"dense layer", parts(c.dense)});
    if (!c.moe.empty()) {
      const LayerTime *slowest = &c.moe.front();
      LayerTime mean;
      for (const LayerTime &t : c.moe) {
        if (t.total > slowest->total)
          slowest = &t;
        mean.compute += t.compute / double(c.moe.size());
        mean.exposed += t.exposed / double(c.moe.size());
        mean.communication += t.communication / double(c.moe.size());
      }
      rows.push_back({"MoE layer (slowest)", parts(*slowest)});
      rows.push_back({"MoE layer (mean)", parts(mean)});
    }
    rows.push_back({"embedding", {{"compute", c.prologue}}});
    rows.push_back({"LM head", {{"compute", c.epilogue}}});
    double h = 0;
    std::string body = stackedBars(rows, Dim::Time, std::nullopt, h);
    page.chart(id + "time-chart", "Time per layer kind: compute, exposed and hidden communication", 960, h, body);
    page.endSection();
  }

  if (!plan.traffic.empty()) {
    page.section(id + "communication", "Communication per link class");
    const LayerTraffic *busiest = &plan.traffic.front();
    for (const LayerTraffic &t : plan.traffic)
      if (t.dispatch.send > busiest->dispatch.send)
        busiest = &t;
    double allReduce = 0;
    for (const Op &op : plan.moe.ops)
      if (op.comm && op.comm->collective != Collective::AllToAll)
        allReduce += op.comm->bytesPerRank;
    page.para(fmt::format("One MoE layer (layer {}, the heaviest), the busiest rank, per micro-batch.",
                          busiest->layer));
    double h = 0;
    std::string body =
        stackedBars({{"dispatch", {{"NVLink", busiest->dispatch.nvlink}, {"network", busiest->dispatch.network}}},
                     {"combine", {{"NVLink", busiest->combine.nvlink}, {"network", busiest->combine.network}}},
                     {"TP collectives", {{plan.crossesNodes(GroupKind::TP) ? "network" : "NVLink", allReduce}}}},
                    Dim::Bytes, std::nullopt, h);
    page.chart(id + "communication-chart", "Communication bytes per link class of the heaviest MoE layer", 960, h,
               body);
    page.endSection();
  }

  bool measured = !plan.placement.layers.empty() && !plan.placement.layers.front().load.empty();
  if (measured) {
    page.section(id + "loads", "Expert load across GPUs and layers");
    int64_t ep = plan.strategy().ep;
    std::vector<std::vector<double>> chosen, baseline;
    std::vector<std::string> labels, chosenNotes, baseNotes;
    for (size_t i = 0; i < plan.placement.layers.size(); ++i) {
      const LayerPlacement &lp = plan.placement.layers[i];
      chosen.push_back(gpuLoads(lp.replicas, lp.load, ep));
      baseline.push_back(gpuLoads(contiguous(lp, ep), lp.load, ep));
      labels.push_back("layer " + std::to_string(lp.layer));
      auto balance = [](const std::vector<double> &v) {
        double most = *std::max_element(v.begin(), v.end());
        return most > 0 ? 1.0 / most : 0.0; // mean / max, the loads being relative to the mean
      };
      chosenNotes.push_back(fmt::format("balancedness {:.4f}", balance(chosen.back())));
      baseNotes.push_back(fmt::format("balancedness {:.4f}", balance(baseline.back())));
    }
    double w = 0, h = 0;
    std::string body = heatmap(chosen, labels, chosenNotes, w, h);
    page.chart(id + "loads-chosen", "Expert load per GPU and MoE layer, " +
                                        spell(plan.placement.policy).str() + " placement (moec's)",
               w, h, body);
    body = heatmap(baseline, labels, baseNotes, w, h);
    page.chart(id + "loads-contiguous", "Expert load per GPU and MoE layer, contiguous placement", w, h, body);
    page.endSection();
  }

  page.section(id + "views", "DAG views");
  for (View v : expandViews(ViewChoice::All)) {
    ViewOptions where;
    where.view = v;
    DotGraph graph;
    std::string error, svg;
    std::string name = viewFileName(plan, where, "svg");
    page.raw() << "<h3>" << esc(name) << "</h3>\n";
    if (!buildView(plan, where, graph, error)) {
      page.para("Not drawn: " + error);
      continue;
    }
    std::string dot;
    llvm::raw_string_ostream ds(dot);
    writeDot(graph, ds);
    if (!renderSvg(dot, svg, error)) {
      page.para("Not drawn: " + error);
      continue;
    }
    size_t start = svg.find("<svg");
    page.raw() << "<div class=\"view\" role=\"img\" aria-label=\"" << esc(name) << "\">"
               << (start == std::string::npos ? svg : svg.substr(start)) << "</div>\n";
  }
  page.endSection();
}

void searchSection(Page &page, const SearchResult &r) {
  page.section("search", "Strategy search");
  page.raw() << "<table>\n<tr><th>rank</th><th class=\"l\">strategy</th><th>tok/s/GPU</th><th>latency</th>"
                "<th class=\"l\">dominant term, or why not</th></tr>\n";
  double most = 0, slowest = 0;
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const SearchCandidate &c = r.candidates[i];
    const StrategySpec &s = *c.strategy;
    std::string what = fmt::format("pp {} x dp {} x ep {} x tp {}", s.pp, s.dp, s.ep, s.tp);
    page.raw() << "<tr><td>" << i + 1 << "</td><td class=\"l\">" << esc(what) << "</td><td>"
               << (c.tokensPerSecondPerGpu > 0 ? num(c.tokensPerSecondPerGpu) : "-") << "</td><td>"
               << (c.latency > 0 ? esc(formatQuantity(c.latency, Dim::Time)) : "-") << "</td><td class=\"l\">"
               << esc(c.rejected.empty() ? c.dominant + (c.pareto ? " (Pareto)" : "") : c.rejected + ": " + c.detail)
               << "</td></tr>\n";
    if (c.tokensPerSecondPerGpu > 0) {
      most = std::max(most, c.tokensPerSecondPerGpu);
      slowest = std::max(slowest, c.latency);
    }
  }
  page.raw() << "</table>\n";
  // Pareto scatter: throughput per GPU against latency.
  const double left = 70, width = 800, top = 10, height = 300;
  std::string body = fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#888\"/>"
                                 "<line x1=\"{0}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\" stroke=\"#888\"/>\n",
                                 num(left), num(top), num(top + height), num(left + width));
  body += text(left + width / 2, top + height + 30, "latency per user (TTFT or TPOT), to " +
                                                         formatQuantity(slowest, Dim::Time), "middle");
  body += text(8, top + 12, fmt::format("{:.0f} tok/s/GPU", most));
  for (const SearchCandidate &c : r.candidates) {
    if (c.tokensPerSecondPerGpu <= 0 || most <= 0 || slowest <= 0)
      continue;
    double x = left + c.latency / slowest * width, y = top + height - c.tokensPerSecondPerGpu / most * height;
    const StrategySpec &s = *c.strategy;
    body += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"><title>{}</title></circle>\n", num(x),
                        num(y), c.pareto ? 5 : 3, c.rejected.empty() ? (c.pareto ? "#e15759" : "#4e79a7") : "#bbb",
                        esc(fmt::format("pp {} x dp {} x ep {} x tp {}: {:.1f} tok/s/GPU, {}", s.pp, s.dp, s.ep, s.tp,
                                        c.tokensPerSecondPerGpu, formatQuantity(c.latency, Dim::Time))));
  }
  page.chart("search-pareto", "Candidates: throughput per GPU against latency; the Pareto front in red", 900,
             height + 50, body);
  page.endSection();
}

void serviceSection(Page &page, const ServiceResult &r) {
  page.section("service", "Service: pools sized for the load");
  page.raw() << "<table>\n<tr><th class=\"l\">pool</th><th class=\"l\">deploy</th><th>GPUs an instance</th>"
                "<th>instances</th><th>utilisation</th><th>tokens/s an instance</th><th>queue wait</th></tr>\n";
  for (const ServiceRole &role : r.roles)
    page.raw() << "<tr><td class=\"l\">" << esc(role.role) << "</td><td class=\"l\">" << esc(role.deploy->name)
               << "</td><td>" << role.gpus << "</td><td>" << role.instances << "</td><td>"
               << fmt::format("{:.1f}%", 100 * role.utilization) << "</td><td>" << num(role.tokensPerSecond)
               << "</td><td>" << esc(formatQuantity(role.queueWait, Dim::Time)) << "</td></tr>\n";
  page.raw() << "</table>\n";
  page.para(fmt::format("{} requests/s; TTFT {}, TPOT {}; {} GPUs on {} nodes.", formatNumber(r.requestsPerSecond, 4),
                        formatQuantity(r.ttft, Dim::Time), formatQuantity(r.tpot, Dim::Time), r.gpus, r.nodes));
  double h = 0;
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> rows;
  for (const ServiceRole &role : r.roles)
    rows.push_back({role.role, {{role.role + " GPUs", double(role.instances * role.gpus)}}});
  std::string body = stackedBars(rows, Dim::None, std::nullopt, h);
  page.chart("service-gpus", "GPUs per pool", 960, h, body);
  page.endSection();
}

} // namespace

Outcome moec::writeHtml(const ir::Plan *plan, const EmitOptions &options, const DiagEngine &diags,
                        llvm::raw_ostream &os) {
  Page page(os);
  if (options.service) {
    const ServiceResult &r = *options.service;
    page.begin("moec: service " + r.service->name);
    serviceSection(page, r);
    for (const ServiceRole &role : r.roles) {
      page.raw() << "<h2>" << esc(role.role) << " pool: one instance</h2>\n";
      planSections(page, *role.compiled.plan, diags, role.role + "-");
    }
    page.end();
    return Outcome::ok();
  }
  page.begin("moec: deploy " + plan->deploy->name);
  if (options.search)
    searchSection(page, *options.search);
  planSections(page, *plan, diags, "");
  page.end();
  return Outcome::ok();
}
