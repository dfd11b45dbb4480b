//===- AST.h - The moec abstract syntax tree --------------------*- C++ -*-===//
//
// The AST mirrors the generic grammar: a module is a list of imports and blocks; a block is `kind name? { ... }`
// holding assignments, `require` statements and nested blocks; expressions are numbers with optional units,
// strings, identifiers, lists, and unary and binary operators. Nodes are owned by their parent, carry a kind for
// llvm::isa/dyn_cast, and carry their source range so that any later stage can point at the text that caused a
// problem. Names are StringRefs into the source buffers, which the SourceMgr keeps alive for the whole run.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_AST_AST_H
#define MOEC_AST_AST_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
}

namespace moec {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

class Expr {
public:
  enum class Kind { Number, String, Ident, Unary, Binary, List };
  virtual ~Expr() = default;
  Kind getKind() const { return kind; }
  llvm::SMRange getRange() const { return range; }
  llvm::SMLoc getLoc() const { return range.Start; }
  /// The source text of the expression, exactly as written.
  llvm::StringRef getSourceText() const {
    return llvm::StringRef(range.Start.getPointer(), range.End.getPointer() - range.Start.getPointer());
  }

protected:
  Expr(Kind kind, llvm::SMRange range) : kind(kind), range(range) {}

private:
  Kind kind;
  llvm::SMRange range;
};

using ExprPtr = std::unique_ptr<Expr>;

/// A number literal with an optional unit: `7168`, `1_000`, `1.8 TB/s`, `60%`. Integers without a fraction or
/// exponent are exact 64-bit values; everything else is a double.
class NumberExpr : public Expr {
public:
  NumberExpr(llvm::SMRange range, bool isInteger, int64_t intValue, double realValue, std::string unit,
             llvm::SMLoc unitLoc)
      : Expr(Kind::Number, range), isInteger(isInteger), intValue(intValue), realValue(realValue),
        unit(std::move(unit)), unitLoc(unitLoc) {}
  bool isInt() const { return isInteger; }
  int64_t getInt() const { return intValue; }
  double getReal() const { return isInteger ? double(intValue) : realValue; }
  /// The unit as written (`GB`, `TB/s`, `%`), empty when there is none.
  llvm::StringRef getUnit() const { return unit; }
  llvm::SMLoc getUnitLoc() const { return unitLoc; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Number; }

private:
  bool isInteger;
  int64_t intValue;
  double realValue;
  std::string unit;
  llvm::SMLoc unitLoc;
};

/// A string literal, with its escapes already resolved.
class StringExpr : public Expr {
public:
  StringExpr(llvm::SMRange range, std::string value) : Expr(Kind::String, range), value(std::move(value)) {}
  llvm::StringRef getValue() const { return value; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::String; }

private:
  std::string value;
};

/// A bare identifier: a reference to a key, a derived value or a definition, or an enumerator such as `bf16`;
/// Sema decides which from the context.
class IdentExpr : public Expr {
public:
  IdentExpr(llvm::SMRange range, llvm::StringRef name) : Expr(Kind::Ident, range), name(name) {}
  llvm::StringRef getName() const { return name; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Ident; }

private:
  llvm::StringRef name;
};

enum class UnaryOp { Neg, Not };
enum class BinaryOp { Add, Sub, Mul, Div, Lt, Le, Gt, Ge, Eq, Ne, And, Or };

/// The spelling of an operator, as the user writes it.
llvm::StringRef spell(UnaryOp op);
llvm::StringRef spell(BinaryOp op);

class UnaryExpr : public Expr {
public:
  UnaryExpr(llvm::SMRange range, UnaryOp op, ExprPtr operand)
      : Expr(Kind::Unary, range), op(op), operand(std::move(operand)) {}
  UnaryOp getOp() const { return op; }
  const Expr &getOperand() const { return *operand; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Unary; }

private:
  UnaryOp op;
  ExprPtr operand;
};

class BinaryExpr : public Expr {
public:
  BinaryExpr(llvm::SMRange range, BinaryOp op, llvm::SMLoc opLoc, ExprPtr lhs, ExprPtr rhs)
      : Expr(Kind::Binary, range), op(op), opLoc(opLoc), lhs(std::move(lhs)), rhs(std::move(rhs)) {}
  BinaryOp getOp() const { return op; }
  llvm::SMLoc getOpLoc() const { return opLoc; }
  const Expr &getLhs() const { return *lhs; }
  const Expr &getRhs() const { return *rhs; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Binary; }

private:
  BinaryOp op;
  llvm::SMLoc opLoc;
  ExprPtr lhs, rhs;
};

/// `[a, b, c]`.
class ListExpr : public Expr {
public:
  ListExpr(llvm::SMRange range, std::vector<ExprPtr> elements)
      : Expr(Kind::List, range), elements(std::move(elements)) {}
  const std::vector<ExprPtr> &getElements() const { return elements; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::List; }

private:
  std::vector<ExprPtr> elements;
};

//===----------------------------------------------------------------------===//
// Statements and blocks
//===----------------------------------------------------------------------===//

class Block;

class Stmt {
public:
  enum class Kind { Assign, Require, Block };
  virtual ~Stmt() = default;
  Kind getKind() const { return kind; }
  llvm::SMLoc getLoc() const { return loc; }

protected:
  Stmt(Kind kind, llvm::SMLoc loc) : kind(kind), loc(loc) {}

private:
  Kind kind;
  llvm::SMLoc loc;
};

using StmtPtr = std::unique_ptr<Stmt>;

/// `key = expr;`
class AssignStmt : public Stmt {
public:
  AssignStmt(llvm::SMLoc loc, llvm::StringRef key, ExprPtr value)
      : Stmt(Kind::Assign, loc), key(key), value(std::move(value)) {}
  llvm::StringRef getKey() const { return key; }
  llvm::SMRange getKeyRange() const {
    return {getLoc(), llvm::SMLoc::getFromPointer(getLoc().getPointer() + key.size())};
  }
  const Expr &getValue() const { return *value; }
  static bool classof(const Stmt *s) { return s->getKind() == Kind::Assign; }

private:
  llvm::StringRef key;
  ExprPtr value;
};

/// `require expr;`
class RequireStmt : public Stmt {
public:
  RequireStmt(llvm::SMLoc loc, ExprPtr cond) : Stmt(Kind::Require, loc), cond(std::move(cond)) {}
  const Expr &getCondition() const { return *cond; }
  static bool classof(const Stmt *s) { return s->getKind() == Kind::Require; }

private:
  ExprPtr cond;
};

/// `kind name? { stmt* }`. Top-level blocks have a name; nested ones (`attention { ... }`) usually not.
class Block {
public:
  Block(llvm::SMLoc loc, llvm::StringRef kind, llvm::StringRef name, llvm::SMLoc nameLoc)
      : loc(loc), kind(kind), name(name), nameLoc(nameLoc) {}
  llvm::SMLoc getLoc() const { return loc; }
  llvm::StringRef getKind() const { return kind; }
  llvm::StringRef getName() const { return name; }
  llvm::SMLoc getNameLoc() const { return nameLoc.isValid() ? nameLoc : loc; }
  bool hasName() const { return !name.empty(); }
  /// `kind name from "path"`: the file the definition is read from (empty when none), and the string's range.
  llvm::StringRef getFromPath() const { return fromPath; }
  llvm::SMRange getFromRange() const { return fromRange; }
  void setFrom(std::string path, llvm::SMRange range) {
    fromPath = std::move(path);
    fromRange = range;
  }
  const std::vector<StmtPtr> &getBody() const { return body; }
  void addStmt(StmtPtr stmt) { body.push_back(std::move(stmt)); }

private:
  llvm::SMLoc loc;
  llvm::StringRef kind;
  llvm::StringRef name;
  llvm::SMLoc nameLoc;
  std::string fromPath;
  llvm::SMRange fromRange;
  std::vector<StmtPtr> body;
};

/// A nested block used as a statement.
class BlockStmt : public Stmt {
public:
  explicit BlockStmt(std::unique_ptr<Block> block) : Stmt(Kind::Block, block->getLoc()), block(std::move(block)) {}
  const Block &getBlock() const { return *block; }
  static bool classof(const Stmt *s) { return s->getKind() == Kind::Block; }

private:
  std::unique_ptr<Block> block;
};

/// `import "file";`
struct ImportDecl {
  llvm::SMLoc loc;      ///< The `import` keyword.
  llvm::SMRange pathRange; ///< The string literal.
  std::string path;
};

/// One parsed file.
class Module {
public:
  Module(unsigned bufferId, std::string path) : bufferId(bufferId), path(std::move(path)) {}
  unsigned getBufferId() const { return bufferId; }
  llvm::StringRef getPath() const { return path; }
  const std::vector<ImportDecl> &getImports() const { return imports; }
  const std::vector<std::unique_ptr<Block>> &getBlocks() const { return blocks; }
  void addImport(ImportDecl decl) { imports.push_back(std::move(decl)); }
  void addBlock(std::unique_ptr<Block> block) { blocks.push_back(std::move(block)); }

private:
  unsigned bufferId;
  std::string path;
  std::vector<ImportDecl> imports;
  std::vector<std::unique_ptr<Block>> blocks;
};

/// Text shown after an assignment by printModule (its evaluated value), or empty.
using AssignAnnotator = llvm::function_ref<std::string(const AssignStmt &)>;

/// Print the AST of \p module with `<line:col>` locations, one node per line, indented by nesting.
void printModule(const Module &module, const llvm::SourceMgr &srcMgr, llvm::raw_ostream &os,
                 AssignAnnotator annotate = nullptr);
/// Print \p expr back in source syntax, fully parenthesised where precedence matters.
void printExpr(const Expr &expr, llvm::raw_ostream &os);

} // namespace moec

#endif // MOEC_AST_AST_H
