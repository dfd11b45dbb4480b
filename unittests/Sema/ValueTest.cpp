//===- ValueTest.cpp - Expression evaluation ------------------------------===//
#include "moec/Sema/Value.h"
#include "TestUtil.h"

#include "gtest/gtest.h"

using namespace moec;
using moec::test::Source;

namespace {
/// Evaluate the value of `x = <text>;` with `n` bound to 8.
std::optional<Value> eval(llvm::StringRef text, std::string *message = nullptr) {
  static std::vector<std::unique_ptr<Source>> keep; // the AST points into the source
  keep.push_back(std::make_unique<Source>(("b B { x = " + text + "; }").str()));
  Source &src = *keep.back();
  std::unique_ptr<Module> module = src.parse();
  if (!module) {
    if (message)
      *message = src.firstMessage();
    return std::nullopt;
  }
  const auto *assign = llvm::cast<AssignStmt>(module->getBlocks()[0]->getBody()[0].get());
  std::optional<Value> v = evaluate(assign->getValue(), src.diags, [&](const IdentExpr &e) -> std::optional<Value> {
    if (e.getName() == "n")
      return Value::integer(8);
    src.diags.error(e.getLoc(), "unknown");
    return std::nullopt;
  });
  if (message)
    *message = src.firstMessage();
  static std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(std::move(module));
  return v;
}
} // namespace

TEST(Value, IntegerArithmeticIsExact) {
  EXPECT_EQ(eval("2 + 3 * 4")->i, 14);
  EXPECT_EQ(eval("n * n - 1")->i, 63);
  EXPECT_EQ(eval("64 / n")->kind, Value::Kind::Int);
  EXPECT_EQ(eval("7 / 2")->kind, Value::Kind::Real);
  EXPECT_DOUBLE_EQ(eval("7 / 2")->r, 3.5);
}

TEST(Value, OverflowAndDivisionByZeroAreErrors) {
  std::string msg;
  EXPECT_FALSE(eval("9223372036854775807 + 1", &msg));
  EXPECT_NE(msg.find("overflow"), std::string::npos);
  EXPECT_FALSE(eval("-9223372036854775807 - 2", &msg));
  EXPECT_FALSE(eval("4294967296 * 4294967296", &msg));
  EXPECT_FALSE(eval("1 / (n - 8)", &msg));
  EXPECT_EQ(msg, "division by zero");
}

TEST(Value, Dimensions) {
  std::optional<Value> bw = eval("8 * 50 Gb/s");
  ASSERT_TRUE(bw);
  EXPECT_EQ(bw->dim, Dim::ByteRate);
  EXPECT_DOUBLE_EQ(bw->r, 50e9);
  EXPECT_EQ(eval("80% * 1.8 TB/s")->dim, Dim::ByteRate);
  EXPECT_EQ(eval("2 GB / 1 s")->dim, Dim::ByteRate);
  EXPECT_EQ(eval("64 GB / 1 GB")->dim, Dim::None);
  EXPECT_EQ(eval("64 GB >= 60 GB")->kind, Value::Kind::Bool);
  std::string msg;
  EXPECT_FALSE(eval("1 GB + 1 s", &msg));
  EXPECT_NE(msg.find("cannot apply '+' between a size in bytes and a time"), std::string::npos) << msg;
  EXPECT_FALSE(eval("1 GB * 1 GB", &msg));
  EXPECT_FALSE(eval("1 GB < 2", &msg));
}

TEST(Value, Logic) {
  EXPECT_TRUE(eval("n > 4 && n < 16")->b);
  EXPECT_TRUE(eval("n == 1 || !(n == 1)")->b);
  std::string msg;
  EXPECT_FALSE(eval("n && 1", &msg));
  EXPECT_NE(msg.find("both sides must be conditions"), std::string::npos);
}

TEST(Value, StringsAndListsPrint) {
  EXPECT_EQ(eval("\"a\\\"b\"")->str(), "\"a\\\"b\"");
  EXPECT_EQ(eval("[\"x\", 2, 1 GB]")->str(), "[\"x\", 2, 1 GB]");
}
