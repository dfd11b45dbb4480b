//===- BlockChecker.cpp - One block against its schema --------------------===//
//
// Collecting a block's statements (unknown, duplicate and missing keys, nested blocks, `require`), evaluating a
// key's expression with references to the block's other keys, and coercing the value to the key's type, unit and
// range.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include <cmath>

using namespace moec;
using namespace moec::sema;

void BlockChecker::collect() {
  for (const StmtPtr &stmt : block.getBody()) {
    if (auto *assign = llvm::dyn_cast<AssignStmt>(stmt.get())) {
      llvm::StringRef key = assign->getKey();
      if (!desc.findKey(key)) {
        std::vector<llvm::StringRef> names;
        for (const KeyDesc &k : desc.keys)
          names.push_back(k.name);
        std::string hint = didYouMean(key, names);
        if (!hint.empty())
          suggested.insert(closestMatch(key, names));
        if (hint.empty() && findNestedBlock(desc, key))
          hint = "; '" + key.str() + "' is a block: write '" + key.str() + " { ... }'";
        diags.error(assign->getLoc(), "unknown key " + quoted(key) + " in " + quoted(desc.kind) + " block" + hint,
                    assign->getKeyRange());
        ok = false;
        continue;
      }
      auto [it, inserted] = assigns.try_emplace(key, assign);
      if (!inserted) {
        diags.error(assign->getLoc(), "duplicate key " + quoted(key) + " in " + quoted(desc.kind) + " block",
                    assign->getKeyRange());
        diags.note(it->second->getLoc(), "first set here");
        ok = false;
      }
      continue;
    }
    if (auto *req = llvm::dyn_cast<RequireStmt>(stmt.get())) {
      if (!desc.allowsRequire) {
        diags.error(req->getLoc(), "'require' is only allowed in a strategy block, not in " +
                                       quoted(desc.kind));
        ok = false;
        continue;
      }
      requires_.push_back(req);
      continue;
    }
    const Block &sub = llvm::cast<BlockStmt>(stmt.get())->getBlock();
    const BlockDesc *subDesc = findNestedBlock(desc, sub.getKind());
    if (!subDesc) {
      std::string hint = didYouMean(sub.getKind(), desc.subBlocks);
      if (desc.subBlocks.empty())
        diags.error(sub.getLoc(), quoted(desc.kind) + " block takes no nested blocks; found " +
                                      quoted(sub.getKind()));
      else
        diags.error(sub.getLoc(), "unknown block " + quoted(sub.getKind()) + " in " + quoted(desc.kind) +
                                      " block; expected one of " + joinNames(desc.subBlocks) + hint);
      ok = false;
      continue;
    }
    if (sub.hasName()) {
      diags.error(sub.getNameLoc(), "nested block " + quoted(sub.getKind()) + " takes no name");
      ok = false;
    }
    auto [it, inserted] = subs.try_emplace(sub.getKind(), &sub);
    if (!inserted) {
      diags.error(sub.getLoc(), "duplicate block " + quoted(sub.getKind()) + " in " + quoted(desc.kind));
      diags.note(it->second->getLoc(), "first defined here");
      ok = false;
    }
  }
  // A key that an unknown key was taken for is not reported missing as well: one mistake, one error.
  for (const KeyDesc &k : desc.keys)
    if (keysOptional || (k.searchable && subs.count("search")))
      continue; // a searching strategy may leave its degrees to the search
    else if (k.required && !assigns.count(k.name) && !suggested.count(k.name)) {
      diags.error(block.getNameLoc(), "missing required key " + quoted(k.name) + " in " +
                                          (block.hasName() ? desc.kind.str() + " " + quoted(block.getName())
                                                           : quoted(desc.kind) + " block"));
      ok = false;
    }
    else if (k.required && !assigns.count(k.name))
      ok = false;
}

