//===- HfConfig.cpp - A model from a Hugging Face config.json -------------===//
//
// `model NAME from "config.json";` reads the model's architecture from its Hugging Face config; a body overrides
// or adds top-level keys (`model V3 from "config.json" { precision = fp8; }`). Each value keeps the location of
// its key in the JSON file, so a later diagnostic (a tp that does not divide the heads) points there. The keys
// read per model_type are in docs/interop.md; what the language cannot express is a warning that says what was
// approximated.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include "moec/Support/LocatedJson.h"

#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>

using namespace moec;
using namespace moec::sema;

namespace {

const char *const kModelTypes[] = {"deepseek_v2", "deepseek_v3", "kimi_k2", "qwen2_moe", "qwen3_moe",
                                   "mixtral",     "gpt_oss",     "llama4",  "llama4_text", "glm4_moe"};

class ConfigReader {
public:
  ConfigReader(const JsonValue &root, llvm::StringRef file, DiagEngine &diags, ModelSpec &model)
      : root(root), file(file), diags(diags), model(model) {}

  static llvm::SMLoc at(const char *p) { return llvm::SMLoc::getFromPointer(p); }
  llvm::SMLoc keyLoc(const JsonValue &v) const { return at(v.keyWhere ? v.keyWhere : v.where); }

  /// The member \p key; a missing required one is an error at the object's opening brace.
  const JsonValue *member(llvm::StringRef key, bool required) {
    const JsonValue *v = root.get(key);
    if (!v && required) {
      diags.error(at(root.where), "missing required key '" + key.str() + "' in " + file.str());
      ok = false;
    }
    return v && v->kind == JsonValue::Kind::Null ? nullptr : v;
  }

  /// An integer member, recorded under the language's key \p as for later diagnostics.
  std::optional<int64_t> integer(llvm::StringRef key, bool required, llvm::StringRef as = {}) {
    const JsonValue *v = member(key, required);
    if (!v)
      return std::nullopt;
    if (v->kind != JsonValue::Kind::Number || !v->integral || v->number < 0 || v->number > 1e15) {
      diags.error(at(v->where), "'" + key.str() + "' in " + file.str() + " must be a non-negative integer, but it is " +
                                    v->describe().str());
      ok = false;
      return std::nullopt;
    }
    if (!as.empty())
      record(as, *v);
    return int64_t(v->number);
  }

  std::optional<bool> boolean(llvm::StringRef key) {
    const JsonValue *v = member(key, false);
    if (!v)
      return std::nullopt;
    if (v->kind != JsonValue::Kind::Bool) {
      diags.error(at(v->where), "'" + key.str() + "' in " + file.str() + " must be true or false, but it is " +
                                    v->describe().str());
      ok = false;
      return std::nullopt;
    }
    return v->boolean;
  }

  std::string string(llvm::StringRef key) {
    const JsonValue *v = member(key, false);
    if (!v)
      return "";
    if (v->kind != JsonValue::Kind::String) {
      diags.error(at(v->where), "'" + key.str() + "' in " + file.str() + " must be a string, but it is " +
                                    v->describe().str());
      ok = false;
      return "";
    }
    return v->string;
  }

  /// Where the language's key \p as came from, on the model and on the block it belongs to.
  void record(llvm::StringRef as, const JsonValue &v) {
    llvm::SMLoc loc = keyLoc(v);
    model.keys[as] = loc;
    static const char *const attentionKeys[] = {"heads",        "kv_heads",      "head_dim",       "q_lora_rank",
                                                "kv_lora_rank", "rope_head_dim", "sliding_window", "chunk_size"};
    static const char *const moeKeys[] = {"experts",        "top_k",        "expert_hidden",
                                          "shared_experts", "route_groups", "route_nodes"};
    if (llvm::is_contained(attentionKeys, as))
      model.attention.keys[as] = loc;
    if (llvm::is_contained(moeKeys, as))
      model.moe.keys[as] = loc;
  }

  void approximated(const JsonValue &v, const std::string &what) {
    diags.warning(keyLoc(v), what + " (" + file.str() + "): approximated");
  }

  const JsonValue &root;
  llvm::StringRef file;
  DiagEngine &diags;
  ModelSpec &model;
  bool ok = true;
};

} // namespace

