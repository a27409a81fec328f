"""A fast yes/no meta-schema check, so that jsonschema runs only on files with errors.

jsonschema interprets the meta-schema anew for every value (a validator object
per `descend`, a resource lookup per `$ref`) and takes about 50 ms to import;
together they were half of `vfiogen check schemas/`. This module compiles the
meta-schema once into nested closures that answer one question, "does this
document match?", and no more. A file that matches has nothing to report, so
jsonschema is never imported for it; a file that does not is handed to
jsonschema, whose errors `schema_check` words exactly as before. The
diagnostics therefore cannot change: this path only decides when jsonschema
is needed.

It must never accept what jsonschema refuses. The closures follow jsonschema's
Draft 2020-12 semantics for the keywords the meta-schema uses (`re.search`
for `pattern`, `bool` distinct from integers in `type`, `enum`, `const` and
`uniqueItems`); a keyword it does not know is refused when the meta-schema is
compiled, and a value whose meaning it is not sure of (a float: jsonschema
takes 2.0 as an integer) raises `Unsure`, which sends the file to jsonschema.
tests/unit/test_fast_check.py compares both answers on every schema in the
repository and on thousands of mutated copies of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]


class Unsure(Exception):
    """The fast check cannot tell; ask jsonschema."""


_IGNORED = frozenset({"$schema", "$id", "$defs", "title", "description", "examples", "default", "$comment"})


def _is_integer(value: Any) -> bool:
    if isinstance(value, float):
        raise Unsure
    return isinstance(value, int) and not isinstance(value, bool)


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": _is_integer,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's `equal`: True is not 1, recursively; floats are left to jsonschema."""
    if isinstance(one, float) or isinstance(two, float):
        raise Unsure
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(value, two[key]) for key, value in one.items())
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    return type(one) is type(two) and bool(one == two)


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, target: str) -> Check:
        if target not in self.refs:
            if not target.startswith("#/$defs/"):
                raise ValueError(f"fast_check: unsupported $ref {target!r}")
            slot: list[Check] = []
            self.refs[target] = lambda value: slot[0](value)
            slot.append(self.compile(self.root["$defs"][target.removeprefix("#/$defs/")]))
        return self.refs[target]

    def compile(self, schema: Any) -> Check:  # noqa: C901 - one branch per keyword
        if schema is True:
            return lambda value: True
        if schema is False:
            return lambda value: False
        checks: list[Check] = []
        for keyword, argument in schema.items():
            if keyword in _IGNORED:
                continue
            maker = getattr(self, "k_" + keyword.lstrip("$"), None)
            if maker is None:
                raise ValueError(f"fast_check: meta-schema keyword {keyword!r} is not supported")
            check = maker(argument, schema)
            if check is not None:
                checks.append(check)
        if not checks:
            return lambda value: True
        if len(checks) == 1:
            return checks[0]
        return lambda value: all(check(value) for check in checks)

    # One method per keyword: the closure, or None when it constrains nothing on its own.

    def k_ref(self, target: str, schema: dict[str, Any]) -> Check:
        return self.ref(target)

    def k_type(self, names: str | list[str], schema: dict[str, Any]) -> Check:
        tests = [_TYPES[name] for name in ([names] if isinstance(names, str) else names)]
        if len(tests) == 1:
            return tests[0]
        return lambda value: any(test(value) for test in tests)

    def k_properties(self, properties: dict[str, Any], schema: dict[str, Any]) -> Check:
        compiled = {name: self.compile(sub) for name, sub in properties.items()}

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for name, item in value.items():
                sub = compiled.get(name)
                if sub is not None and not sub(item):
                    return False
            return True
        return check

    def k_patternProperties(self, patterns: dict[str, Any], schema: dict[str, Any]) -> Check:
        compiled = [(re.compile(pattern), self.compile(sub)) for pattern, sub in patterns.items()]
        return lambda value: not isinstance(value, dict) or all(
            sub(item) for name, item in value.items() for pattern, sub in compiled
            if isinstance(name, str) and pattern.search(name))

    def k_additionalProperties(self, extra: Any, schema: dict[str, Any]) -> Check:
        known = frozenset(schema.get("properties", {}))
        patterns = "|".join(schema.get("patternProperties", {}))
        matcher = re.compile(patterns) if patterns else None
        sub = self.compile(extra)

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for name, item in value.items():
                if name in known or (matcher is not None and matcher.search(name)):
                    continue
                if not sub(item):
                    return False
            return True
        return check

    def k_propertyNames(self, names: Any, schema: dict[str, Any]) -> Check:
        sub = self.compile(names)
        return lambda value: not isinstance(value, dict) or all(sub(name) for name in value)

    def k_required(self, names: list[str], schema: dict[str, Any]) -> Check:
        return lambda value: not isinstance(value, dict) or all(name in value for name in names)

    def k_minProperties(self, bound: int, schema: dict[str, Any]) -> Check:
        return lambda value: not isinstance(value, dict) or len(value) >= bound

    def k_maxProperties(self, bound: int, schema: dict[str, Any]) -> Check:
        return lambda value: not isinstance(value, dict) or len(value) <= bound

    def k_items(self, items: Any, schema: dict[str, Any]) -> Check:
        sub = self.compile(items)
        return lambda value: not isinstance(value, list) or all(sub(item) for item in value)

    def k_minItems(self, bound: int, schema: dict[str, Any]) -> Check:
        return lambda value: not isinstance(value, list) or len(value) >= bound

    def k_maxItems(self, bound: int, schema: dict[str, Any]) -> Check:
        return lambda value: not isinstance(value, list) or len(value) <= bound

    def k_uniqueItems(self, unique: bool, schema: dict[str, Any]) -> Check | None:
        if not unique:
            return None

        def check(value: Any) -> bool:
            if not isinstance(value, list):
                return True
            if all(isinstance(item, str) for item in value):
                return len(set(value)) == len(value)
            return all(not _equal(a, b) for i, a in enumerate(value) for b in value[i + 1:])
        return check

    def k_pattern(self, pattern: str, schema: dict[str, Any]) -> Check:
        search = re.compile(pattern).search
        return lambda value: not isinstance(value, str) or search(value) is not None

    def k_minLength(self, bound: int, schema: dict[str, Any]) -> Check:
        return lambda value: not isinstance(value, str) or len(value) >= bound

    def k_maxLength(self, bound: int, schema: dict[str, Any]) -> Check:
        return lambda value: not isinstance(value, str) or len(value) <= bound

    def k_minimum(self, bound: int, schema: dict[str, Any]) -> Check:
        return lambda value: not _TYPES["number"](value) or value >= bound

    def k_maximum(self, bound: int, schema: dict[str, Any]) -> Check:
        return lambda value: not _TYPES["number"](value) or value <= bound

    def k_enum(self, choices: list[Any], schema: dict[str, Any]) -> Check:
        return lambda value: any(_equal(value, choice) for choice in choices)

    def k_const(self, constant: Any, schema: dict[str, Any]) -> Check:
        return lambda value: _equal(value, constant)

    def k_not(self, negated: Any, schema: dict[str, Any]) -> Check:
        sub = self.compile(negated)
        return lambda value: not sub(value)

    def k_allOf(self, subs: list[Any], schema: dict[str, Any]) -> Check:
        compiled = [self.compile(sub) for sub in subs]
        return lambda value: all(sub(value) for sub in compiled)

    def k_anyOf(self, subs: list[Any], schema: dict[str, Any]) -> Check:
        compiled = [self.compile(sub) for sub in subs]
        return lambda value: any(sub(value) for sub in compiled)

    def k_oneOf(self, subs: list[Any], schema: dict[str, Any]) -> Check:
        compiled = [self.compile(sub) for sub in subs]
        return lambda value: sum(1 for sub in compiled if sub(value)) == 1

    def k_if(self, condition: Any, schema: dict[str, Any]) -> Check:
        test = self.compile(condition)
        then = self.compile(schema.get("then", True))
        otherwise = self.compile(schema.get("else", True))
        return lambda value: then(value) if test(value) else otherwise(value)

    def k_then(self, sub: Any, schema: dict[str, Any]) -> None:
        return None  # part of `if`; without an `if`, jsonschema ignores it too

    def k_else(self, sub: Any, schema: dict[str, Any]) -> None:
        return None


def compile_meta_schema(schema: dict[str, Any]) -> Check:
    """A function telling whether a plain YAML value matches `schema`; it may raise `Unsure`.

    Raises:
        ValueError: when `schema` uses a keyword or `$ref` form this module does not implement.
    """
    return _Compiler(schema).compile(schema)
