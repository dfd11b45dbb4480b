//===- PlacementInputs.cpp - The files a placement reads, read before the pipeline -===//
//
// `placement = balanced` reads `expert_load` (CSV `layer,expert,tokens`, SGLang's expert-distribution dump as
// JSON, a plain [layers][experts] JSON, or TensorRT-LLM's statistics directory) and optionally `expert_routes`
// (CSV `layer,token,experts`); `placement = explicit` reads `placement_file` (CSV `layer,expert,replica,rank`,
// SGLang's or vLLM's JSON map, TensorRT-LLM's YAML). They are read and checked here, with errors located in the
// files, before any pass runs: the expert-placement pass only reads the result. Layers are the model's
// decoder-layer indices and must be MoE layers; the engines' numberings are folded to them (EngineInputs.cpp).
//
//===----------------------------------------------------------------------===//
#include "moec/Transforms/PlacementInputs.h"
#include "moec/Transforms/EngineInputs.h"
#include "moec/Support/Csv.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>

using namespace moec;

namespace {
class Reader {
public:
  Reader(const DeploySpec &d, DiagEngine &diags) : d(d), s(*d.strategy), m(*d.model), diags(diags) {}

  /// The `layer` and `expert` fields that start a row of a load or placement file: a MoE layer of the model and
  /// an expert it has. Reports what is wrong at the field.
  std::optional<std::pair<int64_t, int64_t>> layerAndExpert(const CsvRow &row) {
    std::optional<int64_t> layer = parseCount(row.fields[0], "layer", diags);
    std::optional<int64_t> expert = parseCount(row.fields[1], "expert", diags);
    if (!layer || !expert)
      return std::nullopt;
    if (*layer >= m.layers || !m.isMoeLayer(*layer)) {
      diags.error(row.fields[0].loc, "layer " + std::to_string(*layer) + " is not a MoE layer of model '" + m.name +
                                         "' (MoE layers are " + m.describeMoeLayers() + ")");
      return std::nullopt;
    }
    if (*expert >= m.moe.experts) {
      diags.error(row.fields[1].loc, "expert " + std::to_string(*expert) + " does not exist; model '" + m.name +
                                         "' has " + std::to_string(m.moe.experts) + " experts");
      return std::nullopt;
    }
    return std::pair{*layer, *expert};
  }

  /// `expert_load`: an engine's record (docs/interop.md) or CSV `layer,expert,tokens`.
  std::optional<std::map<int64_t, std::vector<double>>> readLoads(llvm::ArrayRef<int64_t> moeLayers) {
    std::string resolved = resolveInputPath(s.expertLoad, d.sourcePath);
    llvm::StringRef name = llvm::sys::path::filename(resolved);
    if (llvm::sys::fs::is_directory(resolved) || name == "meta_info.json")
      return engine::readTrtllmStatistics(name == "meta_info.json" ? llvm::sys::path::parent_path(resolved)
                                                                   : llvm::StringRef(resolved),
                                          s.locOf("expert_load"), m, diags);
    if (name.ends_with(".pt")) {
      diags.error(s.locOf("expert_load"), "'" + s.expertLoad + "' is a PyTorch file, which moec does not read; "
                                          "convert SGLang's dump with tools/sglang-dump-to-json.py (it needs "
                                          "torch) and name the .json");
      return std::nullopt;
    }
    if (name.ends_with(".json")) {
      std::optional<llvm::StringRef> text = loadInputFile(resolved, s.locOf("expert_load"), diags);
      if (!text)
        return std::nullopt;
      return engine::readJsonLoads(*text, s.expertLoad, m, diags);
    }
    return readCsvLoads(moeLayers);
  }

  /// `expert_load` as CSV: `layer,expert,tokens`, every expert of every MoE layer once.
  std::optional<std::map<int64_t, std::vector<double>>> readCsvLoads(llvm::ArrayRef<int64_t> moeLayers) {
    static const llvm::StringRef header[] = {"layer", "expert", "tokens"};
    std::optional<CsvFile> file =
        readCsv(s.expertLoad, d.sourcePath, header, s.locOf("expert_load"), diags);
    if (!file)
      return std::nullopt;
    int64_t experts = m.moe.experts;
    std::map<int64_t, std::vector<double>> loads;
    std::map<std::pair<int64_t, int64_t>, llvm::SMLoc> seen;
    for (int64_t l : moeLayers)
      loads[l].assign(experts, -1.0);
    bool ok = !file->malformedRows;
    for (const CsvRow &row : file->rows) {
      std::optional<std::pair<int64_t, int64_t>> at = layerAndExpert(row);
      std::optional<int64_t> tokens = parseCount(row.fields[2], "tokens", diags);
      if (!at || !tokens) {
        ok = false;
        continue;
      }
      auto [layer, expert] = *at;
      auto it = loads.find(layer);
      auto [first, inserted] = seen.try_emplace({layer, expert}, row.loc);
      if (!inserted) {
        diags.error(row.loc, "the load of expert " + std::to_string(expert) + " in layer " +
                                 std::to_string(layer) + " is given twice");
        diags.note(first->second, "first given here");
        ok = false;
        continue;
      }
      it->second[expert] = double(*tokens);
    }
    bool rowsOk = ok;
    for (const auto &[layer, load] : loads) {
      if (!rowsOk)
        break; // the rows were wrong; what is missing follows from them
      int64_t missing = std::count(load.begin(), load.end(), -1.0);
      if (missing == experts) {
        diags.error(file->loc, "'" + s.expertLoad + "' has no loads for MoE layer " + std::to_string(layer));
        ok = false;
      } else if (missing > 0) {
        int64_t first = std::find(load.begin(), load.end(), -1.0) - load.begin();
        diags.error(file->loc, "'" + s.expertLoad + "' misses " + std::to_string(missing) + " expert(s) of layer " +
                                   std::to_string(layer) + ", the first expert " + std::to_string(first));
        ok = false;
      }
    }
    if (!ok)
      return std::nullopt;
    return loads;
  }

