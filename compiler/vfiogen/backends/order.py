"""Orders both back ends derive the same way from a section."""

from __future__ import annotations

from vfiogen.ir.expr import Expr, refs
from vfiogen.ir.nodes import Register, Section
from vfiogen.ir.symbols import SectionSymbols


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
