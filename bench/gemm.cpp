//===- gemm.cpp - DeepGEMM's published table, kernel by kernel ----------------===//
//
// Runs moec's GEMM time (moec::gemmTime with the Hopper calibration, the formula the cost model charges every
// linear op with) on each FP8 GEMM of DeepGEMM's first published table (deepseek-ai/DeepGEMM README, H800 SXM:
// 1979 TFLOPS FP8 dense, 3.35 TB/s HBM3), and prints the published and forecast TFLOPS and the error per row, with
// the median and worst error per layout. A GEMM of m x n x k (per group) moves m x k and k x n FP8 bytes in and
// m x n BF16 bytes out.
//
//   bench-gemm
//
//===----------------------------------------------------------------------===//
#include "moec/Transforms/Physics.h"

#include "fmt/format.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

using namespace moec;

namespace {

struct Row {
  const char *layout;
  int groups;
  double m, n, k;
  double tflops; ///< published
};

// deepseek-ai/DeepGEMM README (first release): normal dense GEMMs, grouped contiguous (prefill, MoE) and grouped
// masked (decode, MoE) layouts.
const Row kRows[] = {
    {"dense", 1, 64, 2112, 7168, 206},      {"dense", 1, 64, 24576, 1536, 289},
    {"dense", 1, 64, 32768, 512, 219},      {"dense", 1, 64, 7168, 16384, 336},
    {"dense", 1, 64, 4096, 7168, 287},      {"dense", 1, 64, 7168, 2048, 295},
    {"dense", 1, 128, 2112, 7168, 352},     {"dense", 1, 128, 24576, 1536, 535},
    {"dense", 1, 128, 32768, 512, 358},     {"dense", 1, 128, 7168, 16384, 645},
    {"dense", 1, 128, 4096, 7168, 533},     {"dense", 1, 128, 7168, 2048, 510},
    {"dense", 1, 4096, 2112, 7168, 1058},   {"dense", 1, 4096, 24576, 1536, 990},
    {"dense", 1, 4096, 32768, 512, 590},    {"dense", 1, 4096, 7168, 16384, 1358},
    {"dense", 1, 4096, 4096, 7168, 1304},   {"dense", 1, 4096, 7168, 2048, 1025},
    {"contiguous", 4, 8192, 4096, 7168, 1297}, {"contiguous", 4, 8192, 7168, 2048, 1099},
    {"contiguous", 8, 4096, 4096, 7168, 1288}, {"contiguous", 8, 4096, 7168, 2048, 1093},
    {"masked", 1, 1024, 4096, 7168, 1233},  {"masked", 1, 1024, 7168, 2048, 925},
    {"masked", 2, 512, 4096, 7168, 1040},   {"masked", 2, 512, 7168, 2048, 916},
    {"masked", 4, 256, 4096, 7168, 932},    {"masked", 4, 256, 7168, 2048, 815},
};

} // namespace

int main() {
  GpuSpec h800;
  h800.name = "H800_SXM_80G";
  h800.compute = 989e12;
  h800.fp8Compute = 1979e12;
  h800.memBandwidth = 3.35e12;
  Physics physics = Physics::ofKernels(calibrationFor(GpuArch::Hopper));

  fmt::print("| layout | groups | m | n | k | published TFLOPS | moec TFLOPS | error |\n");
  fmt::print("|---|---|---|---|---|---|---|---|\n");
  std::map<std::string, std::vector<double>> errors;
  for (const Row &r : kRows) {
    double flops = 2 * r.groups * r.m * r.n * r.k;
    double in = r.groups * (r.m * r.k + r.k * r.n), out = gemmOutputBytes(r.groups * r.m * r.n, Precision::FP8);
    double tflops = flops / gemmTime(flops, in, out, Precision::FP8, h800, physics) / 1e12;
    double error = (tflops - r.tflops) / r.tflops;
    errors[r.layout].push_back(std::fabs(error));
    fmt::print("| {} | {} | {} | {} | {} | {} | {:.0f} | {:+.1f}% |\n", r.layout, r.groups, r.m, r.n, r.k, r.tflops,
               tflops, 100 * error);
  }
  fmt::print("\n");
  for (auto &[layout, e] : errors) {
    std::sort(e.begin(), e.end());
    double median = e.size() % 2 ? e[e.size() / 2] : (e[e.size() / 2 - 1] + e[e.size() / 2]) / 2;
    fmt::print("{}: median error {:.1f}%, worst {:.1f}% over {} rows\n", layout, 100 * median, 100 * e.back(),
               e.size());
  }
  return 0;
}
