//===- ParserTest.cpp - The parser and its pre-scan -----------------------===//
#include "Parse/PreScan.h"
#include "TestUtil.h"

#include "gtest/gtest.h"

using namespace moec;
using moec::test::Source;

TEST(PreScan, Utf8Validation) {
  EXPECT_EQ(validUtf8Length("a"), 1u);
  EXPECT_EQ(validUtf8Length("\xc3\xa9"), 2u);
  EXPECT_EQ(validUtf8Length("\xe2\x82\xac"), 3u);
  EXPECT_EQ(validUtf8Length("\xf0\x9f\x98\x80"), 4u);
  EXPECT_EQ(validUtf8Length("\xff"), 0u);
  EXPECT_EQ(validUtf8Length("\xc0\xaf"), 0u);         // overlong '/'
  EXPECT_EQ(validUtf8Length("\xed\xa0\x80"), 0u);     // surrogate
  EXPECT_EQ(validUtf8Length("\xf4\x90\x80\x80"), 0u); // past U+10FFFF
  EXPECT_EQ(validUtf8Length("\xe2\x82"), 0u);         // truncated
}

TEST(Parser, BuildsBlocksAndExpressions) {
  Source src("gpu G { memory = 2 * 32 GB; }\nmodel M { attention { heads = 8; } require x; }\n");
  std::unique_ptr<Module> module = src.parse();
  ASSERT_TRUE(module) << src.messages;
  ASSERT_EQ(module->getBlocks().size(), 2u);
  const Block &gpu = *module->getBlocks()[0];
  EXPECT_EQ(gpu.getKind(), "gpu");
  EXPECT_EQ(gpu.getName(), "G");
  const auto *assign = llvm::dyn_cast<AssignStmt>(gpu.getBody()[0].get());
  ASSERT_TRUE(assign);
  EXPECT_EQ(assign->getKey(), "memory");
  const auto *mul = llvm::dyn_cast<BinaryExpr>(&assign->getValue());
  ASSERT_TRUE(mul);
  EXPECT_EQ(mul->getOp(), BinaryOp::Mul);
  const auto *rhs = llvm::dyn_cast<NumberExpr>(&mul->getRhs());
  ASSERT_TRUE(rhs);
  EXPECT_EQ(rhs->getUnit(), "GB");
  EXPECT_EQ(assign->getValue().getSourceText(), "2 * 32 GB");
  const Block &model = *module->getBlocks()[1];
  EXPECT_TRUE(llvm::isa<BlockStmt>(model.getBody()[0].get()));
  EXPECT_TRUE(llvm::isa<RequireStmt>(model.getBody()[1].get()));
}

TEST(Parser, LocationsCountBytesAfterNonAscii) {
  Source src("gpu G { /* \xc3\xa9\xc3\xa9 */ memory = 1; }");
  std::unique_ptr<Module> module = src.parse();
  ASSERT_TRUE(module) << src.messages;
  const auto *assign = llvm::cast<AssignStmt>(module->getBlocks()[0]->getBody()[0].get());
  auto [line, col] = src.srcMgr.getLineAndColumn(assign->getLoc());
  EXPECT_EQ(line, 1u);
  EXPECT_EQ(col, 20u); // 19 bytes precede it, 17 code points
}

TEST(Parser, ReportsEverySyntaxErrorAndReturnsNull) {
  Source src("gpu G { memory = 1 }\ngpu H { memory = ; }\n");
  EXPECT_FALSE(src.parse());
  EXPECT_EQ(src.diags.getNumErrors(), 2u);
}

TEST(Parser, LimitsAreEnforced) {
  ParseLimits limits;
  limits.maxNesting = 3;
  Source deep("a { b { c { d { } } } }");
  EXPECT_FALSE(deep.parse(limits));
  EXPECT_NE(deep.firstMessage().find("limit of 3"), std::string::npos) << deep.firstMessage();

  limits = ParseLimits();
  limits.maxFileBytes = 8;
  Source big("gpu G { }");
  EXPECT_FALSE(big.parse(limits));
  EXPECT_NE(big.firstMessage().find("larger than the limit"), std::string::npos);
}

TEST(Parser, IntegerOverflowIsAnError) {
  Source src("m M { x = 9223372036854775808; y = 9223372036854775807; }");
  EXPECT_FALSE(src.parse());
  EXPECT_EQ(src.diags.getNumErrors(), 1u);
  EXPECT_NE(src.firstMessage().find("does not fit in 64 bits"), std::string::npos);
}
