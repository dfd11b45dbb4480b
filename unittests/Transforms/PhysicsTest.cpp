//===- PhysicsTest.cpp - The GEMM formula against DeepGEMM's table ------------===//
//
// moec::gemmTime with Hopper's calibration on rows of DeepGEMM's published H800 table (deepseek-ai/DeepGEMM
// README, first release; bench-gemm prints them all): FP8 inputs and weights, BF16 output.
//
//===----------------------------------------------------------------------===//
#include "moec/Transforms/Physics.h"

#include <gtest/gtest.h>

using namespace moec;

namespace {

double tflops(double groups, double m, double n, double k) {
  GpuSpec h800;
  h800.compute = 989e12;
  h800.fp8Compute = 1979e12;
  h800.memBandwidth = 3.35e12;
  Physics ph = Physics::ofKernels(calibrationFor(GpuArch::Hopper));
  double flops = 2 * groups * m * n * k;
  double in = groups * (m * k + k * n), out = gemmOutputBytes(groups * m * n, Precision::FP8);
  return flops / gemmTime(flops, in, out, Precision::FP8, h800, ph) / 1e12;
}

// A short k with a wide output: the BF16 store after the main loop is as long as the math. DeepGEMM: 590 TFLOPS;
// max(compute, memory) alone gave 1058.
TEST(PhysicsTest, GemmStoresItsOutputAfterTheMainLoop) { EXPECT_NEAR(tflops(1, 4096, 32768, 512), 590, 0.05 * 590); }

// The grouped contiguous rows the compute fraction comes from (1093-1297 TFLOPS), each within 10%.
TEST(PhysicsTest, ContiguousGroupedGemms) {
  EXPECT_NEAR(tflops(4, 8192, 4096, 7168), 1297, 0.10 * 1297);
  EXPECT_NEAR(tflops(4, 8192, 7168, 2048), 1099, 0.10 * 1099);
  EXPECT_NEAR(tflops(8, 4096, 4096, 7168), 1288, 0.10 * 1288);
  EXPECT_NEAR(tflops(8, 4096, 7168, 2048), 1093, 0.10 * 1093);
}

// The bound hides the stores as well: 4096 x 32768 x 512 at the peaks is max(69.4 us of math, (18.9 MB in +
// 268.4 MB out) / 3.35 TB/s = 85.8 us), 1602 TFLOPS; adding the store after the math would give 919.
TEST(PhysicsTest, BoundGemmHidesItsStores) {
  GpuSpec h800;
  h800.compute = 989e12;
  h800.fp8Compute = 1979e12;
  h800.memBandwidth = 3.35e12;
  Physics bound; // the peaks
  double flops = 2.0 * 4096 * 32768 * 512;
  double in = 4096.0 * 512 + 512.0 * 32768, out = gemmOutputBytes(4096.0 * 32768, Precision::FP8);
  EXPECT_NEAR(flops / gemmTime(flops, in, out, Precision::FP8, h800, bound) / 1e12, 1602.5, 1);
}

// FP8 and 4-bit GEMMs write BF16; a BF16 or FP32 one its own width.
TEST(PhysicsTest, GemmOutputIsAtLeastBf16) {
  EXPECT_EQ(gemmOutputBytes(10, Precision::FP8), 20);
  EXPECT_EQ(gemmOutputBytes(10, Precision::BF16), 20);
  EXPECT_EQ(gemmOutputBytes(10, Precision::FP32), 40);
}

} // namespace

namespace {

// The published points themselves (TensorRT-LLM, EP 32: 256 slots without EPLB, 288 with it).
TEST(PhysicsTest, ImbalanceAtThePublishedPoints) {
  EXPECT_NEAR(defaultImbalance(32, 256, 0, 8), 1.564, 1e-9);
  EXPECT_NEAR(defaultImbalance(32, 288, 32, 8), 0.109, 1e-9);
}

// SGLang's decode, EP 72: 288 slots (4 a GPU) give 0.109 x sqrt(9 / 4) x sqrt(ln 72 / ln 32) = 0.1817; 256 slots
// (3.56 a GPU) 1.564 x sqrt(8 / 3.556) x sqrt(ln 72 / ln 32) = 2.606.
TEST(PhysicsTest, ImbalanceScalesWithSlotsAndGpus) {
  EXPECT_NEAR(defaultImbalance(72, 288, 32, 8), 0.1817, 1e-4);
  EXPECT_NEAR(defaultImbalance(72, 256, 0, 8), 2.606, 1e-3);
  EXPECT_EQ(defaultImbalance(1, 256, 0, 8), 0);
}

// Never more than every token reaching the busiest GPU: 8 experts with top-2 on 8 GPUs, at most 8 x 1 / 2 - 1 = 3.
TEST(PhysicsTest, ImbalanceIsBoundedByTheTokens) { EXPECT_NEAR(defaultImbalance(8, 8, 0, 2), 3.0, 1e-9); }

} // namespace
