//===- Value.cpp - Evaluation of moec expressions -------------------------===//
//
// Dimensional rules: `+ - < <= > >= == !=` need operands of one dimension; `*` takes at most one dimensioned
// operand (a percentage scales the other: `80% * 1.8 TB/s`); `/` keeps the dimension of the numerator over a
// plain number or percentage, gives a plain number for two values of one dimension, and a bandwidth for bytes over
// time. Integer division that is not exact gives a real, so that `7 / 2` cannot silently become 3.
//
//===----------------------------------------------------------------------===//
#include "moec/Sema/Value.h"
#include "moec/Sema/Schema.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace moec;

std::string Value::describeKind() const {
  switch (kind) {
  case Kind::Int:
    return "an integer";
  case Kind::Real:
    return dim == Dim::None ? "a number" : describe(dim).str();
  case Kind::Bool:
    return "a boolean";
  case Kind::String:
    return "a string";
  case Kind::Symbol:
    return "a name";
  case Kind::List:
    return "a list";
  }
  llvm_unreachable("unknown value kind");
}

std::string Value::str() const {
  switch (kind) {
  case Kind::Int:
    return std::to_string(i);
  case Kind::Real:
    return formatQuantity(r, dim);
  case Kind::Bool:
    return b ? "true" : "false";
  case Kind::String: {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\')
        out.push_back('\\');
      out.push_back(c);
    }
    return out + "\"";
  }
  case Kind::Symbol:
    return s;
  case Kind::List: {
    std::string out = "[";
    for (size_t n = 0; n < list.size(); ++n)
      out += (n ? ", " : "") + list[n].str();
    return out + "]";
  }
  }
  llvm_unreachable("unknown value kind");
}

namespace {

class Evaluator {
public:
  Evaluator(DiagEngine &diags, IdentResolver resolve) : diags(diags), resolve(resolve) {}

  std::optional<Value> eval(const Expr &e) {
    switch (e.getKind()) {
    case Expr::Kind::Number:
      return evalNumber(llvm::cast<NumberExpr>(e));
    case Expr::Kind::String:
      return Value::string(llvm::cast<StringExpr>(e).getValue().str());
    case Expr::Kind::Ident:
      return resolve(llvm::cast<IdentExpr>(e));
    case Expr::Kind::List: {
      Value list;
      list.kind = Value::Kind::List;
      bool ok = true;
      for (const ExprPtr &element : llvm::cast<ListExpr>(e).getElements()) {
        std::optional<Value> v = eval(*element);
        if (v)
          list.list.push_back(std::move(*v));
        ok &= v.has_value();
      }
      return ok ? std::optional<Value>(std::move(list)) : std::nullopt;
    }
    case Expr::Kind::Unary:
      return evalUnary(llvm::cast<UnaryExpr>(e));
    case Expr::Kind::Binary:
      return evalBinary(llvm::cast<BinaryExpr>(e));
    }
    llvm_unreachable("unknown expression kind");
  }

private:
  std::optional<Value> evalNumber(const NumberExpr &n) {
    if (n.getUnit().empty())
      return n.isInt() ? Value::integer(n.getInt()) : Value::real(n.getReal());
    // Token counts as people write them: 4k = 4,096, 128k = 131,072, 1M = 1,048,576 (binary, as context lengths
    // are counted). A plain number, exact when it is whole.
    if (n.getUnit() == "k" || n.getUnit() == "K" || n.getUnit() == "M") {
      double scale = n.getUnit() == "M" ? 1048576.0 : 1024.0;
      double value = n.getReal() * scale;
      if (n.isInt() && value < 9.0e15)
        return Value::integer(n.getInt() * int64_t(scale));
      if (value == std::floor(value) && value < 9.0e15)
        return Value::integer(int64_t(value));
      return Value::real(value);
    }
    std::optional<UnitInfo> unit = lookupUnit(n.getUnit());
    if (!unit) {
      std::string msg = "unknown unit '" + n.getUnit().str() + "'";
      std::vector<llvm::StringRef> names;
      for (const UnitInfo &u : allUnits())
        names.push_back(u.name);
      llvm::StringRef best = closestMatch(n.getUnit(), names);
      // Case is significant (Gb/s is bits, GB/s bytes), so a case-only difference is the likeliest slip.
      for (llvm::StringRef name : names)
        if (n.getUnit().equals_insensitive(name))
          best = name;
      if (!best.empty())
        msg += "; did you mean '" + best.str() + "'?";
      diags.error(n.getUnitLoc(), msg);
      return std::nullopt;
    }
    double value = unit->toBase(n.getReal());
    if (!std::isfinite(value)) {
      diags.error(n.getLoc(), "quantity " + n.getSourceText().str() + " is out of range");
      return std::nullopt;
    }
    return Value::real(value, unit->dim);
  }

