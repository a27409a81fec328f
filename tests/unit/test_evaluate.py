"""vfiogen.ir.evaluate: compile-time values with C semantics, and conservative value ranges."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from vfiogen.frontend.expr_parser import parse_expr
from vfiogen.ir.evaluate import EvaluationError, Range, evaluate, value_range
from vfiogen.ir.expr import (
    Binary,
    BinaryOp,
    BoolLit,
    Conditional,
    Expr,
    IntLit,
    Ref,
    Unary,
    UnaryOp,
)
from vfiogen.source import Span

NOWHERE = Span("e", 1, 1, 1, 1)


def parse(text: str) -> Expr:
    return parse_expr(text, NOWHERE)


def ev(text: str, **env: int | bool) -> int | bool:
    return evaluate(parse(text), env)


def bit_not(operand: Expr, width: int | None) -> Unary:
    return Unary(op=UnaryOp.BIT_NOT, operand=operand, width=width, span=NOWHERE)


def lit(value: int) -> IntLit:
    return IntLit(value=value, span=NOWHERE)


# --- evaluate --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "width", "expected"), [
    (0, 8, 0xff),
    (5, 8, 0xfa),
    (0x0f0f, 16, 0xf0f0),
    (0x1ff, 8, 0x00),       # bits above the width do not leak back in
    (0, 1, 1),
    (1, 1, 0),
    (0, 64, 2**64 - 1),
    (0, None, 2**64 - 1),  # no annotation: 64 bits, like C
])
def test_bit_not_is_masked_to_the_width(value: int, width: int | None, expected: int) -> None:
    assert evaluate(bit_not(lit(value), width), {}) == expected


def test_bit_not_of_a_negative_value_is_still_masked() -> None:
    negative = Unary(op=UnaryOp.NEG, operand=lit(1), span=NOWHERE)
    assert evaluate(bit_not(negative, 8), {}) == 0


@pytest.mark.parametrize(("text", "expected"), [
    ("7 / 2", 3), ("-7 / 2", -3), ("7 / -2", -3), ("-7 / -2", 3), ("-1 / 2", 0), ("6 / -3", -2),
    ("7 % 2", 1), ("-7 % 2", -1), ("7 % -2", 1), ("-7 % -2", -1), ("-6 % 3", 0), ("5 % 7", 5),
])
def test_division_truncates_toward_zero_like_c(text: str, expected: int) -> None:
    assert ev(text) == expected


@given(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6).filter(bool))
def test_division_identity_holds(a: int, b: int) -> None:
    q = evaluate(Binary(op=BinaryOp.DIV, left=_signed(a), right=_signed(b), span=NOWHERE), {})
    r = evaluate(Binary(op=BinaryOp.MOD, left=_signed(a), right=_signed(b), span=NOWHERE), {})
    assert isinstance(q, int) and isinstance(r, int)
    assert q * b + r == a
    assert abs(r) < abs(b)
    assert r == 0 or (r < 0) == (a < 0)  # the remainder takes the dividend's sign


def _signed(value: int) -> Expr:
    return lit(value) if value >= 0 else Unary(op=UnaryOp.NEG, operand=lit(-value), span=NOWHERE)


@pytest.mark.parametrize("text", ["1 / 0", "1 % 0", "4 / (2 - 2)", "x % x"])
def test_division_by_zero_raises(text: str) -> None:
    with pytest.raises(EvaluationError, match="^division by zero$"):
        ev(text, x=0)


def test_unknown_reference_raises() -> None:
    with pytest.raises(EvaluationError, match=r"^'control\.addr64' has no value here$"):
        ev("control.addr64 ? 8 : 4")


@pytest.mark.parametrize(("text", "expected"), [
    ("false && 1 / 0 == 0", False),
    ("true || 1 / 0 == 0", True),
    ("true ? 4 : 1 / 0", 4),
    ("false ? missing : 8", 8),
])
def test_logical_operators_and_conditional_short_circuit(text: str, expected: object) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(("text", "env", "expected"), [
    ("a ? 0x0c : 0x08", {"a": True}, 12),
    ("a ? 0x0c : 0x08", {"a": False}, 8),
    ("n + 1", {"n": 7}, 8),
    ("1 << n", {"n": 4}, 16),
    ("0x80 >> n", {"n": 3}, 16),
    ("a & 0x0e | 1", {"a": 0xff}, 15),
    ("a ^ 0xff", {"a": 0x0f}, 0xf0),
    ("-n", {"n": 3}, -3),
    ("!a", {"a": False}, True),
    ("n <= 5 && n != 3", {"n": 4}, True),
    ("n > 5 || n == 3", {"n": 4}, False),
    ("a == true", {"a": True}, True),
    ("n >= 2 == (n < 2)", {"n": 2}, False),
])
def test_operators(text: str, env: dict[str, int | bool], expected: object) -> None:
    assert ev(text, **env) == expected


def test_booleans_take_part_in_arithmetic_as_zero_and_one() -> None:
    assert ev("a + a", a=True) == 2


@pytest.mark.parametrize(("text", "count"), [("4 << (0 - 1)", -1), ("4 >> -n", -3)])
def test_negative_shift_count_raises(text: str, count: int) -> None:
    with pytest.raises(EvaluationError, match=rf"^shift count {count} is outside 0\.\.63$"):
        ev(text, n=3)


@pytest.mark.parametrize(("text", "count"), [
    ("x >> 70", 70),
    ("x << 64", 64),
    ("x >> 64", 64),
    ("0x10 >> (1 << 70)", 70),  # the inner shift is the one out of range
    ("1 << (1 << 6)", 64),
])
def test_shift_count_of_64_or_more_raises(text: str, count: int) -> None:
    # values are 64-bit in generated C, where such a shift is undefined: no value, not 0
    with pytest.raises(EvaluationError, match=rf"^shift count {count} is outside 0\.\.63$"):
        ev(text, x=0x10)


def test_shift_counts_0_to_63_are_evaluated() -> None:
    assert ev("x >> 0", x=0x10) == 0x10
    assert ev("1 << 63") == 1 << 63
    assert ev("x >> 63", x=1 << 63) == 1
    assert ev("x >> 63", x=0x10) == 0


def test_huge_left_shift_raises_evaluation_error() -> None:
    # a count too large to compute (1 << 2**62 would need exabytes) is an EvaluationError, not OverflowError
    with pytest.raises(EvaluationError, match=r"^shift count 4611686018427387904 is outside 0\.\.63$"):
        ev("1 << (1 << 62)")


# --- value_range -----------------------------------------------------------------------------------------

RANGES: dict[str, Range] = {"a": (0, 1), "b": (0, 7), "c": (0, 255), "d": (-8, 7), "e": (3, 40)}


def ranges(ref: Ref) -> Range | None:
    return RANGES.get(ref.dotted)


@pytest.mark.parametrize(("text", "expected"), [
    ("5", (5, 5)),
    ("true", (1, 1)),
    ("b", (0, 7)),
    ("unknown", None),
    ("b + e", (3, 47)),
    ("e - b", (-4, 40)),
    ("d * d", (-56, 64)),
    ("c / e", (0, 85)),
    ("e % b", (0, 6)),
    ("b << a", (0, 14)),
    ("c >> b", (0, 255)),
    ("c & b", (0, 7)),
    ("b | e", (0, 63)),
    ("-e", (-40, -3)),
    ("a ? b : e", (0, 40)),
    ("b < e", (0, 1)),
    ("!a", (0, 1)),
    ("d / b", None),  # negative operands of /, %, shifts and bit operations: unbounded
    ("b + unknown", None),
    ("1 << 200", None),  # shifts past 127 are not bounded
])
def test_value_range_of_operators(text: str, expected: Range | None) -> None:
    assert value_range(parse(text), ranges) == expected


def test_value_range_of_bit_not_is_the_width() -> None:
    assert value_range(bit_not(Ref(path=("c",), span=NOWHERE), 8), ranges) == (0, 255)
    assert value_range(bit_not(Ref(path=("c",), span=NOWHERE), None), ranges) is None


def _tree(depth: int) -> st.SearchStrategy[Expr]:
    leaves: st.SearchStrategy[Expr] = st.one_of(
        st.integers(0, 300).map(lit),
        st.booleans().map(lambda v: BoolLit(value=v, span=NOWHERE)),
        st.sampled_from(sorted(RANGES)).map(lambda n: Ref(path=(n,), span=NOWHERE)),
    )
    if depth == 0:
        return leaves
    child = _tree(depth - 1)
    return st.one_of(
        leaves,
        st.builds(lambda op, e, w: Unary(op=op, operand=e, width=w if op is UnaryOp.BIT_NOT else None, span=NOWHERE),
                  st.sampled_from(UnaryOp), child, st.sampled_from([None, 1, 4, 8, 16, 32])),
        st.builds(lambda op, x, y: Binary(op=op, left=x, right=y, span=NOWHERE),
                  st.sampled_from([op for op in BinaryOp if op not in (BinaryOp.SHL, BinaryOp.SHR)]), child, child),
        st.builds(lambda op, x, s: Binary(op=op, left=x, right=lit(s), span=NOWHERE),
                  st.sampled_from([BinaryOp.SHL, BinaryOp.SHR]), child, st.integers(0, 20)),
        st.builds(lambda c, x, y: Conditional(test=c, if_true=x, if_false=y, span=NOWHERE), child, child, child),
    )


ENVIRONMENTS = st.fixed_dictionaries({name: st.integers(lo, hi) for name, (lo, hi) in RANGES.items()})


@settings(max_examples=1500, deadline=None)
@given(_tree(4), ENVIRONMENTS)
def test_value_range_contains_every_value(expr: Expr, env: dict[str, int]) -> None:
    bounds = value_range(expr, ranges)
    assume(bounds is not None)
    assert bounds is not None
    try:
        value = evaluate(expr, env)
    except EvaluationError:  # division by zero: no value to bound
        return
    lo, hi = bounds
    assert lo <= int(value) <= hi, (bounds, value)
