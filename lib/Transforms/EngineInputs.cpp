//===- EngineInputs.cpp - Expert loads and placements in the engines' formats -===//
//
// Layer numbering differs by engine (user-asks.md, part 3): SGLang's maps and dumps have a row per decoder layer
// (dense ones included, and ignored), TensorRT-LLM keys its statistics and assignments by decoder-layer index,
// vLLM's map has a row per MoE layer only. Every reader folds its rows to moec's numbering once: decoder-layer
// indices of the MoE layers.
//
//===----------------------------------------------------------------------===//
#include "moec/Transforms/EngineInputs.h"

#include "moec/Support/Csv.h"
#include "moec/Support/LocatedJson.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cmath>

using namespace moec;
using namespace moec::engine;

namespace {

llvm::SMLoc at(const char *p) { return llvm::SMLoc::getFromPointer(p); }

std::vector<int64_t> moeLayersOf(const ModelSpec &m) {
  std::vector<int64_t> out;
  for (int64_t l = 0; l < m.layers; ++l)
    if (m.isMoeLayer(l))
      out.push_back(l);
  return out;
}

bool parsed(llvm::StringRef text, llvm::StringRef path, JsonValue &doc, DiagEngine &diags) {
  const char *errorAt = nullptr;
  std::string error;
  if (parseJson(text, doc, errorAt, error))
    return true;
  diags.error(at(errorAt), "'" + path.str() + "' is not valid JSON: " + error);
  return false;
}

/// The decoder layer of each of \p rows rows: a row per decoder layer (dense rows map to -1), or, when \p moeRows
/// is allowed, a row per MoE layer. Empty (with an error at \p where) when the count is neither.
std::vector<int64_t> layersOfRows(size_t rows, const ModelSpec &m, bool moeRows, const char *where,
                                  llvm::StringRef what, DiagEngine &diags) {
  std::vector<int64_t> moe = moeLayersOf(m), out;
  if (int64_t(rows) == m.layers) {
    for (int64_t l = 0; l < m.layers; ++l)
      out.push_back(m.isMoeLayer(l) ? l : -1);
    return out;
  }
  if (moeRows && rows == moe.size())
    return moe;
  diags.error(at(where), what.str() + " has " + std::to_string(rows) + " rows, but model '" + m.name + "' has " +
                             std::to_string(m.layers) + " decoder layers" +
                             (moeRows ? " and " + std::to_string(moe.size()) + " MoE layers" : std::string()) +
                             (moeRows ? ": give a row per decoder layer or per MoE layer"
                                      : ": it has a row per decoder layer, dense ones included"));
  return {};
}

/// Add a [experts] row of counts at \p v to \p sum; false (reported) when it is not one.
bool addCounts(const JsonValue &v, const ModelSpec &m, std::vector<double> &sum, DiagEngine &diags) {
  if (v.kind != JsonValue::Kind::Array || int64_t(v.items.size()) != m.moe.experts) {
    diags.error(at(v.where), "a layer's loads are an array of " + std::to_string(m.moe.experts) +
                                 " token counts (model '" + m.name + "' has " + std::to_string(m.moe.experts) +
                                 " experts), but this is " +
                                 (v.kind == JsonValue::Kind::Array ? "an array of " + std::to_string(v.items.size())
                                                                   : v.describe().str()));
    return false;
  }
  sum.resize(size_t(m.moe.experts), 0.0);
  for (size_t e = 0; e < v.items.size(); ++e) {
    const JsonValue &x = v.items[e];
    if (x.kind != JsonValue::Kind::Number || !(x.number >= 0) || !std::isfinite(x.number)) {
      diags.error(at(x.where), "the load of expert " + std::to_string(e) + " must be a count of tokens (a number "
                                                                            "zero or more), not " +
                                   x.describe().str());
      return false;
    }
    sum[e] += x.number;
  }
  return true;
}

/// Every MoE layer has a load with tokens in it.
bool complete(const Loads &loads, const ModelSpec &m, llvm::StringRef path, llvm::SMLoc where, DiagEngine &diags) {
  for (int64_t l : moeLayersOf(m)) {
    auto it = loads.find(l);
    double total = 0;
    if (it != loads.end())
      for (double x : it->second)
        total += x;
    if (total <= 0) {
      diags.error(where, "'" + path.str() + "' has no tokens for MoE layer " + std::to_string(l));
      return false;
    }
  }
  return true;
}

/// Replicas per expert from physical-to-logical rows, \p perRank slots a rank; every expert placed, no slot out of
/// range, as many slots as the strategy has.
std::optional<ExpertReplicas> replicasOf(const std::vector<int64_t> &row, const char *where, int64_t layer,
                                         const DeploySpec &d, DiagEngine &diags) {
  const StrategySpec &s = *d.strategy;
  int64_t experts = d.model->moe.experts, slots = experts + s.redundantExperts;
  if (int64_t(row.size()) != slots) {
    diags.error(at(where), "layer " + std::to_string(layer) + " has " + std::to_string(row.size()) +
                               " physical slots, but the strategy has " + std::to_string(experts) + " experts + " +
                               std::to_string(s.redundantExperts) + " redundant = " + std::to_string(slots) +
                               (int64_t(row.size()) > experts && int64_t(row.size()) % s.ep == 0
                                    ? "; set redundant_experts = " + std::to_string(int64_t(row.size()) - experts) +
                                          " to match the file"
                                    : std::string()));
    return std::nullopt;
  }
  if (slots % s.ep != 0) {
    diags.error(at(where), "an engine's map gives every rank the same number of slots, but " +
                               std::to_string(slots) + " slots do not divide over ep = " + std::to_string(s.ep));
    return std::nullopt;
  }
  int64_t perRank = slots / s.ep;
  ExpertReplicas out(static_cast<size_t>(experts));
  for (size_t p = 0; p < row.size(); ++p) {
    if (row[p] < 0 || row[p] >= experts) {
      diags.error(at(where), "layer " + std::to_string(layer) + ": slot " + std::to_string(p) + " holds expert " +
                                 std::to_string(row[p]) + ", but model '" + d.model->name + "' has " +
                                 std::to_string(experts) + " experts");
      return std::nullopt;
    }
    out[size_t(row[p])].push_back(int32_t(int64_t(p) / perRank));
  }
  for (int64_t e = 0; e < experts; ++e)
    if (out[size_t(e)].empty()) {
      diags.error(at(where), "layer " + std::to_string(layer) + ": expert " + std::to_string(e) + " has no slot");
      return std::nullopt;
    }
  return out;
}

/// A JSON array of integers, as a row; false (reported) when it is not one.
bool intRow(const JsonValue &v, std::vector<int64_t> &row, DiagEngine &diags) {
  if (v.kind != JsonValue::Kind::Array) {
    diags.error(at(v.where), "a layer's map is an array of expert ids, not " + v.describe().str());
    return false;
  }
  for (const JsonValue &x : v.items) {
    if (x.kind != JsonValue::Kind::Number || !x.integral) {
      diags.error(at(x.where), "an expert id is an integer, not " + x.describe().str());
      return false;
    }
    row.push_back(int64_t(x.number));
  }
  return true;
}

} // namespace

