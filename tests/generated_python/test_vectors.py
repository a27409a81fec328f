"""The generated Python package against the language-neutral test vectors in tests/vectors/.

One test per vector file (format: tests/vectors/README.md). A section case
loads its payload with `<section>.load(payload, version, Params(**params))`,
compares `to_dict()` with `expect` exactly, and saves again. An error case
compares LoadError's section, field and offset, and looks for a substring of
its reason. A device case does the same with `<device>.load(blob)`.

Cases in KNOWN_FAILURES hold the right (hand-derived) expectation and expose
a bug in the generated code. They run as strict xfails: fixing the bug turns
the case into an XPASS failure, and then its entry must be deleted here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from known_failures import VECTORS as KNOWN_FAILURES

from vfiogen_state._runtime import LoadError, SaveError

VECTORS = Path(__file__).resolve().parents[1] / "vectors"

SECTION_KEYS = {"section", "version", "params", "hex", "expect", "resave", "error"}
DEVICE_KEYS = {"device", "hex", "expect", "resave", "error", "config"}
ERROR_KEYS = {"section", "field", "offset", "reason_contains"}


def _case_files() -> list[Path]:
    return sorted(p for p in VECTORS.rglob("*.yaml"))


def _case_id(path: Path) -> str:
    return path.relative_to(VECTORS).with_suffix("").as_posix()


def _params() -> list[Any]:
    out = []
    for path in _case_files():
        case = _case_id(path)
        marks = []
        if case in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(reason=KNOWN_FAILURES[case], strict=True))
        out.append(pytest.param(path, id=case, marks=marks))
    return out


def _hex(value: Any) -> bytes:
    """A `hex` value: a string or a list of strings, whitespace ignored."""
    parts = value if isinstance(value, list) else [value]
    assert all(isinstance(p, str) for p in parts), f"hex must be a string or a list of strings: {value!r}"
    text = "".join("".join(p.split()) for p in parts)
    return bytes.fromhex(text)


def _differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Exact structural comparison; bools and integers never compare equal."""
    where = path or "<root>"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected a mapping, got {actual!r}"]
        out = []
        for key in expected.keys() - actual.keys():
            out.append(f"{path}.{key}".lstrip(".") + ": missing from the loaded state")
        for key in actual.keys() - expected.keys():
            out.append(f"{path}.{key}".lstrip(".") + f": not in the vector (loaded {actual[key]!r})")
        for key in expected.keys() & actual.keys():
            out += _differences(expected[key], actual[key], f"{path}.{key}".lstrip("."))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {actual!r}"]
        if len(expected) != len(actual):
            return [f"{where}: expected {len(expected)} elements, got {len(actual)}: {actual!r}"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += _differences(e, a, f"{path}[{i}]")
        return out
    if type(expected) is not type(actual) or expected != actual:
        shown_e = hex(expected) if type(expected) is int else repr(expected)
        shown_a = hex(actual) if type(actual) is int else repr(actual)
        return [f"{where}: expected {shown_e}, got {shown_a}"]
    return []


def _assert_same(expected: Any, actual: Any, what: str) -> None:
    problems = _differences(expected, actual)
    assert not problems, f"{what} differs from the vector:\n  " + "\n  ".join(sorted(problems))


def _check_error(exc: LoadError, error: dict[str, Any], default_section: str) -> None:
    assert set(error) <= ERROR_KEYS, f"unknown keys in error: {set(error) - ERROR_KEYS}"
    got = (exc.section, exc.field, exc.offset)
    want = (error.get("section", default_section), error["field"], error["offset"])
    assert got == want, f"LoadError (section, field, offset) = {got}, expected {want}; reason: {exc.reason!r}"
    assert error["reason_contains"] in exc.reason, (
        f"LoadError reason {exc.reason!r} does not contain {error['reason_contains']!r}")


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"vfiogen_state.{name}")


def _run_section_case(case: dict[str, Any]) -> None:
    assert set(case) <= SECTION_KEYS, f"unknown keys: {set(case) - SECTION_KEYS}"
    assert ("expect" in case) != ("error" in case), "a case has exactly one of expect and error"
    mod = _module(case["section"])
    params = mod.Params(**case.get("params", {}))
    payload = _hex(case["hex"])
    version = case["version"]
    if "error" in case:
        assert "resave" not in case
        with pytest.raises(LoadError) as caught:
            mod.load(payload, version, params)
        _check_error(caught.value, case["error"], case["section"])
        return
    state = mod.load(payload, version, params)
    _assert_same(case["expect"], state.to_dict(), f"{case['section']} v{version}")
    _check_resave(case.get("resave"), payload, version,
                  lambda v: bytes(mod.save(state, v, params)))


def _check_resave(resave: Any, original: bytes, version: int | None, save: Any) -> None:
    """`resave`: 'same', or a list of {version, hex} (hex may be 'same') or {version, error: {field, reason_contains}}."""
    if resave is None:
        return
    items = [{"version": version, "hex": "same"}] if resave == "same" else resave
    assert isinstance(items, list), f"resave must be 'same' or a list: {resave!r}"
    for item in items:
        assert set(item) in ({"version", "hex"}, {"version", "error"}), f"bad resave item {item!r}"
        if "error" in item:
            with pytest.raises(SaveError) as caught:
                save(item["version"])
            error = item["error"]
            assert caught.value.field == error["field"], (
                f"SaveError at version {item['version']} names {caught.value.field!r}, expected {error['field']!r}; "
                f"reason: {caught.value.reason!r}")
            assert error["reason_contains"] in caught.value.reason, (
                f"SaveError reason {caught.value.reason!r} does not contain {error['reason_contains']!r}")
            continue
        want = original if item["hex"] == "same" else _hex(item["hex"])
        got = save(item["version"])
        assert got == want, (f"re-saved at version {item['version']}:\n  got  {got.hex()}\n  want {want.hex()}")


