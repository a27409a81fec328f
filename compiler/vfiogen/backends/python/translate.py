"""Translate expression trees to Python source.

References are resolved against the section's symbol table and rendered
through a caller-supplied prefix, so one expression reads `s.control.addr64`
in `save` and `f_control.addr64` in `load` (where the state does not exist
yet). `~` is masked to its width; `/` and `%` truncate like C unless both
operands are known to be non-negative, where Python's `//` and `%` agree;
`<<` and `>>` go through `_shl`/`_shr`, which refuse a count outside 0..63
as C's 64-bit values do, unless the count is known to be in that range.
"""

from __future__ import annotations

from collections.abc import Callable

from vfiogen.backends.python import naming
from vfiogen.ir.evaluate import Range, value_range
from vfiogen.ir.expr import BinaryOp, BoolLit, Conditional, Expr, IntLit, Ref, Unary, UnaryOp
from vfiogen.ir.nodes import BitField, EnumValue, Register
from vfiogen.ir.symbols import SectionSymbols, SymbolKind

_PY_OPS = {BinaryOp.LOG_AND: "and", BinaryOp.LOG_OR: "or"}


class PythonExpr:
    """Renders expressions of one section.

    Args:
        table: the section's symbols.
        field: how a top-level field is read, e.g. `lambda n: f"s.{n}"`.
    """

    def __init__(self, table: SectionSymbols, field: Callable[[str], str]) -> None:
        self.table = table
        self.field = field
        self.truncates = False
        """Set once an expression needed the C-like `_tdiv`/`_tmod` helpers."""
        self.shifts: set[str] = set()
        """The checked-shift helpers (`_shl`, `_shr`) the rendered expressions call."""

    def __call__(self, expr: Expr) -> str:
        return self.render(expr)

    def render(self, expr: Expr) -> str:
        if isinstance(expr, IntLit):
            return str(expr.value) if expr.value < 10 else f"0x{expr.value:x}"
        if isinstance(expr, BoolLit):
            return "True" if expr.value else "False"
        if isinstance(expr, Ref):
            return self.ref(expr)
        if isinstance(expr, Unary):
            inner = self.render(expr.operand)
            if expr.op is UnaryOp.LOG_NOT:
                return f"(not {inner})"
            if expr.op is UnaryOp.NEG:
                return f"(-{inner})"
            assert expr.width is not None, "typecheck annotates every '~'"
            return f"(~{inner} & 0x{(1 << expr.width) - 1:x})"
        if isinstance(expr, Conditional):
            return f"({self.render(expr.if_true)} if {self.render(expr.test)} else {self.render(expr.if_false)})"
        left, right = self.render(expr.left), self.render(expr.right)
        if expr.op in (BinaryOp.DIV, BinaryOp.MOD) and not (self._non_negative(expr.left)
                                                            and self._non_negative(expr.right)):
            helper = "_tdiv" if expr.op is BinaryOp.DIV else "_tmod"
            self.truncates = True
            return f"{helper}({left}, {right})"
        if expr.op in (BinaryOp.SHL, BinaryOp.SHR) and not self._shift_count_fits(expr.right):
            # As in C (and `evaluate`), values are 64-bit and a count outside 0..63 is an error; Python
            # would shift by any non-negative count, so unless the count is provably in range a helper
            # checks it (ValueError, which loaders and checks report as "cannot be evaluated").
            helper = "_shl" if expr.op is BinaryOp.SHL else "_shr"
            self.shifts.add(helper)
            return f"{helper}({left}, {right})"
        op = {BinaryOp.DIV: "//"}.get(expr.op, _PY_OPS.get(expr.op, expr.op.value))
        return f"({left} {op} {right})"

    def ref(self, ref: Ref) -> str:
        symbol = self.table.lookup(ref.path)
        assert symbol is not None, "resolve guarantees every reference"
        node = symbol.node
        if symbol.kind is SymbolKind.PARAM:
            return f"p.{naming.attr(ref.path[1])}"
        if symbol.kind is SymbolKind.ENUM_VALUE:
            assert isinstance(node, EnumValue)
            return str(node.value)  # the number: IntEnum members compare equal to it, and it costs no lookup
        if isinstance(node, BitField):
            # Straight from the register's integer: no property call, no enum object built.
            raw = naming.raw(self.field(ref.path[0]))
            if node.hi == node.lo and node.enum is None:
                return f"({raw} & 0x{1 << node.lo:x} != 0)"
            shifted = f"({raw} >> {node.lo})" if node.lo else raw
            return f"({shifted} & 0x{(1 << (node.hi - node.lo + 1)) - 1:x})"
        if isinstance(node, Register) and node.fields:
            return naming.raw(self.field(node.name))
        return self.field(ref.path[0])

    def _shift_count_fits(self, expr: Expr) -> bool:
        bound = value_range(expr, self._range)
        return bound is not None and 0 <= bound[0] and bound[1] <= 63

    def _non_negative(self, expr: Expr) -> bool:
        bound = value_range(expr, self._range)
        return bound is not None and bound[0] >= 0

    def _range(self, ref: Ref) -> Range | None:
        return self.table.ref_range(ref)
