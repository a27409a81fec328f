"""Translate expression trees to C.

The language's integers are exact (Python computes them unbounded); C has
64 bits. Every sub-expression is computed as `int64_t`, except values whose
range needs all 64 unsigned bits (a u64 field, a 64-bit `~`), which stay
`uint64_t` for the operations that are exact on them (`&`, `|`, `^`, `>>`,
comparisons). Where the static range (`value_range`) cannot rule out a
result outside `int64_t`, a negative shift count, a count above 63 or a
division by zero, the operation goes through a checked helper of
`vfg_runtime.h` that sets the caller's `bad` flag instead of invoking
undefined behaviour; the caller then reports "cannot be evaluated", as the
Python does when its arithmetic raises. Everything provably in range is
plain C, so the common expressions read as they were written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vfiogen.backends.c.naming import ident
from vfiogen.ir.evaluate import Range, value_range
from vfiogen.ir.expr import BinaryOp, BoolLit, Conditional, Expr, IntLit, Ref, Unary, UnaryOp
from vfiogen.ir.nodes import BitField, EnumValue, Param, Register, ScalarType, StateField
from vfiogen.ir.symbols import SectionSymbols, SymbolKind

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)

_COMPARE = {BinaryOp.LT: "<", BinaryOp.LE: "<=", BinaryOp.GT: ">", BinaryOp.GE: ">=", BinaryOp.EQ: "==",
            BinaryOp.NE: "!="}
_CHECKED = {BinaryOp.ADD: "vfg_add", BinaryOp.SUB: "vfg_sub", BinaryOp.MUL: "vfg_mul", BinaryOp.DIV: "vfg_div",
            BinaryOp.MOD: "vfg_mod", BinaryOp.SHL: "vfg_shl", BinaryOp.SHR: "vfg_shr"}


@dataclass(frozen=True)
class CValue:
    text: str
    unsigned: bool
    """True: the text is a `uint64_t` (a value that may exceed INT64_MAX); else an `int64_t` (or 0/1 int)."""


class CExpr:
    """Renders expressions of one section.

    Args:
        table: the section's symbols.
        field: the C lvalue of a top-level register or state field, e.g. `lambda n: f"s->{n}"`.
        params: the C expression of the params struct pointer.
    """

    def __init__(self, table: SectionSymbols, field: Callable[[str], str], params: str = "p") -> None:
        self.table = table
        self.field = field
        self.params = params
        self.checked = False
        """Set once a rendered expression used a checked helper (so the caller must test `bad`)."""

    def __call__(self, expr: Expr) -> str:
        """The expression as a signed C value (conditions use it as a truth value)."""
        self.checked = False
        return self.signed(self.render(expr))

    def signed(self, value: CValue) -> str:
        if not value.unsigned:
            return value.text
        self.checked = True
        return f"vfg_to_s64({value.text}, &bad)"

    def render(self, expr: Expr) -> CValue:
        if isinstance(expr, IntLit):
            if expr.value > INT64_MAX:
                return CValue(f"UINT64_C(0x{expr.value:x})", True)
            if expr.value > 0x7fffffff:
                return CValue(f"INT64_C(0x{expr.value:x})", False)
            return CValue(str(expr.value) if expr.value < 10 else f"0x{expr.value:x}", False)
        if isinstance(expr, BoolLit):
            return CValue("1" if expr.value else "0", False)
        if isinstance(expr, Ref):
            return self.ref(expr)
        if isinstance(expr, Unary):
            return self.unary(expr)
        if isinstance(expr, Conditional):
            test = self.signed(self.render(expr.test))
            when_true, when_false = self.render(expr.if_true), self.render(expr.if_false)
            if when_true.unsigned and when_false.unsigned:
                return CValue(f"({test} ? {when_true.text} : {when_false.text})", True)
            return CValue(f"({test} ? {self.signed(when_true)} : {self.signed(when_false)})", False)
        return self.binary(expr)

    def unary(self, expr: Unary) -> CValue:
        operand = self.render(expr.operand)
        if expr.op is UnaryOp.LOG_NOT:
            return CValue(f"(!{self.signed(operand)})", False)
        if expr.op is UnaryOp.NEG:
            bound = self.range(expr.operand)
            if bound is not None and bound[0] > INT64_MIN and not operand.unsigned:
                return CValue(f"(-{operand.text})", False)
            self.checked = True
            return CValue(f"vfg_neg({self.signed(operand)}, &bad)", False)
        assert expr.width is not None, "typecheck annotates every '~'"
        inverted = f"~(uint64_t){operand.text}"
        if expr.width == 64:
            return CValue(f"({inverted})", True)
        return CValue(f"(int64_t)({inverted} & UINT64_C(0x{(1 << expr.width) - 1:x}))", False)

    def binary(self, expr: Expr) -> CValue:
        assert not isinstance(expr, (IntLit, BoolLit, Ref, Unary, Conditional))
        op = expr.op
        left, right = self.render(expr.left), self.render(expr.right)
        if op in (BinaryOp.LOG_AND, BinaryOp.LOG_OR):
            return CValue(f"({self.signed(left)} {op.value} {self.signed(right)})", False)
        if op in _COMPARE:
            if left.unsigned == right.unsigned:
                return CValue(f"({left.text} {op.value} {right.text})", False)
            if left.unsigned:
                return CValue(f"(vfg_cmp_su({right.text}, {left.text}) {_mirror(op)} 0)", False)
            return CValue(f"(vfg_cmp_su({left.text}, {right.text}) {op.value} 0)", False)
        if op is BinaryOp.BIT_AND and (left.unsigned or right.unsigned):
            # Exact: a negative operand's two's-complement bits are what Python's `&` uses.
            return CValue(f"((uint64_t){left.text} & (uint64_t){right.text})", True)
        if op in (BinaryOp.BIT_AND, BinaryOp.BIT_OR, BinaryOp.BIT_XOR):
            if left.unsigned and right.unsigned:
                return CValue(f"({left.text} {op.value} {right.text})", True)
            return CValue(f"({self.signed(left)} {op.value} {self.signed(right)})", False)
        if op is BinaryOp.SHR and left.unsigned:
            if self.count_in_range(expr.right):
                return CValue(f"({left.text} >> {self.signed(right)})", True)
            self.checked = True
            return CValue(f"vfg_shr_u({left.text}, {self.signed(right)}, &bad)", True)
        a, b = self.signed(left), self.signed(right)
        if self.plain(expr):
            if isinstance(expr.left, (IntLit, BoolLit)) and isinstance(expr.right, (IntLit, BoolLit)):
                a = f"INT64_C({a})"  # two literals would otherwise compute in int
            return CValue(f"({a} {op.value} {b})", False)
        self.checked = True
        return CValue(f"{_CHECKED[op]}({a}, {b}, &bad)", False)

    def plain(self, expr: Expr) -> bool:
        """True when C's own operator on int64_t gives the exact result for every value the operands can hold."""
        assert not isinstance(expr, (IntLit, BoolLit, Ref, Unary, Conditional))
        op = expr.op
        left, right = self.range(expr.left), self.range(expr.right)
        if left is None or right is None:
            return False
        if op in (BinaryOp.SHL, BinaryOp.SHR):
            if not (0 <= right[0] and right[1] <= 63 and left[0] >= 0):
                return False
        if op in (BinaryOp.DIV, BinaryOp.MOD):
            if right[0] <= 0 <= right[1] or (left[0] == INT64_MIN and right[0] <= -1 <= right[1]):
                return False
        result = self.range(expr)
        return result is not None and INT64_MIN <= result[0] and result[1] <= INT64_MAX

    def count_in_range(self, count: Expr) -> bool:
        bound = self.range(count)
        return bound is not None and 0 <= bound[0] and bound[1] <= 63

    def range(self, expr: Expr) -> Range | None:
        return value_range(expr, self._ref_range)

    def ref(self, ref: Ref) -> CValue:
        symbol = self.table.lookup(ref.path)
        assert symbol is not None, "resolve guarantees every reference"
        node = symbol.node
        if symbol.kind is SymbolKind.PARAM:
            assert isinstance(node, Param)
            text = f"{self.params}->{ident(node.name)}"
            if node.kind.value == "u64":
                return CValue(text, True)
            return CValue(f"(int64_t){text}", False)
        if symbol.kind is SymbolKind.ENUM_VALUE:
            assert isinstance(node, EnumValue)
            return self.render(IntLit(value=node.value, span=ref.span))
        if isinstance(node, BitField):
            raw = self.field(ref.path[0])
            if node.width == 64:
                return CValue(raw, True)
            shifted = f"({raw} >> {node.lo})" if node.lo else raw
            return CValue(f"(int64_t)({shifted} & 0x{(1 << node.width) - 1:x}u)", False)
        if isinstance(node, Register):
            if node.width == 64:
                return CValue(self.field(node.name), True)
            return CValue(f"(int64_t){self.field(node.name)}", False)
        assert isinstance(node, StateField) and isinstance(node.type, ScalarType)
        if node.type.kind.value == "u64":
            return CValue(self.field(node.name), True)
        return CValue(f"(int64_t){self.field(node.name)}", False)

    def _ref_range(self, ref: Ref) -> Range | None:
        return self.table.ref_range(ref)


def _mirror(op: BinaryOp) -> str:
    """The comparison with its operands swapped: `a < b` is `b > a`."""
    return {BinaryOp.LT: ">", BinaryOp.LE: ">=", BinaryOp.GT: "<", BinaryOp.GE: "<=", BinaryOp.EQ: "==",
            BinaryOp.NE: "!="}[op]
