//===- compile_scale.cpp - How compile time and memory grow with the cluster ---===//
//
// Generates deployments of a DeepSeek-V3-sized model (61 layers, 3 dense, 256 experts, top-8) on 128, 1,024
// and 16,384 GPUs (8 per node; ep = min(256, GPUs), dp = GPUs / ep) and compiles each in a fresh process,
// printing the wall time of each stage (parse and check, lowering, each pass of the default pipeline, printing the
// IR, writing the manifest) and the peak resident memory after it.
//
//   bench-compile-scale                 the table for 128, 1024 and 16384 GPUs
//   bench-compile-scale 4096 65536 ...  other sizes
//
//===----------------------------------------------------------------------===//
#include "moec/Frontend/Frontend.h"
#include "moec/Pipeline/Pipeline.h"
#include "moec/Target/Manifest.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include "fmt/format.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

using namespace moec;

namespace {

std::string spec(int64_t gpus) {
  int64_t ep = std::min<int64_t>(256, gpus), dp = gpus / ep;
  return fmt::format(R"(
gpu G {{ memory = 80 GB; compute = 989 TFLOPS; mem_bandwidth = 3.35 TB/s; }}
model M {{
  layers = 61; dense_layers = 3; hidden = 7168; precision = fp8;
  attention {{ kind = mla; heads = 128; head_dim = 128; q_lora_rank = 1536; kv_lora_rank = 512; rope_head_dim = 64; }}
  mlp {{ hidden = 18432; activation = swiglu; }}
  moe {{ experts = 256; top_k = 8; expert_hidden = 2048; activation = swiglu; shared_experts = 1;
         route_groups = 8; route_nodes = 4; }}
}}
cluster C {{ nodes = {0}; gpus_per_node = 8; gpu = G;
  intra_node {{ bandwidth = 160 GB/s; latency = 2 us; }} inter_node {{ bandwidth = 50 GB/s; latency = 5 us; }} }}
strategy S {{ ep = {1}; dp = {2}; tp = 1; pp = 1; placement = topology_aware; }}
workload W {{ phase = decode; micro_batch = 128; context = 4096; }}
deploy D {{ model = M; cluster = C; strategy = S; workload = W; }}
)",
                     gpus / 8, ep, dp);
}

double peakMB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

/// Compile one size in this process and print one row per stage.
int runOne(int64_t gpus) {
  using clock = std::chrono::steady_clock;
  llvm::SourceMgr srcMgr;
  std::string nullText;
  llvm::raw_string_ostream nullDiags(nullText);
  DiagEngine diags(srcMgr, nullDiags);
  char path[] = "/tmp/moec-bench-XXXXXX";
  int fd = mkstemp(path);
  std::string text = spec(gpus);
  if (fd < 0 || write(fd, text.data(), text.size()) != ssize_t(text.size()))
    return 2;
  close(fd);

  auto row = [&](const char *stage, clock::time_point start) {
    double ms = std::chrono::duration<double, std::milli>(clock::now() - start).count();
    llvm::outs() << fmt::format("{:>7} {:>22} {:>10.1f} {:>10.1f}\n", gpus, stage, ms, peakMB());
    return ms;
  };
  double total = 0;
  auto t = clock::now();
  FrontendResult front = runFrontend(path, FrontendOptions(), diags);
  unlink(path);
  total += row("parse+sema", t);
  if (front.status != FrontendStatus::Ok) {
    llvm::errs() << nullText;
    return 1;
  }
  // Lowering and each pass of the default pipeline, timed by the pipeline itself (the driver's path).
  PipelineOptions options;
  options.timing = true;
  Compilation compiled = compileDeploy(*front.spec->deploys.front(), options, diags);
  if (!compiled.outcome) {
    llvm::errs() << nullText;
    return 1;
  }
  for (const PassManager::Timing &timing : compiled.timings) {
    llvm::outs() << fmt::format("{:>7} {:>22} {:>10.1f} {:>10.1f}\n", gpus, timing.name, timing.seconds * 1e3,
                                double(timing.peakBytes) / 1e6);
    total += timing.seconds * 1e3;
  }
  const ir::Plan *plan = compiled.plan.get();
  t = clock::now();
  std::string ir;
  llvm::raw_string_ostream os(ir);
  ir::printPlan(*plan, os, srcMgr);
  total += row("print -emit=ir", t);
  t = clock::now();
  std::string manifest;
  llvm::raw_string_ostream ms(manifest);
  writeManifest(*plan, text, ms);
  total += row("write -emit=manifest", t);
  llvm::outs() << fmt::format("{:>7} {:>22} {:>10.1f} {:>10.1f}   ({} MB of IR text, {:.1f} MB of manifest)\n",
                              gpus, "total", total, peakMB(), ir.size() / 1000000, double(manifest.size()) / 1e6);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 3 && std::string(argv[1]) == "--one")
    return runOne(std::atoll(argv[2]));
  std::vector<std::string> sizes;
  for (int i = 1; i < argc; ++i)
    sizes.push_back(argv[i]);
  if (sizes.empty())
    sizes = {"128", "1024", "16384"};
  llvm::outs() << fmt::format("{:>7} {:>22} {:>10} {:>10}\n", "GPUs", "stage", "ms", "peak MB");
  llvm::outs().flush();
  std::string self = llvm::sys::fs::getMainExecutable(argv[0], (void *)&main);
  for (const std::string &n : sizes) {
    llvm::StringRef args[] = {self, "--one", n};
    if (int rc = llvm::sys::ExecuteAndWait(self, args); rc != 0)
      return rc;
  }
  return 0;
}