std::optional<Loads> engine::readJsonLoads(llvm::StringRef text, llvm::StringRef path, const ModelSpec &m,
                                           DiagEngine &diags) {
  JsonValue doc;
  if (!parsed(text, path, doc, diags))
    return std::nullopt;
  const JsonValue *counts = &doc;
  bool sglang = false;
  if (doc.kind == JsonValue::Kind::Object) {
    counts = doc.get("logical_count");
    sglang = true;
    if (!counts) {
      diags.error(at(doc.where), "a JSON expert_load is SGLang's expert-distribution dump (an object with "
                                 "'logical_count') or a [layers][experts] array; this object has no "
                                 "'logical_count'");
      return std::nullopt;
    }
  }
  if (counts->kind != JsonValue::Kind::Array || counts->items.empty()) {
    diags.error(at(counts->where), std::string(sglang ? "'logical_count'" : "a JSON expert_load") +
                                       " is a non-empty [steps][layers][experts] or [layers][experts] array, not " +
                                       counts->describe().str());
    return std::nullopt;
  }
  // [steps][layers][experts]: summed over the steps (SGLang's recorder buffer).
  std::vector<const JsonValue *> steps;
  const JsonValue &first = counts->items.front();
  bool threeD = first.kind == JsonValue::Kind::Array && !first.items.empty() &&
                first.items.front().kind == JsonValue::Kind::Array;
  if (threeD)
    for (const JsonValue &step : counts->items)
      steps.push_back(&step);
  else
    steps.push_back(counts);
  std::vector<int64_t> layers;
  Loads loads;
  for (const JsonValue *step : steps) {
    if (step->kind != JsonValue::Kind::Array) {
      diags.error(at(step->where), "a step of 'logical_count' is a [layers][experts] array, not " +
                                       step->describe().str());
      return std::nullopt;
    }
    if (layers.empty()) {
      layers = layersOfRows(step->items.size(), m, !sglang, step->where,
                            sglang ? "'logical_count'" : "'" + path.str() + "'", diags);
      if (layers.empty())
        return std::nullopt;
    } else if (step->items.size() != layers.size()) {
      diags.error(at(step->where), "this step has " + std::to_string(step->items.size()) + " layers, the first " +
                                       std::to_string(layers.size()));
      return std::nullopt;
    }
    for (size_t r = 0; r < layers.size(); ++r) {
      if (layers[r] < 0)
        continue; // a dense layer's row
      if (!addCounts(step->items[r], m, loads[layers[r]], diags))
        return std::nullopt;
    }
  }
  if (!complete(loads, m, path, at(counts->where), diags))
    return std::nullopt;
  return loads;
}

