//===- Suggest.cpp - "Did you mean" matching ------------------------------===//
#include "moec/Support/Suggest.h"

#include <algorithm>

using namespace moec;

llvm::StringRef moec::closestMatch(llvm::StringRef name, llvm::ArrayRef<llvm::StringRef> candidates) {
  llvm::StringRef best;
  unsigned bestDistance = ~0u;
  // A typo is at most a third of the word, and at least one edit.
  unsigned limit = std::max<unsigned>(1, name.size() / 3);
  for (llvm::StringRef c : candidates) {
    unsigned d = name.edit_distance(c, /*AllowReplacements=*/true, limit + 1);
    if (d <= limit && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

std::string moec::didYouMean(llvm::StringRef name, llvm::ArrayRef<llvm::StringRef> candidates) {
  llvm::StringRef best = closestMatch(name, candidates);
  return best.empty() ? std::string() : "; did you mean '" + best.str() + "'?";
}
