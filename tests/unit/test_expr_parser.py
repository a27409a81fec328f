"""vfiogen.frontend.expr_parser: precedence, spans, syntax errors, and a round trip through `to_text`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_support import CAP_HEADER, compile_text, span_of
from vfiogen.diagnostics import Diagnostic, Severity
from vfiogen.frontend.expr_parser import ExprSyntaxError, parse_expr
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
    refs,
    to_text,
)
from vfiogen.source import Span

BASE = Span("e.yaml", 7, 11, 7, 200)
NOWHERE = Span("e.yaml", 1, 1, 1, 1)


def parse(text: str) -> Expr:
    return parse_expr(text, BASE)


# --- precedence and associativity ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "canonical"), [
    # each level binds tighter than the one before it
    ("a ? b : c || d", "a ? b : (c || d)"),
    ("a || b ? c : d", "(a || b) ? c : d"),
    ("a || b && c", "a || (b && c)"),
    ("a && b || c", "(a && b) || c"),
    ("a && b | c", "a && (b | c)"),
    ("a | b ^ c", "a | (b ^ c)"),
    ("a ^ b | c", "(a ^ b) | c"),
    ("a ^ b & c", "a ^ (b & c)"),
    ("a & b == c", "a & (b == c)"),
    ("a == b & c", "(a == b) & c"),
    ("a == b < c", "a == (b < c)"),
    ("a != b >= c", "a != (b >= c)"),
    ("a < b << c", "a < (b << c)"),
    ("a <= b >> c", "a <= (b >> c)"),
    ("a > b + c", "a > (b + c)"),
    ("a << b + c", "a << (b + c)"),
    ("a >> b - c", "a >> (b - c)"),
    ("a + b * c", "a + (b * c)"),
    ("a - b / c", "a - (b / c)"),
    ("a * b + c", "(a * b) + c"),
    ("a % b - c", "(a % b) - c"),
    ("-a * b", "-a * b"),
    ("-(a * b)", "-(a * b)"),
    ("~a & b", "~a & b"),
    ("!a && b", "!a && b"),
    ("!(a && b)", "!(a && b)"),
    # binary operators associate left
    ("a - b - c", "(a - b) - c"),
    ("a / b / c", "(a / b) / c"),
    ("a % b * c", "(a % b) * c"),
    ("a << b >> c", "(a << b) >> c"),
    ("a < b > c", "(a < b) > c"),
    ("a == b != c", "(a == b) != c"),
    ("a & b & c", "(a & b) & c"),
    ("a || b || c", "(a || b) || c"),
    # ?: associates right, in both branches
    ("a ? b : c ? d : e", "a ? b : (c ? d : e)"),
    ("a ? b ? c : d : e", "a ? (b ? c : d) : e"),
    ("(a ? b : c) ? d : e", "(a ? b : c) ? d : e"),
    # unary operators nest
    ("--a", "--a"),
    ("!!a", "!!a"),
    ("~-!a", "~-!a"),
    ("a - -b", "a - -b"),
    # parentheses override
    ("(a + b) * c", "(a + b) * c"),
    ("a - (b - c)", "a - (b - c)"),
    ("((a))", "a"),
])
def test_precedence_and_associativity(text: str, canonical: str) -> None:
    assert to_text(parse(text)) == canonical
    assert parse(canonical) == parse(text)


def test_tree_shape_of_a_mixed_expression() -> None:
    expr = parse("control.addr64 ? 0x0c : 8 + 2 * n")
    assert expr == Conditional(
        test=Ref(path=("control", "addr64"), span=NOWHERE),
        if_true=IntLit(value=12, span=NOWHERE),
        if_false=Binary(op=BinaryOp.ADD, left=IntLit(value=8, span=NOWHERE),
                        right=Binary(op=BinaryOp.MUL, left=IntLit(value=2, span=NOWHERE),
                                     right=Ref(path=("n",), span=NOWHERE), span=NOWHERE), span=NOWHERE),
        span=NOWHERE)


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("7", 7), ("10", 10), ("0x0c", 12), ("0xFF", 255), ("0b101", 5), ("0b0", 0),
    ("18446744073709551615", 2**64 - 1),
])
def test_integer_literals(text: str, value: int) -> None:
    assert parse(text) == IntLit(value=value, span=NOWHERE)


def test_booleans_and_dotted_references() -> None:
    assert parse("true") == BoolLit(value=True, span=NOWHERE)
    assert parse("false") == BoolLit(value=False, span=NOWHERE)
    assert parse("params.max_vectors") == Ref(path=("params", "max_vectors"), span=NOWHERE)
    assert parse("a . b . c") == Ref(path=("a", "b", "c"), span=NOWHERE)
    assert parse("truex") == Ref(path=("truex",), span=NOWHERE)


def test_to_text_writes_small_literals_in_decimal_and_large_ones_in_hex() -> None:
    assert to_text(parse("9 + 10 + 0x0c")) == "(9 + 0xa) + 0xc"


def test_refs_lists_references_left_to_right() -> None:
    assert [r.dotted for r in refs(parse("a.x ? -b + c : d == 0"))] == ["a.x", "b", "c", "d"]


# --- spans -----------------------------------------------------------------------------------------------

def _span(start: int, end: int) -> Span:
    """The span of text[start:end] when the text starts at column 11 of line 7."""
    return Span("e.yaml", 7, 11 + start, 7, 11 + end)


def test_spans_of_sub_expressions() -> None:
    text = "(a + bb) * -c.d ? 0x10 : !e"
    expr = parse(text)
    assert isinstance(expr, Conditional)
    assert expr.span == _span(0, len(text))
    mul = expr.test
    assert isinstance(mul, Binary) and mul.span == _span(0, 15)  # '(a + bb) * -c.d', from the '('
    add = mul.left
    assert isinstance(add, Binary) and add.span == _span(1, 7)  # 'a + bb', without the parentheses
    assert add.left.span == _span(1, 2)
    assert add.right.span == _span(5, 7)
    neg = mul.right
    assert isinstance(neg, Unary) and neg.span == _span(11, 15)  # '-c.d'
    assert neg.operand.span == _span(12, 15)  # 'c.d'
    assert expr.if_true.span == _span(18, 22)  # '0x10'
    assert expr.if_false.span == _span(25, 27)  # '!e'


def test_unary_span_includes_a_closing_parenthesis() -> None:
    expr = parse("~(a | b)")
    assert expr.span == _span(0, 8)


def test_offset_shifts_spans_for_quoted_scalars() -> None:
    expr = parse_expr("a + b", Span("q.yaml", 2, 5, 2, 12), offset=1)
    assert expr.span == Span("q.yaml", 2, 6, 2, 11)
    assert isinstance(expr, Binary) and expr.right.span == Span("q.yaml", 2, 10, 2, 11)


def test_multi_line_scalars_give_every_node_the_whole_span() -> None:
    whole = Span("m.yaml", 3, 5, 4, 9)
    expr = parse_expr("a +\n b", whole)
    assert isinstance(expr, Binary)
    assert expr.span == whole and expr.left.span == whole and expr.right.span == whole


# --- syntax errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message", "start", "end"), [
    ("", "empty expression", 0, 1),
    ("   ", "empty expression", 0, 1),
    ("a $ b", "unexpected character '$'", 2, 3),
    ("a = b", "unexpected character '='", 2, 3),
    ("a +", "expected a number, a name or '(', found end of expression", 3, 4),
    ("(", "expected a number, a name or '(', found end of expression", 1, 2),
    (")", "expected a number, a name or '(', found ')'", 0, 1),
    ("&&a", "expected a number, a name or '(', found '&&'", 0, 2),
    ("a ? : b", "expected a number, a name or '(', found ':'", 4, 5),
    ("(a", "expected ')', found end of expression", 2, 3),
    ("(a b)", "expected ')', found 'b'", 3, 4),
    ("a ? b", "expected ':', found end of expression", 5, 6),
    ("a ? b c", "expected ':', found 'c'", 6, 7),
    ("a b", "unexpected 'b' after a complete expression", 2, 3),
    ("a ? b : c : d", "unexpected ':' after a complete expression", 10, 11),
    ("(a))", "unexpected ')' after a complete expression", 3, 4),
    ("a.", "expected a name after '.'", 2, 3),
    ("a.1", "expected a name after '.'", 2, 3),
    ("a..b", "expected a name after '.'", 2, 3),
    ("1 + 0x", "unexpected 'x' after a complete expression", 5, 6),
    ("0b2", "unexpected 'b2' after a complete expression", 1, 3),
])
def test_syntax_errors_and_their_columns(text: str, message: str, start: int, end: int) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse(text)
    assert (caught.value.message, caught.value.start, caught.value.end) == (message, start, end)
    assert str(caught.value) == message


@pytest.mark.parametrize(("text", "start", "end"), [
    ("012", 0, 3), ("00", 0, 2), ("a + 07", 4, 6), ("0099 * 2", 0, 4),
])
def test_leading_zero_literals_are_rejected(text: str, start: int, end: int) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse(text)
    literal = text[start:end]
    assert (caught.value.message, caught.value.start, caught.value.end) == (
        f"'{literal}' has a leading zero; write decimal, 0x or 0b", start, end)


def test_syntax_error_in_a_quoted_scalar_is_reported_at_its_column() -> None:
    source = CAP_HEADER + 'registers:\n  r: {offset: "4 + 012", width: 16, access: ro}\n'
    compiled = compile_text(source)
    assert compiled.module is None
    assert compiled.diagnostics == [Diagnostic(
        "VG0601", Severity.ERROR, span_of(source, "012"),
        "in expression '4 + 012': '012' has a leading zero; write decimal, 0x or 0b")]


def test_syntax_error_in_a_plain_scalar_is_reported_at_its_column() -> None:
    source = CAP_HEADER + "registers:\n  r:\n    offset: 4 $ 2\n    width: 16\n    access: ro\n"
    compiled = compile_text(source)
    assert compiled.diagnostics == [Diagnostic(
        "VG0601", Severity.ERROR, span_of(source, "$"), "in expression '4 $ 2': unexpected character '$'")]


def test_syntax_error_at_the_end_of_an_expression_points_just_past_it() -> None:
    source = CAP_HEADER + "registers:\n  r:\n    offset: '4 +'\n    width: 16\n    access: ro\n"
    line, column = span_of(source, "'4 +'").line, span_of(source, "'4 +'").column
    compiled = compile_text(source)
    assert compiled.diagnostics == [Diagnostic(
        "VG0601", Severity.ERROR, Span("s.yaml", line, column + 4, line, column + 5),
        "in expression '4 +': expected a number, a name or '(', found end of expression")]


# --- round trip ------------------------------------------------------------------------------------------

_NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True).filter(lambda n: n not in ("true", "false"))


def _leaves() -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.integers(min_value=0, max_value=2**70).map(lambda v: IntLit(value=v, span=NOWHERE)),
        st.booleans().map(lambda v: BoolLit(value=v, span=NOWHERE)),
        st.lists(_NAMES, min_size=1, max_size=3).map(lambda p: Ref(path=tuple(p), span=NOWHERE)),
    )


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(lambda op, e: Unary(op=op, operand=e, span=NOWHERE), st.sampled_from(UnaryOp), children),
        st.builds(lambda op, a, b: Binary(op=op, left=a, right=b, span=NOWHERE),
                  st.sampled_from(BinaryOp), children, children),
        st.builds(lambda c, a, b: Conditional(test=c, if_true=a, if_false=b, span=NOWHERE),
                  children, children, children),
    )


EXPRESSIONS = st.recursive(_leaves(), _extend, max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(EXPRESSIONS)
def test_parse_of_to_text_gives_back_the_same_tree(expr: Expr) -> None:
    text = to_text(expr)
    assert parse(text) == expr
    assert to_text(parse(text)) == text


@settings(max_examples=200, deadline=None)
@given(EXPRESSIONS)
def test_every_parsed_span_lies_inside_the_text(expr: Expr) -> None:
    text = to_text(expr)
    parsed = parse(text)
    stack = [parsed]
    while stack:
        node = stack.pop()
        assert BASE.column <= node.span.column <= node.span.end_column <= BASE.column + len(text)
        if isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Binary):
            stack += [node.left, node.right]
        elif isinstance(node, Conditional):
            stack += [node.test, node.if_true, node.if_false]
