"""vfiogen.frontend.schema_check: meta-schema errors, located and worded for people."""

from __future__ import annotations

import pytest
from vfiogen.diagnostics import Diagnostic, Reporter, Severity
from vfiogen.frontend.schema_check import check_meta_schema, meta_schema
from vfiogen.frontend.yaml_loader import load_yaml
from vfiogen.source import Span

HEADER = "section: t\ntitle: T\nid: 1\nlocation: {capability: {id: 5, size: 24}}\nversion: 1\n"


def check(text: str) -> tuple[bool, list[Diagnostic]]:
    reporter = Reporter()
    _, root = load_yaml("f.yaml", text.encode("utf-8"), reporter)
    assert root is not None and reporter.diagnostics == []
    ok = check_meta_schema(root, reporter)
    return ok, reporter.diagnostics


def vg0201(line: int, column: int, end_line: int, end_column: int, message: str) -> Diagnostic:
    return Diagnostic("VG0201", Severity.ERROR, Span("f.yaml", line, column, end_line, end_column), message)


def test_meta_schema_is_draft_2020_12() -> None:
    assert meta_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_a_valid_section_and_device_pass() -> None:
    assert check(HEADER) == (True, [])
    assert check("device: d\ntitle: D\nsections:\n  - use: t\n    params: {n: 1}\n    required: false\n") == (
        True, [])


@pytest.mark.parametrize("text", ["- 1\n", "foo: 1\n", "just text\n"])
def test_a_file_that_is_neither_section_nor_device(text: str) -> None:
    ok, diagnostics = check(text)
    assert not ok
    assert len(diagnostics) == 1
    assert diagnostics[0].message == "a schema file is a mapping that starts with 'section:', 'device:' or 'options:'"
    assert (diagnostics[0].span.line, diagnostics[0].span.column) == (1, 1)


def test_unknown_key_suggests_the_closest_name() -> None:
    assert check(HEADER + "titel: x\n") == (False, [vg0201(6, 1, 6, 6, "unknown key 'titel' at /; did you mean 'title'?")])


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    allowed = sorted(meta_schema()["$defs"]["section"]["properties"])
    assert {"compat", "registers", "state", "title", "version"} <= set(allowed)
    assert check(HEADER + "zzz: x\n") == (False, [vg0201(
        6, 1, 6, 4, f"unknown key 'zzz' at /; expected one of: {', '.join(allowed)}")])


def test_missing_required_key_at_the_root_points_at_the_mapping() -> None:
    text = "section: t\nid: 1\nlocation: {capability: {id: 5, size: 24}}\nversion: 1\n"
    assert check(text) == (False, [vg0201(1, 1, 5, 1, "missing required key 'title' at /")])


def test_missing_required_key_below_the_root_points_at_its_parent_key() -> None:
    text = HEADER + "state:\n  x: {type: array, max: 3, length: 2}\n"
    assert check(text) == (False, [vg0201(7, 3, 7, 4, "missing required key 'element' at /state/x")])


def test_invalid_name_value() -> None:
    assert check(HEADER.replace("section: t", "section: Bad")) == (False, [vg0201(
        1, 10, 1, 13, "'Bad' is not a valid name at /section: names are lower-case letters, digits and '_', "
        "starting with a letter")])


def test_invalid_key_name_points_at_that_key() -> None:
    text = HEADER + "registers:\n  ok: {offset: 0, width: 16, access: rw}\n  Bad: {offset: 4, width: 16, access: rw}\n"
    assert check(text) == (False, [vg0201(
        8, 3, 8, 6, "'Bad' is not a valid name at /registers: names are lower-case letters, digits and '_', starting "
        "with a letter")])


def test_invalid_param_name_in_a_device_points_at_that_key() -> None:
    text = "device: d\ntitle: D\nsections:\n  - use: x\n    params: {ok: 1, P: 1}\n"
    assert check(text) == (False, [vg0201(
        5, 21, 5, 22, "'P' is not a valid name at /sections/0/params: names are lower-case letters, digits and '_', "
        "starting with a letter")])


def test_invalid_key_name_is_reported_once_with_the_name() -> None:
    text = HEADER + "registers:\n  ok: {offset: 0, width: 16, access: rw}\n  Bad: {offset: 4, width: 16, access: rw}\n"
    ok, diagnostics = check(text)
    assert not ok
    assert [d.message for d in diagnostics] == [
        "'Bad' is not a valid name at /registers: names are lower-case letters, digits and '_', starting with a letter"]


