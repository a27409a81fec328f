"""Type-check expressions and the dependencies between fields (pass after `resolve`).

Expects: resolved names (`ctx.symbols`). Guarantees on exit: every expression
has the type its role demands (offsets and lengths are integers, presence and
constraints are booleans); `~` has an operand of known width and carries that
width in the IR; `!`, `&&`, `||` and `?:` see only booleans; presence depends
only on what the device *is* (read-only bits, params, emulation state);
presence and lengths read only fields that come earlier on the wire; and no
chain of offsets, presence and lengths loops. (A field that is absent, or not
carried by the version loaded, reads as its default or 0, so reading one is
well defined and needs no guard.)
"""

from __future__ import annotations

import dataclasses

from vfiogen.context import Context
from vfiogen.diagnostics import Note
from vfiogen.ir.expr import (
    ARITHMETIC,
    BITWISE,
    COMPARISON,
    LOGICAL,
    Binary,
    BinaryOp,
    BoolLit,
    Conditional,
    Expr,
    IntLit,
    Ref,
    Unary,
    UnaryOp,
    refs,
)
from vfiogen.ir.nodes import BitField, Module, Register, Section, StateField
from vfiogen.ir.symbols import (
    BOOL,
    INTEGER,
    INVALID,
    ExprType,
    SectionSymbols,
    Symbol,
    SymbolKind,
)
from vfiogen.ir.walk import map_exprs
from vfiogen.passes.cycles import find_cycles
from vfiogen.passes.references import type_sources
from vfiogen.passes.resolve import section_expressions


class _Checker:
    """Types one section's expressions; reports only when `report` is set."""

    def __init__(self, table: SectionSymbols, ctx: Context, report: bool) -> None:
        self.table = table
        self.ctx = ctx
        self.report = report
        self.failed = False

    def error(self, code: str, expr: Expr, message: str, *notes: Note) -> None:
        self.failed = True
        if self.report:
            self.ctx.reporter.report(code, expr.span, message, *notes)

    def annotate(self, expr: Expr) -> Expr:
        """`expr` with the widths of its `~` operators filled in."""
        return self.type_of(expr)[0]

    def type_of(self, expr: Expr) -> tuple[Expr, ExprType]:
        """The expression with `~` widths filled in, and its type.

        After an error the type is `INVALID`, and nothing that uses an
        invalid operand reports again: one mistake, one diagnostic.
        """
        if isinstance(expr, IntLit):
            return expr, INTEGER
        if isinstance(expr, BoolLit):
            return expr, BOOL
        if isinstance(expr, Ref):
            symbol = self.table.lookup(expr.path)
            if symbol is None:
                return expr, INVALID  # reported by resolve
            if symbol.type is None:
                self.error("VG0306", expr, f"'{expr.dotted}' is a {_what(symbol)} and cannot be read by an "
                           "expression; expressions read registers, bit fields, scalar state and params",
                           Note(symbol.span, "defined here"))
                return expr, INVALID
            return expr, symbol.type
        if isinstance(expr, Unary):
            operand, operand_type = self.type_of(expr.operand)
            expr = dataclasses.replace(expr, operand=operand)
            if operand_type.invalid:
                return expr, INVALID
            if expr.op is UnaryOp.LOG_NOT:
                if not operand_type.is_bool:
                    self.error("VG0604", expr, f"'!' applies to booleans only, but its operand is {operand_type}; "
                               "for a bitwise complement write '~'")
                    return expr, INVALID
                return expr, BOOL
            if operand_type.is_bool:
                hint = "; use '!' for logical not" if expr.op is UnaryOp.BIT_NOT else ""
                self.error("VG0602", expr, f"'{expr.op.value}' needs an integer, but its operand is bool{hint}")
                return expr, INVALID
            if expr.op is UnaryOp.BIT_NOT:
                if operand_type.width is None:
                    self.error("VG0603", expr, "'~' needs an operand of known width (a register, field or "
                               "scalar state); write the mask as a literal instead")
                    return expr, INVALID
                return dataclasses.replace(expr, width=operand_type.width), operand_type
            return expr, INTEGER
        if isinstance(expr, Conditional):
            test, test_type = self.type_of(expr.test)
            if_true, true_type = self.type_of(expr.if_true)
            if_false, false_type = self.type_of(expr.if_false)
            expr = dataclasses.replace(expr, test=test, if_true=if_true, if_false=if_false)
            if test_type.invalid or true_type.invalid or false_type.invalid:
                return expr, INVALID
            if not test_type.is_bool:
                self.error("VG0602", test, f"the condition of '?:' must be bool, not {test_type}; "
                           "compare it explicitly (e.g. '!= 0')")
                return expr, INVALID
            if true_type.is_bool != false_type.is_bool:
                self.error("VG0602", expr, f"the branches of '?:' have different types ({true_type} and "
                           f"{false_type})")
                return expr, INVALID
            return expr, BOOL if true_type.is_bool else _wider(true_type, false_type)
        assert isinstance(expr, Binary)
        left, left_type = self.type_of(expr.left)
        right, right_type = self.type_of(expr.right)
        expr = dataclasses.replace(expr, left=left, right=right)
        if left_type.invalid or right_type.invalid:
            return expr, INVALID
        op = expr.op
        if op in LOGICAL:
            wrong = [(side, side_type) for side, side_type in ((left, left_type), (right, right_type))
                     if not side_type.is_bool]
            for side, side_type in wrong:
                self.error("VG0602", side, f"'{op.value}' needs bool operands, not {side_type}; "
                           "compare it explicitly (e.g. '!= 0')")
            return expr, INVALID if wrong else BOOL
        if op in COMPARISON:
            if left_type.is_bool != right_type.is_bool:
                self.error("VG0602", expr, f"'{op.value}' compares {left_type} with {right_type}")
                return expr, INVALID
            if left_type.is_bool and op not in (BinaryOp.EQ, BinaryOp.NE):
                self.error("VG0602", expr, f"'{op.value}' orders integers, not booleans")
                return expr, INVALID
            return expr, BOOL
        wrong_sides = [side for side, side_type in ((left, left_type), (right, right_type)) if side_type.is_bool]
        for side in wrong_sides:
            hint = {BinaryOp.BIT_AND: "; use '&&'", BinaryOp.BIT_OR: "; use '||'"}.get(op, "")
            self.error("VG0602", side, f"'{op.value}' needs integer operands, but this is bool{hint}")
        if wrong_sides:
            return expr, INVALID
        if op in (BinaryOp.DIV, BinaryOp.MOD) and isinstance(right, IntLit) and right.value == 0:
            self.error("VG0605", right, f"'{op.value}' by zero")
            return expr, INVALID
        if op in (BinaryOp.SHL, BinaryOp.SHR) and isinstance(right, IntLit) and right.value > 63:
            self.error("VG0607", right, f"shift count {right.value} is outside 0..63; values are 64-bit")
            return expr, INVALID
        if op in BITWISE:
            return expr, _wider(left_type, right_type)
        assert op in ARITHMETIC
        return expr, INTEGER


