"""Parse expression text into the `ir.expr` AST, with a span per node.

Grammar (C precedence, loosest first; binary operators associate left):

    expr    := logic_or ('?' expr ':' expr)?
    logic_or .. multiplicative : binary levels of `ir.expr.PRECEDENCE`
    unary   := ('-' | '~' | '!') unary | primary
    primary := INT | 'true' | 'false' | NAME ('.' NAME)* | '(' expr ')'

Integers are decimal (no leading zeros), `0x…` or `0b…`. A NAME may hold
`{counter}` parts (`ctrl{n}`), which `lower` fills in inside a `repeat`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vfiogen.ir.expr import (
    PRECEDENCE,
    Binary,
    BinaryOp,
    BoolLit,
    Conditional,
    Expr,
    IntLit,
    Ref,
    Unary,
    UnaryOp,
)
from vfiogen.source import Span

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<int>0x[0-9a-fA-F]+|0b[01]+|[0-9]+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\{[a-z][a-z0-9_]*\}[A-Za-z0-9_]*)*)
  | (?P<op>\|\||&&|<<|>>|<=|>=|==|!=|[-+*/%<>&|^~!?:().])
""", re.VERBOSE)

MAX_NESTING = 16
"""How deep parentheses and `?:` may nest (each level is a dozen frames of the recursive descent below)."""

MAX_TOKENS = 256
"""The longest expression: the longest shipped one has about 60 tokens. The bound keeps every expression tree
shallow enough for the passes that walk it recursively."""

_BINARY = {op.value: op for op in BinaryOp}
_UNARY = {op.value: op for op in UnaryOp}
_LEVEL = {text: PRECEDENCE[op] for text, op in _BINARY.items()}


class ExprSyntaxError(Exception):
    """A malformed expression; `start`/`end` are 0-based offsets into the text."""

    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    for match in _TOKEN.finditer(text):  # no pattern matches empty text, so a gap is a character none matched
        start = match.start()
        if start != position:
            break
        position = match.end()
        kind = match.lastgroup or ""
        if kind != "space":
            if len(tokens) == MAX_TOKENS:
                raise ExprSyntaxError(f"more than {MAX_TOKENS} tokens; split it (one constraint per condition)",
                                      start, position)
            tokens.append(_Token(kind, match.group(), start, position))
    if position < len(text):
        raise ExprSyntaxError(f"unexpected character '{text[position]}'", position, position + 1)
    tokens.append(_Token("end", "", len(text), len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, base: Span, offset: int) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.base = base
        self.offset = offset
        self.nesting = 0

    def span(self, start: int, end: int) -> Span:
        return self.base.sub(start + self.offset, end + self.offset)

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> _Token:
        if self.token.text != text:
            found = f"'{self.token.text}'" if self.token.kind != "end" else "end of expression"
            raise ExprSyntaxError(f"expected '{text}', found {found}", self.token.start,
                                  max(self.token.end, self.token.start + 1))
        return self.advance()

    def parse(self) -> Expr:
        expr = self.conditional()
        if self.token.kind != "end":
            raise ExprSyntaxError(f"unexpected '{self.token.text}' after a complete expression",
                                  self.token.start, self.token.end)
        return expr

    def start_of(self, expr: Expr) -> int:
        return expr.span.column - self.base.column - self.offset if not expr.span.synthetic else 0

    def conditional(self) -> Expr:
        start = self.token.start
        test = self.binary(1)
        if self.token.text != "?":
            return test
        question = self.advance()
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise ExprSyntaxError(f"'?:' and parentheses nest deeper than {MAX_NESTING} levels", question.start,
                                  question.end)
        if_true = self.conditional()
        self.expect(":")
        if_false = self.conditional()
        self.nesting -= 1
        return Conditional(test=test, if_true=if_true, if_false=if_false,
                           span=self.span(start, self.tokens[self.index - 1].end))

    def binary(self, level: int) -> Expr:
        """Binary operators of precedence `level` or tighter, each left-associative; by precedence climbing, so
        an operand costs one call, not one per precedence level."""
        start = self.token.start
        left = self.unary()
        while True:
            token = self.token
            found = _LEVEL.get(token.text) if token.kind == "op" else None
            if found is None or found < level:
                return left
            self.advance()
            right = self.binary(found + 1)
            left = Binary(op=_BINARY[token.text], left=left, right=right,
                          span=self.span(start, self.tokens[self.index - 1].end))

    def unary(self) -> Expr:
        token = self.token
        if token.kind == "op" and token.text in _UNARY:
            self.advance()
            operand = self.unary()
            return Unary(op=_UNARY[token.text], operand=operand,
                         span=self.span(token.start, self.tokens[self.index - 1].end))
        return self.primary()

    def primary(self) -> Expr:
        token = self.advance()
        if token.kind == "int":
            return IntLit(value=_parse_int(token), span=self.span(token.start, token.end))
        if token.kind == "name":
            if token.text in ("true", "false"):
                return BoolLit(value=token.text == "true", span=self.span(token.start, token.end))
            path = [token.text]
            end = token.end
            while self.token.text == ".":
                self.advance()
                part = self.advance()
                if part.kind != "name":
                    raise ExprSyntaxError("expected a name after '.'", part.start, max(part.end, part.start + 1))
                path.append(part.text)
                end = part.end
            return Ref(path=tuple(path), span=self.span(token.start, end))
        if token.text == "(":
            self.nesting += 1
            if self.nesting > MAX_NESTING:
                raise ExprSyntaxError(f"'?:' and parentheses nest deeper than {MAX_NESTING} levels", token.start,
                                      token.end)
            inner = self.conditional()
            self.expect(")")
            self.nesting -= 1
            return inner
        found = f"'{token.text}'" if token.kind != "end" else "end of expression"
        raise ExprSyntaxError(f"expected a number, a name or '(', found {found}",
                              token.start, max(token.end, token.start + 1))


def _parse_int(token: _Token) -> int:
    text = token.text
    if len(text) > 66:  # 0b and 64 binary digits; Python refuses to convert over 4300 decimal digits at all
        raise ExprSyntaxError(f"an integer of {len(text)} characters does not fit 64 bits", token.start, token.end)
    if text.startswith("0x"):
        return int(text, 16)
    if text.startswith("0b"):
        return int(text[2:], 2)
    if len(text) > 1 and text.startswith("0"):
        raise ExprSyntaxError(f"'{text}' has a leading zero; write decimal, 0x or 0b",
                              token.start, token.end)
    return int(text)


def parse_expr(text: str, span: Span, offset: int = 0) -> Expr:
    """Parse `text`, whose first character sits at `offset` columns into `span`.

    Raises:
        ExprSyntaxError: on malformed input.
    """
    if not text.strip():
        raise ExprSyntaxError("empty expression", 0, 1)
    return _Parser(text, span, offset).parse()
