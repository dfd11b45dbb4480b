// Moe.g4 - the grammar of the moec deployment language.
//
// One generic, block-structured grammar: `kind name? { key = value; ... }`. The schema of each block (which
// keys it takes, their types and units) is checked by Sema, not here, so that a misspelt key is a precise
// diagnostic with a suggestion instead of a parse error. Units are parsed as a suffix of a number literal and
// interpreted by Sema as well.
grammar Moe;

file        : topItem* EOF ;
topItem     : importDecl | block ;
importDecl  : IMPORT STRING SEMI ;

// `model V3 from "config.json";` reads the definition from a file (a Hugging Face config); a body may follow to
// override or add keys.
block       : kind=IDENT name=IDENT? (FROM path=STRING)? (LBRACE stmt* RBRACE | end=SEMI) ;
stmt        : block                                    # blockStmt
            | key=IDENT ASSIGN expr SEMI               # assignStmt
            | REQUIRE expr SEMI                        # requireStmt
            ;

expr        : op=(MINUS | NOT) expr                    # unaryExpr
            | lhs=expr op=(STAR | SLASH) rhs=expr      # binaryExpr
            | lhs=expr op=(PLUS | MINUS) rhs=expr      # binaryExpr
            | lhs=expr op=(LT | LE | GT | GE) rhs=expr # binaryExpr
            | lhs=expr op=(EQ | NE) rhs=expr           # binaryExpr
            | lhs=expr op=AND rhs=expr                 # binaryExpr
            | lhs=expr op=OR rhs=expr                  # binaryExpr
            | NUMBER unit?                             # numberExpr
            | STRING                                   # stringExpr
            | IDENT                                    # identExpr
            | LPAREN expr RPAREN                       # parenExpr
            | LBRACK (expr (COMMA expr)* COMMA?)? RBRACK  # listExpr
            ;

// A unit directly follows its number: `64 GB`, `1.8 TB/s`, `400 Gb/s`, `60%`.
unit        : PERCENT | IDENT (SLASH IDENT)? ;

IMPORT   : 'import' ;
FROM     : 'from' ;
REQUIRE  : 'require' ;
LBRACE   : '{' ;
RBRACE   : '}' ;
LPAREN   : '(' ;
RPAREN   : ')' ;
LBRACK   : '[' ;
RBRACK   : ']' ;
SEMI     : ';' ;
COMMA    : ',' ;
ASSIGN   : '=' ;
PLUS     : '+' ;
MINUS    : '-' ;
STAR     : '*' ;
SLASH    : '/' ;
PERCENT  : '%' ;
LE       : '<=' ;
GE       : '>=' ;
LT       : '<' ;
GT       : '>' ;
EQ       : '==' ;
NE       : '!=' ;
AND      : '&&' ;
OR       : '||' ;
NOT      : '!' ;

NUMBER   : DIGITS ('.' DIGITS)? ([eE] [+-]? DIGITS)? ;
fragment DIGITS : [0-9] ('_'? [0-9])* ;
IDENT    : [a-zA-Z_] [a-zA-Z_0-9]* ;
STRING   : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;

LINE_COMMENT  : '//' ~[\r\n]* -> skip ;
BLOCK_COMMENT : '/*' .*? '*/' -> skip ;
WS            : [ \t\r\n\f]+ -> skip ;

// Anything else becomes one token that the parser rejects with a located error, rather than a lexer error
// whose recovery would drop characters silently.
INVALID  : . ;
