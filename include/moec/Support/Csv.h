//===- Csv.h - Located CSV input files --------------------------*- C++ -*-===//
//
// moec reads a few CSV files named in a spec (an explicit placement, measured expert loads). They are loaded into
// the SourceMgr like .moe files, so that a bad field is reported as `file:line:col: error:` with the line and a
// caret, and they are parsed into rows of fields that keep their locations.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_SUPPORT_CSV_H
#define MOEC_SUPPORT_CSV_H

#include "moec/Support/Diagnostics.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace moec {

struct CsvField {
  llvm::StringRef text;
  llvm::SMLoc loc;
};

struct CsvRow {
  llvm::SmallVector<CsvField, 4> fields;
  llvm::SMLoc loc;
};

struct CsvFile {
  llvm::SMLoc loc; ///< The start of the file, for errors about the file as a whole.
  std::vector<CsvRow> rows; ///< Data rows with the right number of fields, without the header.
  bool malformedRows = false; ///< Some rows had the wrong number of fields (reported, and left out of rows).
};

/// Load \p path (relative paths are resolved against the directory of the spec that names it, \p specPath) and
/// check that its header is \p header exactly and every row has as many fields. A missing or unreadable file is
/// reported at \p usedAt (the key that names it). Returns nullopt when the file cannot be used at all; rows with
/// the wrong number of fields are reported and left out, so that the caller can check the others too.
/// The path \p path names, resolved against the directory of the spec \p specPath (absolute paths as they are).
std::string resolveInputPath(llvm::StringRef path, llvm::StringRef specPath);
/// Load the file at \p resolved into the diagnostics' SourceMgr (so errors can point into it) and return its
/// text; an error at \p usedAt when it cannot be read, is a directory, or is over 256 MiB.
std::optional<llvm::StringRef> loadInputFile(llvm::StringRef resolved, llvm::SMLoc usedAt, DiagEngine &diags);

std::optional<CsvFile> readCsv(llvm::StringRef path, llvm::StringRef specPath, llvm::ArrayRef<llvm::StringRef> header,
                               llvm::SMLoc usedAt, DiagEngine &diags);

/// Parse a field as a non-negative integer, reporting `what` and the field's location when it is not one.
std::optional<int64_t> parseCount(const CsvField &field, llvm::StringRef what, DiagEngine &diags);

} // namespace moec

#endif // MOEC_SUPPORT_CSV_H
