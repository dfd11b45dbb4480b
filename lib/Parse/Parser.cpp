//===- Parser.cpp - Parse a .moe buffer into an AST -----------------------===//
//
// Runs the ANTLR-generated lexer and parser with moec's own error listener (ANTLR's console listeners are
// removed), then builds the AST with one typed function per grammar rule. ANTLR types stay in this file.
//
//===----------------------------------------------------------------------===//
#include "moec/Parse/Parser.h"
#include "PreScan.h"

#include "MoeLexer.h"
#include "MoeParser.h"
#include "antlr4-runtime.h"

#include "llvm/ADT/StringExtras.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace moec;
using moec::parser::MoeLexer;
using moec::parser::MoeParser;

namespace {

/// Maps ANTLR positions (1-based line, 0-based column in code points) to pointers into the buffer.
class LocMapper {
public:
  explicit LocMapper(llvm::StringRef buf) : buf(buf) {
    lineStarts.push_back(0);
    for (size_t i = 0; i < buf.size(); ++i)
      if (buf[i] == '\n')
        lineStarts.push_back(i + 1);
  }

  const char *pointer(size_t line, size_t column) const {
    if (line == 0 || line > lineStarts.size())
      return buf.end();
    size_t i = lineStarts[line - 1];
    for (size_t cps = 0; cps < column && i < buf.size(); ++cps) {
      unsigned len = validUtf8Length(buf.substr(i));
      i += len ? len : 1;
    }
    return buf.begin() + i;
  }

  llvm::SMLoc loc(antlr4::Token *tok) const {
    if (tok->getType() == antlr4::Token::EOF)
      return llvm::SMLoc::getFromPointer(trimmedEnd());
    return llvm::SMLoc::getFromPointer(pointer(tok->getLine(), tok->getCharPositionInLine()));
  }

  /// The pointer just past \p tok.
  llvm::SMLoc endLoc(antlr4::Token *tok) const {
    if (tok->getType() == antlr4::Token::EOF)
      return llvm::SMLoc::getFromPointer(trimmedEnd());
    return llvm::SMLoc::getFromPointer(loc(tok).getPointer() + tok->getText().size());
  }

  llvm::SMRange range(antlr4::ParserRuleContext *ctx) const { return {loc(ctx->getStart()), endLoc(ctx->getStop())}; }

private:
  /// End of file, moved back over trailing white space so that "unexpected end of file" points at a line
  /// that SourceMgr can show.
  const char *trimmedEnd() const {
    const char *p = buf.end();
    while (p > buf.begin() && llvm::isSpace(p[-1]))
      --p;
    return p;
  }

  llvm::StringRef buf;
  std::vector<size_t> lineStarts;
};

/// Turns ANTLR's syntax errors into moec diagnostics with friendlier token names.
class DiagErrorListener : public antlr4::BaseErrorListener {
public:
  DiagErrorListener(DiagEngine &diags, const LocMapper &locs) : diags(diags), locs(locs) {}

  void syntaxError(antlr4::Recognizer *recognizer, antlr4::Token *offending, size_t line, size_t column,
                   const std::string &antlrMessage, std::exception_ptr) override {
    ++count;
    std::string msg = antlrMessage;
    llvm::SMLoc loc = offending ? locs.loc(offending)
                                : llvm::SMLoc::getFromPointer(locs.pointer(line, column));
    if (offending && offending->getType() == MoeLexer::INVALID) {
      diags.error(loc, "invalid character '" + offending->getText() + "'");
      return;
    }
    // After a block's kind and name the grammar takes `from "file"`, '{', or (after `from`) ';': what a user
    // forgot there is the '{'.
    const std::string blockHeader = "{'from', '{', ';'}";
    if (size_t at = msg.find(blockHeader); at != std::string::npos) {
      msg.replace(at, blockHeader.size(), "'{'");
      if (llvm::StringRef(msg).starts_with("mismatched input ") && offending) {
        diags.error(loc, "syntax error: expected '{' before " + describe(offending));
        return;
      }
    }
    if (antlr4::Token *after = missingSemicolonAfter(recognizer, offending, msg)) {
      // A missing ';' is reported where it belongs, after the statement's last token (FINDINGS.md D7).
      diags.error(locs.endLoc(after), "syntax error: expected ';' after " + describe(after));
      return;
    }
    diags.error(loc, "syntax error: " + rephrase(msg, offending));
  }

