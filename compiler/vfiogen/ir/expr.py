"""Expression AST shared by lengths, presence, offsets, constraints and overrides.

The IR keeps the tree (not text) so each back end translates it to its own
language. Operators are a closed vocabulary; nothing is ever `eval`-ed.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Union

from vfiogen.source import Span


class UnaryOp(enum.Enum):
    NEG = "-"
    BIT_NOT = "~"
    LOG_NOT = "!"


class BinaryOp(enum.Enum):
    MUL = "*"
    DIV = "/"
    MOD = "%"
    ADD = "+"
    SUB = "-"
    SHL = "<<"
    SHR = ">>"
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="
    BIT_AND = "&"
    BIT_XOR = "^"
    BIT_OR = "|"
    LOG_AND = "&&"
    LOG_OR = "||"


ARITHMETIC = frozenset({BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MOD, BinaryOp.ADD, BinaryOp.SUB,
                        BinaryOp.SHL, BinaryOp.SHR})
BITWISE = frozenset({BinaryOp.BIT_AND, BinaryOp.BIT_XOR, BinaryOp.BIT_OR})
COMPARISON = frozenset({BinaryOp.LT, BinaryOp.LE, BinaryOp.GT, BinaryOp.GE, BinaryOp.EQ, BinaryOp.NE})
LOGICAL = frozenset({BinaryOp.LOG_AND, BinaryOp.LOG_OR})

# Binding strength, loosest first; all binary operators associate left.
PRECEDENCE: dict[BinaryOp, int] = {
    BinaryOp.LOG_OR: 1, BinaryOp.LOG_AND: 2, BinaryOp.BIT_OR: 3, BinaryOp.BIT_XOR: 4,
    BinaryOp.BIT_AND: 5, BinaryOp.EQ: 6, BinaryOp.NE: 6, BinaryOp.LT: 7, BinaryOp.LE: 7,
    BinaryOp.GT: 7, BinaryOp.GE: 7, BinaryOp.SHL: 8, BinaryOp.SHR: 8, BinaryOp.ADD: 9,
    BinaryOp.SUB: 9, BinaryOp.MUL: 10, BinaryOp.DIV: 10, BinaryOp.MOD: 10,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class IntLit:
    value: int
    """The literal's value; never negative (negation is a unary operator)."""
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class BoolLit:
    value: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ref:
    path: tuple[str, ...]
    """Dotted name as written: ('control', 'addr64'), ('params', 'max_vectors'), ('table_size',)."""
    span: Span = field(compare=False)

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unary:
    op: UnaryOp
    operand: Expr
    width: int | None = None
    """For `~`: the operand's width in bits, filled in by `passes.typecheck`."""
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Binary:
    op: BinaryOp
    left: Expr
    right: Expr
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Conditional:
    test: Expr
    if_true: Expr
    if_false: Expr
    span: Span = field(compare=False)


Expr = Union[IntLit, BoolLit, Ref, Unary, Binary, Conditional]


def refs(expr: Expr) -> list[Ref]:
    """Every reference in `expr`, left to right."""
    if isinstance(expr, Ref):
        return [expr]
    if isinstance(expr, Unary):
        return refs(expr.operand)
    if isinstance(expr, Binary):
        return refs(expr.left) + refs(expr.right)
    if isinstance(expr, Conditional):
        return refs(expr.test) + refs(expr.if_true) + refs(expr.if_false)
    return []


def map_refs(expr: Expr, fn: Callable[[Ref], Expr]) -> Expr:
    """`expr` with every reference replaced by `fn(ref)`."""
    if isinstance(expr, Ref):
        return fn(expr)
    if isinstance(expr, Unary):
        return dataclasses.replace(expr, operand=map_refs(expr.operand, fn))
    if isinstance(expr, Binary):
        return dataclasses.replace(expr, left=map_refs(expr.left, fn), right=map_refs(expr.right, fn))
    if isinstance(expr, Conditional):
        return dataclasses.replace(expr, test=map_refs(expr.test, fn), if_true=map_refs(expr.if_true, fn),
                                   if_false=map_refs(expr.if_false, fn))
    return expr


def to_text(expr: Expr) -> str:
    """Canonical, fully parenthesised text (for the lock and the docs)."""
    if isinstance(expr, IntLit):
        return str(expr.value) if expr.value < 10 else f"0x{expr.value:x}"
    if isinstance(expr, BoolLit):
        return "true" if expr.value else "false"
    if isinstance(expr, Ref):
        return expr.dotted
    if isinstance(expr, Unary):
        return f"{expr.op.value}{_wrap(expr.operand)}"
    if isinstance(expr, Binary):
        return f"{_wrap(expr.left)} {expr.op.value} {_wrap(expr.right)}"
    return f"{_wrap(expr.test)} ? {_wrap(expr.if_true)} : {_wrap(expr.if_false)}"


def _wrap(expr: Expr) -> str:
    text = to_text(expr)
    return f"({text})" if isinstance(expr, (Binary, Conditional)) else text
