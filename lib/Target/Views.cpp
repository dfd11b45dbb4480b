//===- Views.cpp - The five Graphviz views of a plan ----------------------===//
//
// Each view unrolls the part of the SPMD plan it shows onto concrete GPUs: an op of a program becomes one node per
// GPU that runs it (per expert slot for expert ops), with the shapes of its tensors. Edges follow the program's
// tensors; an edge into or out of a communication op is dashed. The views build a DotGraph; DotWriter.cpp writes it.
//
//===----------------------------------------------------------------------===//
#include "moec/Target/Dot.h"
#include "moec/Support/Strings.h"
#include "moec/Support/Units.h"

#include "fmt/format.h"

#include <set>

using namespace moec;
using namespace moec::ir;

namespace {

std::string shapeOf(const Tensor &t) { return formatSizes(t); }

std::string dotShape(OpKind kind) {
  switch (classify(kind)) {
  case OpClass::Compute:
    return "box";
  case OpClass::Communication:
    return "ellipse";
  case OpClass::Routing:
    return "parallelogram";
  }
  return "box";
}

class ViewBuilder {
public:
  ViewBuilder(const Plan &plan, const ViewOptions &options, DotGraph &graph)
      : plan(plan), opts(options), g(graph) {}

  bool build(std::string &error) {
    const ModelSpec &m = plan.model();
    layer = opts.layer >= 0 ? opts.layer : m.firstMoeLayer();
    if (layer >= m.layers) {
      error = "-layer=" + std::to_string(layer) + " is past the last layer of model '" + m.name + "' (" +
              std::to_string(m.layers - 1) + ")";
      return false;
    }
    if (opts.replica >= plan.strategy().dp) {
      error = "-replica=" + std::to_string(opts.replica) + " is past the last data-parallel replica (" +
              std::to_string(plan.strategy().dp - 1) + ")";
      return false;
    }
    if (opts.gpu >= int64_t(plan.devices.size())) {
      error = "-gpu=" + std::to_string(opts.gpu) + " is past the last GPU (" +
              std::to_string(plan.devices.size() - 1) + ")";
      return false;
    }
    kind = plan.layerKinds[layer];
    program = kind == LayerKind::MoE ? &plan.moe : &plan.dense;
    for (int64_t l = 0; l < layer; ++l)
      moeIndex += plan.layerKinds[l] == LayerKind::MoE;
    // Refuse a view that is too large before building it, from its size in ranks and ops.
    size_t estimate = 0;
    if (opts.view == View::Layer)
      estimate = replicaRanks(opts.replica).size() * (program->ops.size() * size_t(plan.maxSlotsPerGpu()) + 1);
    else if (opts.view == View::Routing)
      estimate = size_t(plan.strategy().ep) * size_t(plan.maxSlotsPerGpu());
    if (estimate > 4 * kMaxViewNodes) {
      error = "this view would have about " + std::to_string(estimate) + " nodes, more than the " +
              std::to_string(kMaxViewNodes) + " that Graphviz lays out in reasonable time; narrow it with " +
              "-view=attention, -view=expert or -view=routing (one GPU or one layer) or a smaller deployment";
      return false;
    }
    switch (opts.view) {
    case View::Overview:
      overview();
      break;
    case View::Attention:
      attention();
      break;
    case View::Expert:
      if (kind != LayerKind::MoE) {
        error = "layer " + std::to_string(layer) + " is dense: -view=expert needs a MoE layer";
        return false;
      }
      expert();
      break;
    case View::Routing:
      if (kind != LayerKind::MoE) {
        error = "layer " + std::to_string(layer) + " is dense: -view=routing needs a MoE layer";
        return false;
      }
      routing();
      break;
    case View::Layer:
      wholeLayer();
      break;
    }
    if (g.nodes.size() > kFastLayoutNodes) {
      // A big view keeps its structure and drops its annotations: edge labels and the KV cache nodes each cost
      // Graphviz a virtual node, and made the 10,000-node layer views several times slower to lay out.
      for (DotEdge &e : g.edges)
        e.label.clear();
      auto kv = [](const std::string &id) { return llvm::StringRef(id).starts_with("kv_cache_g"); };
      llvm::erase_if(g.nodes, [&](const DotNode &n) { return kv(n.id); });
      llvm::erase_if(g.edges, [&](const DotEdge &e) { return kv(e.from); });
    }
    if (g.nodes.size() > kMaxViewNodes) {
      error = "this view has " + std::to_string(g.nodes.size()) + " nodes, more than the " +
              std::to_string(kMaxViewNodes) + " that Graphviz lays out in reasonable time; narrow it with " +
              "-view=attention, -view=expert or -view=routing (one GPU or one layer) or a smaller deployment";
      return false;
    }
    return true;
  }

private:
  std::string gpuName(int64_t rank) const {
    return "GPU " + std::to_string(rank) + " (node " + std::to_string(plan.devices[rank].node) + ")";
  }

