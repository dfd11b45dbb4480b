//===- Schema.h - Which keys each block takes -------------------*- C++ -*-===//
//
// The grammar is generic; this table says what each block kind means: its keys with their types, units,
// ranges and defaults, and the blocks that may nest in it. Sema checks every block against it, so that a
// misspelt key is "unknown key, did you mean ..." rather than a parse error, and docs/language.md lists the same
// table for users.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_SEMA_SCHEMA_H
#define MOEC_SEMA_SCHEMA_H

#include "moec/Support/Suggest.h"
#include "moec/Support/Units.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace moec {

enum class KeyType {
  Int,        ///< An exact integer in [minInt, maxInt].
  Quantity,   ///< A positive quantity of dimension `dim`; a unit is required.
  Fraction,   ///< A percentage or a plain number, in (0, 1] unless the range says otherwise.
  Real,       ///< A plain real number in [minReal, maxReal].
  Enum,       ///< One of `enumerators`, written as a bare name.
  Ref,        ///< The name of a definition of kind `refKind`.
  String,     ///< A string literal.
  StringList, ///< A list of string literals.
  IntList,    ///< A list of exact integers, each in [minInt, maxInt].
  EnumList,   ///< A non-empty list of `enumerators`, each written as a bare name.
};

struct KeyDesc {
  llvm::StringRef name;
  KeyType type;
  bool required;
  Dim dim = Dim::None;
  int64_t minInt = 0;
  int64_t maxInt = 0;
  double minReal = 0;
  double maxReal = 0;
  llvm::ArrayRef<llvm::StringRef> enumerators = {};
  llvm::StringRef refKind = {};
  /// A required key a `search` sub-block may leave to the search instead (the strategy's degrees).
  bool searchable = false;
};

struct BlockDesc {
  llvm::StringRef kind;
  bool topLevel;                     ///< Top-level blocks are named definitions; nested ones have no name.
  llvm::ArrayRef<KeyDesc> keys;
  llvm::ArrayRef<llvm::StringRef> subBlocks;
  bool allowsRequire;

  const KeyDesc *findKey(llvm::StringRef name) const;
};

/// The top-level block kinds: gpu, model, cluster, strategy, workload, deploy.
llvm::ArrayRef<const BlockDesc *> topLevelBlocks();
/// The schema of a top-level block kind, or null.
const BlockDesc *findTopLevelBlock(llvm::StringRef kind);
/// The schema of a block nested in a block of kind \p parent, or null.
const BlockDesc *findNestedBlock(const BlockDesc &parent, llvm::StringRef kind);

} // namespace moec

#endif // MOEC_SEMA_SCHEMA_H
