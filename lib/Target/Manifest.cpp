//===- Manifest.cpp - The launch manifest (-emit=manifest) ----------------===//
//
// Written with llvm::json::OStream in a fixed order, so the same spec gives the same bytes. The `plan` object
// holds everything a launcher needs; its digest (SHA-256 of its compact serialisation) identifies the plan, so two
// manifests can be compared without reading them. It scales with the world, not with world x layers: what ranks
// share is written once (the placement per EP-group position and MoE layer; a rank finds its experts through its
// EP coordinate), and the long per-rank lists (group members, rank entries) are written one to a line.
//
//===----------------------------------------------------------------------===//
#include "moec/Target/Manifest.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SHA256.h"

#include "fmt/format.h"

#include <iterator>

using namespace moec;
using namespace moec::ir;

namespace {

std::string sha256(llvm::StringRef data) { return llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(data)), true); }

/// A list of integers on one line, whatever the stream's indentation.
void intArray(llvm::json::OStream &j, llvm::ArrayRef<int64_t> values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i)
      text += ",";
    text += std::to_string(values[i]);
  }
  j.rawValue(text + "]");
}

/// An object on one line, whatever the stream's indentation.
void inlineObject(llvm::json::OStream &j, llvm::function_ref<void(llvm::json::OStream &)> body) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::json::OStream compact(os, 0);
  compact.object([&] { body(compact); });
  j.rawValue(text);
}