  unsigned count = 0;

private:
  /// ANTLR's messages, in the words compilers use: "expected ';' before 'x'", "unexpected 'x'".
  static std::string rephrase(const std::string &msg, antlr4::Token *offending) {
    llvm::StringRef m(msg);
    std::string tok = offending ? describe(offending) : "input";
    if (m.consume_front("missing ")) {
      auto [what, at] = m.split(" at ");
      return "expected " + tidy(what.str()) + " before " + tok;
    }
    if (m.starts_with("extraneous input ") || m.starts_with("mismatched input ")) {
      size_t expecting = m.find(" expecting ");
      std::string out = "unexpected " + tok;
      if (expecting != llvm::StringRef::npos)
        out += "; expected " + tidy(m.substr(expecting + 11).str());
      return out;
    }
    return "unexpected " + tok;
  }

  /// The token a statement ends with when ANTLR's error is a missing ';': the token before \p offending, or, when
  /// the parser reads `dp = 1 tp = 1` as `1 tp` (a number and its unit) and stops at the second '=', the token
  /// before the identifier that starts the next statement. Null when the error is not a missing ';'.
  static antlr4::Token *missingSemicolonAfter(antlr4::Recognizer *recognizer, antlr4::Token *offending,
                                              llvm::StringRef msg) {
    auto *parser = dynamic_cast<antlr4::Parser *>(recognizer);
    bool wantsSemi = msg.starts_with("missing ';'") ||
                     (msg.contains(" expecting ") && msg.substr(msg.find(" expecting ")).contains("';'"));
    if (!parser || !offending || !wantsSemi)
      return nullptr;
    antlr4::TokenStream *tokens = parser->getTokenStream();
    auto previous = [&](ssize_t index) -> ssize_t {
      for (--index; index >= 0; --index)
        if (tokens->get(size_t(index))->getChannel() == antlr4::Token::DEFAULT_CHANNEL)
          return index;
      return -1;
    };
    ssize_t before = previous(ssize_t(offending->getTokenIndex()));
    if (before < 0)
      return nullptr;
    if (offending->getText() == "=" && tokens->get(size_t(before))->getType() == MoeLexer::IDENT) {
      ssize_t statementEnd = previous(before);
      return statementEnd < 0 ? nullptr : tokens->get(size_t(statementEnd));
    }
    return tokens->get(size_t(before));
  }

  static std::string describe(antlr4::Token *tok) {
    if (tok->getType() == antlr4::Token::EOF)
      return "end of file";
    return "'" + tok->getText() + "'";
  }

  static std::string tidy(std::string msg) {
    static const std::pair<const char *, const char *> names[] = {
        {"<EOF>", "end of file"}, {"IDENT", "identifier"}, {"NUMBER", "number"},
        {"STRING", "string"},     {"INVALID", "invalid character"}};
    for (auto [from, to] : names) {
      for (size_t pos = msg.find(from); pos != std::string::npos; pos = msg.find(from, pos + 1))
        msg.replace(pos, std::strlen(from), to);
    }
    if (msg.size() > 2 && msg.front() == '{' && msg.back() == '}')
      msg = "one of " + msg.substr(1, msg.size() - 2);
    return msg;
  }

  DiagEngine &diags;
  const LocMapper &locs;
};

/// Builds the AST from the parse tree: one function per grammar rule.
class AstBuilder {
public:
  AstBuilder(DiagEngine &diags, const LocMapper &locs, unsigned bufferId, std::string path)
      : diags(diags), locs(locs), bufferId(bufferId), path(std::move(path)) {}

  std::unique_ptr<Module> buildFile(MoeParser::FileContext *ctx) {
    auto module = std::make_unique<Module>(bufferId, path);
    for (MoeParser::TopItemContext *item : ctx->topItem()) {
      if (auto *imp = item->importDecl())
        module->addImport(buildImport(imp));
      else
        module->addBlock(buildBlock(item->block()));
    }
    return module;
  }

  bool hadErrors() const { return errors; }

private:
  ImportDecl buildImport(MoeParser::ImportDeclContext *ctx) {
    ImportDecl decl;
    decl.loc = locs.loc(ctx->IMPORT()->getSymbol());
    antlr4::Token *str = ctx->STRING()->getSymbol();
    decl.pathRange = {locs.loc(str), locs.endLoc(str)};
    decl.path = unescape(str);
    return decl;
  }