std::optional<Value> BlockChecker::evaluateKey(const AssignStmt &assign, const KeyDesc &kd) {
  const Expr &expr = assign.getValue();
  // A bare name in an enumerator or reference key is the enumerator or the definition's name.
  if ((kd.type == KeyType::Enum || kd.type == KeyType::Ref) && llvm::isa<IdentExpr>(expr))
    return Value::symbol(llvm::cast<IdentExpr>(expr).getName().str());
  // A list of bare names in an enumerator list: the enumerators, checked by checkValue.
  if (const auto *list = llvm::dyn_cast<ListExpr>(&expr); list && kd.type == KeyType::EnumList) {
    Value v;
    v.kind = Value::Kind::List;
    for (const ExprPtr &e : list->getElements()) {
      const auto *ident = llvm::dyn_cast<IdentExpr>(e.get());
      if (!ident) {
        diags.error(e->getLoc(), quoted(kd.name) + " expects a list of " + joinNames(kd.enumerators) +
                                     ", each written as a bare name");
        return std::nullopt;
      }
      llvm::StringRef name = ident->getName();
      if (!llvm::is_contained(kd.enumerators, name)) {
        diags.error(ident->getLoc(), "unknown " + quoted(kd.name) + " value " + quoted(name) + "; expected one of " +
                                         joinNames(kd.enumerators) + didYouMean(name, kd.enumerators));
        return std::nullopt;
      }
      v.list.push_back(Value::symbol(name.str()));
    }
    return v;
  }
  return evaluate(expr, diags, [&](const IdentExpr &ident) -> std::optional<Value> {
    llvm::StringRef name = ident.getName();
    if (assigns.count(name)) {
      auto st = state.find(name);
      if (st != state.end() && st->second == State::InProgress) {
        diags.error(ident.getLoc(), "cyclic reference: " + quoted(name) + " depends on itself");
        return std::nullopt;
      }
      std::optional<Value> v = get(name);
      if (v && v->kind == Value::Kind::Symbol) {
        diags.error(ident.getLoc(), quoted(name) + " is " + v->s + ", not a number");
        return std::nullopt;
      }
      return v;
    }
    std::vector<llvm::StringRef> names;
    for (const auto &entry : assigns)
      names.push_back(entry.getKey());
    llvm::sort(names);
    std::string msg = "unknown name " + quoted(name) + " in " + quoted(desc.kind) + " block";
    if (desc.findKey(name))
      msg = quoted(name) + " is not set in this " + quoted(desc.kind) + " block";
    diags.error(ident.getLoc(), msg + didYouMean(name, names));
    return std::nullopt;
  });
}

