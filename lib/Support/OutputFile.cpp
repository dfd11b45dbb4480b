//===- OutputFile.cpp - Outputs that are never half written ---------------===//
#include "moec/Support/OutputFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace moec;

std::unique_ptr<OutputFile> OutputFile::create(llvm::StringRef path, std::string &error) {
  std::unique_ptr<OutputFile> out(new OutputFile());
  out->path = path.str();
  if (path == "-") {
    out->bufferStream = std::make_unique<llvm::raw_string_ostream>(out->buffer);
    return out;
  }
  if (llvm::sys::fs::is_directory(path)) {
    error = "'" + path.str() + "' is a directory";
    return nullptr;
  }
  llvm::SmallString<256> model(path);
  model += ".tmp-%%%%%%%%";
  int fd;
  llvm::SmallString<256> temp;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, temp)) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return nullptr;
  }
  out->tempPath = std::string(temp);
  out->file = std::make_unique<llvm::raw_fd_ostream>(fd, /*shouldClose=*/true);
  return out;
}

OutputFile::~OutputFile() {
  if (file) {
    file->clear_error(); // raw_fd_ostream aborts in its destructor on an unhandled error.
    file.reset();
  }
  if (!committed && !tempPath.empty())
    llvm::sys::fs::remove(tempPath);
}

llvm::raw_ostream &OutputFile::os() {
  if (bufferStream)
    return *bufferStream;
  return *file;
}

bool OutputFile::commit(std::string &error) {
  if (bufferStream) {
    llvm::outs() << buffer;
    llvm::outs().flush();
    if (llvm::outs().has_error()) {
      error = "cannot write to standard output: " + llvm::outs().error().message();
      llvm::outs().clear_error();
      return false;
    }
    committed = true;
    return true;
  }
  file->flush();
  if (file->has_error()) {
    error = "cannot write '" + path + "': " + file->error().message();
    return false;
  }
  file->close();
  if (file->has_error()) {
    error = "cannot write '" + path + "': " + file->error().message();
    return false;
  }
  file.reset();
  if (std::error_code ec = llvm::sys::fs::rename(tempPath, path)) {
    error = "cannot write '" + path + "': " + ec.message();
    return false;
  }
  committed = true;
  return true;
}
