"""Generic traversal of IR nodes, so passes never hand-write recursion over every node type."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from vfiogen.ir.expr import Binary, BoolLit, Conditional, Expr, IntLit, Ref, Unary
from vfiogen.source import Span

_EXPR_TYPES = (IntLit, BoolLit, Ref, Unary, Binary, Conditional)

T = TypeVar("T")

_FIELDS: dict[type, tuple[str, ...]] = {}
"""The field names of each node type walked (dataclasses.fields is slow enough to show in a profile), and ()
for each leaf type; never an expression or tuple type, which `map_exprs` looks at first."""
_LEAVES = (str, int, type(None), Span)
"""Values that hold no expression: a Span is a location (every node has one, and walking its five fields was
half of the calls)."""


def map_exprs(node: T, fn: Callable[[Expr], Expr]) -> T:
    """Rebuild `node` with `fn` applied to every outermost expression it holds.

    Nodes that hold no expression are returned as they are (same object), so
    untouched parts of the tree are shared, not copied.
    """
    kind = type(node)
    names = _FIELDS.get(kind)  # the common case: a node or leaf type seen before
    if names is None:
        if isinstance(node, _EXPR_TYPES):
            return fn(node)  # type: ignore[return-value]
        if isinstance(node, tuple):
            items = tuple(map_exprs(item, fn) for item in node)
            return node if all(a is b for a, b in zip(items, node, strict=True)) else items  # type: ignore[return-value]
        is_node = dataclasses.is_dataclass(node) and not isinstance(node, (type, *_LEAVES))
        fields = dataclasses.fields(node) if is_node else ()  # type: ignore[arg-type]
        names = _FIELDS[kind] = tuple(item.name for item in fields)  # () for a leaf: returned as it is
    changes: dict[str, Any] = {}
    for name in names:
        value = getattr(node, name)
        new = map_exprs(value, fn)
        if new is not value:
            changes[name] = new
    return dataclasses.replace(node, **changes) if changes else node  # type: ignore[type-var]