bool Sema::importHfConfig(const Block &block, ModelSpec &m) {
  auto found = spec.fromBuffers.find(&block);
  if (found == spec.fromBuffers.end())
    return false; // the front end reported why it could not read it
  const llvm::MemoryBuffer *buf = diags.getSourceMgr().getMemoryBuffer(found->second);
  llvm::StringRef file = llvm::sys::path::filename(buf->getBufferIdentifier());
  JsonValue doc;
  const char *errorAt = nullptr;
  std::string error;
  if (!parseJson(buf->getBuffer(), doc, errorAt, error)) {
    diags.error(llvm::SMLoc::getFromPointer(errorAt), "malformed JSON in " + file.str() + ": " + error);
    return false;
  }
  if (doc.kind != JsonValue::Kind::Object) {
    diags.error(llvm::SMLoc::getFromPointer(doc.where), file.str() + " holds " + doc.describe().str() +
                                                            ", not a config object");
    return false;
  }
  // Llama 4 keeps its language model under text_config.
  const JsonValue *top = &doc;
  if (const JsonValue *text = doc.get("text_config"); text && text->kind == JsonValue::Kind::Object)
    top = text;
  ConfigReader r(*top, file, diags, m);
  ConfigReader outer(doc, file, diags, m);
  const JsonValue *typeValue = doc.get("model_type");
  if (!typeValue) {
    diags.error(llvm::SMLoc::getFromPointer(doc.where), "missing required key 'model_type' in " + file.str());
    return false;
  }
  std::string type = typeValue->kind == JsonValue::Kind::String ? typeValue->string : "";
  if (!llvm::is_contained(kModelTypes, llvm::StringRef(type))) {
    std::string known;
    for (const char *t : kModelTypes)
      known += (known.empty() ? "" : ", ") + std::string(t);
    diags.error(llvm::SMLoc::getFromPointer(typeValue->where),
                "unknown model_type " + (type.empty() ? typeValue->describe().str() : "'" + type + "'") + " in " +
                    file.str() + "; moec reads " + known);
    return false;
  }
  bool deepseek = type == "deepseek_v2" || type == "deepseek_v3" || type == "kimi_k2";
  bool qwen = type == "qwen2_moe" || type == "qwen3_moe";
  bool llama4 = type == "llama4" || type == "llama4_text";
  bool gptOss = type == "gpt_oss";
  bool glm = type == "glm4_moe";

  m.name = block.getName().str();
  m.loc = block.getLoc();
  m.fromFile = block.getFromPath().str();
  m.layers = r.integer("num_hidden_layers", true, "layers").value_or(1);
  m.hidden = r.integer("hidden_size", true, "hidden").value_or(1);
  m.vocab = r.integer("vocab_size", false, "vocab").value_or(0);
  m.tieEmbeddings = r.boolean("tie_word_embeddings").value_or(false);

  // Precision: the quantization method, else torch_dtype.
  std::string dtype = r.string("torch_dtype");
  if (dtype.empty())
    dtype = outer.string("torch_dtype");
  m.precision = dtype == "float16" ? Precision::FP16 : dtype == "float32" ? Precision::FP32 : Precision::BF16;
  const JsonValue *quant = doc.get("quantization_config");
  if (!quant)
    quant = top->get("quantization_config");
  std::string method;
  if (quant && quant->kind == JsonValue::Kind::Object)
    if (const JsonValue *q = quant->get("quant_method"); q && q->kind == JsonValue::Kind::String)
      method = q->string;
  m.parts = {m.precision, m.precision, m.precision, m.precision, m.precision};
  if (method == "fp8") {
    // DeepSeek's block-wise FP8: the projections in fp8; the embedding, the LM head and the KV cache stay bf16.
    m.precision = Precision::FP8;
    m.parts.attention = m.parts.denseFfn = m.parts.experts = Precision::FP8;
    m.keys["precision"] = ConfigReader::at(quant->keyWhere);
  } else if (method == "mxfp4") {
    m.parts.experts = Precision::MXFP4; // gpt-oss: the experts in MXFP4, attention and the rest bf16
    m.keys["expert_precision"] = ConfigReader::at(quant->keyWhere);
  } else if (quant && !method.empty()) {
    r.approximated(*quant, "quant_method '" + method + "' is read as " + spell(m.precision).str());
  }

  // Attention.
  AttentionSpec &a = m.attention;
  a.loc = m.loc;
  a.heads = r.integer("num_attention_heads", true, "heads").value_or(1);
  if (deepseek) {
    a.kind = AttentionKind::MLA;
    a.headDim = r.integer("qk_nope_head_dim", true, "head_dim").value_or(1);
    a.ropeHeadDim = r.integer("qk_rope_head_dim", true, "rope_head_dim").value_or(1);
    a.kvLoraRank = r.integer("kv_lora_rank", true, "kv_lora_rank").value_or(1);
    a.qLoraRank = r.integer("q_lora_rank", false, "q_lora_rank").value_or(0);
    a.kvHeads = a.heads;
    if (std::optional<int64_t> v = r.integer("v_head_dim", false); v && *v != a.headDim)
      r.approximated(*top->get("v_head_dim"), "v_head_dim " + std::to_string(*v) + " differs from qk_nope_head_dim; " +
                                                  "moec's MLA uses head_dim for both");
  } else {
    a.kvHeads = r.integer("num_key_value_heads", false, "kv_heads").value_or(a.heads);
    a.kind = a.kvHeads == a.heads ? AttentionKind::MHA : AttentionKind::GQA;
    a.headDim = r.integer("head_dim", false, "head_dim").value_or(a.heads ? m.hidden / a.heads : 1);
  }
  if (type == "qwen3_moe")
    a.qkNorm = true; // Qwen3's q_norm and k_norm, part of the architecture, not a config key
  if (std::optional<bool> qk = r.boolean("use_qk_norm"))
    a.qkNorm = *qk;
  if (std::optional<bool> bias = r.boolean("attention_bias"); bias && *bias)
    a.bias = gptOss ? AttentionBias::All : AttentionBias::Qkv;
  if (type == "qwen2_moe")
    a.bias = AttentionBias::Qkv; // Qwen2's q, k and v projections carry biases
  if (gptOss) {
    a.sinks = true;
    if (std::optional<int64_t> w = r.integer("sliding_window", false, "sliding_window")) {
      a.slidingWindow = *w;
      a.fullEvery = 2; // layer_types alternate sliding and full attention, sliding first
      if (const JsonValue *types = top->get("layer_types"); types && types->kind == JsonValue::Kind::Array)
        for (size_t l = 0; l < types->items.size(); ++l)
          if (types->items[l].kind == JsonValue::Kind::String &&
              (types->items[l].string == "full_attention") != (l % 2 == 1)) {
            r.approximated(*types, "layer_types do not alternate sliding and full attention; moec alternates them");
            break;
          }
    }
  } else if (llama4) {
    if (std::optional<int64_t> chunk = r.integer("attention_chunk_size", false, "chunk_size")) {
      a.chunkSize = *chunk;
      a.fullEvery = 4; // every fourth layer is global (no_rope_layers)
    }
  } else if (const JsonValue *w = r.member("sliding_window", false); w) {
    bool used = true;
    if (std::optional<bool> use = r.boolean("use_sliding_window"))
      used = *use;
    if (used) {
      a.slidingWindow = r.integer("sliding_window", false, "sliding_window").value_or(0);
      if (top->get("max_window_layers"))
        r.approximated(*top->get("max_window_layers"), "max_window_layers: moec windows every layer");
    }
  }

  // Which layers are MoE.
  m.moeMask.assign(size_t(std::max<int64_t>(m.layers, 0)), true);
  int64_t dense = 0, every = 1;
  if (deepseek || glm)
    dense = r.integer("first_k_dense_replace", false, "dense_layers").value_or(0);
  if (deepseek)
    every = r.integer("moe_layer_freq", false, "moe_every").value_or(1);
  if (qwen)
    every = r.integer("decoder_sparse_step", false, "moe_every").value_or(1);
  if (llama4)
    every = r.integer("interleave_moe_layer_step", false, "moe_every").value_or(1);
  every = std::max<int64_t>(every, 1);
  for (int64_t l = 0; l < m.layers; ++l)
    m.moeMask[l] = l >= dense && (l - dense + 1) % every == 0;
  if (qwen)
    if (const JsonValue *only = r.member("mlp_only_layers", false); only && only->kind == JsonValue::Kind::Array)
      for (const JsonValue &e : only->items)
        if (e.kind == JsonValue::Kind::Number && e.number >= 0 && e.number < double(m.layers))
          m.moeMask[size_t(e.number)] = false;
  m.denseLayers = dense;
  m.moeCount = std::count(m.moeMask.begin(), m.moeMask.end(), true);

  // The MoE block.
  MoeSpec &moe = m.moe;
  moe.loc = m.loc;
  moe.activation = Activation::SwiGLU; // every architecture read here gates its FFNs with SiLU
  if (deepseek || glm) {
    moe.experts = r.integer("n_routed_experts", true, "experts").value_or(1);
    moe.expertHidden = r.integer("moe_intermediate_size", true, "expert_hidden").value_or(1);
    moe.sharedExperts = r.integer("n_shared_experts", false, "shared_experts").value_or(0);
    int64_t groups = r.integer("n_group", false).value_or(1);
    if (groups > 1) {
      moe.routeGroups = groups;
      r.record("route_groups", *top->get("n_group"));
      // The groups a token may pick: deployments put a group on a node, so moec limits the nodes.
      moe.routeNodes = r.integer("topk_group", false, "route_nodes").value_or(0);
    }
  } else if (qwen) {
    moe.experts = r.integer("num_experts", true, "experts").value_or(1);
    moe.expertHidden = r.integer("moe_intermediate_size", true, "expert_hidden").value_or(1);
    if (std::optional<int64_t> shared = r.integer("shared_expert_intermediate_size", false)) {
      moe.sharedExperts = moe.expertHidden ? *shared / moe.expertHidden : 0;
      r.record("shared_experts", *top->get("shared_expert_intermediate_size"));
      if (moe.expertHidden && *shared % moe.expertHidden != 0)
        r.approximated(*top->get("shared_expert_intermediate_size"),
                       "a shared expert " + std::to_string(*shared) + " wide is not a whole number of " +
                           std::to_string(moe.expertHidden) + "-wide experts");
    }
  } else {
    moe.experts = r.integer("num_local_experts", true, "experts").value_or(1);
    moe.expertHidden = r.integer("intermediate_size", true, "expert_hidden").value_or(1);
    if (llama4)
      moe.sharedExperts = 1; // Llama 4's MoE layers add one shared expert of the same width
  }
  moe.topK = r.integer(top->get("num_experts_per_tok") || !gptOss ? "num_experts_per_tok" : "experts_per_token", true,
                       "top_k")
                 .value_or(1);
  if (gptOss)
    moe.bias = true; // the router's and the experts' projections carry biases

  // The dense FFN, when some layers are dense.
  if (m.moeCount < m.layers) {
    MlpSpec mlp;
    mlp.loc = m.loc;
    mlp.activation = Activation::SwiGLU;
    mlp.hidden = r.integer(llama4 ? "intermediate_size_mlp" : "intermediate_size", true).value_or(1);
    m.mlp = mlp;
  }
  if (!r.ok || !outer.ok)
    return false;
  // What Sema checks of a model block, at the config's keys.
  auto fail = [&](llvm::StringRef key, const std::string &msg) {
    diags.error(m.locOf(key), msg + " (" + file.str() + ")");
    return false;
  };
  if (a.kvHeads == 0 || a.heads % a.kvHeads != 0)
    return fail("kv_heads", "num_key_value_heads = " + std::to_string(a.kvHeads) + " does not divide the " +
                                std::to_string(a.heads) + " attention heads");
  if (moe.topK > moe.experts)
    return fail("top_k", "num_experts_per_tok = " + std::to_string(moe.topK) + " is more than the " +
                             std::to_string(moe.experts) + " experts");
  if (moe.routeGroups && moe.experts % moe.routeGroups != 0)
    return fail("route_groups", "n_group = " + std::to_string(moe.routeGroups) + " does not divide the " +
                                    std::to_string(moe.experts) + " experts");
  if (m.moeCount == 0)
    return fail("layers", "no layer of the model is MoE");
  return true;
}

