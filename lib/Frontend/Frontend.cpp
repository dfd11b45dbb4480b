//===- Frontend.cpp - Load, parse and check a .moe file and its imports ---===//
//
// Imports form a graph; it is walked depth-first from the main file, each file read and parsed once (by its
// real path), with the chain of files being imported kept on a stack so that a cycle is reported with the whole
// chain at the import that closes it.
//
//===----------------------------------------------------------------------===//
#include "moec/Frontend/Frontend.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace moec;

namespace {
const std::pair<llvm::StringRef, llvm::StringRef> bundled[] = {
#include "BundledLibrary.inc"
};

class Loader {
public:
  Loader(const FrontendOptions &options, DiagEngine &diags, Spec &spec)
      : options(options), diags(diags), srcMgr(diags.getSourceMgr()), spec(spec) {}

  void loadText(llvm::StringRef text, llvm::StringRef name) {
    load(llvm::MemoryBuffer::getMemBufferCopy(text, name), name.str(), name.str());
  }

  /// Load the main file. False on an I/O error (already reported).
  bool loadMain(llvm::StringRef path) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buf = readFile(path);
    if (!buf) {
      diags.error(llvm::SMLoc(), "cannot read '" + path + "': " + buf.getError().message());
      return false;
    }
    std::string key = canonical(path);
    load(std::move(*buf), key, path == "-" ? "<stdin>" : path.str());
    return true;
  }

private:
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> readFile(llvm::StringRef path) {
    if (path == "-")
      return llvm::MemoryBuffer::getSTDIN();
    if (llvm::sys::fs::is_directory(path))
      return std::make_error_code(std::errc::is_a_directory);
    uint64_t size = 0;
    if (!llvm::sys::fs::file_size(path, size) && size > options.limits.maxFileBytes)
      return std::make_error_code(std::errc::file_too_large);
    return llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/true);
  }

  static std::string canonical(llvm::StringRef path) {
    llvm::SmallString<256> real;
    if (path != "-" && !llvm::sys::fs::real_path(path, real))
      return std::string(real);
    return path.str();
  }

  void load(std::unique_ptr<llvm::MemoryBuffer> buf, const std::string &key, const std::string &displayPath) {
    // SourceMgr names buffers by their identifier; keep the path as the user wrote it (or as resolved).
    std::unique_ptr<llvm::MemoryBuffer> named =
        llvm::MemoryBuffer::getMemBufferCopy(buf->getBuffer(), displayPath);
    unsigned id = srcMgr.AddNewSourceBuffer(std::move(named), llvm::SMLoc());
    loaded.insert(key);
    std::unique_ptr<Module> module = parseBuffer(id, diags, options.limits);
    if (!module) {
      failed = true;
      return;
    }
    Module *raw = module.get();
    spec.modules.push_back(std::move(module));
    for (const std::unique_ptr<Block> &block : raw->getBlocks())
      if (!block->getFromPath().empty())
        loadFrom(*block, displayPath);
    stack.push_back(key);
    for (const ImportDecl &imp : raw->getImports())
      loadImport(imp, displayPath);
    stack.pop_back();
  }

  /// Where a file named \p path in \p fromFile is looked for: the path itself when absolute, else next to
  /// \p fromFile, then in each -I directory.
  std::vector<std::string> searchPath(llvm::StringRef path, llvm::StringRef fromFile) const {
    if (llvm::sys::path::is_absolute(path))
      return {path.str()};
    std::vector<std::string> out;
    llvm::SmallString<256> local =
        fromFile == "<stdin>" ? llvm::StringRef(".") : llvm::sys::path::parent_path(fromFile);
    llvm::sys::path::append(local, path);
    out.push_back(std::string(local));
    for (const std::string &dir : options.includeDirs) {
      llvm::SmallString<256> p(dir);
      llvm::sys::path::append(p, path);
      out.push_back(std::string(p));
    }
    return out;
  }

  /// The file of `model NAME from "file"`: next to the spec, then in each -I directory.
  void loadFrom(const Block &block, llvm::StringRef specPath) {
    llvm::StringRef path = block.getFromPath();
    llvm::SMLoc at = block.getFromRange().Start;
    if (!options.allowFileImports) {
      diags.error(at, "reading '" + path.str() + "' is disabled here (only moec's bundled library is read)");
      failed = true;
      return;
    }
    std::vector<std::string> candidates = searchPath(path, specPath);
    for (const std::string &candidate : candidates) {
      if (!llvm::sys::fs::exists(candidate))
        continue;
      llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buf = readFile(candidate);
      if (!buf) {
        diags.error(at, "cannot read '" + candidate + "': " + buf.getError().message(), {block.getFromRange()});
        failed = true;
        return;
      }
      std::unique_ptr<llvm::MemoryBuffer> named =
          llvm::MemoryBuffer::getMemBufferCopy((*buf)->getBuffer(), candidate);
      spec.fromBuffers[&block] = srcMgr.AddNewSourceBuffer(std::move(named), llvm::SMLoc());
      return;
    }
    std::string searched;
    for (const std::string &c : candidates)
      searched += "\n  " + c;
    diags.error(at, "cannot find \"" + path.str() + "\"", {block.getFromRange()});
    diags.note(at, "looked in:" + searched);
    failed = true; // Sema does not run on a spec with errors: the model's other problems wait for the file
  }

  void loadImport(const ImportDecl &imp, llvm::StringRef importerPath) {
    if (imp.path.empty()) {
      diags.error(imp.pathRange.Start, "import path is empty");
      failed = true;
      return;
    }
    if (stack.size() >= options.maxImportDepth) {
      diags.error(imp.loc, "imports nested deeper than the limit of " + std::to_string(options.maxImportDepth));
      failed = true;
      return;
    }
    if (spec.modules.size() >= options.maxModules) {
      diags.error(imp.loc, "more than " + std::to_string(options.maxModules) + " files imported (the limit)");
      failed = true;
      return;
    }

    // 1. Next to the importing file, 2. each -I directory, 3. the bundled library.
    std::vector<std::string> candidates;
    if (options.allowFileImports) // else only the bundled library
      candidates = searchPath(imp.path, importerPath);
    for (const std::string &candidate : candidates) {
      if (!llvm::sys::fs::exists(candidate))
        continue;
      std::string key = canonical(candidate);
      if (checkCycle(key, imp) || loaded.count(key))
        return;
      llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buf = readFile(candidate);
      if (!buf) {
        diags.error(imp.pathRange.Start, "cannot read imported file '" + candidate + "': " +
                                             buf.getError().message(),
                    {imp.pathRange});
        failed = true;
        return;
      }
      load(std::move(*buf), key, candidate);
      return;
    }
    for (const auto &[name, text] : bundledLibrary()) {
      if (name != imp.path)
        continue;
      std::string key = "<moec>/" + name.str();
      if (checkCycle(key, imp) || loaded.count(key))
        return;
      load(llvm::MemoryBuffer::getMemBuffer(text, key), key, key);
      return;
    }
    std::string searched;
    for (const std::string &c : candidates)
      searched += "\n  " + c;
    diags.error(imp.pathRange.Start, "cannot find imported file \"" + imp.path + "\"", {imp.pathRange});
    diags.note(imp.pathRange.Start, "looked in:" + searched + "\n  moec's bundled library");
    failed = true;
  }

  /// Reports an import cycle when \p key is being imported already.
  bool checkCycle(const std::string &key, const ImportDecl &imp) {
    auto it = std::find(stack.begin(), stack.end(), key);
    if (it == stack.end())
      return false;
    std::string chain;
    for (; it != stack.end(); ++it)
      chain += llvm::sys::path::filename(*it).str() + " -> ";
    chain += llvm::sys::path::filename(key).str();
    diags.error(imp.loc, "import cycle: " + chain, {imp.pathRange});
    failed = true;
    return true;
  }

