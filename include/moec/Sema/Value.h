//===- Value.h - Values of evaluated expressions ----------------*- C++ -*-===//
//
// The result of evaluating a moec expression: an exact integer, a real quantity with a dimension (already in
// base units), a boolean, a string, a symbol (a bare identifier used as an enumerator or a reference to a
// definition), or a list. Integer arithmetic is checked: an overflow is a diagnostic, never a wrap-around.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_SEMA_VALUE_H
#define MOEC_SEMA_VALUE_H

#include "moec/AST/AST.h"
#include "moec/Support/Units.h"
#include "moec/Support/Diagnostics.h"

#include "llvm/ADT/FunctionExtras.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moec {

struct Value {
  enum class Kind { Int, Real, Bool, String, Symbol, List };
  Kind kind = Kind::Int;
  int64_t i = 0;
  double r = 0;
  Dim dim = Dim::None; ///< Int is always Dim::None.
  bool b = false;
  std::string s; ///< String and Symbol.
  std::vector<Value> list;

  static Value integer(int64_t v) {
    Value x;
    x.kind = Kind::Int;
    x.i = v;
    return x;
  }
  static Value real(double v, Dim dim = Dim::None) {
    Value x;
    x.kind = Kind::Real;
    x.r = v;
    x.dim = dim;
    return x;
  }
  static Value boolean(bool v) {
    Value x;
    x.kind = Kind::Bool;
    x.b = v;
    return x;
  }
  static Value string(std::string v) {
    Value x;
    x.kind = Kind::String;
    x.s = std::move(v);
    return x;
  }
  static Value symbol(std::string v) {
    Value x;
    x.kind = Kind::Symbol;
    x.s = std::move(v);
    return x;
  }

  bool isNumeric() const { return kind == Kind::Int || kind == Kind::Real; }
  double asDouble() const { return kind == Kind::Int ? double(i) : r; }
  /// What kind of value this is, for diagnostics: "an integer", "a size in bytes", "a string", ...
  std::string describeKind() const;
  /// The value as a person reads it: `128`, `64 GB`, `60%`, `true`, `"a.csv"`, `bf16`, `["a", "b"]`.
  std::string str() const;
};

/// Resolves an identifier inside an expression. Reports its own diagnostic and returns nullopt on failure.
using IdentResolver = llvm::function_ref<std::optional<Value>(const IdentExpr &)>;

/// Evaluate \p expr. Every failure is a located diagnostic; the result is nullopt when any part failed.
std::optional<Value> evaluate(const Expr &expr, DiagEngine &diags, IdentResolver resolve);

} // namespace moec

#endif // MOEC_SEMA_VALUE_H
