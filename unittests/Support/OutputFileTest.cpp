//===- OutputFileTest.cpp - Outputs that are never half written -----------===//
#include "moec/Support/OutputFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

using namespace moec;

namespace {
struct TempDir {
  llvm::SmallString<128> path;
  TempDir() { EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("moec-output-test", path)); }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
  std::string file(llvm::StringRef name) const {
    llvm::SmallString<128> p(path);
    llvm::sys::path::append(p, name);
    return std::string(p);
  }
  size_t entries() const {
    std::error_code ec;
    size_t n = 0;
    for (llvm::sys::fs::directory_iterator it(path, ec), end; it != end && !ec; it.increment(ec))
      ++n;
    return n;
  }
};

std::string read(const std::string &path) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  return buf ? (*buf)->getBuffer().str() : "<missing>";
}
} // namespace

TEST(OutputFile, CommitReplacesTheTarget) {
  TempDir dir;
  std::string target = dir.file("out.txt");
  std::string error;
  {
    auto out = OutputFile::create(target, error);
    ASSERT_TRUE(out) << error;
    out->os() << "first";
    ASSERT_TRUE(out->commit(error)) << error;
  }
  EXPECT_EQ(read(target), "first");
  EXPECT_EQ(dir.entries(), 1u);
}

TEST(OutputFile, WithoutCommitTheTargetIsUntouched) {
  TempDir dir;
  std::string target = dir.file("out.txt");
  std::string error;
  {
    auto out = OutputFile::create(target, error);
    out->os() << "good";
    ASSERT_TRUE(out->commit(error));
  }
  {
    auto out = OutputFile::create(target, error);
    out->os() << "half writ";
    // destroyed without commit: a failed compilation
  }
  EXPECT_EQ(read(target), "good");
  EXPECT_EQ(dir.entries(), 1u); // no temporary file left behind
}

TEST(OutputFile, UnwritableTargetIsAnError) {
  std::string error;
  EXPECT_FALSE(OutputFile::create("/nonexistent-dir/out.txt", error));
  EXPECT_NE(error.find("cannot write"), std::string::npos);
}

TEST(OutputFile, DevicesAreWrittenInPlaceNeverReplaced) {
  // moec runs as root in CI: renaming a temporary file over /dev/null would replace the device.
  std::string error;
  {
    auto out = OutputFile::create("/dev/null", error);
    ASSERT_TRUE(out) << error;
    out->os() << "discarded";
    EXPECT_TRUE(out->commit(error)) << error;
  }
  llvm::sys::fs::file_status status;
  ASSERT_FALSE(llvm::sys::fs::status("/dev/null", status));
  EXPECT_EQ(status.type(), llvm::sys::fs::file_type::character_file);
}

TEST(OutputFile, FullDeviceIsAnError) {
  // Writes to /dev/full fail with ENOSPC, as on a full disk: commit reports it instead of aborting.
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status("/dev/full", status) || status.type() != llvm::sys::fs::file_type::character_file)
    GTEST_SKIP() << "no /dev/full device";
  std::string error;
  auto out = OutputFile::create("/dev/full", error);
  ASSERT_TRUE(out) << error;
  out->os() << std::string(1 << 16, 'x');
  EXPECT_FALSE(out->commit(error));
  EXPECT_NE(error.find("No space left on device"), std::string::npos) << error;
  ASSERT_FALSE(llvm::sys::fs::status("/dev/full", status));
  EXPECT_EQ(status.type(), llvm::sys::fs::file_type::character_file);
}

TEST(OutputFile, SymlinkTargetIsUpdatedAndTheLinkKept) {
  TempDir dir;
  std::string target = dir.file("real.txt"), link = dir.file("link.txt");
  std::string error;
  {
    auto out = OutputFile::create(target, error);
    out->os() << "old";
    ASSERT_TRUE(out->commit(error));
  }
  ASSERT_FALSE(llvm::sys::fs::create_link(target, link));
  {
    auto out = OutputFile::create(link, error);
    out->os() << "new";
    ASSERT_TRUE(out->commit(error)) << error;
  }
  EXPECT_EQ(read(target), "new");
  llvm::sys::fs::file_status status;
  ASSERT_FALSE(llvm::sys::fs::status(link, status, /*follow=*/false));
  EXPECT_EQ(status.type(), llvm::sys::fs::file_type::symlink_file);
}