public:
  bool failed = false;

private:
  const FrontendOptions &options;
  DiagEngine &diags;
  llvm::SourceMgr &srcMgr;
  Spec &spec;
  llvm::StringSet<> loaded;
  std::vector<std::string> stack;
};
} // namespace

llvm::ArrayRef<std::pair<llvm::StringRef, llvm::StringRef>> moec::bundledLibrary() { return bundled; }

FrontendResult moec::runFrontend(llvm::StringRef path, const FrontendOptions &options, DiagEngine &diags) {
  FrontendResult result;
  result.spec = std::make_unique<Spec>();
  Loader loader(options, diags, *result.spec);
  if (!loader.loadMain(path)) {
    result.status = FrontendStatus::IoError;
    return result;
  }
  if (loader.failed || diags.hasErrors()) {
    result.status = FrontendStatus::InputError;
    return result;
  }
  result.spec->onlyDeploy = options.onlyDeploy;
  if (!runSema(*result.spec, diags))
    result.status = FrontendStatus::InputError;
  return result;
}

FrontendResult moec::runFrontendOnText(llvm::StringRef text, llvm::StringRef name, const FrontendOptions &options,
                                       DiagEngine &diags) {
  FrontendResult result;
  result.spec = std::make_unique<Spec>();
  Loader loader(options, diags, *result.spec);
  loader.loadText(text, name);
  result.spec->onlyDeploy = options.onlyDeploy;
  if (loader.failed || diags.hasErrors())
    result.status = FrontendStatus::InputError;
  else if (!runSema(*result.spec, diags))
    result.status = FrontendStatus::InputError;
  return result;
}