  /// Clusters for a GPU inside its node, below \p outer.
  std::vector<std::string> gpuCluster(int64_t rank, std::vector<std::string> outer = {}) {
    const Device &d = plan.devices[rank];
    std::string prefix = outer.empty() ? "" : outer.back() + "_";
    std::string node = prefix + "node" + std::to_string(d.node);
    std::string gpu = prefix + "gpu" + std::to_string(rank);
    g.clusterLabels[node] = "node " + std::to_string(d.node);
    g.clusterLabels[gpu] = gpuName(rank);
    outer.push_back(node);
    outer.push_back(gpu);
    return outer;
  }

  /// The forecast seconds of \p op in the view's layer (the cost model's per-layer figure).
  double secondsOf(const Op &op) const {
    if (!plan.cost)
      return op.seconds;
    const LayerTime *lt = kind == LayerKind::Dense             ? &plan.cost->dense
                          : moeIndex < int64_t(plan.cost->moe.size()) ? &plan.cost->moe[size_t(moeIndex)]
                                                                     : nullptr;
    return lt && op.id < lt->opSeconds.size() ? lt->opSeconds[op.id] : op.seconds;
  }

  /// "939.5 MB, 32.54 ms": what a communication op moves per rank and how long it takes, for its edge.
  std::string commLabel(const Op &op) const {
    if (!op.comm)
      return "";
    return formatQuantity(op.comm->bytesPerRank, Dim::Bytes) + ", " + formatQuantity(secondsOf(op), Dim::Time);
  }

  std::string opId(const Op &op, int64_t rank, int32_t expert = -1) const {
    std::string id = program->name + "_op" + std::to_string(op.id) + "_g" + std::to_string(rank);
    if (expert >= 0)
      id += "_e" + std::to_string(expert);
    return id;
  }

  std::string opLabel(const Op &op, int64_t rank, int32_t expert = -1) const {
    std::string name = op.name;
    if (expert >= 0)
      name = "expert " + std::to_string(expert) + ": " + op.name;
    std::string label = name + "\\n" + gpuName(rank);
    std::string in;
    for (unsigned t : op.inputs)
      in += (in.empty() ? "" : ", ") + shapeOf(program->tensors[t]);
    label += "\\nin: " + in + "\\nout: " + shapeOf(program->tensors[op.outputs.front()]);
    return label;
  }

  void addNode(std::string id, std::string label, std::string shape, std::vector<std::string> cluster) {
    if (!seen.insert(id).second)
      return;
    g.nodes.push_back({std::move(id), std::move(label), std::move(shape), std::move(cluster)});
  }

  /// The experts GPU \p rank holds in the view's layer.
  llvm::SmallVector<int32_t, 2> expertsOn(int64_t rank) const {
    const LayerPlacement *lp = plan.placement.forLayer(layer);
    llvm::SmallVector<int32_t, 2> out;
    if (!lp)
      return out;
    int64_t position = plan.devices[rank].coords[Axis::EP];
    for (size_t e = 0; e < lp->replicas.size(); ++e)
      if (llvm::is_contained(lp->replicas[e], position))
        out.push_back(int32_t(e));
    return out;
  }

