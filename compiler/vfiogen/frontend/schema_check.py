"""Check located YAML against the JSON Schema meta-schema (second pass).

jsonschema reports errors as instance paths; this module maps each path back
to the node's line and column, keeps one error per path (jsonschema's
`best_match` within the group) and words the common cases for humans.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vfiogen.diagnostics import Reporter
from vfiogen.frontend.fast_check import Check, Unsure, compile_meta_schema
from vfiogen.frontend.yaml_loader import Node
from vfiogen.source import Span
from vfiogen.spdx import check_expression

if TYPE_CHECKING:  # jsonschema is imported only for a file with errors (see fast_check)
    import jsonschema
    from jsonschema.exceptions import ValidationError


@functools.cache
def meta_schema() -> dict[str, Any]:
    """The packaged meta-schema (also usable by editors, see the README)."""
    # Beside this module (package data); importlib.resources would cost `check` 8 ms of imports for the same read.
    text = Path(__file__).with_name("meta_schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(meta_schema())


@functools.cache
def _fast_check() -> Check:
    return compile_meta_schema(meta_schema())


def _matches(plain: Any) -> bool:
    """True when the fast check is sure `plain` matches the meta-schema (then jsonschema has nothing to say)."""
    try:
        return _fast_check()(plain)
    except Unsure:
        return False


def _locate(root: Node, path: list[str | int]) -> tuple[Node, Span | None]:
    """The node at `path`, and the span of the key that leads to it (if any)."""
    node, key_span = root, None
    for step in path:
        if isinstance(node.value, dict) and isinstance(step, str) and step in node.value:
            key_span = node.key_spans[step]
            node = node.value[step]
        elif isinstance(node.value, list) and isinstance(step, int) and step < len(node.value):
            key_span = None
            node = node.value[step]
        else:
            break
    return node, key_span


def _describe_path(path: list[str | int]) -> str:
    return "/" + "/".join(str(p) for p in path)


_NAME_HELP = "names are lower-case letters, digits and '_', starting with a letter"


def _word(error: ValidationError, root: Node) -> tuple[Span, str]:
    path = list(error.absolute_path)
    node, key_span = _locate(root, path)
    where = _describe_path(path)
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "additionalProperties" and isinstance(node.value, dict):
        allowed = sorted(schema.get("properties", {}))
        extras = [k for k in node.value if k not in allowed]
        if extras:
            extra = extras[0]
            message = f"unknown key '{extra}' at {where}"
            import difflib

            close = difflib.get_close_matches(extra, allowed, n=1)
            if close:
                message += f"; did you mean '{close[0]}'?"
            elif allowed:
                message += f"; expected one of: {', '.join(allowed)}"
            return node.key_spans[extra], message
    if validator == "required":
        required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
        missing = [k for k in required if not (isinstance(node.value, dict) and k in node.value)]
        name = missing[0] if missing else str(error.validator_value)
        return key_span or node.span, f"missing required key '{name}' at {where}"
    if "propertyNames" in error.absolute_schema_path and isinstance(node.value, dict) \
            and isinstance(error.instance, str) and error.instance in node.key_spans:
        # jsonschema reports a bad key at its mapping; point at the key itself.
        return node.key_spans[error.instance], f"'{error.instance}' is not a valid name at {where}: {_NAME_HELP}"
    if validator == "pattern" and schema.get("pattern", "").startswith("^[a-z"):
        return node.span, f"'{error.instance}' is not a valid name at {where}: {_NAME_HELP}"
    if validator == "pattern" and "bytes" in schema.get("pattern", ""):
        return node.span, (f"unknown type '{error.instance}' at {where}; expected u8..u64, s8..s64, "
                           "bool, bytes[N], array or struct")
    if validator == "pattern":
        return node.span, f"'{error.instance}' is malformed at {where} (expected the form {schema['pattern']})"
    if validator == "enum":
        choices = ", ".join(str(v) for v in error.validator_value)  # type: ignore[union-attr]
        return node.span, f"'{error.instance}' is not allowed at {where}; expected one of: {choices}"
    if validator == "const":
        return node.span, f"'{error.instance}' is not allowed at {where}; expected {error.validator_value!r}"
    if validator == "type":
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else expected
        return node.span, f"expected {expected_text} at {where}, got {_kind(error.instance)}"
    if validator in ("minimum", "maximum"):
        bound = "at least" if validator == "minimum" else "at most"
        return node.span, f"{error.instance} is out of range at {where}: must be {bound} {error.validator_value}"
    if validator in ("minProperties", "maxProperties") and "reason" in schema.get("required", []):
        return node.span, (f"a compat rule at {where} names exactly one check (require, equal, subset, "
                           "superset, target_ge or masked_equal) plus its reason")
    if validator in ("minProperties", "maxProperties") and "emulation" in schema.get("properties", {}):
        return node.span, (f"location at {where} names exactly one of: header, capability, "
                           "extended_capability, emulation")
    if validator in ("minProperties", "minItems"):
        return node.span, f"{where} must not be empty"
    if validator == "uniqueItems":
        return node.span, f"{where} lists an item twice"
    if validator == "not":
        keys = sorted(_required_keys(error.validator_value))
        if keys and isinstance(node.value, dict):
            present = [k for k in keys if k in node.value]
            key = present[0] if present else keys[0]
            span = node.key_spans.get(key, node.span)
            hint = _NOT_HINTS.get(key, "see the schema language reference")
            return span, f"key '{key}' is not allowed here ({where}): {hint}"
    return node.span, f"{error.message} at {where}"


_NOT_HINTS = {
    "element": "'element', 'length' and 'max' belong to arrays",
    "length": "'element', 'length' and 'max' belong to arrays",
    "max": "'element', 'length' and 'max' belong to arrays",
    "members": "'members' belongs to structs",
    "access": "a register with bit fields of its own gives each its access (a register-wide access goes with "
              "a field set, `fields: NAME`)",
    "type": "a descriptor field derived with 'from' takes its type from the register",
    "fields": "'fields' selects bits of the register named by 'from'",
}


def _required_keys(schema: Any) -> set[str]:
    keys: set[str] = set()
    if isinstance(schema, dict):
        keys.update(schema.get("required", []))
        for sub in schema.get("anyOf", []):
            keys |= _required_keys(sub)
    return keys


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, str):
        return f"string '{value}'"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _choose(errors: list[ValidationError]) -> ValidationError:
    """The one error of a group (one instance path) that best tells the user what to fix.

    An unknown key wins: a misspelt required key also makes the key it
    meant "missing", and "did you mean 'access'?" says more than either.
    Inside `oneOf`, the branches that fail on the value's kind itself (a
    string where a mapping is written) are dropped, and of the rest the
    branch with the fewest errors is the one the user meant.
    """
    from jsonschema.exceptions import best_match

    unknown = [e for e in errors if e.validator == "additionalProperties"]
    chosen = unknown[0] if unknown else best_match(errors)
    assert chosen is not None, "groups are never empty"
    while chosen.validator in ("oneOf", "anyOf") and chosen.context:
        branches: dict[object, list[ValidationError]] = {}
        for error in chosen.context:
            branches.setdefault(error.relative_schema_path[0], []).append(error)
        viable = [branch for branch in branches.values()
                  if not any(e.validator == "type" and not e.relative_path for e in branch)]
        if not viable:
            break
        fewest = min(viable, key=len)
        unknown = [e for e in fewest if e.validator == "additionalProperties"]
        chosen = unknown[0] if unknown else (best_match(fewest) or fewest[0])
    return chosen


def check_meta_schema(root: Node, reporter: Reporter) -> bool:
    """Validate one file's tree; report one diagnostic per offending instance path.

    Returns:
        True when the file matches the meta-schema.
    """
    if not isinstance(root.value, dict) or not any(key in root.value for key in ("section", "device", "options")):
        reporter.report("VG0201", root.span,
                        "a schema file is a mapping that starts with 'section:', 'device:' or 'options:'")
        return False
    plain = root.plain()
    if _matches(plain):
        return _check_license(root, reporter)
    groups: dict[tuple[str, ...], list[ValidationError]] = {}
    for error in _validator().iter_errors(plain):
        groups.setdefault(tuple(str(p) for p in error.absolute_path), []).append(error)
    located: list[tuple[Span, str]] = []
    for errors in groups.values():
        located.append(_word(_choose(errors), root))
    for span, message in sorted(located, key=lambda item: (item[0].line, item[0].column, item[1])):
        reporter.report("VG0201", span, message)
    return not located and _check_license(root, reporter)


def _check_license(root: Node, reporter: Reporter) -> bool:
    """An options file's `license` must be an SPDX expression: it is pasted into every generated file."""
    options = root.get("options")
    license = options.get("license") if options is not None else None
    if license is None or not isinstance(license.value, str):
        return True
    error = check_expression(license.value)
    if error is None:
        return True
    offset = 1 if license.quoted else 0
    reporter.report("VG0202", license.span.sub(error.start + offset, max(error.end, error.start + 1) + offset),
                    f"license '{license.value}' is not an SPDX expression: {error.message}")
    return False