  /// `expert_routes`: `layer,token,experts`, each token's top_k distinct experts separated by spaces.
  std::optional<std::map<int64_t, std::vector<llvm::SmallVector<int32_t, 8>>>>
  readRoutes() {
    static const llvm::StringRef header[] = {"layer", "token", "experts"};
    std::optional<CsvFile> file =
        readCsv(s.expertRoutes, d.sourcePath, header, s.locOf("expert_routes"), diags);
    if (!file)
      return std::nullopt;
    std::map<int64_t, std::vector<llvm::SmallVector<int32_t, 8>>> routes;
    bool ok = !file->malformedRows;
    for (const CsvRow &row : file->rows) {
      std::optional<int64_t> layer = parseCount(row.fields[0], "layer", diags);
      std::optional<int64_t> token = parseCount(row.fields[1], "token", diags);
      if (!layer || !token) {
        ok = false;
        continue;
      }
      if (!m.isMoeLayer(*layer) || *layer >= m.layers) {
        diags.error(row.fields[0].loc, "layer " + std::to_string(*layer) + " is not a MoE layer of model '" +
                                           m.name + "'");
        ok = false;
        continue;
      }
      llvm::SmallVector<llvm::StringRef, 8> ids;
      row.fields[2].text.split(ids, ' ', -1, /*KeepEmpty=*/false);
      llvm::SmallVector<int32_t, 8> experts;
      for (llvm::StringRef id : ids) {
        int64_t e;
        if (id.getAsInteger(10, e) || e < 0 || e >= m.moe.experts || llvm::is_contained(experts, int32_t(e))) {
          diags.error(row.fields[2].loc, "'" + row.fields[2].text.str() + "' must be " +
                                             std::to_string(m.moe.topK) + " distinct expert ids below " +
                                             std::to_string(m.moe.experts) + ", separated by spaces");
          ok = false;
          experts.clear();
          break;
        }
        experts.push_back(int32_t(e));
      }
      if (experts.empty())
        continue;
      if (int64_t(experts.size()) != m.moe.topK) {
        diags.error(row.fields[2].loc, "a token routes to top_k = " + std::to_string(m.moe.topK) +
                                           " experts, but this row lists " + std::to_string(experts.size()));
        ok = false;
        continue;
      }
      routes[*layer].push_back(experts);
    }
    if (!ok)
      return std::nullopt;
    return routes;
  }

  /// `placement_file`: an engine's map (SGLang or vLLM JSON, TensorRT-LLM YAML) or CSV `layer,expert,replica,rank`.
  std::optional<std::map<int64_t, ExpertReplicas>> readExplicit(llvm::ArrayRef<int64_t> moeLayers) {
    std::string resolved = resolveInputPath(s.placementFile, d.sourcePath);
    llvm::StringRef name = llvm::sys::path::filename(resolved);
    bool json = name.ends_with(".json"), yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    if (json || yaml) {
      std::optional<llvm::StringRef> text = loadInputFile(resolved, s.locOf("placement_file"), diags);
      if (!text)
        return std::nullopt;
      return json ? engine::readJsonPlacement(*text, s.placementFile, d, diags)
                  : engine::readTrtllmPlacement(*text, s.placementFile, d, diags);
    }
    return readCsvExplicit(moeLayers);
  }

