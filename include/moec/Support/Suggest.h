//===- Suggest.h - "Did you mean" matching ----------------------*- C++ -*-===//
//
// One rule for every suggestion moec makes (keys, definitions, units, passes, names in `require`): the candidate
// nearest by edit distance, when it is within a third of the word.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_SUPPORT_SUGGEST_H
#define MOEC_SUPPORT_SUGGEST_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace moec {

/// The candidate in \p candidates closest to \p name by edit distance, when close enough to be a likely typo.
llvm::StringRef closestMatch(llvm::StringRef name, llvm::ArrayRef<llvm::StringRef> candidates);

/// "; did you mean 'x'?" for the closest candidate, or "" when none is close.
std::string didYouMean(llvm::StringRef name, llvm::ArrayRef<llvm::StringRef> candidates);

} // namespace moec

#endif // MOEC_SUPPORT_SUGGEST_H