bool engine::addSafetensorsCounts(llvm::StringRef data, llvm::StringRef path, const ModelSpec &m, Loads &loads,
                                  DiagEngine &diags) {
  llvm::SMLoc start = at(data.begin());
  if (data.size() < 8) {
    diags.error(start, "'" + path.str() + "' is not a safetensors file: it is shorter than its 8-byte header size");
    return false;
  }
  uint64_t headerSize = llvm::support::endian::read64le(data.data());
  if (headerSize > data.size() - 8) {
    diags.error(start, "'" + path.str() + "' is not a safetensors file: its header of " + std::to_string(headerSize) +
                           " bytes is longer than the file");
    return false;
  }
  llvm::StringRef headerText = data.substr(8, headerSize);
  llvm::StringRef payload = data.substr(8 + headerSize);
  JsonValue header;
  if (!parsed(headerText, path, header, diags))
    return false;
  if (header.kind != JsonValue::Kind::Object) {
    diags.error(at(header.where), "a safetensors header is a JSON object, not " + header.describe().str());
    return false;
  }
  for (const JsonMember &t : header.members) {
    if (t.key == "__metadata__")
      continue;
    auto [iterText, layerText] = llvm::StringRef(t.key).split('_');
    int64_t iter, layer;
    if (iterText.getAsInteger(10, iter) || layerText.getAsInteger(10, layer) || iter < 0 || layer < 0) {
      diags.error(at(t.value.keyWhere), "tensor '" + t.key + "' is not named <iteration>_<layer>, as "
                                                               "TensorRT-LLM's expert statistics are");
      return false;
    }
    if (layer >= m.layers || !m.isMoeLayer(layer)) {
      diags.error(at(t.value.keyWhere), "tensor '" + t.key + "': layer " + std::to_string(layer) +
                                            " is not a MoE layer of model '" + m.name + "' (MoE layers are " +
                                            m.describeMoeLayers() + ")");
      return false;
    }
    const JsonValue *dtype = t.value.get("dtype"), *shape = t.value.get("shape"),
                    *offsets = t.value.get("data_offsets");
    static const std::pair<llvm::StringRef, int> sizes[] = {{"I8", 1},  {"U8", 1},  {"I16", 2}, {"U16", 2},
                                                            {"I32", 4}, {"U32", 4}, {"I64", 8}, {"U64", 8},
                                                            {"F32", 4}, {"F64", 8}};
    int width = 0;
    if (dtype && dtype->kind == JsonValue::Kind::String)
      for (auto [name, w] : sizes)
        if (dtype->string == name)
          width = w;
    bool shapeOk = shape && shape->kind == JsonValue::Kind::Array && shape->items.size() == 1 &&
                   shape->items[0].kind == JsonValue::Kind::Number &&
                   int64_t(shape->items[0].number) == m.moe.experts;
    bool offsetsOk = offsets && offsets->kind == JsonValue::Kind::Array && offsets->items.size() == 2 &&
                     offsets->items[0].integral && offsets->items[1].integral &&
                     offsets->items[0].number >= 0 && offsets->items[1].number <= double(payload.size()) &&
                     offsets->items[1].number - offsets->items[0].number == double(width) * double(m.moe.experts);
    if (!width || !shapeOk || !offsetsOk) {
      diags.error(at(t.value.where),
                  "tensor '" + t.key + "' must be " + std::to_string(m.moe.experts) +
                      " counts (shape [" + std::to_string(m.moe.experts) + "], an integer or float dtype) with " +
                      "data_offsets inside the file" + (!width && dtype ? ", not dtype " + dtype->string : ""));
      return false;
    }
    const char *p = payload.data() + int64_t(offsets->items[0].number);
    std::vector<double> &sum = loads[layer];
    sum.resize(size_t(m.moe.experts), 0.0);
    namespace endian = llvm::support::endian;
    for (int64_t e = 0; e < m.moe.experts; ++e, p += width) {
      llvm::StringRef type = dtype->string;
      double v = type == "I8"    ? double(int8_t(*p))
                 : type == "U8"  ? double(uint8_t(*p))
                 : type == "I16" ? double(int16_t(endian::read16le(p)))
                 : type == "U16" ? double(endian::read16le(p))
                 : type == "I32" ? double(int32_t(endian::read32le(p)))
                 : type == "U32" ? double(endian::read32le(p))
                 : type == "I64" ? double(int64_t(endian::read64le(p)))
                 : type == "U64" ? double(endian::read64le(p))
                 : type == "F32" ? double(llvm::bit_cast<float>(endian::read32le(p)))
                                 : llvm::bit_cast<double>(endian::read64le(p));
      if (!(v >= 0) || !std::isfinite(v)) {
        diags.error(at(t.value.where), "tensor '" + t.key + "' counts " + std::to_string(v) + " tokens for expert " +
                                           std::to_string(e) + ": a count is zero or more");
        return false;
      }
      sum[size_t(e)] += v;
    }
  }
  return true;
}