  std::unique_ptr<Block> buildBlock(MoeParser::BlockContext *ctx) {
    llvm::SMLoc loc = locs.loc(ctx->kind);
    llvm::StringRef name = ctx->name ? text(ctx->name) : llvm::StringRef();
    llvm::SMLoc nameLoc = ctx->name ? locs.loc(ctx->name) : llvm::SMLoc();
    auto block = std::make_unique<Block>(loc, text(ctx->kind), name, nameLoc);
    if (ctx->path)
      block->setFrom(unescape(ctx->path), {locs.loc(ctx->path), locs.endLoc(ctx->path)});
    else if (ctx->end) {
      diags.error(locs.loc(ctx->end), "expected '{' to open the body of " + text(ctx->kind).str() +
                                          (ctx->name ? " '" + text(ctx->name).str() + "'" : std::string()) +
                                          " (only a definition read `from` a file may end with ';')");
      errors = true;
    }
    for (MoeParser::StmtContext *stmt : ctx->stmt())
      block->addStmt(buildStmt(stmt));
    return block;
  }

  StmtPtr buildStmt(MoeParser::StmtContext *ctx) {
    if (auto *b = dynamic_cast<MoeParser::BlockStmtContext *>(ctx))
      return std::make_unique<BlockStmt>(buildBlock(b->block()));
    if (auto *a = dynamic_cast<MoeParser::AssignStmtContext *>(ctx))
      return std::make_unique<AssignStmt>(locs.loc(a->key), text(a->key), buildExpr(a->expr()));
    auto *r = dynamic_cast<MoeParser::RequireStmtContext *>(ctx);
    assert(r && "statement alternative without a builder");
    return std::make_unique<RequireStmt>(locs.loc(r->REQUIRE()->getSymbol()), buildExpr(r->expr()));
  }

  ExprPtr buildExpr(MoeParser::ExprContext *ctx) {
    llvm::SMRange range = locs.range(ctx);
    if (auto *n = dynamic_cast<MoeParser::NumberExprContext *>(ctx))
      return buildNumber(n, range);
    if (auto *s = dynamic_cast<MoeParser::StringExprContext *>(ctx))
      return std::make_unique<StringExpr>(range, unescape(s->STRING()->getSymbol()));
    if (auto *i = dynamic_cast<MoeParser::IdentExprContext *>(ctx))
      return std::make_unique<IdentExpr>(range, text(i->IDENT()->getSymbol()));
    if (auto *p = dynamic_cast<MoeParser::ParenExprContext *>(ctx))
      return buildExpr(p->expr());
    if (auto *l = dynamic_cast<MoeParser::ListExprContext *>(ctx)) {
      std::vector<ExprPtr> elements;
      for (MoeParser::ExprContext *e : l->expr())
        elements.push_back(buildExpr(e));
      return std::make_unique<ListExpr>(range, std::move(elements));
    }
    if (auto *u = dynamic_cast<MoeParser::UnaryExprContext *>(ctx)) {
      UnaryOp op = u->op->getType() == MoeLexer::MINUS ? UnaryOp::Neg : UnaryOp::Not;
      return std::make_unique<UnaryExpr>(range, op, buildExpr(u->expr()));
    }
    auto *b = dynamic_cast<MoeParser::BinaryExprContext *>(ctx);
    assert(b && "expression alternative without a builder");
    return std::make_unique<BinaryExpr>(range, binaryOp(b->op->getType()), locs.loc(b->op), buildExpr(b->lhs),
                                        buildExpr(b->rhs));
  }

  static BinaryOp binaryOp(size_t tokenType) {
    switch (tokenType) {
    case MoeLexer::PLUS:
      return BinaryOp::Add;
    case MoeLexer::MINUS:
      return BinaryOp::Sub;
    case MoeLexer::STAR:
      return BinaryOp::Mul;
    case MoeLexer::SLASH:
      return BinaryOp::Div;
    case MoeLexer::LT:
      return BinaryOp::Lt;
    case MoeLexer::LE:
      return BinaryOp::Le;
    case MoeLexer::GT:
      return BinaryOp::Gt;
    case MoeLexer::GE:
      return BinaryOp::Ge;
    case MoeLexer::EQ:
      return BinaryOp::Eq;
    case MoeLexer::NE:
      return BinaryOp::Ne;
    case MoeLexer::AND:
      return BinaryOp::And;
    case MoeLexer::OR:
      return BinaryOp::Or;
    }
    llvm_unreachable("token is not a binary operator");
  }

