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
    pad = "  " * indent
    if isinstance(node, _EXPR_TYPES):
        return f"`{to_text(node)}`"
    if isinstance(node, enum.Enum):
        return str(node.value)
    if isinstance(node, bool) or node is None:
        return str(node).lower() if node is not None else "none"
    if isinstance(node, int):
        return str(node) if node < 10 else f"{node} (0x{node:x})"
    if isinstance(node, str):
        return repr(node)
    if isinstance(node, (tuple, list)):
        if not node:
            return "[]"
        return "[\n" + "".join(f"{pad}  - {dump(item, indent + 2)}\n" for item in node) + f"{pad}]"
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        lines = [type(node).__name__]
        for item in dataclasses.fields(node):
            if not item.compare:
                continue  # locations: a dump, and so a fingerprint, is blind to comments and layout
            value = getattr(node, item.name)
            if value in (None, (), "") and item.default in (None, (), ""):
                continue
            lines.append(f"{pad}  {item.name}: {dump(value, indent + 1)}")
        return "\n".join(lines)
    return repr(node)