  /// Unroll ops [first, last] of the layer program onto \p rank, inside \p cluster. The program's input and
  /// any tensor produced before `first` come from a node named `inputId`.
  void unroll(int64_t rank, size_t first, size_t last, const std::vector<std::string> &cluster,
              const std::string &inputId) {
    llvm::SmallVector<int32_t, 2> experts = expertsOn(rank);
    auto instances = [&](const Op &op) {
      llvm::SmallVector<int32_t, 2> out;
      if (op.site == OpSite::Expert)
        out = experts;
      else
        out.push_back(-1);
      return out;
    };
    bool decode = plan.workload().phase == Phase::Decode;
    for (size_t i = first; i <= last; ++i) {
      const Op &op = program->ops[i];
      for (int32_t e : instances(op)) {
        std::string id = opId(op, rank, e);
        addNode(id, opLabel(op, rank, e), dotShape(op.kind), cluster);
        bool comm = classify(op.kind) == OpClass::Communication;
        for (size_t k = 0; k < op.inputs.size(); ++k) {
          unsigned t = op.inputs[k];
          // The first input edge of a communication op carries what it moves and how long it takes.
          std::string label = comm && k == 0 ? commLabel(op) : std::string();
          unsigned producer = program->tensors[t].producer;
          if (producer == ~0u || producer < first) {
            g.edges.push_back({inputId, id, comm, label});
            continue;
          }
          const Op &from = program->ops[producer];
          bool dashed = comm || classify(from.kind) == OpClass::Communication;
          if (from.site == OpSite::Expert && op.site == OpSite::Rank) {
            llvm::SmallVector<int32_t, 2> feeders = instances(from);
            for (int32_t fe : feeders)
              g.edges.push_back({opId(from, rank, fe), id, dashed, label});
            if (feeders.empty()) // a GPU with no expert of this layer: its combine gathers what others computed
              if (const Op *dispatch = program->findOp(OpRole::Dispatch)) {
                unsigned before = program->tensors[dispatch->inputs.front()].producer;
                if (before != ~0u && program->ops[before].site == OpSite::Rank)
                  g.edges.push_back({opId(program->ops[before], rank), id, true,
                                     "no expert of layer " + std::to_string(layer) + " on this GPU"});
              }
          } else {
            g.edges.push_back({opId(from, rank, from.site == OpSite::Expert ? e : -1), id, dashed, label});
          }
        }
        // Decode reads the KV cache of the context: show it beside the products that read it.
        if (decode && (op.role == OpRole::Scores || op.role == OpRole::Context))
          g.edges.push_back({kvCacheNode(rank, cluster), id, false, "reads"});
      }
    }
  }

  /// The node of GPU \p rank's KV cache of the view's layer (decode), created once.
  std::string kvCacheNode(int64_t rank, const std::vector<std::string> &cluster) {
    std::string id = "kv_cache_g" + std::to_string(rank);
    const AttentionSpec &a = plan.model().attention;
    const WorkloadSpec &w = plan.workload();
    bool mla = a.kind == AttentionKind::MLA;
    int64_t heads = mla ? 1 : plan.sizes.kvHeadsPerRank;
    int64_t width = mla ? a.kvLoraRank + a.ropeHeadDim : a.headDim;
    int64_t tokens = a.kvTokens(layer, w.context);
    double bytes = double(w.microBatch) * double(heads) * double(tokens) * double(width) * (mla ? 1.0 : 2.0) *
                   bytesPerElement(plan.model().parts.kvCache);
    addNode(id, std::string("KV cache of layer ") + std::to_string(layer) + "\\n" + gpuName(rank) + "\\n[" +
                    std::to_string(w.microBatch) + ", " + std::to_string(heads) + ", " + std::to_string(tokens) +
                    ", " + std::to_string(width) + "] " + (mla ? "latent + rotary key" : "keys and values") +
                    ", " + spell(plan.model().parts.kvCache).str() + "\\n" + formatQuantity(bytes, Dim::Bytes),
            "cylinder", cluster);
    return id;
  }

  size_t indexOf(OpRole role) const {
    for (size_t i = 0; i < program->ops.size(); ++i)
      if (program->ops[i].role == role)
        return i;
    return program->ops.size() - 1;
  }

