"""Cycles in a dependency graph, each found once: what `typecheck` (expressions reading each other) and
`references` (sections whose params read each other) report.

A pure graph helper with no diagnostics of its own, so each caller words its error and notes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def find_cycles(edges: dict[str, list[tuple[str, T]]], starts: Iterable[str]) -> list[list[tuple[str, T]]]:
    """Every cycle a depth-first walk from `starts` (in that order) meets, once per set of members.

    Args:
        edges: per node, the nodes it depends on, each with what makes the edge (a reference, a param).
    Returns:
        Each cycle as its members in walk order, each with the edge it leaves by; the last edge leads back to
        the first member.
    """
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[tuple[str, T]] = []
    seen: set[frozenset[str]] = set()
    found: list[list[tuple[str, T]]] = []

    def visit(name: str) -> None:
        state[name] = 1
        for target, label in edges.get(name, []):
            stack.append((name, label))
            if state.get(target) == 1:
                start = next(i for i, (n, _) in enumerate(stack) if n == target)
                members = stack[start:]
                key = frozenset(n for n, _ in members)
                if key not in seen:
                    seen.add(key)
                    found.append(list(members))
            elif target not in state:
                visit(target)
            stack.pop()
        state[name] = 2

    for name in starts:
        if name not in state:
            visit(name)
    return found
