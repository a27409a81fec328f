"""vfiogen.passes.typecheck: expression types, `~` widths, presence rules, wire order and cycles."""

from __future__ import annotations

import pytest
from unit_support import (
    CAP_HEADER,
    Compiled,
    compile_text,
    diag,
    key,
    schema,
    span_of,
    within,
)
from vfiogen.diagnostics import Note
from vfiogen.ir.expr import Binary, Conditional, Expr, Unary, UnaryOp

CONTROL = schema("""
    registers:
      control:
        offset: 0
        width: 16
        fields:
          en: {bits: 0, access: rw}
          cap: {bits: 1, access: ro}
          n: {bits: "7:4", access: ro}
    restore: [control]
""")

EMU = schema("""
    section: e
    title: E
    id: 2
    location: {emulation: true}
    version: 2
    min_version: 1
""")


def with_check(check: str) -> str:
    return CAP_HEADER + CONTROL + f'constraints:\n  - {{check: "{check}", reason: r}}\n'


def typecheck(source: str) -> Compiled:
    return compile_text(source, stop_before="layout")


# --- the operators -----------------------------------------------------------------------------------------

def test_logical_not_on_an_integer_is_reported_at_the_bang() -> None:
    source = with_check("!control.n")
    assert typecheck(source).diagnostics == [diag(
        "VG0604", span_of(source, "!control.n"),
        "'!' applies to booleans only, but its operand is u4; for a bitwise complement write '~'")]


def test_mask_with_logical_not_is_an_error_at_the_bang_not_a_silent_bug() -> None:
    source = with_check("(control.n & !control.n) == 0")
    bang = span_of(source, "!control.n")
    # One mistake, one diagnostic: the '&' that uses the bad operand says nothing more.
    assert typecheck(source).diagnostics == [
        diag("VG0604", bang, "'!' applies to booleans only, but its operand is u4; for a bitwise complement write '~'"),
    ]


def test_bit_not_of_a_literal_has_no_width() -> None:
    source = with_check("~3 == 0")
    assert typecheck(source).diagnostics == [diag(
        "VG0603", span_of(source, "~3"),
        "'~' needs an operand of known width (a register, field or scalar state); write the mask as a literal instead")]


def test_bit_not_of_arithmetic_has_no_width() -> None:
    source = with_check("~(control.n + 1) == 0")
    assert typecheck(source).codes() == ["VG0603"]
    assert typecheck(source).diagnostics[0].span == span_of(source, "~(control.n + 1)")


def test_logical_and_on_integers() -> None:
    source = with_check("control.n && control.cap")
    assert typecheck(source).diagnostics == [diag(
        "VG0602", within(source, "control.n &&", "control.n"),
        "'&&' needs bool operands, not u4; compare it explicitly (e.g. '!= 0')")]


@pytest.mark.parametrize(("check", "at", "message"), [
    ("-control.cap == 0", "-control.cap", "'-' needs an integer, but its operand is bool"),
    ("~control.cap == 0", "~control.cap", "'~' needs an integer, but its operand is bool; use '!' for logical not"),
    ("control.cap < true", "control.cap < true", "'<' orders integers, not booleans"),
    ("control.cap == 1", "control.cap == 1", "'==' compares bool with integer"),
    ("(control.cap | 1) == 0", "control.cap", "'|' needs integer operands, but this is bool; use '||'"),
])
def test_operand_type_errors(check: str, at: str, message: str) -> None:
    source = with_check(check)
    assert typecheck(source).diagnostics == [diag("VG0602", within(source, check, at), message)]


@pytest.mark.parametrize("check", ["control.cap == control.cap", "control.cap != true", "!control.cap",
                                   "control.cap || control.n >= 2", "(control.n & 0x3) == 1",
                                   "(control ^ 0xff) != 0", "control.n * 2 + 1 > 3 % 2"])
def test_well_typed_constraints_pass(check: str) -> None:
    assert typecheck(with_check(check)).diagnostics == []


@pytest.mark.parametrize("op", ["/", "%"])
def test_dividing_by_a_literal_zero(op: str) -> None:
    source = with_check(f"control.n {op} 0 == 1")
    assert typecheck(source).diagnostics == [diag("VG0605", within(source, f"{op} 0", "0"), f"'{op}' by zero")]