def _device_config(mod: Any, config: dict[str, Any] | None) -> Any:
    """A vector's `config` ({present: [sections], params: {section: {name: value}}}) as the device's Config;
    a generic device's vectors give one, since it has none of its own."""
    if config is None:
        return None
    assert set(config) <= {"present", "params", "instances"}
    prefix = mod.__name__.rsplit(".", 1)[1]
    name = "".join(part[:1].upper() + part[1:] for part in prefix.split("_"))
    params = getattr(mod, f"{name}Params")()
    for section, values in config.get("params", {}).items():
        setattr(params, section, _module(section).Params(**values))
    present = 0
    for section in config.get("present", ()):
        present |= getattr(mod, f"HAS_{section.upper()}")
    made = getattr(mod, f"{name}Config")(present=present, params=params)
    for section, count in config.get("instances", {}).items():  # a repeated section's count
        setattr(made.instances, section, count)
    return made


def _run_device_case(case: dict[str, Any]) -> None:
    assert set(case) <= DEVICE_KEYS, f"unknown keys: {set(case) - DEVICE_KEYS}"
    assert ("expect" in case) != ("error" in case), "a case has exactly one of expect and error"
    mod = _module(case["device"])
    blob = _hex(case["hex"])
    config = _device_config(mod, case.get("config"))
    if "error" in case:
        assert "resave" not in case
        assert "section" in case["error"], "a device error names its section"
        with pytest.raises(LoadError) as caught:
            mod.load(blob, config=config)
        _check_error(caught.value, case["error"], "")
        return
    state, descriptor = mod.load(blob, config=config)
    expect = case["expect"]
    assert set(expect) <= {"sections", "descriptor"}
    sections = {name: getattr(state, name) for name in type(state).__slots__}
    wanted = dict(expect["sections"])
    absent: set[str] = set()
    if case.get("config") is not None:  # a section the config leaves out may go unlisted: it holds its new state
        absent = set(sections) - set(case["config"].get("present", ()))
        wanted.update({name: None if sections[name] is None
                       else [] if isinstance(sections[name], list) else type(sections[name])().to_dict()
                       for name in absent - set(wanted)})
    _assert_same(wanted,
                 {name: None if s is None else [i.to_dict() for i in s] if isinstance(s, list) else s.to_dict()
                  for name, s in sections.items()},
                 f"{case['device']} sections")
    if "descriptor" in expect:
        # `present` is not a record of the frame: it says which records the frame held.
        parts = {name: getattr(descriptor, name) for name in type(descriptor).__slots__
                 if name != "present" and (name in expect["descriptor"] or (name in sections and name not in absent))}
        _assert_same(expect["descriptor"],
                     {name: [_neutral(name, i, expect["descriptor"].get(name)) for i in d] if isinstance(d, list)
                      else _neutral(name, d, expect["descriptor"].get(name)) for name, d in parts.items()},
                     f"{case['device']} descriptor")
        # a repeated section the source lacks is an empty list of records
        assert descriptor.present == sum(getattr(mod, f"HAS_{name.upper()}") for name, value in expect["descriptor"].items()
                                         if value != [])
    if case.get("resave") is not None:
        assert case["resave"] == "same", "a device case re-saves at the default versions only"
        _check_resave("same", blob, None, lambda _v: bytes(mod.save(state, descriptor, config=config)))


def _neutral(section: str, record: Any, expected: Any) -> dict[str, Any]:
    """A section descriptor as the vectors write it, in the schema's names: its fixed fields, then
    `emulated_<register>` and `wmask_<register>` for each register whose mask-list entry the vector lists
    (a record of the frame has entries only where a mask is not 0; a vector may list zero pairs too) or
    whose masks are not 0."""
    plain = record.to_dict()
    emulated, writable = plain.pop("emulated_masks", []), plain.pop("write_masks", [])
    listed = set()
    for item in expected if isinstance(expected, list) else [expected or {}]:
        listed |= set(item)
    registers = getattr(importlib.import_module(f"vfiogen_state.{section}"), "MASKED_REGISTERS", ())
    for index, register in enumerate(registers):
        if emulated[index] or writable[index] or f"emulated_{register}" in listed:
            plain[f"emulated_{register}"], plain[f"wmask_{register}"] = emulated[index], writable[index]
    return plain


@pytest.mark.parametrize("path", _params())
def test_vector(path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(case, dict), "a vector file is one mapping"
    if "device" in case:
        _run_device_case(case)
    else:
        _run_section_case(case)


def test_vector_count() -> None:
    # At least 30 cases, and every section and the device have some.
    ids = [_case_id(p) for p in _case_files()]
    assert len(ids) >= 30
    for group in ("msi", "msix", "header", "rebar", "sriov", "pm", "ltr", "ats", "pasid", "pri", "ptm", "l1ss", "acs",
                  "dsn", "pcie", "aer", "bridge_header", "devices/example_nic"):
        assert any(i.startswith(group + "/") for i in ids), group


def test_known_failures_exist() -> None:
    ids = {_case_id(p) for p in _case_files()}
    assert set(KNOWN_FAILURES) <= ids, f"stale entries: {set(KNOWN_FAILURES) - ids}"


def test_to_dict_uses_schema_enum_names() -> None:
    header = _module("header")
    state = header.load(_hex(yaml.safe_load((VECTORS / "header" / "bar64_pairs.yaml").read_text())["hex"]),
                        1)
    data = state.to_dict()
    assert (data["interrupt_pin"], data["bar0"]["mem_type"], data["header_type"]["layout"]) == \
        ("inta", "mem64", "type0")