  /// The ranks of data-parallel replica \p replica in the stage of the view's layer.
  std::vector<int64_t> replicaRanks(int64_t replica) const {
    std::vector<int64_t> out;
    for (const Device &d : plan.devices)
      if (d.coords[Axis::DP] == replica && d.coords[Axis::PP] == plan.layerStage[layer])
        out.push_back(d.rank);
    return out;
  }

  void inputNode(const std::string &id, const std::string &what, int64_t rank, std::vector<std::string> cluster) {
    addNode(id, what + "\\n" + gpuName(rank) + "\\nout: " + shapeOf(program->tensors[program->input]), "box",
            std::move(cluster));
  }

  void attention() {
    int64_t rank = opts.gpu;
    g.name = "detailed_attention";
    g.label = "Attention of layer " + std::to_string(layer) + " on " + gpuName(rank) + ": " + plan.deploy->name;
    std::vector<std::string> cluster = gpuCluster(rank);
    std::string input = "input_g" + std::to_string(rank);
    inputNode(input, "layer " + std::to_string(layer) + " input", rank, cluster);
    size_t last = indexOf(OpRole::AttnResidual);
    // A TP all-reduce of the residual's input follows out_proj; it is part of the attention.
    unroll(rank, 0, last, cluster, input);
  }

  void expert() {
    int64_t rank = opts.gpu;
    g.name = "detailed_expert_mlp";
    g.label = "MoE block of layer " + std::to_string(layer) + " on " + gpuName(rank) + ": " + plan.deploy->name;
    std::vector<std::string> cluster = gpuCluster(rank);
    std::string input = "attention_out_g" + std::to_string(rank);
    inputNode(input, "attention output (residual stream)", rank, cluster);
    unroll(rank, indexOf(OpRole::AttnResidual) + 1, program->ops.size() - 1, cluster, input);
  }

  void routing() {
    const ProcessGroup *group = nullptr;
    for (const ProcessGroup *eg : plan.groupsOf(GroupKind::EP)) {
      const Device &first = plan.devices[eg->ranks.front()];
      if (first.coords[Axis::DP] == opts.replica && first.coords[Axis::PP] == plan.layerStage[layer] &&
          first.coords[Axis::TP] == 0) {
        group = eg;
        break;
      }
    }
    int64_t source = group->ranks.front();
    if (llvm::is_contained(group->ranks, opts.gpu))
      source = opts.gpu;
    g.name = "token_routing";
    g.label = "Token routing of layer " + std::to_string(layer) + ", replica " + std::to_string(opts.replica) +
              ": the micro-batch of " + gpuName(source) + " to the experts of EP group " +
              std::to_string(group->index) + " and back";
    const Op *topk = program->findOp(OpRole::TopK);
    const Op *fc1 = nullptr;
    for (const Op &op : program->ops)
      if (op.site == OpSite::Expert && classify(op.kind) == OpClass::Compute) {
        fc1 = &op;
        break;
      }
    const Op *sum = program->findOp(OpRole::WeightedSum);
    const Op *combine = program->findOp(OpRole::Combine);
    const Tensor &expertOut = program->tensors[combine ? combine->inputs.front() : sum->inputs.front()];
    std::string dispatcher = "dispatcher_g" + std::to_string(source);
    std::string aggregator = "aggregator_g" + std::to_string(source);
    // Left to right: the dispatcher, the experts by node and GPU, the aggregator.
    g.rankdir = "LR";
    std::vector<std::string> sourceCluster = gpuCluster(source, {"dispatch"});
    g.clusterLabels["dispatch"] = "tokens of " + gpuName(source);
    addNode(dispatcher, "dispatcher (gate, top-" + std::to_string(plan.model().moe.topK) + ")\\n" +
                            gpuName(source) + "\\nin: " + shapeOf(program->tensors[topk->inputs.front()]) +
                            "\\nout: " + shapeOf(program->tensors[topk->outputs.front()]),
            "parallelogram", sourceCluster);
    const LayerPlacement *lp = plan.placement.forLayer(layer);
    for (int64_t position = 0; position < int64_t(group->ranks.size()); ++position) {
      int64_t rank = group->ranks[position];
      std::vector<std::string> cluster = gpuCluster(rank, {"experts"});
      for (size_t e = 0; e < lp->replicas.size(); ++e) {
        const auto &reps = lp->replicas[e];
        for (size_t r = 0; r < reps.size(); ++r) {
          if (reps[r] != position)
            continue;
          std::string id = "expert" + std::to_string(e) + "_r" + std::to_string(r) + "_g" + std::to_string(rank);
          std::string name = "expert " + std::to_string(e) + (r ? " (replica " + std::to_string(r) + ")" : "");
          addNode(id, name + "\\n" + gpuName(rank) + "\\nin: " +
                          shapeOf(program->tensors[fc1->inputs.front()]) + "\\nout: " + shapeOf(expertOut),
                  "box", cluster);
          g.edges.push_back({dispatcher, id, true});
          g.edges.push_back({id, aggregator, true});
        }
      }
    }
    g.clusterLabels["experts"] = "experts of EP group " + std::to_string(group->index);
    g.clusterLabels["combine"] = "results for " + gpuName(source);
    addNode(aggregator, "aggregator (weighted sum)\\n" + gpuName(source) + "\\nin: " +
                            shapeOf(program->tensors[sum->inputs.front()]) + "\\nout: " +
                            shapeOf(program->tensors[sum->outputs.front()]),
            "parallelogram", gpuCluster(source, {"combine"}));
  }