std::optional<Loads> engine::readTrtllmStatistics(llvm::StringRef directory, llvm::SMLoc usedAt, const ModelSpec &m,
                                                  DiagEngine &diags) {
  llvm::SmallString<256> metaPath(directory);
  llvm::sys::path::append(metaPath, "meta_info.json");
  std::optional<llvm::StringRef> metaText = loadInputFile(metaPath, usedAt, diags);
  if (!metaText)
    return std::nullopt;
  JsonValue meta;
  if (!parsed(*metaText, metaPath, meta, diags))
    return std::nullopt;
  for (auto [key, want] : {std::pair<llvm::StringRef, int64_t>{"num_experts", m.moe.experts},
                           {"num_experts_per_token", m.moe.topK}}) {
    const JsonValue *v = meta.kind == JsonValue::Kind::Object ? meta.get(key) : nullptr;
    if (!v || v->kind != JsonValue::Kind::Number || !v->integral) {
      diags.error(at(v ? v->where : meta.where), "'" + metaPath.str().str() + "' needs '" + key.str() +
                                                      "', an integer (TensorRT-LLM's expert statistics)");
      return std::nullopt;
    }
    if (int64_t(v->number) != want) {
      diags.error(at(v->where), key.str() + " is " + std::to_string(int64_t(v->number)) + ", but model '" + m.name +
                                    "' has " + std::to_string(want));
      return std::nullopt;
    }
  }
  // rank<r>.safetensors, in rank order.
  std::vector<std::pair<int64_t, std::string>> ranks;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(directory, ec), end; it != end && !ec; it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    int64_t r;
    if (name.consume_front("rank") && name.consume_back(".safetensors") && !name.getAsInteger(10, r) && r >= 0)
      ranks.emplace_back(r, it->path());
  }
  std::sort(ranks.begin(), ranks.end());
  if (ranks.empty()) {
    diags.error(usedAt, "'" + directory.str() + "' holds no rank<r>.safetensors (TensorRT-LLM writes one per rank)");
    return std::nullopt;
  }
  Loads loads;
  for (const auto &[rank, file] : ranks) {
    std::optional<llvm::StringRef> data = loadInputFile(file, usedAt, diags);
    if (!data)
      return std::nullopt;
    if (!addSafetensorsCounts(*data, file, m, loads, diags))
      return std::nullopt;
  }
  if (!complete(loads, m, directory, usedAt, diags))
    return std::nullopt;
  return loads;
}

