//===- OutputFile.h - Outputs that are never half written -------*- C++ -*-===//
//
// Every file moec writes goes through OutputFile: the text is written to a temporary file in the target's
// directory, flushed and checked, and renamed over the target only when the whole compilation succeeded. A
// failed run (a diagnosed input, a full disk, a crash) leaves the previous output untouched. This replaces
// llvm::ToolOutputFile, which truncates an existing file on open, and llvm::writeToOutput, which aborts on a
// write error (see docs/reliability.md).
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_SUPPORT_OUTPUTFILE_H
#define MOEC_SUPPORT_OUTPUTFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace moec {

class OutputFile {
public:
  /// Prepare to write \p path; "-" is standard output, buffered in memory until commit. On failure, \p error
  /// says why and os() must not be used.
  static std::unique_ptr<OutputFile> create(llvm::StringRef path, std::string &error);
  ~OutputFile(); ///< Discards the temporary file unless committed.

  llvm::raw_ostream &os();

  /// Flush, check for write errors, and rename the temporary file over the target (or print the buffer).
  /// False with \p error set when anything failed; the target is then unchanged.
  bool commit(std::string &error);

private:
  OutputFile() = default;
  std::string path;
  std::string tempPath;
  std::unique_ptr<llvm::raw_fd_ostream> file;
  std::string buffer;
  std::unique_ptr<llvm::raw_string_ostream> bufferStream;
  bool committed = false;
};

} // namespace moec

#endif // MOEC_SUPPORT_OUTPUTFILE_H