  std::optional<Value> evalUnary(const UnaryExpr &u) {
    std::optional<Value> v = eval(u.getOperand());
    if (!v)
      return std::nullopt;
    if (u.getOp() == UnaryOp::Not) {
      if (v->kind != Value::Kind::Bool)
        return mismatch(u.getLoc(), "'!' needs a boolean, not " + v->describeKind());
      return Value::boolean(!v->b);
    }
    if (v->kind == Value::Kind::Int) {
      if (v->i == INT64_MIN)
        return overflow(u.getLoc());
      return Value::integer(-v->i);
    }
    if (v->kind == Value::Kind::Real)
      return Value::real(-v->r, v->dim);
    return mismatch(u.getLoc(), "'-' needs a number, not " + v->describeKind());
  }

  std::optional<Value> evalBinary(const BinaryExpr &b) {
    std::optional<Value> lhs = eval(b.getLhs());
    std::optional<Value> rhs = eval(b.getRhs());
    if (!lhs || !rhs)
      return std::nullopt;
    BinaryOp op = b.getOp();
    llvm::SMLoc loc = b.getOpLoc();
    auto operands = [&] {
      return "'" + spell(op).str() + "' between " + lhs->describeKind() + " and " + rhs->describeKind();
    };

    if (op == BinaryOp::And || op == BinaryOp::Or) {
      if (lhs->kind != Value::Kind::Bool || rhs->kind != Value::Kind::Bool)
        return mismatch(loc, operands() + ": both sides must be conditions");
      return Value::boolean(op == BinaryOp::And ? (lhs->b && rhs->b) : (lhs->b || rhs->b));
    }

    if (op == BinaryOp::Eq || op == BinaryOp::Ne) {
      bool sameNonNumeric = lhs->kind == rhs->kind && !lhs->isNumeric();
      if (sameNonNumeric) {
        bool equal = lhs->kind == Value::Kind::Bool ? lhs->b == rhs->b : lhs->s == rhs->s;
        return Value::boolean(op == BinaryOp::Eq ? equal : !equal);
      }
    }

    if (!lhs->isNumeric() || !rhs->isNumeric())
      return mismatch(loc, operands() + ": both sides must be numbers");

    switch (op) {
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
    case BinaryOp::Eq:
    case BinaryOp::Ne:
      return compare(op, *lhs, *rhs, loc, operands);
    case BinaryOp::Add:
    case BinaryOp::Sub:
      if (lhs->dim != rhs->dim)
        return mismatch(loc, "cannot apply " + operands());
      if (lhs->kind == Value::Kind::Int && rhs->kind == Value::Kind::Int) {
        int64_t out;
        bool of = op == BinaryOp::Add ? __builtin_add_overflow(lhs->i, rhs->i, &out)
                                      : __builtin_sub_overflow(lhs->i, rhs->i, &out);
        return of ? overflow(loc) : std::optional<Value>(Value::integer(out));
      }
      return finite(Value::real(op == BinaryOp::Add ? lhs->asDouble() + rhs->asDouble()
                                                    : lhs->asDouble() - rhs->asDouble(),
                                lhs->dim),
                    loc);
    case BinaryOp::Mul: {
      if (lhs->kind == Value::Kind::Int && rhs->kind == Value::Kind::Int) {
        int64_t out;
        if (__builtin_mul_overflow(lhs->i, rhs->i, &out))
          return overflow(loc);
        return Value::integer(out);
      }
      Dim dim;
      if (lhs->dim == Dim::None || lhs->dim == Dim::Ratio)
        dim = rhs->dim == Dim::None && lhs->dim == Dim::Ratio ? Dim::Ratio : rhs->dim;
      else if (rhs->dim == Dim::None || rhs->dim == Dim::Ratio)
        dim = lhs->dim;
      else
        return mismatch(loc, "cannot apply " + operands());
      if (lhs->dim == Dim::Ratio && rhs->dim == Dim::Ratio)
        dim = Dim::Ratio;
      return finite(Value::real(lhs->asDouble() * rhs->asDouble(), dim), loc);
    }
    case BinaryOp::Div: {
      if (rhs->asDouble() == 0) {
        diags.error(loc, "division by zero");
        return std::nullopt;
      }
      if (lhs->kind == Value::Kind::Int && rhs->kind == Value::Kind::Int) {
        if (lhs->i == INT64_MIN && rhs->i == -1)
          return overflow(loc);
        if (lhs->i % rhs->i == 0)
          return Value::integer(lhs->i / rhs->i);
        return Value::real(double(lhs->i) / double(rhs->i));
      }
      Dim dim;
      if (rhs->dim == Dim::None || (rhs->dim == Dim::Ratio && lhs->dim != Dim::Ratio))
        dim = lhs->dim;
      else if (lhs->dim == rhs->dim)
        dim = Dim::None;
      else if (lhs->dim == Dim::Bytes && rhs->dim == Dim::Time)
        dim = Dim::ByteRate;
      else
        return mismatch(loc, "cannot apply " + operands());
      return finite(Value::real(lhs->asDouble() / rhs->asDouble(), dim), loc);
    }
    case BinaryOp::And:
    case BinaryOp::Or:
      break;
    }
    llvm_unreachable("operator handled above");
  }

