//===- DiagnosticsTest.cpp - The diagnostic engine ------------------------===//
#include "TestUtil.h"

#include "gtest/gtest.h"

using namespace moec;
using moec::test::Source;

namespace {
llvm::SMLoc at(Source &src, size_t offset) {
  return llvm::SMLoc::getFromPointer(src.srcMgr.getMemoryBuffer(src.bufferId)->getBufferStart() + offset);
}
} // namespace

TEST(Diagnostics, FormatIsFileLineColumn) {
  Source src("line one\nline two\n");
  src.diags.error(at(src, 14), "bad");
  EXPECT_EQ(src.messages, "test.moe:2:6: error: bad\nline two\n     ^\n");
}

TEST(Diagnostics, WerrorPromotesWarnings) {
  Source src("x\n");
  src.diags.setWarningsAsErrors(true);
  src.diags.warning(at(src, 0), "odd");
  EXPECT_EQ(src.diags.getNumErrors(), 1u);
  EXPECT_EQ(src.diags.getNumWarnings(), 0u);
  EXPECT_NE(src.messages.find("error: odd [-Werror]"), std::string::npos);
}

TEST(Diagnostics, ErrorLimitStopsPrintingButKeepsCounting) {
  Source src("x\n");
  src.diags.setErrorLimit(2);
  for (int i = 0; i < 5; ++i) {
    src.diags.error(at(src, 0), "e" + std::to_string(i));
    src.diags.note(at(src, 0), "n" + std::to_string(i));
  }
  EXPECT_EQ(src.diags.getNumErrors(), 5u);
  EXPECT_NE(src.messages.find("e1"), std::string::npos);
  EXPECT_NE(src.messages.find("n1"), std::string::npos);
  EXPECT_EQ(src.messages.find("e2"), std::string::npos);
  EXPECT_EQ(src.messages.find("n2"), std::string::npos); // a note follows its error
  EXPECT_NE(src.messages.find("too many errors emitted (limit 2)"), std::string::npos);
}

TEST(Diagnostics, SortedModePrintsInSourceOrderWithNotes) {
  Source src("aaaa\nbbbb\ncccc\n");
  src.diags.beginSorted();
  src.diags.error(at(src, 10), "third");
  src.diags.note(at(src, 0), "note of third");
  src.diags.error(at(src, 0), "first");
  src.diags.warning(at(src, 5), "second");
  EXPECT_EQ(src.diags.getNumErrors(), 2u); // counted when reported, printed on flush
  EXPECT_TRUE(src.messages.empty());
  src.diags.flushSorted();
  size_t first = src.messages.find("first"), second = src.messages.find("second"),
         third = src.messages.find("third"), note = src.messages.find("note of third");
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_LT(third, note);
}