def _wider(a: ExprType, b: ExprType) -> ExprType:
    if a.width is None:
        return b
    if b.width is None:
        return a
    return a if a.width >= b.width else b


def _what(symbol: Symbol) -> str:
    node = symbol.node
    if isinstance(node, StateField) and node.byte_string:
        return "byte-string register"
    if isinstance(node, StateField):
        return f"state field of type {type(node.type).__name__.removesuffix('Type').lower()}"
    return symbol.kind.value


_ROLE_TYPES = {"offset": False, "length": False, "present": True, "reserved_when": True, "constraint": True,
               "wait condition": True}
_DEVICE_FACTS = ("present", "reserved_when", "offset")
"""Roles that say what the device is, so they may read only what software cannot write."""


def _is_writable(symbol: Symbol) -> bool:
    node = symbol.node
    if isinstance(node, BitField):
        return node.access.writable
    if isinstance(node, Register):
        if node.fields:
            return any(f.access.writable for f in node.fields)
        return node.access is not None and node.access.writable
    return False


def _check_roles(section: Section, table: SectionSymbols, ctx: Context) -> None:
    checker = _Checker(table, ctx, report=True)
    for owner, role, expr in section_expressions(section):
        _, expr_type = checker.type_of(expr)
        if role in _ROLE_TYPES and not expr_type.invalid:
            want_bool = _ROLE_TYPES[role]
            if expr_type.is_bool != want_bool:
                want = "bool" if want_bool else "an integer"
                hint = " (compare it, e.g. '!= 0')" if want_bool else ""
                checker.error("VG0602", expr, f"{role} expression must be {want}, not {expr_type}{hint}")
        if role in _DEVICE_FACTS or role == "length":
            _check_dependencies(table, ctx, owner, role, expr)