std::optional<Table> engine::readJsonPlacement(llvm::StringRef text, llvm::StringRef path, const DeploySpec &d,
                                               DiagEngine &diags) {
  const ModelSpec &m = *d.model;
  JsonValue doc;
  if (!parsed(text, path, doc, diags))
    return std::nullopt;
  Table out;
  std::vector<int64_t> moe = moeLayersOf(m);
  auto add = [&](const JsonValue &rowValue, int64_t layer) {
    std::vector<int64_t> row;
    if (!intRow(rowValue, row, diags))
      return false;
    std::optional<ExpertReplicas> r = replicasOf(row, rowValue.where, layer, d, diags);
    if (!r)
      return false;
    out[layer] = std::move(*r);
    return true;
  };
  if (doc.kind == JsonValue::Kind::Object) {
    // SGLang's --init-expert-location: only physical_to_logical_map, a row per decoder layer.
    const JsonValue *map = doc.get("physical_to_logical_map");
    if (!map) {
      diags.error(at(doc.where), "a JSON placement_file is SGLang's {\"physical_to_logical_map\": ...} or vLLM's "
                                 "[layers][slots] map; this object has no 'physical_to_logical_map'");
      return std::nullopt;
    }
    for (const JsonMember &mem : doc.members)
      if (mem.key != "physical_to_logical_map") {
        diags.error(at(mem.value.keyWhere), "SGLang reads a file with 'physical_to_logical_map' alone (another key "
                                            "is a TypeError in init_by_mapping): '" +
                                                mem.key + "' is not read");
        return std::nullopt;
      }
    if (map->kind != JsonValue::Kind::Array) {
      diags.error(at(map->where), "'physical_to_logical_map' is a [layers][slots] array, not " + map->describe().str());
      return std::nullopt;
    }
    std::vector<int64_t> layers = layersOfRows(map->items.size(), m, false, map->where, "'physical_to_logical_map'",
                                               diags);
    if (layers.empty())
      return std::nullopt;
    for (size_t r = 0; r < layers.size(); ++r)
      if (layers[r] >= 0 && !add(map->items[r], layers[r]))
        return std::nullopt;
    return out;
  }
  if (doc.kind != JsonValue::Kind::Array || doc.items.empty()) {
    diags.error(at(doc.where), "a JSON placement_file is SGLang's {\"physical_to_logical_map\": ...} or vLLM's "
                               "[layers][slots] map, not " + doc.describe().str());
    return std::nullopt;
  }
  // vLLM (#49572): one list shared by every MoE layer, or a list per MoE layer.
  if (doc.items.front().kind != JsonValue::Kind::Array) {
    for (int64_t l : moe)
      if (!add(doc, l))
        return std::nullopt;
    return out;
  }
  if (doc.items.size() != moe.size()) {
    diags.error(at(doc.where), "vLLM's expert map has a row per MoE layer; this one has " +
                                   std::to_string(doc.items.size()) + " rows, model '" + m.name + "' " +
                                   std::to_string(moe.size()) + " MoE layers");
    return std::nullopt;
  }
  for (size_t r = 0; r < moe.size(); ++r)
    if (!add(doc.items[r], moe[r]))
      return std::nullopt;
  return out;
}

