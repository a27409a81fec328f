"""Canonical text dump of the IR (for `--dump-ir-after` and golden tests).

Spans are left out and expressions are printed as canonical text, so a dump
changes only when the meaning of the IR does.
"""

from __future__ import annotations

import dataclasses
import enum

from vfiogen.ir.expr import Binary, BoolLit, Conditional, IntLit, Ref, Unary, to_text

_EXPR_TYPES = (IntLit, BoolLit, Ref, Unary, Binary, Conditional)


def dump(node: object, indent: int = 0) -> str:
    """Render `node` (a dataclass tree) as indented text with one field per line."""
    kind = type(node)
    if kind is str:  # the commonest leaves first, by exact type (an IntEnum is an int, and is dumped by value)
        return repr(node)
    if kind is int:
        return _int(node)  # type: ignore[arg-type]
    pad = "  " * indent
    if kind in _EXPR_TYPES:
        return f"`{to_text(node)}`"  # type: ignore[arg-type]
    if isinstance(node, enum.Enum):
        return str(node.value)
    if isinstance(node, bool) or node is None:
        return str(node).lower() if node is not None else "none"
    if isinstance(node, int):
        return _int(node)
    if isinstance(node, str):
        return repr(node)
    if isinstance(node, (tuple, list)):
        if not node:
            return "[]"
        return "[\n" + "".join([f"{pad}  - {dump(item, indent + 2)}\n" for item in node]) + f"{pad}]"
    shown = _FIELDS.get(kind)
    if shown is None:
        if not dataclasses.is_dataclass(node) or isinstance(node, type):
            return repr(node)
        # locations (compare=False) are left out: a dump, and so a fingerprint, is blind to comments and layout
        shown = _FIELDS[kind] = tuple((item.name, item.default in (None, (), ""))
                                      for item in dataclasses.fields(node) if item.compare)
    lines = [kind.__name__]
    for name, omissible in shown:
        value = getattr(node, name)
        if omissible and value in (None, (), ""):
            continue
        lines.append(f"{pad}  {name}: {dump(value, indent + 1)}")
    return "\n".join(lines)


def _int(value: int) -> str:
    return str(value) if value < 10 else f"{value} (0x{value:x})"


_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}
"""Each dataclass type's compared fields, and whether each is left out when empty (its default is empty)."""
