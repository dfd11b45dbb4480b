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
  llvm::sys::fs::file_status status;
  if (!llvm::sys::fs::status(path, status) && status.type() != llvm::sys::fs::file_type::regular_file) {
    // A device, FIFO or socket (/dev/null, a pipe): there is nothing to protect and it must never be replaced
    // by a renamed regular file, so write to it directly.
    std::error_code ec;
    out->file = std::make_unique<llvm::raw_fd_ostream>(path, ec, llvm::sys::fs::OF_None);
    if (ec) {
      error = "cannot write '" + path.str() + "': " + ec.message();
      return nullptr;
    }
    return out;
  }
  // Through a symbolic link, replace the file it points to, not the link.
  llvm::SmallString<256> real;
  if (!llvm::sys::fs::real_path(path, real))
    out->path = std::string(real);
  llvm::SmallString<256> model(out->path);
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
  if (tempPath.empty()) { // written in place (a device or pipe)
    committed = true;
    return true;
  }
  if (std::error_code ec = llvm::sys::fs::rename(tempPath, path)) {
    error = "cannot write '" + path + "': " + ec.message();
    return false;
  }
  committed = true;
  return true;
}