void writePlan(const Plan &plan, llvm::json::OStream &j) {
  const ModelSpec &m = plan.model();
  const ClusterSpec &c = plan.cluster();
  const StrategySpec &s = plan.strategy();
  const WorkloadSpec &w = plan.workload();
  j.object([&] {
    j.attribute("deploy", plan.deploy->name);
    j.attributeObject("model", [&] {
      j.attribute("name", m.name);
      j.attribute("layers", m.layers);
      j.attribute("denseLayers", m.denseLayerCount());
      j.attribute("hidden", m.hidden);
      j.attribute("precision", spell(m.precision));
      j.attributeObject("precisions", [&] {
        j.attribute("attention", spell(m.parts.attention));
        j.attribute("denseFfn", spell(m.parts.denseFfn));
        j.attribute("experts", spell(m.parts.experts));
        j.attribute("embedding", spell(m.parts.embedding));
        j.attribute("kvCache", spell(m.parts.kvCache));
      });
      j.attribute("vocab", m.vocab);
      j.attributeObject("attention", [&] {
        j.attribute("kind", spell(m.attention.kind));
        j.attribute("heads", m.attention.heads);
        j.attribute("kvHeads", m.attention.kvHeads);
        j.attribute("headDim", m.attention.headDim);
        if (m.attention.kind == AttentionKind::MLA) {
          // Enough to rebuild an engine's MLA config: the latent ranks and the rotary part of each head.
          j.attribute("qLoraRank", m.attention.qLoraRank);
          j.attribute("kvLoraRank", m.attention.kvLoraRank);
          j.attribute("ropeHeadDim", m.attention.ropeHeadDim);
        }
        // The variants, only when the model has them (docs/manifest.md).
        const AttentionSpec &a = m.attention;
        if (a.slidingWindow)
          j.attribute("slidingWindow", a.slidingWindow);
        if (a.chunkSize)
          j.attribute("chunkSize", a.chunkSize);
        if (a.fullEvery)
          j.attribute("fullEvery", a.fullEvery);
        if (a.qkNorm)
          j.attribute("qkNorm", true);
        if (a.sinks)
          j.attribute("sinks", true);
        if (a.bias != AttentionBias::None)
          j.attribute("bias", spell(a.bias));
      });
      if (m.tieEmbeddings)
        j.attribute("tieEmbeddings", true);
      if (m.mlp)
        j.attributeObject("mlp", [&] {
          j.attribute("hidden", m.mlp->hidden);
          j.attribute("activation", spell(m.mlp->activation));
        });
      j.attributeObject("moe", [&] {
        j.attribute("experts", m.moe.experts);
        j.attribute("topK", m.moe.topK);
        j.attribute("expertHidden", m.moe.expertHidden);
        j.attribute("activation", spell(m.moe.activation));
        j.attribute("sharedExperts", m.moe.sharedExperts);
        j.attribute("routeGroups", m.moe.routeGroups);
        j.attribute("routeNodes", m.moe.routeNodes);
        if (m.moe.bias)
          j.attribute("bias", true);
      });
    });
    j.attributeObject("workload", [&] {
      j.attribute("phase", spell(w.phase));
      j.attribute("microBatch", w.microBatch);
      j.attribute(w.phase == Phase::Prefill ? "seq" : "context", w.phase == Phase::Prefill ? w.seq : w.context);
    });
    j.attributeObject("cluster", [&] {
      j.attribute("name", c.name);
      j.attribute("gpu", c.gpu->name);
      j.attribute("gpusPerNode", c.gpusPerNode);
      j.attribute("hostsDeclared", !c.hosts.empty());
      j.attributeArray("nodes", [&] {
        for (int64_t n = 0; n < c.nodes; ++n)
          inlineObject(j, [&](llvm::json::OStream &o) {
            o.attribute("index", n);
            o.attribute("host", c.host(n));
          });
      });
    });
    j.attributeObject("parallel", [&] {
      j.attribute("world", int64_t(plan.devices.size()));
      j.attribute("pp", s.pp);
      j.attribute("dp", s.dp);
      j.attribute("ep", s.ep);
      j.attribute("tp", s.tp);
      if (s.folded()) {
        j.attribute("etp", s.etp());
        j.attribute("attentionDp", plan.deploy->derived.attentionDp);
      }
      j.attribute("order", s.orderString());
      j.attribute("expertsPerGpu", plan.maxSlotsPerGpu());
    });
    j.attributeArray("layers", [&] {
      for (size_t l = 0; l < plan.layerKinds.size(); ++l)
        j.object([&] {
          j.attribute("index", int64_t(l));
          j.attribute("kind", plan.layerKinds[l] == LayerKind::MoE ? "moe" : "dense");
          j.attribute("stage", plan.layerStage[l]);
        });
    });
    j.attributeArray("processGroups", [&] {
      for (const ProcessGroup &g : plan.groups)
        j.object([&] {
          j.attribute("kind", spell(g.kind));
          j.attribute("index", g.index);
          j.attributeBegin("ranks");
          intArray(j, g.ranks);
          j.attributeEnd();
        });
    });
    int64_t slotsPerGpu = plan.maxSlotsPerGpu();
    j.attributeObject("placement", [&] {
      j.attribute("policy", spell(plan.placement.policy));
      j.attribute("slotsPerGpu", slotsPerGpu);
      j.attribute("explanation", plan.placement.explanation);
      j.attributeArray("layers", [&] {
        for (const LayerPlacement &lp : plan.placement.layers)
          j.object([&] {
            j.attribute("layer", lp.layer);
            // Physical slot = position * expertsPerGpu + k; an empty slot (uneven layouts) is -1.
            std::vector<llvm::SmallVector<int32_t, 2>> held = lp.slots(s.ep);
            std::vector<int64_t> physical;
            physical.reserve(size_t(s.ep * slotsPerGpu));
            for (int64_t p = 0; p < s.ep; ++p)
              for (int64_t k = 0; k < slotsPerGpu; ++k) {
                bool filled = k < int64_t(held[p].size());
                physical.push_back(filled ? int64_t(held[p][k]) : int64_t(-1));
              }
            j.attributeBegin("physicalToLogical");
            intArray(j, physical);
            j.attributeEnd();
            // Replica 0 (the primary) first; one expert to a line.
            j.attributeArray("logicalToPhysical", [&] {
              for (size_t e = 0; e < lp.replicas.size(); ++e) {
                std::vector<int64_t> slots;
                for (int32_t p : lp.replicas[e]) {
                  int64_t k = std::find(held[p].begin(), held[p].end(), int32_t(e)) - held[p].begin();
                  slots.push_back(int64_t(p) * slotsPerGpu + k);
                }
                intArray(j, slots);
              }
            });
          });
      });
    });
    // One line per rank. Its experts are not repeated here: in MoE layer l a rank holds the non-negative entries
    // of placement.layers[l].physicalToLogical[coords.ep * slotsPerGpu ...][slotsPerGpu], in local-slot order.
    // The host of each node, quoted by the JSON writer once, not once per rank.
    std::vector<std::string> hosts;
    for (int64_t n = 0; n < c.nodes; ++n) {
      std::string quoted;
      llvm::raw_string_ostream qs(quoted);
      llvm::json::OStream(qs, 0).value(c.host(n));
      hosts.push_back(std::move(quoted));
    }
    j.attributeArray("ranks", [&] {
      std::string line;
      for (const Device &d : plan.devices) {
        line.clear();
        // Folded, "tp" is the attention TP coordinate, and "etp" and "attentionDp" follow.
        std::string folded = plan.layout.folded()
                                 ? fmt::format(",\"etp\":{},\"attentionDp\":{}", d.coords[Axis::TP],
                                               plan.layout.attentionDpRank(d.rank))
                                 : std::string();
        fmt::format_to(std::back_inserter(line),
                       "{{\"rank\":{},\"node\":{},\"host\":{},\"localRank\":{},\"gpu\":{},\"coords\":"
                       "{{\"pp\":{},\"dp\":{},\"ep\":{},\"tp\":{}{}}}}}",
                       d.rank, d.node, hosts[d.node], d.localGpu, d.localGpu, d.coords[Axis::PP],
                       d.coords[Axis::DP], d.coords[Axis::EP], plan.layout.attentionTpRank(d.rank), folded);
        j.rawValue(line);
      }
    });
    j.attributeObject("environment", [&] {
      j.attributeObject("job", [&] {
        j.attribute("MASTER_ADDR", c.host(0));
        j.attribute("MASTER_PORT", std::to_string(c.rendezvousPort));
        if (!c.networkInterface.empty()) {
          j.attribute("NCCL_SOCKET_IFNAME", c.networkInterface);
          j.attribute("GLOO_SOCKET_IFNAME", c.networkInterface);
        }
      });
      std::string all;
      for (int64_t g = 0; g < c.gpusPerNode; ++g)
        all += (g ? "," : "") + std::to_string(g);
      // Every node alike: each process of a node sees all its GPUs (a per-process launcher such as mpirun narrows
      // it to the rank's `gpu`).
      j.attributeObject("node", [&] { j.attribute("CUDA_VISIBLE_DEVICES", all); });
    });
  });
}

