#include "query/xray_filter/filter.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <utility>

#include "model/xray_attributes.h"
#include "query/xray_filter/filter_ast.h"

namespace ariadne::query::xray_filter {

namespace {

namespace attr = model::xray;

// ---------------------------------------------------------------------------------------------
// Lexer

enum class Tok {
  kEnd,
  kIdent,
  kString,
  kNumber,
  kOp,
  kBang,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kComma,
  kColon,
  kJson
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier / string value / operator / JSON text
  double number = 0;
  size_t pos = 0;  // 0-based offset
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd:
      return "the end of the expression";
    case Tok::kString:
      return "string \"" + t.text + "\"";
    case Tok::kNumber:
      return "number " + t.text;
    case Tok::kJson:
      return "a #[...] JSON literal";
    default:
      return "'" + t.text + "'";
  }
}

Status ErrorAt(size_t pos, const std::string& message) {
  return Status::InvalidArgument("Invalid filter expression at column " + std::to_string(pos + 1) +
                                 ": " + message);
}

Result<std::vector<Token>> Lex(std::string_view in) {
  std::vector<Token> out;
  size_t i = 0;
  auto ident_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  auto ident_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  };
  while (i < in.size()) {
    char c = in[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t;
    t.pos = i;
    if (c == '"') {
      std::string value;
      size_t j = i + 1;
      bool closed = false;
      while (j < in.size()) {
        if (in[j] == '\\' && j + 1 < in.size()) {
          value += in[j + 1];
          j += 2;
          continue;
        }
        if (in[j] == '"') {
          closed = true;
          ++j;
          break;
        }
        value += in[j++];
      }
      if (!closed) return ErrorAt(i, "unterminated string: expected a closing '\"'");
      t.kind = Tok::kString;
      t.text = std::move(value);
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               ((c == '-' || c == '.') && i + 1 < in.size() &&
                std::isdigit(static_cast<unsigned char>(in[i + 1])))) {
      size_t j = i + 1;
      while (j < in.size() &&
             (std::isdigit(static_cast<unsigned char>(in[j])) || in[j] == '.' || in[j] == 'e' ||
              in[j] == 'E' ||
              ((in[j] == '-' || in[j] == '+') && (in[j - 1] == 'e' || in[j - 1] == 'E')))) {
        ++j;
      }
      t.kind = Tok::kNumber;
      t.text = std::string(in.substr(i, j - i));
      char* end = nullptr;
      t.number = std::strtod(t.text.c_str(), &end);
      if (end != t.text.c_str() + t.text.size()) {
        return ErrorAt(i, "malformed number '" + t.text + "'");
      }
      i = j;
    } else if (ident_start(c)) {
      size_t j = i + 1;
      while (j < in.size() && ident_char(in[j])) ++j;
      t.kind = Tok::kIdent;
      t.text = std::string(in.substr(i, j - i));
      i = j;
    } else if (c == '#' && i + 1 < in.size() && in[i + 1] == '[') {
      int depth = 0;
      size_t j = i + 1;
      bool in_string = false;
      for (; j < in.size(); ++j) {
        char d = in[j];
        if (in_string) {
          if (d == '\\')
            ++j;
          else if (d == '"')
            in_string = false;
          continue;
        }
        if (d == '"') in_string = true;
        if (d == '[') ++depth;
        if (d == ']' && --depth == 0) break;
      }
      if (j >= in.size()) return ErrorAt(i, "unterminated #[ ... ] JSON literal: expected ']'");
      t.kind = Tok::kJson;
      t.text = std::string(in.substr(i + 1, j - i));
      i = j + 1;
    } else if (c == '=') {
      t.kind = Tok::kOp;
      t.text = "=";
      i += (i + 1 < in.size() && in[i + 1] == '=') ? 2 : 1;
    } else if (c == '!' || c == '<' || c == '>') {
      if (i + 1 < in.size() && in[i + 1] == '=') {
        t.kind = Tok::kOp;
        t.text = std::string(in.substr(i, 2));
        i += 2;
      } else if (c == '!') {
        t.kind = Tok::kBang;
        t.text = "!";
        ++i;
      } else {
        t.kind = Tok::kOp;
        t.text = std::string(1, c);
        ++i;
      }
    } else {
      static const std::string_view kSingles = "(){},:";
      size_t k = kSingles.find(c);
      if (k == std::string_view::npos) {
        return ErrorAt(i, std::string("unexpected character '") + c +
                              "': expected a keyword, a quoted string, a number or an operator");
      }
      static const Tok kKinds[] = {Tok::kLParen, Tok::kRParen, Tok::kLBrace,
                                   Tok::kRBrace, Tok::kComma,  Tok::kColon};
      t.kind = kKinds[k];
      t.text = std::string(1, c);
      ++i;
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.pos = in.size();
  out.push_back(end);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parser

const std::map<std::string, KwType, std::less<>>& Keywords() {
  static const auto* kMap = new std::map<std::string, KwType, std::less<>>{
      {"ok", KwType::kBool},
      {"error", KwType::kBool},
      {"fault", KwType::kBool},
      {"throttle", KwType::kBool},
      {"partial", KwType::kBool},
      {"inferred", KwType::kBool},
      {"first", KwType::kBool},
      {"last", KwType::kBool},
      {"remote", KwType::kBool},
      {"root", KwType::kBool},
      {"responsetime", KwType::kNumber},
      {"duration", KwType::kNumber},
      {"http.status", KwType::kNumber},
      {"index", KwType::kNumber},
      {"coverage", KwType::kNumber},
      {"http.url", KwType::kString},
      {"http.method", KwType::kString},
      {"http.useragent", KwType::kString},
      {"http.clientip", KwType::kString},
      {"user", KwType::kString},
      {"name", KwType::kString},
      {"type", KwType::kString},
      {"message", KwType::kString},
      {"availabilityzone", KwType::kString},
      {"instance.id", KwType::kString},
      {"resource.arn", KwType::kString},
      {"group.name", KwType::kGroup},
      {"group.arn", KwType::kGroup},
  };
  return *kMap;
}

std::optional<Op> StringOp(const Token& t) {
  if (t.kind != Tok::kIdent) return std::nullopt;
  std::string w = Lower(t.text);
  if (w == "contains") return Op::kContains;
  if (w == "beginswith") return Op::kBegins;
  if (w == "endswith") return Op::kEnds;
  if (w == "in") return Op::kIn;
  return std::nullopt;
}

Op SymbolOp(const std::string& s) {
  if (s == "=") return Op::kEq;
  if (s == "!=") return Op::kNe;
  if (s == "<") return Op::kLt;
  if (s == "<=") return Op::kLe;
  if (s == ">") return Op::kGt;
  return Op::kGe;
}

bool IsWord(const Token& t, std::string_view word) {
  return t.kind == Tok::kIdent && Lower(t.text) == word;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Result<std::shared_ptr<const Expr>> ParseAll() {
    auto expr = ParseOr();
    if (!expr.ok()) return expr;
    if (Peek().kind != Tok::kEnd) {
      return ErrorAt(Peek().pos,
                     "expected AND, OR or the end of the expression, found " + Describe(Peek()));
    }
    return expr;
  }

 private:
  using ExprPtr = std::shared_ptr<const Expr>;

  const Token& Peek() const { return t_[i_]; }
  const Token& Next() { return t_[i_ < t_.size() - 1 ? i_++ : i_]; }

  Status Expect(Tok kind, std::string_view what) {
    if (Peek().kind != kind) {
      return ErrorAt(Peek().pos, "expected " + std::string(what) + ", found " + Describe(Peek()));
    }
    Next();
    return Status::Ok();
  }

  bool StartsUnary(const Token& t) const {
    if (t.kind == Tok::kBang || t.kind == Tok::kLParen) return true;
    if (t.kind != Tok::kIdent) return false;
    std::string w = Lower(t.text);
    return w != "and" && w != "or";
  }

  Result<ExprPtr> ParseOr() {
    auto left = ParseAnd();
    if (!left.ok()) return left;
    ExprPtr result = *left;
    while (IsWord(Peek(), "or")) {
      Next();
      auto right = ParseAnd();
      if (!right.ok()) return right;
      auto node = std::make_shared<Expr>();
      node->kind = ExprKind::kOr;
      node->left = result;
      node->right = *right;
      result = node;
    }
    return result;
  }

  Result<ExprPtr> ParseAnd() {
    auto left = ParseUnary();
    if (!left.ok()) return left;
    ExprPtr result = *left;
    while (true) {
      if (IsWord(Peek(), "and")) {
        Next();
      } else if (!StartsUnary(Peek())) {
        break;
      }
      auto right = ParseUnary();
      if (!right.ok()) return right;
      auto node = std::make_shared<Expr>();
      node->kind = ExprKind::kAnd;
      node->left = result;
      node->right = *right;
      result = node;
    }
    return result;
  }

  // Counts one level of nesting for as long as it lives; Exceeded() once past kMaxFilterNesting.
  class NestingGuard {
   public:
    explicit NestingGuard(int* depth) : depth_(depth) { ++*depth_; }
    ~NestingGuard() { --*depth_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;
    bool Exceeded() const { return *depth_ > kMaxFilterNesting; }

   private:
    int* depth_;
  };

  Status NestingError(const Token& at) const {
    return ErrorAt(at.pos, "the expression nests deeper than " + std::to_string(kMaxFilterNesting) +
                               " levels of '(', '!'/NOT and '{ }' blocks; simplify it");
  }

  Result<ExprPtr> ParseUnary() {
    NestingGuard guard(&depth_);
    if (guard.Exceeded()) return NestingError(Peek());
    if (Peek().kind == Tok::kBang || IsWord(Peek(), "not")) {
      Next();
      auto inner = ParseUnary();
      if (!inner.ok()) return inner;
      auto node = std::make_shared<Expr>();
      node->kind = ExprKind::kNot;
      node->left = *inner;
      return ExprPtr(node);
    }
    if (Peek().kind == Tok::kLParen) {
      Next();
      auto inner = ParseOr();
      if (!inner.ok()) return inner;
      ARIADNE_RETURN_IF_ERROR(Expect(Tok::kRParen, "')' to close the parenthesis"));
      return inner;
    }
    if (Peek().kind != Tok::kIdent || IsWord(Peek(), "and") || IsWord(Peek(), "or")) {
      return ErrorAt(Peek().pos,
                     "expected a filter term (a keyword such as responsetime or http.status, "
                     "service(...), edge(...), annotation.KEY, '(' or '!'), found " +
                         Describe(Peek()));
    }
    return ParseTerm();
  }

  // An optional `{ expr }` block after service()/edge()/rootcause.
  Result<ExprPtr> ParseBlock() {
    if (Peek().kind != Tok::kLBrace) return ExprPtr();
    NestingGuard guard(&depth_);
    if (guard.Exceeded()) return NestingError(Peek());
    Next();
    auto inner = ParseOr();
    if (!inner.ok()) return inner;
    ARIADNE_RETURN_IF_ERROR(Expect(Tok::kRBrace, "'}' to close the sub-filter"));
    return inner;
  }

  Result<Selector> ParseSelector() {
    Selector sel;
    sel.any = false;
    if (Peek().kind == Tok::kString) {
      sel.name = Next().text;
      return sel;
    }
    if (IsWord(Peek(), "id")) {
      Next();
      ARIADNE_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' after id"));
      bool first = true;
      while (Peek().kind != Tok::kRParen) {
        if (!first) ARIADNE_RETURN_IF_ERROR(Expect(Tok::kComma, "',' or ')' in id(...)"));
        first = false;
        const Token& key = Peek();
        std::string k = Lower(key.text);
        if (key.kind != Tok::kIdent || (k != "name" && k != "type" && k != "account.id")) {
          return ErrorAt(
              key.pos, "expected name, type or account.id inside id(...), found " + Describe(key));
        }
        Next();
        ARIADNE_RETURN_IF_ERROR(Expect(Tok::kColon, "':' after " + k));
        if (Peek().kind != Tok::kString) {
          return ErrorAt(Peek().pos,
                         "expected a quoted string for " + k + ", found " + Describe(Peek()));
        }
        std::string value = Next().text;
        if (k == "name") sel.name = value;
        if (k == "type") sel.type = value;
        if (k == "account.id") sel.account = value;
      }
      Next();
      return sel;
    }
    return ErrorAt(Peek().pos,
                   "expected a quoted service name or id(name: \"...\", type: "
                   "\"...\"), found " +
                       Describe(Peek()));
  }

  Result<Literal> ParseLiteral(const Token& op_token) {
    const Token& t = Peek();
    Literal lit;
    if (t.kind == Tok::kString) {
      lit.type = Literal::Type::kString;
      lit.s = t.text;
    } else if (t.kind == Tok::kNumber) {
      lit.type = Literal::Type::kNumber;
      lit.n = t.number;
      lit.s = t.text;
    } else if (IsWord(t, "true") || IsWord(t, "false")) {
      lit.type = Literal::Type::kBool;
      lit.b = IsWord(t, "true");
    } else if (t.kind == Tok::kIdent) {  // a bare word, accepted as a string as AWS's docs do once
      lit.type = Literal::Type::kString;
      lit.s = t.text;
    } else {
      return ErrorAt(t.pos, "expected a value (a quoted string, a number, true or false) after " +
                                Describe(op_token) + ", found " + Describe(t));
    }
    Next();
    return lit;
  }

  Result<ExprPtr> ParseTerm() {
    const Token word = Next();
    const std::string lower = Lower(word.text);
    auto node = std::make_shared<Expr>();

    if (lower == "service") {
      node->kind = ExprKind::kService;
      ARIADNE_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' after service"));
      if (Peek().kind != Tok::kRParen) {
        ARIADNE_ASSIGN_OR_RETURN(node->a, ParseSelector());
      }
      ARIADNE_RETURN_IF_ERROR(Expect(Tok::kRParen, "')' to close service("));
      ARIADNE_ASSIGN_OR_RETURN(node->left, ParseBlock());
      return ExprPtr(node);
    }
    if (lower == "edge") {
      node->kind = ExprKind::kEdge;
      ARIADNE_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' after edge"));
      ARIADNE_ASSIGN_OR_RETURN(node->a, ParseSelector());
      ARIADNE_RETURN_IF_ERROR(Expect(Tok::kComma, "',' between the two services of edge(...)"));
      ARIADNE_ASSIGN_OR_RETURN(node->b, ParseSelector());
      ARIADNE_RETURN_IF_ERROR(Expect(Tok::kRParen, "')' to close edge("));
      ARIADNE_ASSIGN_OR_RETURN(node->left, ParseBlock());
      return ExprPtr(node);
    }
    if (lower.rfind("rootcause.", 0) == 0) {
      if (lower == "rootcause.json") {
        node->kind = ExprKind::kRootCauseJson;
        if (Peek().kind != Tok::kOp || Peek().text != "=") {
          return ErrorAt(Peek().pos,
                         "expected '=' after rootcause.json, found " + Describe(Peek()));
        }
        Next();
        if (Peek().kind != Tok::kJson) {
          return ErrorAt(Peek().pos, "expected a #[ ... ] JSON literal, found " + Describe(Peek()));
        }
        node->literals.push_back(Literal{Literal::Type::kString, Next().text, 0, false});
        return ExprPtr(node);
      }
      std::string rest = lower.substr(10);
      size_t dot = rest.find('.');
      std::string kind = rest.substr(0, dot);
      std::string entity = dot == std::string::npos ? "" : rest.substr(dot + 1);
      bool ok_kind = kind == "fault" || kind == "error" || kind == "responsetime";
      bool ok_entity = entity == "service" || entity == "entity" ||
                       (entity == "exception" && kind != "responsetime");
      if (!ok_kind || !ok_entity) {
        return ErrorAt(word.pos, "unknown root-cause keyword '" + word.text +
                                     "': expected rootcause.fault|error.service|entity|exception, "
                                     "rootcause.responsetime.service|entity or rootcause.json");
      }
      node->kind = ExprKind::kRootCause;
      node->rc_kind = kind;
      node->rc_entity = entity;
      ARIADNE_ASSIGN_OR_RETURN(node->left, ParseBlock());
      return ExprPtr(node);
    }

    node->kind = ExprKind::kKeyword;
    if (lower.rfind("annotation.", 0) == 0 || lower.rfind("annotation[", 0) == 0) {
      node->kw_type = KwType::kAnnotation;
      node->keyword = word.text.substr(11);  // keys keep their case
      if (node->keyword.empty()) {
        return ErrorAt(word.pos, "expected an annotation key after 'annotation.'");
      }
    } else {
      auto it = Keywords().find(lower);
      if (it == Keywords().end()) {
        return ErrorAt(word.pos, "unknown keyword '" + word.text +
                                     "': expected a keyword such as responsetime, duration, "
                                     "http.status, http.url, error, fault, user, annotation.KEY, "
                                     "service(...) or edge(...)");
      }
      node->kw_type = it->second;
      node->keyword = lower;
    }

    // Operator, if any.
    const Token& op_token = Peek();
    std::optional<Op> op;
    if (op_token.kind == Tok::kOp)
      op = SymbolOp(op_token.text);
    else if (auto string_op = StringOp(op_token))
      op = string_op;
    if (!op) {
      if (node->kw_type == KwType::kNumber) {
        return ErrorAt(op_token.pos, "expected a comparison (=, !=, <, <=, >, >=) after '" +
                                         word.text + "', found " + Describe(op_token));
      }
      if (node->kw_type == KwType::kGroup) {
        return ErrorAt(op_token.pos,
                       "expected '=' and a quoted group name after '" + word.text + "'");
      }
      return ExprPtr(node);  // bare keyword
    }
    Token op_copy = Next();
    node->op = *op;
    if (*op == Op::kIn) {
      ARIADNE_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' after IN"));
      while (true) {
        ARIADNE_ASSIGN_OR_RETURN(Literal lit, ParseLiteral(op_copy));
        node->literals.push_back(std::move(lit));
        if (Peek().kind == Tok::kComma) {
          Next();
          continue;
        }
        ARIADNE_RETURN_IF_ERROR(Expect(Tok::kRParen, "',' or ')' in the IN list"));
        break;
      }
    } else {
      ARIADNE_ASSIGN_OR_RETURN(Literal lit, ParseLiteral(op_copy));
      node->literals.push_back(std::move(lit));
    }
    ARIADNE_RETURN_IF_ERROR(TypeCheck(*node, word, op_copy));
    return ExprPtr(node);
  }

  Status TypeCheck(const Expr& node, const Token& word, const Token& op_token) {
    const bool relational =
        node.op == Op::kLt || node.op == Op::kLe || node.op == Op::kGt || node.op == Op::kGe;
    const bool string_op =
        node.op == Op::kContains || node.op == Op::kBegins || node.op == Op::kEnds;
    const size_t pos = op_token.pos;
    for (const Literal& lit : node.literals) {
      switch (node.kw_type) {
        case KwType::kBool:
          if ((node.op != Op::kEq && node.op != Op::kNe) || lit.type != Literal::Type::kBool) {
            return ErrorAt(pos, "'" + word.text +
                                    "' is a boolean keyword: use it alone, negate it with !, or "
                                    "compare it with = true / = false");
          }
          break;
        case KwType::kNumber:
          if (string_op) {
            return ErrorAt(pos, "'" + word.text +
                                    "' is a number: expected =, !=, <, <=, > or >=, "
                                    "found " +
                                    Describe(op_token));
          }
          if (lit.type != Literal::Type::kNumber) {
            return ErrorAt(
                pos, "expected a number after " + Describe(op_token) + " for '" + word.text + "'");
          }
          break;
        case KwType::kString:
          if (relational) {
            return ErrorAt(pos, "'" + word.text +
                                    "' is a string: expected =, !=, CONTAINS, "
                                    "BEGINSWITH or ENDSWITH, found " +
                                    Describe(op_token));
          }
          if (lit.type != Literal::Type::kString) {
            return ErrorAt(pos, "expected a quoted string after " + Describe(op_token) + " for '" +
                                    word.text + "'");
          }
          break;
        case KwType::kGroup:
          if (node.op != Op::kEq || lit.type != Literal::Type::kString) {
            return ErrorAt(pos,
                           "expected = and a quoted group name or ARN after '" + word.text + "'");
          }
          break;
        case KwType::kAnnotation:
          if (relational && lit.type != Literal::Type::kNumber) {
            return ErrorAt(pos, "expected a number after " + Describe(op_token));
          }
          if (string_op && lit.type != Literal::Type::kString) {
            return ErrorAt(pos, "expected a quoted string after " + Describe(op_token));
          }
          break;
      }
    }
    return Status::Ok();
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;  // current nesting (NestingGuard)
};

// ---------------------------------------------------------------------------------------------
// Evaluator

// One entry of a root-cause list.
struct RootCause {
  int segment = -1;
  std::string_view name;  // service, entity (span) or exception type
  std::string_view type;
  std::vector<std::string_view> messages;
  bool remote = false;
  bool inferred = false;
  double coverage = 0;
  size_t index = 0, count = 0;
};

struct Ctx {
  const TraceView& v;
  const GroupResolver* groups;
  int focus = -1;  // segment in scope, -1 = the trace (root segment)
  const RootCause* rc = nullptr;
  int depth = 0;
};

int FocusOf(const Ctx& c) { return c.focus >= 0 ? c.focus : c.v.root(); }

bool Eval(const Expr& e, const Ctx& c);

std::vector<size_t> SpansInScope(const Ctx& c) {
  if (c.focus >= 0 && !c.v.segments()[c.focus].inferred) return c.v.segments()[c.focus].spans;
  if (c.focus >= 0) return {c.v.segments()[c.focus].span};
  return c.v.spans();
}

bool EvalAnnotation(const Expr& e, const Ctx& c) {
  const model::SpanBatch& batch = c.v.batch();
  std::string key = std::string(attr::kAnnotationPrefix) + e.keyword;
  for (size_t i : SpansInScope(c)) {
    const model::Value* value = batch.FindAttribute(batch.spans[i].attributes, key);
    if (value == nullptr) continue;
    if (e.op == Op::kNone) {
      if (value->type == model::ValueType::kBool) {
        if (value->bool_value) return true;
        continue;
      }
      return true;
    }
    for (const Literal& lit : e.literals) {
      Op op = e.op == Op::kIn ? Op::kEq : e.op;
      switch (lit.type) {
        case Literal::Type::kString:
          if (value->type == model::ValueType::kString && MatchString(value->str, op, lit.s)) {
            return true;
          }
          break;
        case Literal::Type::kNumber: {
          std::optional<double> n;
          if (value->type == model::ValueType::kInt) n = static_cast<double>(value->int_value);
          if (value->type == model::ValueType::kDouble) n = value->double_value;
          if (n && MatchNumber(*n, op, lit.n)) return true;
          break;
        }
        case Literal::Type::kBool:
          if (value->type == model::ValueType::kBool &&
              (op == Op::kEq ? value->bool_value == lit.b : value->bool_value != lit.b)) {
            return true;
          }
          break;
      }
    }
  }
  return false;
}

std::vector<std::string_view> ExceptionMessages(const TraceView& v,
                                                const std::vector<size_t>& spans,
                                                std::string_view key) {
  std::vector<std::string_view> out;
  const model::SpanBatch& batch = v.batch();
  for (size_t i : spans) {
    const model::Span& s = batch.spans[i];
    for (uint32_t k = s.events.begin; k < s.events.end(); ++k) {
      const model::Event& ev = batch.events[k];
      if (ev.name != attr::kExceptionEvent) continue;
      const model::Value* value = batch.FindAttribute(ev.attributes, key);
      if (value && value->type == model::ValueType::kString) out.push_back(value->str);
    }
  }
  return out;
}

bool EvalKeyword(const Expr& e, const Ctx& c) {
  const TraceView& v = c.v;
  const int focus = FocusOf(c);
  const SegmentInfo* seg = focus >= 0 ? &v.segments()[focus] : nullptr;
  const std::string& k = e.keyword;

  switch (e.kw_type) {
    case KwType::kAnnotation:
      return EvalAnnotation(e, c);
    case KwType::kGroup: {
      if (c.groups == nullptr || !*c.groups || c.depth > 4) return false;
      auto text = (*c.groups)(e.literals[0].s, k == "group.arn");
      if (!text) return false;
      auto parsed = Filter::Parse(*text);
      if (!parsed.ok()) return false;
      if (parsed->empty()) return true;
      // The group's filter applies to the whole trace; Matches() bounds the nesting depth, so
      // groups that refer to each other end as "no match".
      return parsed->Matches(v, c.groups);
    }
    case KwType::kBool: {
      bool value = false;
      if (k == "partial")
        value = v.partial();
      else if (k == "root")
        value = seg != nullptr && seg->parent_segment < 0;
      else if (c.rc && k == "remote")
        value = c.rc->remote;
      else if (c.rc && k == "inferred")
        value = c.rc->inferred;
      else if (c.rc && k == "first")
        value = c.rc->index == 0;
      else if (c.rc && k == "last")
        value = c.rc->index + 1 == c.rc->count;
      else if (seg == nullptr)
        value = false;
      else if (k == "ok")
        value = !seg->error && !seg->fault && !seg->throttle;
      else if (k == "error")
        value = seg->error;
      else if (k == "fault")
        value = seg->fault;
      else if (k == "throttle")
        value = seg->throttle;
      else if (k == "inferred")
        value = seg->inferred;
      if (e.op == Op::kNone) return value;
      return e.op == Op::kEq ? value == e.literals[0].b : value != e.literals[0].b;
    }
    case KwType::kNumber: {
      std::optional<double> value;
      if (k == "duration")
        value = v.duration();
      else if (k == "responsetime") {
        if (seg) value = seg->end - seg->start;
      } else if (k == "http.status") {
        if (seg && seg->http.status != 0) value = static_cast<double>(seg->http.status);
      } else if (c.rc && k == "index")
        value = static_cast<double>(c.rc->index);
      else if (c.rc && k == "coverage")
        value = c.rc->coverage;
      return CompareNumber(value, e);
    }
    case KwType::kString: {
      std::vector<std::string_view> values;
      auto add = [&](std::string_view s) {
        if (!s.empty()) values.push_back(s);
      };
      if (k == "http.url")
        add(seg ? seg->http.url : "");
      else if (k == "http.method")
        add(seg ? seg->http.method : "");
      else if (k == "http.useragent")
        add(seg ? seg->http.user_agent : "");
      else if (k == "http.clientip")
        add(seg ? seg->http.client_ip : "");
      else if (k == "user") {
        if (c.focus >= 0) {
          add(seg->user);
        } else {
          for (const SegmentInfo& s : v.segments()) add(s.user);
        }
      } else if (k == "name")
        add(c.rc ? c.rc->name : (seg ? seg->name : ""));
      else if (k == "type")
        add(c.rc ? c.rc->type : (seg ? seg->type : ""));
      else if (k == "message") {
        if (c.rc) {
          values = c.rc->messages;
        } else {
          values = ExceptionMessages(v, SpansInScope(c), attr::kExceptionMessage);
        }
      } else {
        std::string_view key = k == "availabilityzone" ? attr::kCloudAvailabilityZone
                               : k == "instance.id"    ? attr::kHostId
                                                       : std::string_view();
        const model::SpanBatch& batch = v.batch();
        for (size_t i : SpansInScope(c)) {
          if (k == "resource.arn")
            add(StringAttr(batch, batch.spans[i], attr::kResourceArn));
          else if (!key.empty())
            add(ResourceStringAttr(batch, batch.spans[i], key));
        }
      }
      return CompareStrings(values, e);
    }
  }
  return false;
}

bool SelectorMatches(const Selector& sel, const TraceView& v, int segment) {
  if (sel.any) return true;
  const SegmentInfo& s = v.segments()[segment];
  if (sel.name && s.name != *sel.name) return false;
  if (sel.type && s.type != *sel.type) return false;
  if (sel.account && s.account_id != *sel.account) return false;
  return true;
}

std::vector<RootCause> RootCauses(const Expr& e, const TraceView& v) {
  std::vector<RootCause> out;
  const model::SpanBatch& batch = v.batch();
  const auto& segs = v.segments();
  if (e.rc_kind == "responsetime") {
    // The segment with the most exclusive time (own time minus its child segments').
    int best = -1;
    double best_time = -1;
    for (size_t k = 0; k < segs.size(); ++k) {
      double own = segs[k].end - segs[k].start;
      for (int child : segs[k].child_segments) own -= segs[child].end - segs[child].start;
      if (own > best_time) {
        best_time = own;
        best = static_cast<int>(k);
      }
    }
    if (best >= 0) {
      RootCause rc;
      rc.segment = best;
      rc.name = e.rc_entity == "service" ? segs[best].name : batch.spans[segs[best].span].name;
      rc.type = segs[best].type;
      rc.inferred = segs[best].inferred;
      rc.remote = segs[best].inferred;
      double total = v.response_time();
      rc.coverage = total > 0 ? (segs[best].end - segs[best].start) / total : 0;
      out.push_back(rc);
    }
  } else {
    const bool fault = e.rc_kind == "fault";
    auto flagged = [&](const SegmentInfo& s) { return fault ? s.fault : (s.error || s.throttle); };
    for (size_t k = 0; k < segs.size(); ++k) {
      if (!flagged(segs[k])) continue;
      bool child_flagged = false;
      for (int child : segs[k].child_segments) child_flagged |= flagged(segs[child]);
      if (child_flagged) continue;
      std::vector<size_t> spans =
          segs[k].inferred ? std::vector<size_t>{segs[k].span} : segs[k].spans;
      if (e.rc_entity == "exception") {
        auto types = ExceptionMessages(v, spans, attr::kExceptionType);
        auto messages = ExceptionMessages(v, spans, attr::kExceptionMessage);
        for (size_t x = 0; x < types.size(); ++x) {
          RootCause rc;
          rc.segment = static_cast<int>(k);
          rc.name = types[x];
          if (x < messages.size()) rc.messages.push_back(messages[x]);
          rc.remote = segs[k].inferred;
          out.push_back(rc);
        }
        continue;
      }
      RootCause rc;
      rc.segment = static_cast<int>(k);
      rc.name = segs[k].name;
      rc.type = segs[k].type;
      rc.inferred = rc.remote = segs[k].inferred;
      if (e.rc_entity == "entity") {
        // The deepest span of the segment with an error status.
        for (size_t i : spans) {
          if (batch.spans[i].status_code == model::StatusCode::kError)
            rc.name = batch.spans[i].name;
        }
      }
      rc.messages = ExceptionMessages(v, spans, attr::kExceptionMessage);
      out.push_back(rc);
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].index = i;
    out[i].count = out.size();
  }
  return out;
}

bool Eval(const Expr& e, const Ctx& c) {
  switch (e.kind) {
    case ExprKind::kAnd:
      return Eval(*e.left, c) && Eval(*e.right, c);
    case ExprKind::kOr:
      return Eval(*e.left, c) || Eval(*e.right, c);
    case ExprKind::kNot:
      return !Eval(*e.left, c);
    case ExprKind::kKeyword:
      return EvalKeyword(e, c);
    case ExprKind::kService: {
      const auto& segs = c.v.segments();
      for (size_t k = 0; k < segs.size(); ++k) {
        if (!SelectorMatches(e.a, c.v, static_cast<int>(k))) continue;
        if (!e.left) return true;
        Ctx inner{c.v, c.groups, static_cast<int>(k), nullptr, c.depth};
        if (Eval(*e.left, inner)) return true;
      }
      return false;
    }
    case ExprKind::kEdge: {
      const auto& segs = c.v.segments();
      for (size_t k = 0; k < segs.size(); ++k) {
        int parent = segs[k].parent_segment;
        if (parent < 0) continue;
        if (!SelectorMatches(e.a, c.v, parent) || !SelectorMatches(e.b, c.v, static_cast<int>(k))) {
          continue;
        }
        if (!e.left) return true;
        Ctx inner{c.v, c.groups, static_cast<int>(k), nullptr, c.depth};
        if (Eval(*e.left, inner)) return true;
      }
      return false;
    }
    case ExprKind::kRootCause: {
      for (const RootCause& rc : RootCauses(e, c.v)) {
        if (!e.left) return true;
        Ctx inner{c.v, c.groups, rc.segment, &rc, c.depth};
        if (Eval(*e.left, inner)) return true;
      }
      return false;
    }
    case ExprKind::kRootCauseJson:
      return false;  // documented limitation: JSON root-cause matching is not evaluated
  }
  return false;
}

void CollectServices(const Expr* e, std::vector<std::string>* out) {
  if (e == nullptr) return;
  for (const Selector* sel : {&e->a, &e->b}) {
    if (!sel->any && sel->name && (e->kind == ExprKind::kService || e->kind == ExprKind::kEdge)) {
      out->push_back(*sel->name);
    }
  }
  CollectServices(e->left.get(), out);
  CollectServices(e->right.get(), out);
}

}  // namespace

Result<Filter> Filter::Parse(std::string_view text) {
  if (text.size() > kMaxFilterBytes) {
    return Status::InvalidArgument("the filter expression is " + std::to_string(text.size()) +
                                   " bytes; the limit is " + std::to_string(kMaxFilterBytes) +
                                   " bytes: shorten it, or save parts as groups and use "
                                   "group.name = \"...\"");
  }
  Filter filter;
  filter.text_ = std::string(text);
  ARIADNE_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(text));
  if (tokens.size() == 1) return filter;  // only kEnd: matches everything
  Parser parser(std::move(tokens));
  ARIADNE_ASSIGN_OR_RETURN(filter.root_, parser.ParseAll());
  return filter;
}

bool Filter::Matches(const TraceView& trace, const GroupResolver* groups) const {
  if (!root_) return true;
  thread_local int depth = 0;
  if (depth > 4) return false;  // group.name cycles
  ++depth;
  Ctx ctx{trace, groups, -1, nullptr, depth};
  bool result = Eval(*root_, ctx);
  --depth;
  return result;
}

std::vector<std::string> Filter::ReferencedServices() const {
  std::vector<std::string> out;
  CollectServices(root_.get(), &out);
  return out;
}

}  // namespace ariadne::query::xray_filter
