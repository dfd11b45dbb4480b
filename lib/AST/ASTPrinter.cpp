//===- ASTPrinter.cpp - Print the AST with locations ----------------------===//
//
// The -emit=ast format: one node per line, indented two spaces per level, each with its `line:col`. An
// expression is printed back in source syntax with full parentheses, so that precedence is visible.
//
//===----------------------------------------------------------------------===//
#include "moec/AST/AST.h"

#include "llvm/Support/SourceMgr.h"

#include "fmt/format.h"

using namespace moec;

llvm::StringRef moec::spell(UnaryOp op) { return op == UnaryOp::Neg ? "-" : "!"; }

llvm::StringRef moec::spell(BinaryOp op) {
  static const char *names[] = {"+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", "&&", "||"};
  return names[static_cast<unsigned>(op)];
}

void moec::printExpr(const Expr &expr, llvm::raw_ostream &os) {
  switch (expr.getKind()) {
  case Expr::Kind::Number: {
    const auto &n = llvm::cast<NumberExpr>(expr);
    if (n.isInt())
      os << n.getInt();
    else
      os << fmt::format("{}", n.getReal());
    if (!n.getUnit().empty())
      os << (n.getUnit() == "%" ? "" : " ") << n.getUnit();
    return;
  }
  case Expr::Kind::String:
    os << '"';
    os.write_escaped(llvm::cast<StringExpr>(expr).getValue());
    os << '"';
    return;
  case Expr::Kind::Ident:
    os << llvm::cast<IdentExpr>(expr).getName();
    return;
  case Expr::Kind::Unary: {
    const auto &u = llvm::cast<UnaryExpr>(expr);
    os << spell(u.getOp()) << '(';
    printExpr(u.getOperand(), os);
    os << ')';
    return;
  }
  case Expr::Kind::Binary: {
    const auto &b = llvm::cast<BinaryExpr>(expr);
    os << '(';
    printExpr(b.getLhs(), os);
    os << ' ' << spell(b.getOp()) << ' ';
    printExpr(b.getRhs(), os);
    os << ')';
    return;
  }
  case Expr::Kind::List: {
    os << '[';
    bool first = true;
    for (const ExprPtr &e : llvm::cast<ListExpr>(expr).getElements()) {
      if (!first)
        os << ", ";
      first = false;
      printExpr(*e, os);
    }
    os << ']';
    return;
  }
  }
}

namespace {
class ModulePrinter {
public:
  ModulePrinter(const llvm::SourceMgr &srcMgr, llvm::raw_ostream &os, AssignAnnotator annotate)
      : srcMgr(srcMgr), os(os), annotate(annotate) {}

  void print(const Module &module) {
    os << "module \"" << module.getPath() << "\"\n";
    for (const ImportDecl &imp : module.getImports())
      os << "  import \"" << imp.path << "\" " << at(imp.loc) << "\n";
    for (const auto &block : module.getBlocks())
      printBlock(*block, 1);
  }

private:
  std::string at(llvm::SMLoc loc) const {
    auto [line, col] = srcMgr.getLineAndColumn(loc);
    return "<" + std::to_string(line) + ":" + std::to_string(col) + ">";
  }

  void printBlock(const Block &block, unsigned depth) {
    indent(depth);
    os << block.getKind();
    if (block.hasName())
      os << ' ' << block.getName();
    os << ' ' << at(block.getLoc()) << "\n";
    for (const StmtPtr &stmt : block.getBody()) {
      if (auto *assign = llvm::dyn_cast<AssignStmt>(stmt.get())) {
        indent(depth + 1);
        os << assign->getKey() << " = ";
        printExpr(assign->getValue(), os);
        os << ' ' << at(assign->getLoc());
        if (annotate) {
          std::string note = annotate(*assign);
          if (!note.empty())
            os << " -> " << note;
        }
        os << "\n";
      } else if (auto *req = llvm::dyn_cast<RequireStmt>(stmt.get())) {
        indent(depth + 1);
        os << "require ";
        printExpr(req->getCondition(), os);
        os << ' ' << at(req->getLoc()) << "\n";
      } else {
        printBlock(llvm::cast<BlockStmt>(stmt.get())->getBlock(), depth + 1);
      }
    }
  }

  void indent(unsigned depth) { os.indent(2 * depth); }

  const llvm::SourceMgr &srcMgr;
  llvm::raw_ostream &os;
  AssignAnnotator annotate;
};
} // namespace

void moec::printModule(const Module &module, const llvm::SourceMgr &srcMgr, llvm::raw_ostream &os,
                       AssignAnnotator annotate) {
  ModulePrinter(srcMgr, os, annotate).print(module);
}