  template <typename Describe>
  std::optional<Value> compare(BinaryOp op, const Value &lhs, const Value &rhs, llvm::SMLoc loc,
                               Describe operands) {
    if (lhs.dim != rhs.dim)
      return mismatch(loc, "cannot compare with " + operands());
    int c;
    if (lhs.kind == Value::Kind::Int && rhs.kind == Value::Kind::Int)
      c = lhs.i < rhs.i ? -1 : lhs.i > rhs.i ? 1 : 0;
    else
      c = lhs.asDouble() < rhs.asDouble() ? -1 : lhs.asDouble() > rhs.asDouble() ? 1 : 0;
    switch (op) {
    case BinaryOp::Lt:
      return Value::boolean(c < 0);
    case BinaryOp::Le:
      return Value::boolean(c <= 0);
    case BinaryOp::Gt:
      return Value::boolean(c > 0);
    case BinaryOp::Ge:
      return Value::boolean(c >= 0);
    case BinaryOp::Eq:
      return Value::boolean(c == 0);
    case BinaryOp::Ne:
      return Value::boolean(c != 0);
    default:
      llvm_unreachable("not a comparison");
    }
  }

  std::optional<Value> finite(Value v, llvm::SMLoc loc) {
    if (!std::isfinite(v.r)) {
      diags.error(loc, "arithmetic result is out of range");
      return std::nullopt;
    }
    return v;
  }

  std::optional<Value> overflow(llvm::SMLoc loc) {
    diags.error(loc, "integer overflow: the result does not fit in 64 bits");
    return std::nullopt;
  }

  std::optional<Value> mismatch(llvm::SMLoc loc, const std::string &msg) {
    diags.error(loc, msg);
    return std::nullopt;
  }

  DiagEngine &diags;
  IdentResolver resolve;
};

} // namespace

std::optional<Value> moec::evaluate(const Expr &expr, DiagEngine &diags, IdentResolver resolve) {
  return Evaluator(diags, resolve).eval(expr);
}