std::optional<Value> BlockChecker::coerce(const AssignStmt &assign, const KeyDesc &kd, Value v) {
  const Expr &expr = assign.getValue();
  llvm::SMLoc loc = expr.getLoc();
  llvm::SMRange range = expr.getRange();
  std::string key = quoted(kd.name);
  auto fail = [&](const std::string &msg) -> std::optional<Value> {
    diags.error(loc, msg, range);
    return std::nullopt;
  };
  auto shown = [&] { return quoted(expr.getSourceText()); };

  switch (kd.type) {
  case KeyType::Int: {
    if (v.kind == Value::Kind::Real && v.dim == Dim::None && std::floor(v.r) == v.r &&
        std::fabs(v.r) < 9.0e18)
      v = Value::integer(static_cast<int64_t>(v.r));
    if (v.kind == Value::Kind::Real && v.dim == Dim::None)
      return fail(key + " must be a whole number, but " + shown() + " is " + formatNumber(v.r));
    if (v.kind != Value::Kind::Int)
      return fail(key + " expects an integer, but " + shown() + " is " + v.describeKind());
    if (v.i < kd.minInt)
      return fail(key + " must be at least " + std::to_string(kd.minInt) + ", but it is " +
                  std::to_string(v.i));
    if (v.i > kd.maxInt)
      return fail(key + " must be at most " + std::to_string(kd.maxInt) + ", but it is " +
                  std::to_string(v.i));
    return v;
  }
  case KeyType::Quantity: {
    if (v.isNumeric() && v.dim == Dim::None)
      return fail(key + " needs a unit: it is " + describe(kd.dim).str() + ", such as " +
                  formatQuantity(kd.dim == Dim::Bytes      ? 64e9
                                 : kd.dim == Dim::ByteRate ? 900e9
                                 : kd.dim == Dim::FlopRate ? 400e12
                                                           : 2e-6,
                                 kd.dim));
    if (!v.isNumeric())
      return fail(key + " expects " + describe(kd.dim).str() + ", but " + shown() + " is " +
                  v.describeKind());
    if (v.dim != kd.dim)
      return fail(key + " expects " + describe(kd.dim).str() + ", but " + shown() + " is " +
                  describe(v.dim).str());
    bool allowZero = kd.dim == Dim::Time;
    if (v.r < 0 || (!allowZero && v.r == 0))
      return fail(key + " must be " + (allowZero ? "zero or more" : "positive") + ", but it is " + v.str());
    return v;
  }
  case KeyType::Fraction:
  case KeyType::Real: {
    if (!v.isNumeric() || (v.dim != Dim::None && v.dim != Dim::Ratio))
      return fail(key + " expects " + (kd.type == KeyType::Fraction ? "a percentage" : "a number") + ", but " +
                  shown() + " is " + v.describeKind());
    if (kd.type == KeyType::Real && v.dim == Dim::Ratio)
      return fail(key + " expects a plain number, not a percentage");
    double r = v.asDouble();
    if (kd.type == KeyType::Fraction && v.dim == Dim::None && r > 1)
      return fail(key + " is a fraction of 1 or a percentage; " + formatNumber(r) + " is more than 100%" +
                  (r <= 100 ? "; did you mean " + formatNumber(r) + "%?" : std::string()));
    Value out = Value::real(r, kd.type == KeyType::Fraction ? Dim::Ratio : Dim::None);
    if (r < kd.minReal || r > kd.maxReal)
      return fail(key + " must be between " + Value::real(kd.minReal, out.dim).str() + " and " +
                  Value::real(kd.maxReal, out.dim).str() + ", but it is " + out.str());
    return out;
  }
  case KeyType::Enum: {
    if (v.kind != Value::Kind::Symbol)
      return fail(key + " expects one of " + joinNames(kd.enumerators) + ", written as a bare name");
    if (!llvm::is_contained(kd.enumerators, v.s))
      return fail("unknown " + key + " value " + quoted(v.s) + "; expected one of " +
                  joinNames(kd.enumerators) + didYouMean(v.s, kd.enumerators));
    return v;
  }
  case KeyType::Ref: {
    if (v.kind != Value::Kind::Symbol)
      return fail(key + " expects the name of a " + kd.refKind.str() + " definition");
    if (!defs.find(kd.refKind, v.s)) {
      std::vector<llvm::StringRef> names = defs.names(kd.refKind);
      std::string msg = "unknown " + kd.refKind.str() + " " + quoted(v.s);
      if (names.empty())
        msg += "; no " + kd.refKind.str() + " is defined";
      return fail(msg + didYouMean(v.s, names));
    }
    return v;
  }
  case KeyType::String:
    if (v.kind != Value::Kind::String)
      return fail(key + " expects a string, but " + shown() + " is " + v.describeKind());
    return v;
  case KeyType::StringList:
    if (v.kind != Value::Kind::List)
      return fail(key + " expects a list of strings, such as [\"host-a\", \"host-b\"]");
    for (const Value &e : v.list)
      if (e.kind != Value::Kind::String)
        return fail(key + " expects a list of strings, but an element is " + e.describeKind());
    return v;
  case KeyType::EnumList:
    if (v.kind != Value::Kind::List || v.list.empty())
      return fail(key + " expects a non-empty list of " + joinNames(kd.enumerators) + ", such as [" +
                  kd.enumerators.front().str() + "]");
    return v; // each element checked where it is written (evaluateKey)
  case KeyType::IntList:
    if (v.kind != Value::Kind::List || v.list.empty())
      return fail(key + " expects a non-empty list of integers, such as [1, 3, 5]");
    for (const Value &e : v.list) {
      if (e.kind != Value::Kind::Int)
        return fail(key + " expects a list of integers, but an element is " + e.describeKind());
      if (e.i < kd.minInt || e.i > kd.maxInt)
        return fail(key + " expects integers from " + std::to_string(kd.minInt) + " to " +
                    std::to_string(kd.maxInt) + ", but an element is " + std::to_string(e.i));
    }
    return v;
  }
  llvm_unreachable("unknown key type");
}

llvm::SMLoc moec::sema::charLoc(const Expr &e, size_t index) {
  const auto *str = llvm::dyn_cast<StringExpr>(&e);
  llvm::StringRef source = e.getSourceText();
  if (!str || index == std::string::npos || source.size() != str->getValue().size() + 2)
    return e.getLoc();
  return llvm::SMLoc::getFromPointer(source.data() + 1 + index);
}

bool moec::sema::checkUserString(const Expr &e, llvm::StringRef value, llvm::StringRef what,
                                 std::optional<StringProblem> (*rule)(llvm::StringRef), DiagEngine &diags) {
  std::optional<StringProblem> problem = rule(value);
  if (!problem)
    return true;
  diags.error(charLoc(e, problem->index),
              what.str() + " '" + commentText(value) + "' is not valid: " + problem->message, {e.getRange()});
  return false;
}
