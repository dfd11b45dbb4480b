//===- TestPasses.h - Passes that break a plan, for the verifier's tests -*- C++ -*-===//
//
// A library of its own, linked by the driver and not by the production pipeline: registerTestPasses() makes them
// available to -passes (they are not listed in its help).
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_TESTPASSES_TESTPASSES_H
#define MOEC_TESTPASSES_TESTPASSES_H

namespace moec {
/// Add the test passes (test-break-shape, test-break-order, ...) to the pass registry. Idempotent.
void registerTestPasses();
} // namespace moec

#endif // MOEC_TESTPASSES_TESTPASSES_H