std::optional<Table> engine::readTrtllmPlacement(llvm::StringRef text, llvm::StringRef path, const DeploySpec &d,
                                                 DiagEngine &diags) {
  const ModelSpec &m = *d.model;
  std::optional<int64_t> numSlots;
  std::map<int64_t, std::pair<std::vector<int64_t>, const char *>> rows;
  bool inAssignments = false;
  const char *assignmentsAt = nullptr;
  auto unsupported = [&](const char *where, llvm::StringRef why) {
    diags.error(at(where), why.str() + "; moec reads TensorRT-LLM's moe_load_balancer YAML as its README writes it: "
                                       "'num_slots: N', 'layer_updates_per_iter: N' and 'initial_global_assignments:' "
                                       "followed by '  <layer>: [<slot experts>]' lines");
    return std::nullopt;
  };
  for (llvm::StringRef rest = text; !rest.empty();) {
    auto [line, next] = rest.split('\n');
    rest = next;
    llvm::StringRef content = line.split('#').first.rtrim();
    if (content.trim().empty())
      continue;
    bool indented = content.front() == ' ';
    auto [key, value] = content.trim().split(':');
    key = key.trim();
    value = value.trim();
    if (!content.contains(':'))
      return unsupported(content.trim().data(), "'" + content.trim().str() + "' is not 'key: value'");
    if (!indented) {
      inAssignments = false;
      if (key == "initial_global_assignments" && value.empty()) {
        inAssignments = true;
        assignmentsAt = key.data();
      } else if (key == "num_slots" || key == "layer_updates_per_iter") {
        int64_t n;
        if (value.getAsInteger(10, n) || n < 0)
          return unsupported(value.empty() ? key.data() : value.data(), key.str() + " is a count");
        if (key == "num_slots")
          numSlots = n;
        else if (n != 0)
          diags.warning(at(value.data()), "layer_updates_per_iter = " + std::to_string(n) +
                                              " is online EPLB: TensorRT-LLM moves experts while serving; moec "
                                              "reads the initial assignments");
      } else {
        return unsupported(key.data(), "'" + key.str() + "' is not a key of MoeLoadBalancerConfig that moec reads");
      }
      continue;
    }
    if (!inAssignments)
      return unsupported(key.data(), "an indented line outside initial_global_assignments");
    int64_t layer;
    if (key.getAsInteger(10, layer) || layer < 0)
      return unsupported(key.data(), "'" + key.str() + "' is not a decoder-layer index");
    if (layer >= m.layers || !m.isMoeLayer(layer)) {
      diags.error(at(key.data()), "layer " + std::to_string(layer) + " is not a MoE layer of model '" + m.name +
                                      "' (TensorRT-LLM keys its assignments by decoder-layer index; MoE layers are " +
                                      m.describeMoeLayers() + ")");
      return std::nullopt;
    }
    if (!value.consume_front("[") || !value.consume_back("]"))
      return unsupported(value.empty() ? key.data() : value.data(), "a layer's assignment is a [..] list on its line");
    std::vector<int64_t> row;
    for (llvm::StringRef rest2 = value; !rest2.trim().empty();) {
      auto [item, more] = rest2.split(',');
      rest2 = more;
      int64_t e;
      if (item.trim().getAsInteger(10, e))
        return unsupported(item.trim().empty() ? value.data() : item.trim().data(),
                           "'" + item.trim().str() + "' is not an expert id");
      row.push_back(e);
    }
    if (!rows.try_emplace(layer, std::move(row), key.data()).second) {
      diags.error(at(key.data()), "layer " + std::to_string(layer) + " is assigned twice");
      return std::nullopt;
    }
  }
  if (!assignmentsAt) {
    diags.error(at(text.data()), "'" + path.str() + "' has no initial_global_assignments (online EPLB alone gives "
                                                    "moec no placement to read)");
    return std::nullopt;
  }
  Table out;
  for (int64_t l : moeLayersOf(m)) {
    auto it = rows.find(l);
    if (it == rows.end()) {
      diags.error(at(assignmentsAt), "initial_global_assignments has no layer " + std::to_string(l));
      return std::nullopt;
    }
    if (numSlots && int64_t(it->second.first.size()) != *numSlots) {
      diags.error(at(it->second.second), "layer " + std::to_string(l) + " assigns " +
                                             std::to_string(it->second.first.size()) + " slots, but num_slots is " +
                                             std::to_string(*numSlots));
      return std::nullopt;
    }
    std::optional<ExpertReplicas> r = replicasOf(it->second.first, it->second.second, l, d, diags);
    if (!r)
      return std::nullopt;
    out[l] = std::move(*r);
  }
  return out;
}
