"""What a new state holds: every register and scalar at its default, every array as long as its length
says at those defaults (of default elements), and how the section's expressions read such a state.

Both back ends build a new state from this (the Python sizes its lists with `array_lengths`; the C
`init` gives registers and scalars their defaults and an array's length follows from them), and
semantics checks that such a state satisfies the section's constraints (VG0524), so that a new state
saves and what it saves loads.
"""

from __future__ import annotations

from collections.abc import Mapping

from vfiogen.ir.evaluate import EvaluationError, UnknownValue, Value, evaluate, register_values, section_constants
from vfiogen.ir.nodes import ArrayType, ScalarType, Section
from vfiogen.ir.types import ScalarKind


def _default(value: int | None) -> int:
    return value or 0


def default_env(section: Section, params: Mapping[str, int] | None = None,
                registers: Mapping[str, int] | None = None) -> dict[str, Value]:
    """The values an expression reads in a new state with `params` (unbound ones at their defaults): each
    present register and scalar at its default (or its value in `registers`, a device's `defaults`), an
    absent one as 0. Arrays, bytes and structs have no
    value here (an expression that reads one cannot be evaluated)."""
    env = section_constants(section, params or {})
    for register in section.registers:
        raw = (registers or {}).get(register.name, _default(register.versioning.default))
        if register.present is not None:
            try:
                present = bool(evaluate(register.present, env))
            except EvaluationError:
                present = True
            if not present:
                raw = 0
        env.update(register_values(register, raw))
    for state in section.state:
        if isinstance(state.type, ScalarType):
            value = _default(state.versioning.default)
            if state.present is not None:
                try:
                    if not evaluate(state.present, env):
                        value = 0
                except EvaluationError:
                    pass
            env[state.name] = bool(value) if state.type.kind is ScalarKind.BOOL else value
    return env


def array_lengths(section: Section, params: Mapping[str, int] | None = None,
                  registers: Mapping[str, int] | None = None) -> dict[str, int]:
    """For each top-level array state field, its length in a new state: its length expression over
    `default_env`, clamped to 0..max (VG0524 reports one outside that range); 0 where it cannot be
    evaluated (it reads another array's elements) or the field is absent."""
    env = default_env(section, params, registers)
    lengths: dict[str, int] = {}
    for state in section.state:
        if not isinstance(state.type, ArrayType):
            continue
        try:
            present = state.present is None or bool(evaluate(state.present, env))
            length = int(evaluate(state.type.length, env)) if present else 0
        except EvaluationError:
            length = 0
        lengths[state.name] = min(max(length, 0), state.type.max)
    return lengths


def unreachable_length(section: Section, params: Mapping[str, int] | None = None,
                       registers: Mapping[str, int] | None = None) -> list[tuple[str, int]]:
    """(array, length) for each top-level array whose length at the defaults is outside 0..max."""
    env = default_env(section, params, registers)
    out = []
    for state in section.state:
        if isinstance(state.type, ArrayType):
            try:
                if state.present is not None and not evaluate(state.present, env):
                    continue
                length = int(evaluate(state.type.length, env))
            except EvaluationError:
                continue
            if not 0 <= length <= state.type.max:
                out.append((state.name, length))
    return out


def broken_constraints(section: Section, params: Mapping[str, int] | None = None,
                       registers: Mapping[str, int] | None = None) -> list[int]:
    """Indexes of the constraints a new state breaks: false over `default_env`, or not computable there
    (a shift or division a load would refuse too). One that reads an array's elements is not judged."""
    env = default_env(section, params, registers)
    broken = []
    for index, constraint in enumerate(section.constraints):
        try:
            if not evaluate(constraint.check, env):
                broken.append(index)
        except UnknownValue:
            continue
        except EvaluationError:
            broken.append(index)
    return broken