  void wholeLayer() {
    g.name = "complete_layer" + std::to_string(layer) + "_dp" + std::to_string(opts.replica);
    g.label = "Layer " + std::to_string(layer) + " (" + (kind == LayerKind::MoE ? "MoE" : "dense") +
              ") of replica " + std::to_string(opts.replica) + ": " + plan.deploy->name;
    size_t split = indexOf(OpRole::AttnResidual);
    std::string second = kind == LayerKind::MoE ? "expert phase" : "FFN phase";
    g.clusterLabels["attention"] = "attention phase";
    g.clusterLabels["second"] = second;
    for (int64_t rank : replicaRanks(opts.replica)) {
      std::string input = "input_g" + std::to_string(rank);
      std::vector<std::string> attn = gpuCluster(rank, {"attention"});
      inputNode(input, "layer " + std::to_string(layer) + " input", rank, attn);
      unroll(rank, 0, split, attn, input);
      size_t edgesBefore = g.edges.size();
      unroll(rank, split + 1, program->ops.size() - 1, gpuCluster(rank, {"second"}), input);
      // The second phase reads the residual stream from the attention's residual add, not the layer input.
      std::string residual = opId(program->ops[split], rank);
      for (size_t e = edgesBefore; e < g.edges.size(); ++e)
        if (g.edges[e].from == input)
          g.edges[e].from = residual;
    }
    if (kind == LayerKind::MoE)
      allToAllEdges();
  }

  /// The all-to-all between the replica's GPUs: each GPU's dispatch to the first expert GEMM of every other GPU
  /// holding experts, and those GPUs' last expert op back to its combine; past 16 GPUs, only the first GPU's, to
  /// one GPU on each other node, so that the picture stays readable and Graphviz fast.
  void allToAllEdges() {
    const Op *dispatch = program->findOp(OpRole::Dispatch), *combine = program->findOp(OpRole::Combine);
    const Op *firstExpert = nullptr, *lastExpert = nullptr;
    for (const Op &op : program->ops)
      if (op.site == OpSite::Expert && classify(op.kind) == OpClass::Compute) {
        if (!firstExpert)
          firstExpert = &op;
        lastExpert = &op;
      }
    if (!dispatch || !combine || !firstExpert)
      return;
    std::vector<int64_t> ranks = replicaRanks(opts.replica);
    std::set<int64_t> nodes;
    std::vector<int64_t> targets;
    for (int64_t q : ranks)
      if (!expertsOn(q).empty() && (ranks.size() <= 16 || nodes.insert(plan.devices[q].node).second))
        targets.push_back(q);
    // Dispatch runs per expert slot of the sending GPU (its first slot's node stands for it); combine per GPU.
    auto siteId = [&](const Op &op, int64_t rank) {
      return op.site == OpSite::Expert ? opId(op, rank, expertsOn(rank).front()) : opId(op, rank);
    };
    if (ranks.size() > 16)
      ranks.erase(ranks.begin() + 1, ranks.end());
    for (int64_t r : ranks)
      for (int64_t q : targets) {
        if (q == r || (dispatch->site == OpSite::Expert && expertsOn(r).empty()))
          continue;
        g.edges.push_back({siteId(*dispatch, r), opId(*firstExpert, q, expertsOn(q).front()), true, ""});
        if (combine->site == OpSite::Rank || !expertsOn(r).empty())
          g.edges.push_back({opId(*lastExpert, q, expertsOn(q).back()), siteId(*combine, r), true, ""});
      }
  }

