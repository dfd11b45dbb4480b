//===- ScheduleTest.cpp - The two-micro-batch schedule ------------------------===//
//
// Hand-worked cases of moec/Transforms/Schedule.h on a MoE layer of four ops: attention (a), dispatch (D), the
// experts (e), combine (K), the residual (r), and, where stated, a shared expert (s) that reads a and is added
// after the combine.
//
//===----------------------------------------------------------------------===//
#include "moec/Transforms/Schedule.h"

#include <gtest/gtest.h>

using namespace moec;
using namespace moec::ir;

namespace {

struct Layer {
  Program program;
  std::vector<double> seconds;
};

/// a -> D -> e -> K -> r, with an optional shared expert s (a -> s -> r). Times in microseconds.
Layer moeLayer(double a, double d, double e, double k, double r, double s = -1) {
  Layer l;
  Program &p = l.program;
  p.input = p.addTensor("x", ~0u).id;
  unsigned attn = p.add({OpKind::Linear, OpRole::OutProj, OpPart::Attention}, "a", {p.input}, {});
  unsigned disp = p.add({OpKind::Dispatch, OpRole::Dispatch, OpPart::MoeBlock}, "D", {attn}, {});
  unsigned expert = p.add({OpKind::Linear, OpRole::FfnOut, OpPart::RoutedExperts}, "e", {disp}, {});
  unsigned comb = p.add({OpKind::Combine, OpRole::Combine, OpPart::MoeBlock}, "K", {expert}, {});
  l.seconds = {a, d, e, k};
  std::vector<unsigned> sum = {comb};
  if (s >= 0) {
    sum.push_back(p.add({OpKind::Linear, OpRole::FfnOut, OpPart::SharedExperts}, "s", {attn}, {}));
    l.seconds.push_back(s);
  }
  p.output = p.add({OpKind::Add, OpRole::MoeResidual, OpPart::MoeBlock}, "r", sum, {});
  l.seconds.push_back(r);
  for (double &t : l.seconds)
    t *= 1e-6;
  return l;
}

double us(double seconds) { return seconds * 1e6; }

TEST(ScheduleTest, LayerWithoutCommunicationTakesItsCompute) {
  Layer l;
  Program &p = l.program;
  p.input = p.addTensor("x", ~0u).id;
  p.output = p.add({OpKind::Linear, OpRole::OutProj, OpPart::Attention}, "a", {p.input}, {});
  l.seconds = {100e-6};
  EXPECT_NEAR(us(steadyStateLayerTime({&p, l.seconds}, 0, 1, Shadow::Latest)), 100, 1e-6);
}

// a 100, D 40, e 20, K 80: compute and communication are both 120 us a micro-batch, but the schedule cannot hide
// them behind each other. Micro-batch 0's next attention waits for its combine; micro-batch 1's attention follows
// it on the compute stream and its dispatch precedes micro-batch 0's combine on the network, so a layer's period
// is the cycle a + a + D + K = 320 us, 160 us a micro-batch (the formula it replaces, max(compute, comm), said 120).
TEST(ScheduleTest, UnevenTransfersCostMoreThanTheLongerSide) {
  Layer l = moeLayer(100, 40, 20, 80, 0);
  EXPECT_NEAR(us(steadyStateLayerTime({&l.program, l.seconds}, 0, 1, Shadow::Latest)), 160, 1e-6);
}

// With nothing hidden the micro-batches run one after the other: a + D + e + K = 240 us each.
TEST(ScheduleTest, NoOverlapIsSerial) {
  Layer l = moeLayer(100, 40, 20, 80, 0);
  EXPECT_NEAR(us(steadyStateLayerTime({&l.program, l.seconds}, 0, 0, Shadow::Latest)), 240, 1e-6);
}

// The SMs communication holds slow compute: at 20% of them, a and e take 125 and 25 us.
TEST(ScheduleTest, CommunicationSmsStretchCompute) {
  Layer l = moeLayer(100, 40, 20, 80, 0);
  OverlapSchedule s = scheduleTwoMicroBatches({{&l.program, l.seconds}}, 0.2, 1, Shadow::Latest);
  EXPECT_NEAR(us(s.seconds[0][0]), 125, 1e-6);
  EXPECT_NEAR(us(s.seconds[0][1]), 40, 1e-6);
  EXPECT_NEAR(us(s.seconds[0][2]), 25, 1e-6);
}

// One layer from idle: a(0) 0-100, D(0) 100-140, a(1) 100-200, D(1) 200-240, e(0) 200-220, K(0) 240-320,
// e(1) 240-260, K(1) 320-400, r(0) 320, r(1) 400: the layer ends at 400 us.
TEST(ScheduleTest, OneLayerFromIdle) {
  Layer l = moeLayer(100, 40, 20, 80, 0);
  OverlapSchedule s = scheduleTwoMicroBatches({{&l.program, l.seconds}}, 0, 1, Shadow::Latest);
  const auto &start = s.start[0];
  EXPECT_NEAR(us(start[0][0]), 0, 1e-6);
  EXPECT_NEAR(us(start[0][1]), 100, 1e-6);
  EXPECT_NEAR(us(start[1][1]), 200, 1e-6);
  EXPECT_NEAR(us(start[2][0]), 200, 1e-6);
  EXPECT_NEAR(us(start[3][0]), 240, 1e-6);
  EXPECT_NEAR(us(start[3][1]), 320, 1e-6);
  EXPECT_NEAR(us(s.end), 400, 1e-6);
}

// A shared expert runs in a transfer's shadow: in prefill beside its micro-batch's combine (after the experts), in
// decode beside its dispatch (before them), as SGLang orders DeepSeek's layers.
TEST(ScheduleTest, SharedExpertShadowsCombineInPrefillAndDispatchInDecode) {
  Layer l = moeLayer(100, 40, 20, 80, 0, 30);
  size_t shared = 4, expert = 2;
  OverlapSchedule prefill = scheduleTwoMicroBatches({{&l.program, l.seconds}}, 0, 1, Shadow::Latest);
  EXPECT_GT(prefill.start[0][shared][0], prefill.start[0][expert][0]);
  OverlapSchedule decode = scheduleTwoMicroBatches({{&l.program, l.seconds}}, 0, 1, Shadow::Earliest);
  EXPECT_LT(decode.start[0][shared][0], decode.start[0][expert][0]);
  // Decode: s(0) runs right after a(0) issues D(0), at 100 us.
  EXPECT_NEAR(us(decode.start[0][shared][0]), 100, 1e-6);
}

} // namespace
