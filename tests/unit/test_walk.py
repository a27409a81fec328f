"""vfiogen.ir.walk: generic rebuilding and traversal of IR trees."""

from __future__ import annotations

from unit_support import EMU_HEADER, schema
from vfiogen.context import Context
from vfiogen.diagnostics import Reporter
from vfiogen.driver import SchemaInput, check_documents, load_files, lower_documents
from vfiogen.frontend.expr_parser import parse_expr
from vfiogen.ir.expr import Expr, IntLit, to_text
from vfiogen.ir.nodes import (
    ArrayType,
    Section,
    StructType,
)
from vfiogen.ir.walk import map_exprs

SOURCE = EMU_HEADER + schema("""
    version: 1
    state:
      count: {type: u8}
      flag: {type: bool, present: "count > 2"}
      table:
        type: array
        length: "count + 1"
        max: 256
        element:
          type: struct
          members:
            lo: {type: u32}
            hi: {type: u32, present: "count != 0"}
    constraints:
      - {check: "count < 200", reason: too many}
""")


def section() -> Section:
    """The lowered (not yet resolved) section."""
    ctx = Context(reporter=Reporter())
    documents = check_documents(load_files([SchemaInput("s.yaml", "s.yaml", SOURCE.encode())], ctx), ctx)
    module = lower_documents(documents, ctx)
    assert ctx.reporter.diagnostics == []
    return module.sections[0]  # type: ignore[no-any-return]


def test_identity_map_returns_the_same_objects() -> None:
    node = section()
    assert map_exprs(node, lambda e: e) is node


def test_map_reaches_every_outermost_expression_in_order() -> None:
    node = section()
    seen: list[str] = []

    def record(expr: Expr) -> Expr:
        seen.append(to_text(expr))
        return expr

    map_exprs(node, record)
    # field order: a StateField's type comes before its presence, an array's element before its length
    assert seen == ["count > 2", "count != 0", "count + 1", "count < 0xc8"]


def test_map_rebuilds_only_the_changed_path() -> None:
    node = section()

    rebuilt = map_exprs(node, _rename_count)
    assert rebuilt is not node
    assert rebuilt.state[0] is node.state[0]  # 'count' holds no expression: shared, not copied
    assert rebuilt.location is node.location
    assert rebuilt.state[1] is not node.state[1]
    assert to_text(rebuilt.state[1].present) == "n > 2"  # type: ignore[arg-type]
    table = rebuilt.state[2].type
    assert isinstance(table, ArrayType) and to_text(table.length) == "n + 1"
    element = table.element
    assert isinstance(element, StructType)
    assert element.members[0] is node.state[2].type.element.members[0]  # type: ignore[union-attr]
    assert to_text(element.members[1].present) == "n != 0"  # type: ignore[arg-type]
    assert to_text(rebuilt.constraints[0].check) == "n < 0xc8"
    # the original is untouched
    assert to_text(node.state[1].present) == "count > 2"  # type: ignore[arg-type]


def _rename_count(expr: Expr) -> Expr:
    return parse_expr(to_text(expr).replace("count", "n"), expr.span)


def test_map_applies_to_a_bare_expression_and_leaves_scalars_alone() -> None:
    lit = IntLit(value=1, span=section().span)
    assert map_exprs(lit, lambda e: IntLit(value=2, span=e.span)) == IntLit(value=2, span=lit.span)
    assert map_exprs(5, lambda e: e) == 5
    assert map_exprs("text", lambda e: e) == "text"
    empty: tuple[int, ...] = ()
    assert map_exprs(empty, lambda e: e) is empty
