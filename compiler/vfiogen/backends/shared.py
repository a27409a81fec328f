"""What both back ends derive the same way from a section: capture order, descriptor masks, value ranges."""

from __future__ import annotations

from vfiogen.ir.evaluate import Range
from vfiogen.ir.expr import Expr, Ref, refs
from vfiogen.ir.nodes import EnumValue, Param, Register, ScalarType, Section, StateField
from vfiogen.ir.symbols import SectionSymbols
from vfiogen.ir.types import Access


def capture_order(section: Section, table: SectionSymbols) -> list[Register]:
    """Registers in declaration order, except that one is read after those its offset or presence reads."""
    registers = [r for r in section.registers if r.versioning.carried_by(section.version)]
    names = {r.name for r in registers}
    depends: dict[str, set[str]] = {}
    for register in registers:
        exprs: list[Expr] = [register.offset] + ([register.present] if register.present is not None else [])
        depends[register.name] = {table.symbols[ref.dotted].owner for expr in exprs for ref in refs(expr)
                                  if ref.dotted in table.symbols} & names - {register.name}
    ordered: list[Register] = []
    done: set[str] = set()
    while len(ordered) < len(registers):
        # typecheck rejects offset/presence cycles, so some register is always ready
        ready = next(r for r in registers if r.name not in done and depends[r.name] <= done)
        ordered.append(ready)
        done.add(ready.name)
    return ordered


def descriptor_mask(source_fields: tuple[str, ...], register: Register) -> int:
    """The bits of `register` a derived descriptor field takes: the named fields, or every read-only bit."""
    if source_fields:
        return sum(f.mask for f in register.fields if f.name in source_fields)
    if register.fields:
        return sum(f.mask for f in register.fields if f.access in (Access.RO, Access.HWINIT))
    return (1 << register.width) - 1 if register.access in (Access.RO, Access.HWINIT) else 0


def ref_range(table: SectionSymbols, ref: Ref) -> Range | None:
    """The values a reference can hold, for `value_range` (None when unbounded or unreadable)."""
    symbol = table.lookup(ref.path)
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