  std::optional<std::map<int64_t, ExpertReplicas>> readCsvExplicit(llvm::ArrayRef<int64_t> moeLayers) {
    static const llvm::StringRef header[] = {"layer", "expert", "replica", "rank"};
    std::optional<CsvFile> file =
        readCsv(s.placementFile, d.sourcePath, header, s.locOf("placement_file"), diags);
    if (!file)
      return std::nullopt;
    int64_t experts = m.moe.experts, ep = s.ep, slots = experts + s.redundantExperts;
    std::map<int64_t, std::vector<std::map<int64_t, std::pair<int32_t, llvm::SMLoc>>>> layers;
    for (int64_t l : moeLayers)
      layers[l].resize(experts);
    bool ok = !file->malformedRows;
    for (const CsvRow &row : file->rows) {
      std::optional<std::pair<int64_t, int64_t>> at = layerAndExpert(row);
      std::optional<int64_t> replica = parseCount(row.fields[2], "replica", diags);
      std::optional<int64_t> rank = parseCount(row.fields[3], "rank", diags);
      if (!at || !replica || !rank) {
        ok = false;
        continue;
      }
      auto [layer, expert] = *at;
      auto it = layers.find(layer);
      if (*rank >= ep) {
        diags.error(row.fields[3].loc, "rank " + std::to_string(*rank) + " is outside the EP group (0.." +
                                           std::to_string(ep - 1) + ")");
        ok = false;
        continue;
      }
      auto [slot, inserted] =
          it->second[expert].try_emplace(*replica, std::pair{int32_t(*rank), row.loc});
      if (!inserted) {
        diags.error(row.loc, "replica " + std::to_string(*replica) + " of expert " + std::to_string(expert) +
                                 " in layer " + std::to_string(layer) + " is placed twice");
        diags.note(slot->second.second, "first placed here");
        ok = false;
      }
    }
    if (!ok)
      return std::nullopt;

    // Every expert needs replicas 0..n-1, and the layer as many slots as the strategy declares; the verifier
    // checks the rest (one replica per GPU, slot limits) after the pass.
    std::map<int64_t, ExpertReplicas> out;
    for (auto &[layer, table] : layers) {
      ExpertReplicas lp;
      int64_t count = 0;
      for (int64_t e = 0; e < experts; ++e) {
        const auto &reps = table[e];
        if (reps.empty()) {
          diags.error(file->loc, "layer " + std::to_string(layer) + ": expert " + std::to_string(e) +
                                     " has no replica in '" + s.placementFile + "'");
          ok = false;
          continue;
        }
        llvm::SmallVector<int32_t, 2> positions;
        int64_t expected = 0;
        for (const auto &[replica, where] : reps) {
          if (replica != expected) {
            diags.error(where.second, "layer " + std::to_string(layer) + ": expert " + std::to_string(e) +
                                          " has replica " + std::to_string(replica) + " but no replica " +
                                          std::to_string(expected));
            ok = false;
            break;
          }
          positions.push_back(where.first);
          ++expected;
        }
        count += int64_t(reps.size());
        lp.push_back(std::move(positions));
      }
      if (ok && count != slots) {
        diags.error(file->loc, "layer " + std::to_string(layer) + " places " + std::to_string(count) +
                                   " replicas, but the strategy has " + std::to_string(experts) + " experts + " +
                                   std::to_string(s.redundantExperts) + " redundant = " + std::to_string(slots) +
                                   " slots" +
                                   (count > experts ? "; set redundant_experts = " + std::to_string(count - experts) +
                                                          " to match the file"
                                                    : std::string()));
        diags.note(s.locOf("placement_file"), "placement file named here");
        ok = false;
      }
      out[layer] = std::move(lp);
      if (diags.getNumErrors() > 50)
        break;
    }
    if (!ok)
      return std::nullopt;
    return out;
  }

private:
  const DeploySpec &d;
  const StrategySpec &s;
  const ModelSpec &m;
  DiagEngine &diags;
};
} // namespace

std::optional<PlacementInputs> moec::readPlacementInputs(const DeploySpec &deploy, DiagEngine &diags) {
  const StrategySpec &s = *deploy.strategy;
  const ModelSpec &m = *deploy.model;
  PlacementInputs inputs;
  if (s.placement != PlacementPolicy::Balanced && s.placement != PlacementPolicy::Explicit)
    return inputs;
  std::vector<int64_t> moeLayers;
  for (int64_t l = 0; l < m.layers; ++l)
    if (m.isMoeLayer(l))
      moeLayers.push_back(l);
  Reader reader(deploy, diags);
  if (s.placement == PlacementPolicy::Explicit) {
    auto table = reader.readExplicit(moeLayers);
    if (!table)
      return std::nullopt;
    inputs.explicitTable = std::move(*table);
    return inputs;
  }
  auto loads = reader.readLoads(moeLayers);
  std::optional<std::map<int64_t, std::vector<llvm::SmallVector<int32_t, 8>>>> routes;
  if (!s.expertRoutes.empty())
    routes = reader.readRoutes();
  if (!loads || (!s.expertRoutes.empty() && !routes))
    return std::nullopt;
  inputs.loads = std::move(*loads);
  if (routes)
    inputs.routes = std::move(*routes);
  return inputs;
}
