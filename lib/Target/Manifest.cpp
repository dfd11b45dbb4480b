//===- Manifest.cpp - The launch manifest (-emit=manifest) ----------------===//
//
// Written with llvm::json::OStream in a fixed order, so the same spec gives the same bytes. The `plan` object
// holds everything a launcher needs; its digest (SHA-256 of its compact serialisation) identifies the plan, so two
// manifests can be compared without reading them.
//
//===----------------------------------------------------------------------===//
#include "moec/Target/Manifest.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SHA256.h"

using namespace moec;
using namespace moec::ir;

namespace {

std::string sha256(llvm::StringRef data) { return llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(data)), true); }

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
      j.attribute("denseLayers", m.denseLayers);
      j.attribute("hidden", m.hidden);
      j.attribute("precision", spell(m.precision));
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
      });
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
          j.object([&] {
            j.attribute("index", n);
            j.attribute("host", c.host(n));
          });
      });
    });
    j.attributeObject("parallel", [&] {
      j.attribute("world", int64_t(plan.devices.size()));
      j.attribute("pp", s.pp);
      j.attribute("dp", s.dp);
      j.attribute("ep", s.ep);
      j.attribute("tp", s.tp);
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
          j.attributeArray("ranks", [&] {
            for (int64_t r : g.ranks)
              j.value(r);
          });
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
            j.attributeArray("physicalToLogical", [&] {
              for (int64_t p = 0; p < s.ep; ++p)
                for (int64_t k = 0; k < slotsPerGpu; ++k) {
                  bool filled = k < int64_t(held[p].size());
                  j.value(filled ? int64_t(held[p][k]) : int64_t(-1));
                }
            });
            // Replica 0 (the primary) first.
            j.attributeArray("logicalToPhysical", [&] {
              for (size_t e = 0; e < lp.replicas.size(); ++e)
                j.array([&] {
                  for (int32_t p : lp.replicas[e]) {
                    int64_t k = std::find(held[p].begin(), held[p].end(), int32_t(e)) - held[p].begin();
                    j.value(int64_t(p) * slotsPerGpu + k);
                  }
                });
            });
          });
      });
    });
    // Each rank's experts, by MoE layer, as the rank loads them.
    std::vector<std::vector<llvm::SmallVector<int32_t, 2>>> held;
    for (const LayerPlacement &lp : plan.placement.layers)
      held.push_back(lp.slots(s.ep));
    j.attributeArray("ranks", [&] {
      for (const Device &d : plan.devices)
        j.object([&] {
          j.attribute("rank", d.rank);
          j.attribute("node", d.node);
          j.attribute("host", c.host(d.node));
          j.attribute("localRank", d.localGpu);
          j.attribute("gpu", d.localGpu);
          j.attributeObject("coords", [&] {
            j.attribute("pp", d.coords[Axis::PP]);
            j.attribute("dp", d.coords[Axis::DP]);
            j.attribute("ep", d.coords[Axis::EP]);
            j.attribute("tp", d.coords[Axis::TP]);
          });
          int64_t position = d.coords[Axis::EP];
          j.attributeArray("experts", [&] {
            for (const auto &layer : held)
              j.array([&] {
                for (int32_t e : layer[position])
                  j.value(int64_t(e));
              });
          });
        });
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
      j.attributeArray("nodes", [&] {
        for (int64_t n = 0; n < c.nodes; ++n)
          j.object([&] { j.attribute("CUDA_VISIBLE_DEVICES", all); });
      });
      // For launchers that start one process per GPU with every GPU visible (mpirun).
      j.attributeArray("ranks", [&] {
        for (const Device &d : plan.devices)
          j.object([&] { j.attribute("CUDA_VISIBLE_DEVICES", std::to_string(d.localGpu)); });
      });
    });
  });
}

} // namespace

void moec::writeManifest(const Plan &plan, llvm::StringRef sourceText, llvm::raw_ostream &os) {
  std::string planText;
  {
    llvm::raw_string_ostream ps(planText);
    llvm::json::OStream compact(ps, 0);
    writePlan(plan, compact);
  }
  llvm::json::OStream j(os, 1);
  j.object([&] {
    j.attribute("manifestVersion", kManifestVersion);
    j.attributeObject("generator", [&] {
      j.attribute("name", "moec");
      j.attribute("version", MOEC_VERSION);
    });
    j.attributeObject("source", [&] {
      j.attribute("path", plan.deploy->sourcePath);
      j.attribute("sha256", sha256(sourceText));
    });
    j.attribute("planDigest", "sha256:" + sha256(planText));
    j.attributeBegin("plan");
    writePlan(plan, j);
    j.attributeEnd();
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
