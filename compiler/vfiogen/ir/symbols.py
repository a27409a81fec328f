"""Per-section symbol tables, built once by `passes.resolve` and only read after.

A section has one namespace for registers, state fields and descriptor fields
(so an expression's `name` is never ambiguous), one for enums, and one for
params (written `params.NAME` in expressions).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vfiogen.ir.evaluate import Range
from vfiogen.ir.expr import Ref
from vfiogen.ir.nodes import (
    BitField,
    DescriptorField,
    EnumType,
    EnumValue,
    Param,
    Register,
    ScalarType,
    StateField,
)
from vfiogen.source import Span


class SymbolKind(enum.Enum):
    REGISTER = "register"
    BIT_FIELD = "bit field"
    STATE = "state field"
    DESCRIPTOR = "descriptor field"
    PARAM = "param"
    ENUM_VALUE = "enum value"


@dataclass(frozen=True, slots=True)
class ExprType:
    """The type of an expression: a boolean, or an integer of known or unknown width."""

    is_bool: bool
    width: int | None = None
    """Bits of an integer; None for literals and arithmetic results (unbounded)."""
    signed: bool = False
    invalid: bool = False
    """The expression had an error already reported; its users report nothing more."""

    def __str__(self) -> str:
        if self.is_bool:
            return "bool"
        if self.width is None:
            return "integer"
        return f"{'s' if self.signed else 'u'}{self.width}"


BOOL = ExprType(is_bool=True)
INTEGER = ExprType(is_bool=False)
INVALID = ExprType(is_bool=False, invalid=True)


@dataclass(frozen=True, slots=True)
class Symbol:
    kind: SymbolKind
    name: str
    """Qualified within the section: 'control', 'control.addr64', 'params.max_vectors'."""
    owner: str
    """The top-level field this symbol belongs to (the register, for a bit field)."""
    type: ExprType | None
    """Type when read by an expression; None for things expressions cannot read."""
    span: Span
    node: Register | BitField | StateField | DescriptorField | Param | EnumValue


@dataclass(frozen=True, slots=True)
class SectionSymbols:
    section: str
    symbols: dict[str, Symbol]
    enums: dict[str, EnumType]
    wire_order: dict[str, int]
    """Position of each register and state field on the wire (declaration order)."""

    def lookup(self, path: tuple[str, ...]) -> Symbol | None:
        return self.symbols.get(".".join(path))

    def ref_range(self, ref: Ref) -> Range | None:
        """The values a reference can hold (None when unbounded or unreadable), for `evaluate.value_range`."""
        symbol = self.lookup(ref.path)
        if symbol is None or symbol.type is None:
            return None
        if symbol.type.is_bool:
            return 0, 1
        node = symbol.node
        if isinstance(node, EnumValue):
            return node.value, node.value
        if isinstance(node, StateField) and isinstance(node.type, ScalarType):
            return node.type.kind.min_value, node.type.kind.max_value
        if isinstance(node, Param):
            return node.kind.min_value, node.kind.max_value
        width = symbol.type.width
        return (0, (1 << width) - 1) if width is not None and not symbol.type.signed else None
