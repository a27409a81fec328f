"""Compile-time evaluation and value ranges of expressions.

Used by layout (offsets for every combination of the read-only bits they
depend on) and semantics (whether an array's `max` is reachable). The
semantics match what the back ends generate: integers are unbounded here and
64-bit in C, `~` is masked to the operand's width, `/` truncates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from vfiogen.ir.expr import (
    BinaryOp,
    BoolLit,
    Conditional,
    Expr,
    IntLit,
    Ref,
    Unary,
    UnaryOp,
)
from vfiogen.ir.nodes import Register, Section

Value = int | bool


class EvaluationError(Exception):
    """Division by zero or a reference with no value in the environment."""


class UnknownValue(EvaluationError):
    """A reference with no value in the environment (as opposed to arithmetic that cannot be done)."""


def evaluate(expr: Expr, env: Mapping[str, Value]) -> Value:
    """Evaluate `expr` with references looked up by dotted name in `env`.

    Each expression is compiled once into nested closures (`_compile`) and kept by identity: layout evaluates
    a register's offset and presence for every value of the bits they read (256 for a length byte), and
    walking the tree each time was most of its cost.
    """
    return compiled(expr)(env)


def compiled(expr: Expr) -> Callable[[Mapping[str, Value]], Value]:
    """`expr` as a function of the environment (what `evaluate` calls), for a caller that evaluates one
    expression many times and would otherwise look it up each time."""
    kept = _COMPILED.get(id(expr))
    if kept is None or kept[0] is not expr:
        if len(_COMPILED) >= 32768:  # a test session compiles many modules: keep memory bounded
            _COMPILED.clear()
        kept = _COMPILED[id(expr)] = (expr, _compile(expr))
    return kept[1]


_Compiled = Callable[[Mapping[str, Value]], Value]
_COMPILED: dict[int, tuple[Expr, _Compiled]] = {}
"""Each expression evaluated lately, compiled, by identity (the expression is kept, so its id is not reused)."""


def _compile(expr: Expr) -> _Compiled:
    """`expr` as a function of the environment, with the semantics the module docstring gives."""
    if isinstance(expr, (IntLit, BoolLit)):
        constant = expr.value
        return lambda env: constant
    if isinstance(expr, Ref):
        name = expr.dotted

        def ref(env: Mapping[str, Value]) -> Value:
            if name not in env:
                raise UnknownValue(f"'{name}' has no value here")
            return env[name]
        return ref
    if isinstance(expr, Unary):
        operand = _compile(expr.operand)
        if expr.op is UnaryOp.LOG_NOT:
            return lambda env: not operand(env)
        if expr.op is UnaryOp.NEG:
            return lambda env: -int(operand(env))
        mask = (1 << (expr.width if expr.width is not None else 64)) - 1
        return lambda env: ~int(operand(env)) & mask
    if isinstance(expr, Conditional):
        test, if_true, if_false = _compile(expr.test), _compile(expr.if_true), _compile(expr.if_false)
        return lambda env: if_true(env) if test(env) else if_false(env)
    left, right = _compile(expr.left), _compile(expr.right)
    if expr.op is BinaryOp.LOG_AND:
        return lambda env: bool(left(env)) and bool(right(env))
    if expr.op is BinaryOp.LOG_OR:
        return lambda env: bool(left(env)) or bool(right(env))
    operation = _BINARY[expr.op]
    if expr.op in (BinaryOp.SHL, BinaryOp.SHR):
        def shift(env: Mapping[str, Value]) -> Value:
            value, count = left(env), int(right(env))
            if not 0 <= count < 64:
                # Values are 64-bit in generated C, where such a shift is undefined.
                raise EvaluationError(f"shift count {count} is outside 0..63")
            return operation(int(value), count)
        return shift

    def binary(env: Mapping[str, Value]) -> Value:
        value = left(env)
        return operation(int(value), int(right(env)))
    return binary


def _divide(a: int, b: int) -> int:
    if b == 0:
        raise EvaluationError("division by zero")
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def _remainder(a: int, b: int) -> int:
    return a - _divide(a, b) * b


_BINARY: dict[BinaryOp, Callable[[int, int], Value]] = {
    BinaryOp.MUL: lambda a, b: a * b,
    BinaryOp.DIV: _divide,
    BinaryOp.MOD: _remainder,
    BinaryOp.ADD: lambda a, b: a + b,
    BinaryOp.SUB: lambda a, b: a - b,
    BinaryOp.SHL: lambda a, b: a << b,
    BinaryOp.SHR: lambda a, b: a >> b,
    BinaryOp.LT: lambda a, b: a < b,
    BinaryOp.LE: lambda a, b: a <= b,
    BinaryOp.GT: lambda a, b: a > b,
    BinaryOp.GE: lambda a, b: a >= b,
    BinaryOp.EQ: lambda a, b: a == b,
    BinaryOp.NE: lambda a, b: a != b,
    BinaryOp.BIT_AND: lambda a, b: a & b,
    BinaryOp.BIT_XOR: lambda a, b: a ^ b,
    BinaryOp.BIT_OR: lambda a, b: a | b,
}

Range = tuple[int, int]


def value_range(expr: Expr, ref_range: Callable[[Ref], Range | None]) -> Range | None:
    """A conservative (lo, hi) for an integer expression, or None when unbounded.

    Args:
        expr: the expression.
        ref_range: the range of a reference (None when unknown).
    """
    if isinstance(expr, IntLit):
        return expr.value, expr.value
    if isinstance(expr, BoolLit):
        return int(expr.value), int(expr.value)
    if isinstance(expr, Ref):
        return ref_range(expr)
    if isinstance(expr, Unary):
        inner = value_range(expr.operand, ref_range)
        if expr.op is UnaryOp.BIT_NOT and expr.width is not None:
            return 0, (1 << expr.width) - 1
        if expr.op is UnaryOp.NEG and inner is not None:
            return -inner[1], -inner[0]
        if expr.op is UnaryOp.LOG_NOT:
            return 0, 1
        return None
    if isinstance(expr, Conditional):
        when_true = value_range(expr.if_true, ref_range)
        when_false = value_range(expr.if_false, ref_range)
        if when_true is None or when_false is None:
            return None
        return min(when_true[0], when_false[0]), max(when_true[1], when_false[1])
    left = value_range(expr.left, ref_range)
    right = value_range(expr.right, ref_range)
    if left is None or right is None:
        return None
    (a, b), (c, d) = left, right
    op = expr.op
    if op is BinaryOp.ADD:
        return a + c, b + d
    if op is BinaryOp.SUB:
        return a - d, b - c
    if op is BinaryOp.MUL:
        products = (a * c, a * d, b * c, b * d)
        return min(products), max(products)
    if a < 0 or c < 0:
        return None
    if op is BinaryOp.DIV:
        return (a // d if d else 0), (b // c if c else b)
    if op is BinaryOp.MOD:
        return 0, max(0, d - 1)
    if op in (BinaryOp.SHL, BinaryOp.SHR) and d > 63:
        return None  # evaluating it fails (see `evaluate`); nothing to bound
    if op is BinaryOp.SHL:
        return a << c, b << d
    if op is BinaryOp.SHR:
        return a >> d, b >> c
    if op is BinaryOp.BIT_AND:
        return 0, min(b, d)
    if op in (BinaryOp.BIT_OR, BinaryOp.BIT_XOR):
        return 0, (1 << max(b, d).bit_length()) - 1
    return 0, 1


def register_values(register: Register, raw: int) -> dict[str, Value]:
    """How a register holding `raw` reads in expressions: itself, and each declared bit field (a one-bit
    field without an enum as a bool)."""
    values: dict[str, Value] = {register.name: raw}
    for bit_field in register.fields:
        if bit_field.access.reserved:
            continue
        value = (raw >> bit_field.lo) & ((1 << bit_field.width) - 1)
        values[f"{register.name}.{bit_field.name}"] = (bool(value) if bit_field.width == 1 and bit_field.enum is None
                                                      else value)
    return values


def section_constants(section: Section, params: Mapping[str, int]) -> dict[str, Value]:
    """The names an expression can read that are not state: `params.NAME` (bound, else the default) and
    `enum.value`."""
    values: dict[str, Value] = {f"params.{p.name}": params.get(p.name, p.default) for p in section.params}
    for enum_type in section.enums:
        for value in enum_type.values:
            values[f"{enum_type.name}.{value.name}"] = value.value
    return values


def source_params(section: Section, envs: Mapping[str, Mapping[str, Value]]) -> dict[str, int]:
    """The params of `section` read from another section (`from:`) whose values `envs` holds by section name
    (what a capture or a decode of that section read); a param whose section is not there is left out.

    The tools' counterpart of the generated devices' derived params (`ir.plan.DerivedParam`): an expression
    that cannot be evaluated leaves the param out too, as the generated code keeps the config's value.
    """
    values: dict[str, int] = {}
    for param in section.params:
        source = param.source
        if source is None or source.section not in envs:
            continue
        try:
            values[param.name] = int(evaluate(source.expr, envs[source.section]))
        except EvaluationError:
            continue
    return values