/// What every manifest starts with: its version, its generator, and the spec it came from.
void writeHeader(llvm::json::OStream &j, llvm::StringRef sourcePath, llvm::StringRef sourceText) {
  j.attribute("manifestVersion", kManifestVersion);
  j.attributeObject("generator", [&] {
    j.attribute("name", "moec");
    j.attribute("version", MOEC_VERSION);
  });
  j.attributeObject("source", [&] {
    j.attribute("path", sourcePath);
    j.attribute("sha256", sha256(sourceText));
  });
}

} // namespace

void moec::writeManifest(const Plan &plan, llvm::StringRef sourceText, llvm::raw_ostream &os, bool compact) {
  std::string planText;
  {
    llvm::raw_string_ostream ps(planText);
    llvm::json::OStream flat(ps, 0);
    writePlan(plan, flat);
  }
  llvm::json::OStream j(os, compact ? 0 : 1);
  j.object([&] {
    writeHeader(j, plan.deploy->sourcePath, sourceText);
    j.attribute("planDigest", "sha256:" + sha256(planText));
    j.attributeBegin("plan");
    if (compact)
      j.rawValue(planText); // the same bytes the digest was taken of
    else
      writePlan(plan, j);
    j.attributeEnd();
  });
  os << "\n";
}

void moec::writeServiceManifest(const ServiceManifest &s, llvm::StringRef sourceText, llvm::raw_ostream &os) {
  llvm::json::OStream j(os, 1);
  j.object([&] {
    writeHeader(j, s.roles.front().plan->deploy->sourcePath, sourceText);
    j.attributeObject("service", [&] {
      j.attribute("name", s.name);
      j.attribute("mode", s.mode);
      j.attribute("requestsPerSecond", s.requestsPerSecond);
      j.attribute("gpus", s.gpus);
      j.attribute("nodes", s.nodes);
      j.attribute("ttftSeconds", s.ttftSeconds);
      j.attribute("tpotSeconds", s.tpotSeconds);
      if (s.kvTransfer)
        j.attributeObject("kvTransfer", [&] {
          j.attribute("bytesPerRequest", s.kvTransfer->first);
          j.attribute("seconds", s.kvTransfer->second);
        });
    });
    j.attributeArray("roles", [&] {
      for (const ServiceManifest::Role &r : s.roles)
        j.object([&] {
          std::string planText;
          {
            llvm::raw_string_ostream ps(planText);
            llvm::json::OStream flat(ps, 0);
            writePlan(*r.plan, flat);
          }
          j.attribute("role", r.role);
          j.attribute("deploy", r.plan->deploy->name);
          j.attribute("instances", r.instances);
          j.attribute("gpusPerInstance", int64_t(r.plan->devices.size()));
          j.attribute("nodesPerInstance", r.plan->cluster().nodes);
          j.attributeBegin("instanceNodes");
          intArray(j, r.instanceNodes);
          j.attributeEnd();
          j.attribute("planDigest", "sha256:" + sha256(planText));
          j.attributeBegin("plan");
          writePlan(*r.plan, j);
          j.attributeEnd();
        });
    });
  });
  os << "\n";
}

void moec::writePlacementCsv(const Plan &plan, llvm::raw_ostream &os) {
  os << "layer,expert,replica,rank\n";
  for (const LayerPlacement &lp : plan.placement.layers)
    for (size_t e = 0; e < lp.replicas.size(); ++e)
      for (size_t r = 0; r < lp.replicas[e].size(); ++r)
        os << lp.layer << "," << e << "," << r << "," << lp.replicas[e][r] << "\n";
}