def test_conditional_needs_a_bool_test_and_branches_of_one_type() -> None:
    source = with_check("control.n ? 1 : 0")
    assert typecheck(source).diagnostics == [
        diag("VG0602", within(source, "control.n ?", "control.n"),
             "the condition of '?:' must be bool, not u4; compare it explicitly (e.g. '!= 0')"),
    ]
    source = with_check("control.cap ? 1 : true")
    whole = span_of(source, "control.cap ? 1 : true")
    assert typecheck(source).diagnostics == [
        diag("VG0602", whole, "the branches of '?:' have different types (integer and bool)"),
    ]


def test_roles_demand_their_types() -> None:
    source = EMU + schema("""
        state:
          c: {type: u8}
          a: {type: u8, present: 1}
          b: {type: u8, present: "c"}
          t: {type: array, length: "c > 1", max: 4, element: {type: u8}}
    """)
    assert typecheck(source).diagnostics == [
        diag("VG0602", within(source, "present: 1", "1"),
             "present expression must be bool, not integer (compare it, e.g. '!= 0')"),
        diag("VG0602", within(source, 'present: "c"', "c"),
             "present expression must be bool, not u8 (compare it, e.g. '!= 0')"),
        diag("VG0602", span_of(source, "c > 1"), "length expression must be an integer, not bool"),
    ]


def test_arrays_cannot_be_read() -> None:
    source = EMU + schema("""
        state:
          t: {type: array, length: 2, max: 2, element: {type: u8}}
          b: {type: u8, present: "t != 0"}
    """)
    assert typecheck(source).diagnostics == [diag(
        "VG0306", within(source, "t != 0", "t"),
        "'t' is a state field of type array and cannot be read by an expression; expressions read registers, bit "
        "fields, scalar state and params", Note(key(source, "t"), "defined here"))]


# --- the `~` width annotation ----------------------------------------------------------------------------

def _unaries(expr: Expr) -> list[Unary]:
    found: list[Unary] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Unary):
            found.append(node)
            stack.append(node.operand)
        elif isinstance(node, Binary):
            stack += [node.right, node.left]
        elif isinstance(node, Conditional):
            stack += [node.if_false, node.if_true, node.test]
    return found


def test_bit_not_width_lands_in_the_ir() -> None:
    source = CAP_HEADER + schema("""
        enums:
          mode: {values: {a: 0, b: 5}}
        registers:
          c:
            offset: 0
            width: 16
            fields: {n: {bits: "3:1", access: ro}}
          r: {offset: "(~c.n & 0x0c) + 4", width: 16, access: ro}
        constraints:
          - {check: "~c != 0", reason: r}
          - {check: "(~mode.b) == 2", reason: r}
          - {check: "c.n == 1 ? ~c.n == 0 : true", reason: r}
    """)
    compiled = compile_text(source)
    assert compiled.diagnostics == [] and compiled.module is not None
    checked = compiled.module.sections[0]
    offset_nots = _unaries(checked.registers[1].register.offset)
    assert [(u.op, u.width) for u in offset_nots] == [(UnaryOp.BIT_NOT, 3)]
    widths = [[u.width for u in _unaries(c.check)] for c in checked.section.constraints]
    assert widths == [[16], [3], [3]]  # register width, enum value bit length, field width (inside ?:)
    # and layout used it: ~n & 0x0c over 3 bits is 0 or 4, so r sits at 4 or 8 (not at 0x10 or 0x0c)
    assert checked.registers[1].offsets == (4, 8)


def test_other_unary_operators_get_no_width() -> None:
    compiled = compile_text(with_check("-control.n <= 0 && !control.cap"))
    assert compiled.module is not None
    check = compiled.module.sections[0].section.constraints[0].check
    assert [(u.op, u.width) for u in _unaries(check)] == [(UnaryOp.NEG, None), (UnaryOp.LOG_NOT, None)]


# --- presence, wire order and cycles ---------------------------------------------------------------------

def test_presence_on_a_writable_bit() -> None:
    source = CAP_HEADER + CONTROL.replace("restore:", "  a: {offset: 4, width: 32, access: ro, present: "
                                                      "\"control.en\"}\nrestore:")
    assert typecheck(source).diagnostics == [diag(
        "VG0511", span_of(source, "control.en"),
        "presence of 'a' depends on 'control.en', which software can write: state must be saved for what the device "
        "is, not for the mode it is in", Note(key(source, "en", 6), "writable here"))]