  void overview() {
    g.name = "system_overview";
    g.rankdir = "LR";
    g.orderedOut = true; // GPUs in rank order within their node
    const StrategySpec &s = plan.strategy();
    int64_t world = int64_t(plan.devices.size());
    bool perNode = world > 32; // summarise a node's GPUs when one box per GPU would not stay readable
    const ModelSpec &m = plan.model();
    g.label = plan.deploy->name + ": " + std::to_string(world) + " GPUs on " +
              plural(plan.cluster().nodes, "node") + ", " + std::to_string(s.dp) +
              (s.dp == 1 ? " replica x EP " : " replicas x EP ") +
              std::to_string(s.ep) + (s.folded() ? " x ETP " + std::to_string(s.etp()) + " (attention TP " +
                                                          std::to_string(s.tp) + ")"
                                                    : " x TP " + std::to_string(s.tp)) +
              " x PP " + std::to_string(s.pp) +
              "; experts of layer " + std::to_string(layer) + "; routing of each replica's first micro-batch" +
              (perNode ? "; GPUs grouped by node" : "");
    for (const ProcessGroup *eg : plan.groupsOf(GroupKind::EP)) {
      const Device &first = plan.devices[eg->ranks.front()];
      if (first.coords[Axis::TP] != 0 || first.coords[Axis::PP] != plan.layerStage[layer])
        continue;
      int64_t source = eg->ranks.front();
      std::string replica = "replica" + std::to_string(first.coords[Axis::DP]);
      g.clusterLabels[replica] = "replica " + std::to_string(first.coords[Axis::DP]) + ": EP group " +
                                 std::to_string(eg->index) + ", ranks " + formatRanks(eg->ranks);
      std::string src = std::to_string(source);
      std::string attn = "attention_g" + src, route = "routing_g" + src, sum = "sum_g" + src,
                  next = "next_g" + src;
      std::vector<std::string> flow = {replica, replica + "_flow"};
      g.clusterLabels[replica + "_flow"] = "micro-batch of " + gpuName(source);
      addNode(attn, "layer " + std::to_string(layer) + " attention and gate\\n" + gpuName(source), "box", flow);
      addNode(route, "top-" + std::to_string(m.moe.topK) + " routing (dispatch)\\n" + gpuName(source),
              "parallelogram", flow);
      addNode(sum, "weighted sum (combine)\\n" + gpuName(source), "parallelogram", flow);
      addNode(next, "layer " + std::to_string(layer + 1 < m.layers ? layer + 1 : layer) + "\\n" + gpuName(source),
              "box", flow);
      g.edges.push_back({attn, route, false});
      g.edges.push_back({sum, next, false});
      if (perNode) {
        std::map<int64_t, std::vector<int64_t>> byNode;
        for (int64_t r : eg->ranks)
          byNode[plan.devices[r].node].push_back(r);
        for (const auto &[node, ranks] : byNode) {
          std::string id = "node" + std::to_string(node) + "_" + replica;
          std::string experts;
          size_t count = 0;
          for (int64_t r : ranks)
            count += expertsOn(r).size();
          addNode(id, "GPUs " + formatRanks(ranks) + " (node " + std::to_string(node) + "), " +
                          std::to_string(ranks.size()) + " GPUs\\n" + std::to_string(count) + " expert slots",
                  "box", {replica});
          g.edges.push_back({route, id, true});
          g.edges.push_back({id, sum, true});
        }
      } else {
        for (int64_t r : eg->ranks) {
          const Device &d = plan.devices[r];
          std::string experts;
          for (int32_t e : expertsOn(r))
            experts += (experts.empty() ? "" : " ") + std::to_string(e);
          std::string id = "gpu" + std::to_string(r);
          std::string node = replica + "_node" + std::to_string(d.node);
          g.clusterLabels[node] = "node " + std::to_string(d.node);
          // Its tensor-parallel partners hold the other shares of the same experts (or, folded, of attention).
          std::string partners;
          for (const ProcessGroup *tg : plan.groupsOf(GroupKind::TP))
            if (tg->ranks.size() > 1 && llvm::is_contained(tg->ranks, r))
              partners = "\\nTP group " + formatRanks(tg->ranks);
          addNode(id, gpuName(r) + "\\nep " + std::to_string(d.coords[Axis::EP]) + ", dp " +
                          std::to_string(d.coords[Axis::DP]) + "\\nexperts: " + (experts.empty() ? "none" : experts) +
                          partners,
                  "box", {replica, node});
          g.edges.push_back({route, id, true});
          g.edges.push_back({id, sum, true});
        }
      }
    }
    stages();
  }