void moec::printSpec(const Spec &spec, const llvm::SourceMgr &srcMgr, llvm::raw_ostream &os) {
  auto annotate = [&](const AssignStmt &assign) -> std::string {
    auto it = spec.values.find(&assign);
    if (it == spec.values.end())
      return "";
    const Value &v = it->second;
    std::string text;
    if (v.kind == Value::Kind::Real)
      text = v.dim == Dim::Ratio ? formatExact(v.r) : formatExact(v.r) + " " + baseUnit(v.dim).str();
    else
      text = v.str();
    std::string written;
    llvm::raw_string_ostream w(written);
    printExpr(assign.getValue(), w);
    return text == w.str() ? std::string() : text;
  };
  for (const auto &module : spec.modules)
    printModule(*module, srcMgr, os, annotate);
  // A model read from a file: every value it took, with where it came from (the config's key, or the body).
  for (const auto &m : spec.models) {
    if (m->fromFile.empty())
      continue;
    os << "model " << m->name << " from \"" << m->fromFile << "\"\n";
    const AttentionSpec &a = m->attention;
    const MoeSpec &e = m->moe;
    std::pair<llvm::StringRef, std::string> values[] = {
        {"layers", std::to_string(m->layers)},
        {"dense_layers", std::to_string(m->denseLayers)},
        {"moe_every", "(MoE layers " + m->describeMoeLayers() + ")"},
        {"hidden", std::to_string(m->hidden)},
        {"vocab", std::to_string(m->vocab)},
        {"precision", m->describePrecision()},
        {"expert_precision", spell(m->parts.experts).str()},
        {"embedding_precision", spell(m->parts.embedding).str()},
        {"kv_precision", spell(m->parts.kvCache).str()},
        {"heads", std::to_string(a.heads) + " (" + spell(a.kind).str() + ")"},
        {"kv_heads", std::to_string(a.kvHeads)},
        {"head_dim", std::to_string(a.headDim)},
        {"q_lora_rank", std::to_string(a.qLoraRank)},
        {"kv_lora_rank", std::to_string(a.kvLoraRank)},
        {"rope_head_dim", std::to_string(a.ropeHeadDim)},
        {"sliding_window", std::to_string(a.slidingWindow)},
        {"chunk_size", std::to_string(a.chunkSize)},
        {"experts", std::to_string(e.experts)},
        {"top_k", std::to_string(e.topK)},
        {"expert_hidden", std::to_string(e.expertHidden)},
        {"shared_experts", std::to_string(e.sharedExperts)},
        {"route_groups", std::to_string(e.routeGroups)},
        {"route_nodes", std::to_string(e.routeNodes)},
    };
    for (const auto &[key, value] : values) {
      auto it = m->keys.find(key);
      if (it == m->keys.end())
        continue;
      unsigned buffer = srcMgr.FindBufferContainingLoc(it->second);
      auto [line, col] = srcMgr.getLineAndColumn(it->second, buffer);
      os << "  " << key << " = " << value << " <"
         << llvm::sys::path::filename(srcMgr.getMemoryBuffer(buffer)->getBufferIdentifier()) << ":" << line << ":"
         << col << ">\n";
    }
    if (m->mlp)
      os << "  mlp hidden = " << m->mlp->hidden << "\n";
  }
  for (const auto &d : spec.deploys) {
    auto [line, col] = srcMgr.getLineAndColumn(d->loc);
    os << "deploy " << d->name << " <" << line << ":" << col << ">";
    if (!d->model || !d->cluster || !d->strategy || !d->workload) {
      os << " (unresolved)\n";
      continue;
    }
    os << ": model " << d->model->name << ", cluster " << d->cluster->name << ", strategy " << d->strategy->name
       << ", workload " << d->workload->name << "\n";
    const DerivedValues &dv = d->derived;
    if (dv.world == 0)
      continue;
    os << "  world = " << dv.world << "\n";
    os << "  expert_slots = " << dv.expertSlots << "\n";
    os << "  experts_per_gpu = " << dv.expertsPerGpu << "\n";
    os << "  attention_dp = " << dv.attentionDp << "\n";
    os << "  ep_group_nodes = " << dv.epGroupNodes << "\n";
    os << "  layers_per_stage = " << dv.layersPerStage << "\n";
    os << "  moe_layers = " << dv.moeLayers << "\n";
    os << "  order = " << d->strategy->orderString() << "\n";
  }
}