def test_offset_on_a_writable_bit() -> None:
    source = CAP_HEADER + CONTROL.replace("restore:", "  a: {offset: \"control.en ? 4 : 8\", width: 32, access: ro}"
                                                      "\nrestore:")
    assert typecheck(source).diagnostics == [diag(
        "VG0511", span_of(source, "control.en"),
        "the offset of 'a' depends on 'control.en', which software can write: state must be saved for what the device "
        "is, not for the mode it is in", Note(key(source, "en", 6), "writable here"))]


def _with_present(present: str) -> str:
    return CAP_HEADER + CONTROL.replace("restore:", f"  a: {{offset: 4, width: 32, access: ro, present: "
                                                    f"\"{present}\"}}\nrestore:")


@pytest.mark.parametrize("present", ["control.cap", "control.n == 2", "control.cap && control.n != 0"])
def test_presence_on_read_only_bits_is_fine(present: str) -> None:
    assert typecheck(_with_present(present)).diagnostics == []


def test_presence_on_a_whole_register_with_a_writable_bit() -> None:
    source = _with_present("control != 0")
    assert typecheck(source).diagnostics == [diag(
        "VG0511", within(source, '"control != 0"', "control"),
        "presence of 'a' depends on 'control', which software can write: state must be saved for what the device "
        "is, not for the mode it is in", Note(key(source, "control"), "writable here"))]


def test_reference_to_a_later_field() -> None:
    source = EMU + schema("""
        state:
          a: {type: u8, present: "b != 0"}
          b: {type: u8}
    """)
    assert typecheck(source).diagnostics == [diag(
        "VG0512", within(source, "b != 0", "b"),
        "present of 'a' reads 'b', which comes later on the wire; a loader must have read it first",
        Note(key(source, "b"), "declared here"))]


def test_reference_to_an_earlier_field_is_fine() -> None:
    source = EMU + schema("""
        state:
          b: {type: u8}
          a: {type: u8, present: "b != 0"}
          t: {type: array, length: "b + 1", max: 256, element: {type: u8}}
    """)
    assert typecheck(source).diagnostics == []


def test_reference_to_a_field_that_may_be_absent_is_fine() -> None:
    # an absent field, or one the loaded version does not carry, reads as its default or 0: no guard needed
    source = EMU + schema("""
        state:
          c: {type: bool, since: 2, default: 0}
          d: {type: u8, present: "c"}
          a: {type: u8, present: "c || d != 0"}
          t: {type: array, length: "d", max: 4, element: {type: u8}}
    """)
    assert typecheck(source).diagnostics == []


def test_self_reference_is_a_cycle() -> None:
    source = EMU + schema("""
        state:
          a: {type: u8, present: "a != 0"}
    """)
    assert typecheck(source).diagnostics == [diag(
        "VG0520", within(source, "a != 0", "a"),
        "expressions depend on each other in a cycle: a -> a")]


def test_cycle_through_two_register_offsets() -> None:
    source = CAP_HEADER + schema("""
        registers:
          r1:
            offset: "r2.x ? 4 : 8"
            width: 16
            fields: {y: {bits: 0, access: ro}}
          r2:
            offset: "r1.y ? 0 : 2"
            width: 16
            fields: {x: {bits: 0, access: ro}}
    """)
    assert typecheck(source).diagnostics == [diag(
        "VG0520", span_of(source, "r2.x"), "expressions depend on each other in a cycle: r1 -> r2 -> r1",
        Note(span_of(source, "r1.y"), "'r2' reads 'r1.y' here"))]


def test_cycle_through_presence_is_reported_once() -> None:
    source = EMU + schema("""
        state:
          a: {type: u8, present: "b != 0"}
          b: {type: u8, present: "a != 0"}
    """)
    assert [d for d in typecheck(source).diagnostics if d.code == "VG0520"] == [diag(
        "VG0520", within(source, "b != 0", "b"), "expressions depend on each other in a cycle: a -> b -> a",
        Note(within(source, "a != 0", "a"), "'b' reads 'a' here"))]
    assert typecheck(source).codes() == ["VG0512", "VG0520"]