  /// The pipeline: every stage as one box (its GPUs, nodes and layers), joined by the send/recv between them.
  void stages() {
    if (plan.stages.size() < 2)
      return;
    g.clusterLabels["pipeline"] = "pipeline: " + plural(int64_t(plan.stages.size()), "stage");
    double bytes = 0, seconds = 0;
    if (plan.boundary)
      for (const Op &op : plan.boundary->ops)
        if (op.comm) {
          bytes = std::max(bytes, op.comm->bytesPerRank);
          seconds = std::max(seconds, op.seconds);
        }
    std::string previous;
    for (const Stage &st : plan.stages) {
      std::vector<int64_t> ranks;
      std::set<int64_t> nodes;
      for (const Device &d : plan.devices)
        if (d.coords[Axis::PP] == st.index) {
          ranks.push_back(d.rank);
          nodes.insert(d.node);
        }
      std::string id = "stage" + std::to_string(st.index);
      addNode(id, "stage " + std::to_string(st.index) + (st.index == plan.layerStage[layer] ? " (shown above)" : "") +
                      "\\nGPUs " + formatRanks(ranks) + " on " + plural(int64_t(nodes.size()), "node") +
                      "\\nlayers " + std::to_string(st.firstLayer) + ".." +
                      std::to_string(st.firstLayer + st.numLayers - 1),
              "box", {"pipeline"});
      if (!previous.empty())
        g.edges.push_back({previous, id, true,
                           "send/recv " + formatQuantity(bytes, Dim::Bytes) + ", " + formatQuantity(seconds, Dim::Time)});
      previous = id;
    }
  }

  const Plan &plan;
  const ViewOptions &opts;
  DotGraph &g;
  int64_t layer = 0;
  LayerKind kind = LayerKind::MoE;
  int64_t moeIndex = 0; ///< the view's layer among the MoE layers (its LayerTime in the cost result)
  const Program *program = nullptr;
  std::set<std::string> seen;
};

} // namespace

bool moec::buildView(const Plan &plan, const ViewOptions &options, DotGraph &graph, std::string &error) {
  return ViewBuilder(plan, options, graph).build(error);
}

std::string moec::viewFileName(const Plan &plan, const ViewOptions &options, llvm::StringRef extension) {
  const ModelSpec &m = plan.model();
  int64_t layer = options.layer >= 0 ? options.layer : m.firstMoeLayer();
  switch (options.view) {
  case View::Overview:
    return "system_overview." + extension.str();
  case View::Attention:
    return "detailed_attention." + extension.str();
  case View::Expert:
    return "detailed_expert_mlp." + extension.str();
  case View::Routing:
    return "token_routing." + extension.str();
  case View::Layer:
    return "complete_layer" + std::to_string(layer) + "_dp" + std::to_string(options.replica) + "." +
           extension.str();
  }
  return "view." + extension.str();
}