void Sema::buildImportedModel(const Block &block, const BlockDesc &desc) {
  auto model = std::make_unique<ModelSpec>();
  bool ok = importHfConfig(block, *model);
  // The body overrides top-level keys; its keys are optional.
  BlockChecker c(block, desc, diags, defs, spec, /*keysOptional=*/true);
  auto overrideKey = [&](llvm::StringRef key) {
    if (c.has(key))
      model->keys[key] = c.locOf(key);
    return c.has(key);
  };
  if (overrideKey("precision")) {
    model->precision = c.getEnum("precision", model->precision);
    model->parts = {model->precision, model->precision, model->precision, model->precision, model->precision};
  }
  for (auto [key, part] : {std::pair<llvm::StringRef, Precision *>{"attention_precision", &model->parts.attention},
                           {"dense_precision", &model->parts.denseFfn},
                           {"expert_precision", &model->parts.experts},
                           {"embedding_precision", &model->parts.embedding},
                           {"kv_precision", &model->parts.kvCache}})
    if (overrideKey(key))
      *part = c.getEnum(key, *part);
  if (overrideKey("vocab"))
    model->vocab = c.getInt("vocab", model->vocab);
  if (overrideKey("tie_embeddings"))
    model->tieEmbeddings = c.getEnum("tie_embeddings", Switch::Off) == Switch::On;
  if (overrideKey("dropout"))
    model->dropout = c.getReal("dropout", 0);
  for (llvm::StringRef structural : {"layers", "dense_layers", "moe_every", "moe_layer_list", "hidden"})
    if (c.has(structural)) {
      diags.error(c.locOf(structural), "'" + structural.str() + "' of model '" + block.getName().str() +
                                           "' comes from " + block.getFromPath().str() +
                                           "; a body may override precisions, vocab, tie_embeddings and dropout");
      ok = false;
    }
  for (const std::unique_ptr<Stmt> &stmt : block.getBody())
    if (const auto *sub = llvm::dyn_cast<BlockStmt>(stmt.get())) {
      diags.error(sub->getBlock().getLoc(), "a model read from " + block.getFromPath().str() +
                                                " takes top-level keys only; its '" +
                                                sub->getBlock().getKind().str() + "' block comes from the file");
      ok = false;
    }
  c.evaluateAll();
  ok &= c.isOk();
  valid[block.getName().str() + "@model"] = ok;
  models[block.getName()] = model.get();
  spec.models.push_back(std::move(model));
}