def test_enum_violations_list_the_choices() -> None:
    text = HEADER + "registers:\n  ctl: {offset: 0, width: 12, access: rx}\n"
    assert check(text) == (False, [
        vg0201(7, 27, 7, 29, "'12' is not allowed at /registers/ctl/width; expected one of: 8, 16, 32, 64"),
        vg0201(7, 39, 7, 41, "'rx' is not allowed at /registers/ctl/access; expected one of: rw, ro, rw1c, rsvdp, "
               "rsvdz, hwinit, rws, rw1cs, ros"),
    ])


def test_unknown_field_type() -> None:
    assert check(HEADER + "state:\n  x: {type: u7}\n") == (False, [vg0201(
        7, 13, 7, 15, "unknown type 'u7' at /state/x/type; expected u8..u64, s8..s64, bool, bytes[N], array or struct")])


def test_malformed_bit_range() -> None:
    text = HEADER + "registers:\n  ctl: {offset: 0, width: 16, fields: {a: {bits: '3-1', access: rw}}}\n"
    assert check(text) == (False, [vg0201(
        7, 50, 7, 55, "'3-1' is malformed at /registers/ctl/fields/a/bits (expected the form ^[0-9]+:[0-9]+$)")])


def test_wrong_type() -> None:
    assert check(HEADER.replace("version: 1", "version: x")) == (False, [
        vg0201(5, 10, 5, 11, "expected integer at /version, got string 'x'")])


@pytest.mark.parametrize(("value", "message"), [
    ("0", "0 is out of range at /id: must be at least 1"),
    ("70000", "70000 is out of range at /id: must be at most 65535"),
])
def test_out_of_range(value: str, message: str) -> None:
    assert check(HEADER.replace("id: 1", f"id: {value}")) == (False, [vg0201(3, 5, 3, 5 + len(value), message)])


def test_location_names_exactly_one_kind() -> None:
    text = HEADER.replace("location: {capability: {id: 5, size: 24}}",
                          "location: {capability: {id: 5, size: 24}, emulation: true}")
    assert check(text) == (False, [vg0201(
        4, 11, 4, 59, "location at /location names exactly one of: header, capability, extended_capability, emulation")])


def test_compat_rule_names_exactly_one_check() -> None:
    text = HEADER + "descriptor:\n  d: {type: u8}\ncompat:\n  - {equal: d, subset: d, reason: r}\n"
    assert check(text) == (False, [vg0201(
        9, 5, 9, 37, "a compat rule at /compat/0 names exactly one check (require, equal, subset, superset, target_ge "
        "or masked_equal) plus its reason")])


@pytest.mark.parametrize(("body", "span", "message"), [
    ("registers:\n  ctl:\n    offset: 0\n    width: 16\n    access: rw\n    fields: {a: {bits: 0, access: rw}}\n",
     (10, 5, 10, 11), "key 'access' is not allowed here (/registers/ctl): a register with bit fields of its own gives each "
     "its access (a register-wide access goes with a field set, `fields: NAME`)"),
    ("state:\n  x: {type: u8, max: 3}\n", (7, 17, 7, 20),
     "key 'max' is not allowed here (/state/x): 'element', 'length' and 'max' belong to arrays"),
    ("state:\n  x: {type: u8, members: {a: {type: u8}}}\n", (7, 17, 7, 24),
     "key 'members' is not allowed here (/state/x): 'members' belongs to structs"),
    ("descriptor:\n  d: {from: ctl, type: u8}\n", (7, 18, 7, 22),
     "key 'type' is not allowed here (/descriptor/d): a descriptor field derived with 'from' takes its type from the "
     "register"),
    ("descriptor:\n  d: {type: u8, fields: [a]}\n", (7, 17, 7, 23),
     "key 'fields' is not allowed here (/descriptor/d): 'fields' selects bits of the register named by 'from'"),
])
def test_keys_that_do_not_belong_point_at_the_key(body: str, span: tuple[int, int, int, int], message: str) -> None:
    assert check(HEADER + body) == (False, [vg0201(*span, message)])


def test_empty_and_repeated_lists() -> None:
    assert check(HEADER + "hooks:\n  pre_save: [a, a]\n") == (False, [
        vg0201(7, 13, 7, 19, "/hooks/pre_save lists an item twice")])
    assert check("device: d\ntitle: D\nsections: []\n") == (False, [
        vg0201(3, 11, 3, 13, "/sections must not be empty")])


def test_one_error_per_instance_path_sorted_by_position() -> None:
    text = HEADER + "titel: x\nregisters:\n  ctl: {offset: 0, width: 12, access: rx}\nzzz: 1\n"
    ok, diagnostics = check(text)
    assert not ok
    assert [(d.span.line, d.span.column) for d in diagnostics] == [(6, 1), (8, 27), (8, 39)]
    # the two unknown keys at / are one error (one path): the first one is named
    assert diagnostics[0].message.startswith("unknown key 'titel' at /")
