//===- UnitsTest.cpp - Units and quantity formatting ----------------------===//
#include "moec/Support/Units.h"

#include "gtest/gtest.h"

using namespace moec;

TEST(Units, LookupIsCaseSensitiveAndNormalises) {
  ASSERT_TRUE(lookupUnit("GB"));
  EXPECT_EQ(lookupUnit("GB")->dim, Dim::Bytes);
  EXPECT_DOUBLE_EQ(lookupUnit("GB")->toBase(64), 64e9);
  EXPECT_DOUBLE_EQ(lookupUnit("GiB")->toBase(1), 1073741824.0);
  EXPECT_DOUBLE_EQ(lookupUnit("Gb/s")->toBase(400), 50e9);
  EXPECT_DOUBLE_EQ(lookupUnit("GB/s")->toBase(400), 400e9);
  EXPECT_FALSE(lookupUnit("gb"));
  EXPECT_FALSE(lookupUnit(""));
}

TEST(Units, SmallUnitsAreExactlyTheNearestDouble) {
  // Divided rather than multiplied by a rounded reciprocal: 5 us is the double nearest 5e-6.
  EXPECT_EQ(lookupUnit("us")->toBase(5), 5e-6);
  EXPECT_EQ(lookupUnit("ns")->toBase(500), 5e-7);
  EXPECT_EQ(lookupUnit("%")->toBase(60), 0.6);
}

TEST(Units, EveryUnitHasOneDimension) {
  for (const UnitInfo &u : allUnits()) {
    std::optional<UnitInfo> found = lookupUnit(u.name);
    ASSERT_TRUE(found) << u.name.str();
    EXPECT_EQ(found->dim, u.dim);
    EXPECT_GT(u.toBase(1), 0);
  }
}

TEST(Units, FormatQuantityPicksThePrefix) {
  EXPECT_EQ(formatQuantity(64e9, Dim::Bytes), "64 GB");
  EXPECT_EQ(formatQuantity(57.4e9, Dim::Bytes), "57.4 GB");
  EXPECT_EQ(formatQuantity(900e9, Dim::ByteRate), "900 GB/s");
  EXPECT_EQ(formatQuantity(400e12, Dim::FlopRate), "400 TFLOPS");
  EXPECT_EQ(formatQuantity(2e-6, Dim::Time), "2 us");
  EXPECT_EQ(formatQuantity(0.6, Dim::Ratio), "60%");
  EXPECT_EQ(formatQuantity(0, Dim::Bytes), "0 B");
  EXPECT_EQ(formatQuantity(12, Dim::None), "12");
}

TEST(Units, FormatExactRoundTrips) {
  for (double v : {0.1, 2e-6, 1.8e12, 1.0 / 3.0}) {
    std::string text = formatExact(v);
    EXPECT_EQ(std::stod(text), v) << text;
  }
}