def _check_dependencies(table: SectionSymbols, ctx: Context, owner: str, role: str, expr: Expr) -> None:
    # A byte-string register's length is how many bytes the device has there: like presence, what the
    # device is, never a mode (its bytes are also the descriptor's).
    owner_node = table.symbols[owner].node if owner in table.symbols else None
    device_fact = role in _DEVICE_FACTS or (
        role == "length" and isinstance(owner_node, StateField) and owner_node.byte_string)
    for ref in refs(expr):
        symbol = table.lookup(ref.path)
        if symbol is None or symbol.kind in (SymbolKind.PARAM, SymbolKind.ENUM_VALUE):
            continue
        if device_fact and _is_writable(symbol):
            what = {"present": "presence", "offset": "the offset",
                    "reserved_when": "reserved_when"}.get(role, "the length")
            ctx.reporter.report("VG0511", ref.span,
                                f"{what} of '{owner}' depends on '{ref.dotted}', which software can write: "
                                "state must be saved for what the device is, not for the mode it is in",
                                Note(symbol.span, "writable here"))
            continue
        if role == "reserved_when" and symbol.owner == owner:
            ctx.reporter.report("VG0520", ref.span,
                                f"reserved_when of a field of '{owner}' reads '{ref.dotted}', a bit of the same "
                                "register: a capture must know which bits are reserved before it reads them",
                                Note(symbol.span, "declared here"))
            continue
        if role in ("offset", "reserved_when"):
            continue  # a config-space position, and a check a loader makes once every field is read
        if symbol.owner == owner:
            continue  # a self-reference is a cycle, reported by _check_cycles
        order = table.wire_order
        if owner in order and order.get(symbol.owner, -1) > order[owner]:
            ctx.reporter.report("VG0512", ref.span,
                                f"{role} of '{owner}' reads '{ref.dotted}', which comes later on the wire; "
                                "a loader must have read it first", Note(symbol.span, "declared here"))


def _check_cycles(section: Section, table: SectionSymbols, ctx: Context) -> None:
    edges: dict[str, list[tuple[str, Ref]]] = {}
    for owner, role, expr in section_expressions(section):
        if (role in _DEVICE_FACTS or role == "length") and owner:
            for ref in refs(expr):
                symbol = table.lookup(ref.path)
                if symbol is not None and symbol.kind not in (SymbolKind.PARAM, SymbolKind.ENUM_VALUE) and not (
                        role == "reserved_when" and symbol.owner == owner):  # _check_dependencies words that
                    edges.setdefault(owner, []).append((symbol.owner, ref))
    for members in find_cycles(edges, sorted(edges, key=lambda n: table.wire_order.get(n, 0))):
        chain = " -> ".join([n for n, _ in members] + [members[0][0]])
        notes = [Note(r.span, f"'{n}' reads '{r.dotted}' here") for n, r in members[1:]]
        ctx.reporter.report("VG0520", members[0][1].span, f"expressions depend on each other in a cycle: {chain}",
                            *notes)


def check_expressions(module: Module, ctx: Context) -> Module:
    """Type-check every expression, then annotate `~` with its operand width."""
    sections = []
    for section in module.sections:
        ctx.focus = section.span
        table = ctx.symbols.get(section.name)
        if table is None:
            sections.append(section)
            continue
        _check_roles(section, table, ctx)
        _check_cycles(section, table, ctx)
        annotated = map_exprs(section, _Checker(table, ctx, report=False).annotate)
        # A param's `from` reads another section's names: typed and annotated in that section's table.
        annotated = dataclasses.replace(annotated, params=section.params)
        sections.append(type_sources(annotated, ctx.symbols, ctx))
    return dataclasses.replace(module, sections=tuple(sections))


def expression_type(expr: Expr, table: SectionSymbols, ctx: Context) -> ExprType:
    """The type of `expr` read in `table`'s section, reporting what is wrong with it."""
    return _Checker(table, ctx, report=True).type_of(expr)[1]


def annotate(expr: Expr, table: SectionSymbols, ctx: Context) -> Expr:
    """`expr` with its `~` widths filled in from `table`'s section."""
    return _Checker(table, ctx, report=False).annotate(expr)


def is_writable(symbol: Symbol) -> bool:
    """Whether software can write the register or bit field (a read of it follows a mode, not the device)."""
    return _is_writable(symbol)
