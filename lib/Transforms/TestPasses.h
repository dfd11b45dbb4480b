//===- TestPasses.h - Passes that break a plan, for the verifier's tests -*- C++ -*-===//
#ifndef MOEC_LIB_TRANSFORMS_TESTPASSES_H
#define MOEC_LIB_TRANSFORMS_TESTPASSES_H

#include "moec/Transforms/Pass.h"

namespace moec {
std::unique_ptr<Pass> createTestBreakShapePass();
std::unique_ptr<Pass> createTestBreakOrderPass();
std::unique_ptr<Pass> createTestDropCommPass();
std::unique_ptr<Pass> createTestUnplaceExpertPass();
std::unique_ptr<Pass> createTestStackExpertsPass();
std::unique_ptr<Pass> createTestBreakDevicePass();
} // namespace moec

#endif
