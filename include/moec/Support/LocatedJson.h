//===- LocatedJson.h - JSON whose every value knows where it is --*- C++ -*-===//
//
// llvm::json keeps no source positions; moec reports errors in the files it reads (a Hugging Face config.json) at
// the line and column of the key. This reader parses RFC 8259 JSON into values that remember the bytes they came
// from, with a nesting limit so that no input can exhaust the stack.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_SUPPORT_LOCATEDJSON_H
#define MOEC_SUPPORT_LOCATEDJSON_H

#include "llvm/ADT/StringRef.h"

#include <string>
#include <utility>
#include <vector>

namespace moec {

struct JsonMember;

struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  bool integral = false;   ///< a number written without fraction or exponent
  std::string string;
  std::vector<JsonValue> items;                          ///< Array
  std::vector<JsonMember> members; ///< Object, in file order
  const char *where = nullptr;    ///< the value's first byte
  const char *keyWhere = nullptr; ///< for an object member: its key's opening quote

  /// The member \p key of an object, or null.
  const JsonValue *get(llvm::StringRef key) const;
  /// "a number", "a string", ... for messages.
  llvm::StringRef describe() const;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

/// Parse \p text. On failure returns false with \p errorAt pointing at the offending byte and \p error saying
/// what was expected.
bool parseJson(llvm::StringRef text, JsonValue &out, const char *&errorAt, std::string &error);

} // namespace moec

#endif // MOEC_SUPPORT_LOCATEDJSON_H
