"""SPDX licence expressions: the licence line of the generated code.

The generated code is the user's, so its licence is a build option (an
`options:` file in the schema tree, or `vfiogen build --license`), not the
compiler's own Apache-2.0. This module holds the default and a syntax check,
shared by the meta-schema pass (a located VG0202) and the CLI (a usage error).

The check is of form, not of the SPDX licence list: identifiers are letters,
digits, '.' and '-' (with an optional trailing '+', as in `GPL-2.0+`), joined
by the upper-case operators AND, OR and WITH, with parentheses. A
`LicenseRef-...` identifier passes, so private licences still work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from vfiogen import DEFAULT_LICENSE as DEFAULT_LICENSE  # re-exported; defined with the package

OPERATORS = ("AND", "OR", "WITH")
_TOKEN = re.compile(r"\s*(?:(?P<paren>[()])|(?P<word>[A-Za-z0-9.\-]+\+?)|(?P<bad>\S))")
_MAX_LENGTH = 200


@dataclass(frozen=True, slots=True)
class SpdxError:
    """Why a string is not an SPDX expression, and where (0-based character offsets into it)."""

    message: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int


def _tokens(text: str) -> list[_Token] | SpdxError:
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        match = _TOKEN.match(text, index)
        if match is None:  # only trailing white space is left
            break
        kind = match.lastgroup
        start, end = match.start(kind or 0), match.end(kind or 0)
        if kind == "bad":
            return SpdxError(f"'{match.group('bad')}' is not allowed "
                             "(identifiers are letters, digits, '.', '-' and a trailing '+')", start, end)
        tokens.append(_Token(text[start:end], start, end))
        index = match.end()
    return tokens


class _Parser:
    """Recursive descent over `or := and (OR and)*`, `and := with (AND with)*`, `with := atom (WITH id)?`."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def fail(self, message: str) -> SpdxError:
        token = self.peek()
        if token is None:
            end = len(self.text.rstrip())
            return SpdxError(message + ", found the end", end, end)
        if token.text.upper() in OPERATORS and token.text not in OPERATORS:
            message = f"operators are upper case: write '{token.text.upper()}', not '{token.text}'"
            return SpdxError(message, token.start, token.end)
        return SpdxError(f"{message}, found '{token.text}'", token.start, token.end)

    def expression(self) -> SpdxError | None:
        return self.binary("OR", lambda: self.binary("AND", self.with_term))

    def binary(self, operator: str, operand: Callable[[], SpdxError | None]) -> SpdxError | None:
        error = operand()
        while error is None and (token := self.peek()) is not None and token.text == operator:
            self.index += 1
            error = operand()
        return error

    def with_term(self) -> SpdxError | None:
        error = self.atom()
        token = self.peek()
        if error is None and token is not None and token.text == "WITH":
            self.index += 1
            exception = self.peek()
            if exception is None or not self.is_identifier(exception) or exception.text.endswith("+"):
                return self.fail("expected an exception identifier after WITH")
            self.index += 1
        return error

    def atom(self) -> SpdxError | None:
        token = self.peek()
        if token is not None and token.text == "(":
            self.index += 1
            error = self.expression()
            if error is not None:
                return error
            closing = self.peek()
            if closing is None or closing.text != ")":
                return self.fail("expected ')'")
            self.index += 1
            return None
        if token is None or not self.is_identifier(token):
            return self.fail("expected a licence identifier")
        self.index += 1
        return None

    @staticmethod
    def is_identifier(token: _Token) -> bool:
        return token.text not in ("(", ")") and token.text not in OPERATORS


def check_expression(text: str) -> SpdxError | None:
    """None when `text` is a plausible SPDX licence expression, else what is wrong and where."""
    if len(text) > _MAX_LENGTH:
        return SpdxError(f"longer than {_MAX_LENGTH} characters", 0, len(text))
    if "\n" in text:
        return SpdxError("an SPDX expression is one line", text.index("\n"), text.index("\n") + 1)
    tokens = _tokens(text)
    if isinstance(tokens, SpdxError):
        return tokens
    parser = _Parser(text, tokens)
    error = parser.expression()
    if error is not None:
        return error
    extra = parser.peek()
    if extra is None:
        return None
    return parser.fail("expected AND, OR or WITH")
