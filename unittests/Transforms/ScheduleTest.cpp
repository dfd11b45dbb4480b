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
  EXPECT_NEAR(us(steadyStateLayerTime({&p, l.seconds}, 0, 1, OverlapOrder::Prefill)), 100, 1e-6);
}

// a 100, D 40, e 20, K 80: compute and communication are both 120 us a micro-batch, but the schedule cannot hide
// them behind each other. Micro-batch 0's next attention waits for its combine; micro-batch 1's attention follows
// it on the compute stream and its dispatch precedes micro-batch 0's combine on the network, so a layer's period
// is the cycle a + a + D + K = 320 us, 160 us a micro-batch (the formula it replaces, max(compute, comm), said 120).
TEST(ScheduleTest, UnevenTransfersCostMoreThanTheLongerSide) {
  Layer l = moeLayer(100, 40, 20, 80, 0);
  EXPECT_NEAR(us(steadyStateLayerTime({&l.program, l.seconds}, 0, 1, OverlapOrder::Prefill)), 160, 1e-6);
}

// With nothing hidden the micro-batches run one after the other: a + D + e + K = 240 us each.
TEST(ScheduleTest, NoOverlapIsSerial) {
  Layer l = moeLayer(100, 40, 20, 80, 0);
  EXPECT_NEAR(us(steadyStateLayerTime({&l.program, l.seconds}, 0, 0, OverlapOrder::Prefill)), 240, 1e-6);
}

// The SMs communication holds slow compute: at 20% of them, a and e take 125 and 25 us.
TEST(ScheduleTest, CommunicationSmsStretchCompute) {
  Layer l = moeLayer(100, 40, 20, 80, 0);
  OverlapSchedule s = scheduleTwoMicroBatches({{&l.program, l.seconds}}, 0.2, 1, OverlapOrder::Prefill);
  EXPECT_NEAR(us(s.seconds[0][0]), 125, 1e-6);
  EXPECT_NEAR(us(s.seconds[0][1]), 40, 1e-6);
  EXPECT_NEAR(us(s.seconds[0][2]), 25, 1e-6);
}

// One layer from idle: a(0) 0-100, D(0) 100-140, a(1) 100-200, D(1) 200-240, e(0) 200-220, K(0) 240-320,
// e(1) 240-260, K(1) 320-400, r(0) 320, r(1) 400: the layer ends at 400 us.
TEST(ScheduleTest, OneLayerFromIdle) {
  Layer l = moeLayer(100, 40, 20, 80, 0);
  OverlapSchedule s = scheduleTwoMicroBatches({{&l.program, l.seconds}}, 0, 1, OverlapOrder::Prefill);
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
  OverlapSchedule prefill = scheduleTwoMicroBatches({{&l.program, l.seconds}}, 0, 1, OverlapOrder::Prefill);
  EXPECT_GT(prefill.start[0][shared][0], prefill.start[0][expert][0]);
  OverlapSchedule decode = scheduleTwoMicroBatches({{&l.program, l.seconds}}, 0, 1, OverlapOrder::Decode);
  EXPECT_LT(decode.start[0][shared][0], decode.start[0][expert][0]);
  // Decode: s(0) runs right after a(0) issues D(0), at 100 us.
  EXPECT_NEAR(us(decode.start[0][shared][0]), 100, 1e-6);
}

// Decode runs SGLang's five stages a layer with micro-batch 1 two stages behind: [q projection P] [attention
// kernel A] [issue D, shared s] [wait D, experts e, issue K] [wait K], the residual r after. With P 10, A 100,
// D 40, e 20, K 80, s 30: P(0) 0-10, A(0) 10-110, D(0) 110-150 with s(0) 110-140, P(1) 140-150, e(0) 150-170,
// K(0) 170-250, A(1) 170-270, D(1) 270-310 with s(1) 270-300, r(0) at 300, e(1) 310-330, K(1) 330-410, r(1) at
// 410. (The prefill order would run A(1) before the experts of micro-batch 0.)
TEST(ScheduleTest, DecodeRunsFiveStagesTwoApart) {
  Layer l;
  Program &p = l.program;
  p.input = p.addTensor("x", ~0u).id;
  unsigned q = p.add({OpKind::Linear, OpRole::QProj, OpPart::Attention}, "P", {p.input}, {});
  unsigned attn = p.add({OpKind::Matmul, OpRole::Scores, OpPart::Attention}, "A", {q}, {});
  unsigned disp = p.add({OpKind::Dispatch, OpRole::Dispatch, OpPart::MoeBlock}, "D", {attn}, {});
  unsigned expert = p.add({OpKind::Linear, OpRole::FfnOut, OpPart::RoutedExperts}, "e", {disp}, {});
  unsigned comb = p.add({OpKind::Combine, OpRole::Combine, OpPart::MoeBlock}, "K", {expert}, {});
  unsigned shared = p.add({OpKind::Linear, OpRole::FfnOut, OpPart::SharedExperts}, "s", {attn}, {});
  p.output = p.add({OpKind::Add, OpRole::MoeResidual, OpPart::MoeBlock}, "r", {comb, shared}, {});
  l.seconds = {10e-6, 100e-6, 40e-6, 20e-6, 80e-6, 30e-6, 0};
  OverlapSchedule s = scheduleTwoMicroBatches({{&p, l.seconds}}, 0, 1, OverlapOrder::Decode);
  const auto &start = s.start[0];
  const double expected[7][2] = {{0, 140}, {10, 170}, {110, 270}, {150, 310}, {170, 330}, {110, 270}, {300, 410}};
  for (size_t op = 0; op < 7; ++op)
    for (size_t mb = 0; mb < 2; ++mb)
      EXPECT_NEAR(us(start[op][mb]), expected[op][mb], 1e-6) << "op " << op << ", micro-batch " << mb;
  EXPECT_NEAR(us(s.end), 410, 1e-6);
}

} // namespace
