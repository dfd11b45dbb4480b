//===- Csv.cpp - Located CSV input files ----------------------------------===//
#include "moec/Support/Csv.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace moec;

std::string moec::resolveInputPath(llvm::StringRef path, llvm::StringRef specPath) {
  llvm::SmallString<256> resolved(path);
  if (!llvm::sys::path::is_absolute(path) && specPath != "<stdin>") {
    resolved = llvm::sys::path::parent_path(specPath);
    llvm::sys::path::append(resolved, path);
  }
  return std::string(resolved);
}

std::optional<llvm::StringRef> moec::loadInputFile(llvm::StringRef resolved, llvm::SMLoc usedAt, DiagEngine &diags) {
  constexpr uint64_t maxBytes = 256u << 20;
  uint64_t size = 0;
  if (!llvm::sys::fs::file_size(resolved, size) && size > maxBytes) {
    diags.error(usedAt, "'" + resolved + "' is larger than the limit of 256 MiB");
    return std::nullopt;
  }
  if (llvm::sys::fs::is_directory(resolved)) {
    diags.error(usedAt, "cannot read '" + resolved + "': Is a directory");
    return std::nullopt;
  }
  auto buf = llvm::MemoryBuffer::getFile(resolved, /*IsText=*/false, /*RequiresNullTerminator=*/true);
  if (!buf) {
    diags.error(usedAt, "cannot read '" + resolved + "': " + buf.getError().message());
    return std::nullopt;
  }
  llvm::SourceMgr &srcMgr = diags.getSourceMgr();
  unsigned id = srcMgr.AddNewSourceBuffer(std::move(*buf), llvm::SMLoc());
  return srcMgr.getMemoryBuffer(id)->getBuffer();
}

std::optional<CsvFile> moec::readCsv(llvm::StringRef path, llvm::StringRef specPath,
                                     llvm::ArrayRef<llvm::StringRef> header, llvm::SMLoc usedAt,
                                     DiagEngine &diags) {
  std::optional<llvm::StringRef> loaded = loadInputFile(resolveInputPath(path, specPath), usedAt, diags);
  if (!loaded)
    return std::nullopt;
  llvm::StringRef text = *loaded;

  CsvFile file;
  file.loc = llvm::SMLoc::getFromPointer(text.begin());
  bool sawHeader = false;
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    text = rest;
    llvm::StringRef content = line.rtrim("\r");
    if (content.trim().empty())
      continue;
    CsvRow row;
    row.loc = llvm::SMLoc::getFromPointer(line.begin());
    for (size_t start = 0;;) {
      size_t comma = content.find(',', start);
      llvm::StringRef field = content.slice(start, comma == llvm::StringRef::npos ? content.size() : comma);
      llvm::StringRef trimmed = field.trim();
      row.fields.push_back({trimmed, llvm::SMLoc::getFromPointer(trimmed.empty() ? field.begin() : trimmed.begin())});
      if (comma == llvm::StringRef::npos)
        break;
      start = comma + 1;
    }
    if (!sawHeader) {
      sawHeader = true;
      bool same = row.fields.size() == header.size();
      for (size_t i = 0; same && i < header.size(); ++i)
        same = row.fields[i].text == header[i];
      if (!same) {
        std::string expected;
        for (llvm::StringRef h : header)
          expected += (expected.empty() ? "" : ",") + h.str();
        diags.error(row.loc, "expected the header '" + expected + "'");
        return std::nullopt;
      }
      continue;
    }
    if (row.fields.size() != header.size()) {
      diags.error(row.loc, "expected " + std::to_string(header.size()) + " fields, found " +
                               std::to_string(row.fields.size()));
      file.malformedRows = true;
      continue;
    }
    file.rows.push_back(std::move(row));
  }
  if (!sawHeader) {
    diags.error(file.loc, "file is empty; expected a header line");
    return std::nullopt;
  }
  return file;
}

std::optional<int64_t> moec::parseCount(const CsvField &field, llvm::StringRef what, DiagEngine &diags) {
  int64_t value;
  if (field.text.empty() || field.text.getAsInteger(10, value) || value < 0 || value > (int64_t(1) << 40)) {
    diags.error(field.loc, what + " must be a whole number 0 or more, not '" + field.text + "'");
    return std::nullopt;
  }
  return value;
}