  ExprPtr buildNumber(MoeParser::NumberExprContext *ctx, llvm::SMRange range) {
    antlr4::Token *tok = ctx->NUMBER()->getSymbol();
    std::string digits;
    for (char c : tok->getText())
      if (c != '_')
        digits.push_back(c);
    bool isInt = digits.find_first_of(".eE") == std::string::npos;
    int64_t intValue = 0;
    double realValue = 0;
    if (isInt) {
      if (llvm::StringRef(digits).getAsInteger(10, intValue)) {
        error(locs.loc(tok), "integer literal " + tok->getText() + " does not fit in 64 bits");
        isInt = false;
      }
    } else {
      errno = 0;
      realValue = std::strtod(digits.c_str(), nullptr);
      if (!std::isfinite(realValue) || errno == ERANGE) {
        error(locs.loc(tok), "number " + tok->getText() + " is out of range");
        realValue = 0;
      }
    }
    std::string unit;
    llvm::SMLoc unitLoc;
    if (MoeParser::UnitContext *u = ctx->unit()) {
      unitLoc = locs.loc(u->getStart());
      if (u->PERCENT())
        unit = "%";
      else {
        unit = u->IDENT(0)->getText();
        if (u->IDENT().size() > 1)
          unit += "/" + u->IDENT(1)->getText();
      }
    }
    return std::make_unique<NumberExpr>(range, isInt, intValue, realValue, std::move(unit), unitLoc);
  }

  std::string unescape(antlr4::Token *tok) {
    llvm::StringRef raw = text(tok);
    raw = raw.drop_front().drop_back(); // the quotes
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\') {
        out.push_back(raw[i]);
        continue;
      }
      char c = raw[++i];
      switch (c) {
      case '"':
      case '\\':
        out.push_back(c);
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      default:
        error(llvm::SMLoc::getFromPointer(raw.data() + i - 1),
              "unknown escape sequence '\\" + std::string(1, c) + "' in string");
        out.push_back(c);
      }
    }
    return out;
  }

  /// The token's text as a StringRef into the source buffer (which outlives the AST).
  llvm::StringRef text(antlr4::Token *tok) const {
    llvm::SMLoc start = locs.loc(tok);
    return llvm::StringRef(start.getPointer(), tok->getText().size());
  }

  void error(llvm::SMLoc loc, const std::string &msg) {
    errors = true;
    diags.error(loc, msg);
  }

  DiagEngine &diags;
  const LocMapper &locs;
  unsigned bufferId;
  std::string path;
  bool errors = false;
};

} // namespace

std::unique_ptr<Module> moec::parseBuffer(unsigned bufferId, DiagEngine &diags, const ParseLimits &limits) {
  const llvm::MemoryBuffer *mb = diags.getSourceMgr().getMemoryBuffer(bufferId);
  llvm::StringRef buf = mb->getBuffer();
  if (!preScan(buf, diags, limits))
    return nullptr;

  LocMapper locs(buf);
  DiagErrorListener listener(diags, locs);
  try {
    antlr4::ANTLRInputStream input(buf.data(), buf.size());
    MoeLexer lexer(&input);
    lexer.removeErrorListeners();
    lexer.addErrorListener(&listener);
    antlr4::CommonTokenStream tokens(&lexer);
    MoeParser parser(&tokens);
    parser.removeErrorListeners();
    parser.addErrorListener(&listener);
    MoeParser::FileContext *tree = parser.file();
    if (listener.count != 0)
      return nullptr;
    AstBuilder builder(diags, locs, bufferId, mb->getBufferIdentifier().str());
    std::unique_ptr<Module> module = builder.buildFile(tree);
    if (builder.hadErrors())
      return nullptr;
    return module;
  } catch (const std::exception &e) {
    // The runtime throws on conditions the pre-scan should have excluded; never let one escape.
    diags.error(llvm::SMLoc::getFromPointer(buf.begin()), llvm::Twine("internal parser error: ") + e.what());
    return nullptr;
  }
}
