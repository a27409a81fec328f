"""vfiogen.passes.semantics: versions, values, enums, descriptors, compat rules, restore order, devices."""

from __future__ import annotations

import pytest
from unit_support import (
    CAP_HEADER,
    Compiled,
    compile_text,
    compile_texts,
    diag,
    key,
    schema,
    span_of,
    within,
)
from vfiogen.diagnostics import Note
from vfiogen.source import Span

EMU = schema("""
    section: e
    title: E
    id: 2
    location: {emulation: true}
""")


def semantics(source: str) -> Compiled:
    return compile_text(source, stop_before="normalize")


# --- versions --------------------------------------------------------------------------------------------

def test_min_version_above_version() -> None:
    source = EMU + "version: 2\nmin_version: 3\nstate:\n  a: {type: u8}\n"
    assert semantics(source).diagnostics == [diag(
        "VG0502", span_of(source, "section: e").sub(9, 10), "section 'e' has min_version 3 above its version 2")]


VERSIONED = EMU + schema("""
    version: 3
    min_version: 2
    state:
      a: {type: u8, since: 4}
      b: {type: u8, since: 3}
      c: {type: u8, until: 3}
      d: {type: u8, since: 2, until: 2, default: 1}
      f: {type: u8, until: 4, default: 1}
      g: {type: u8, until: 2, default: 1}
      ok1: {type: u8, since: 3, default: 7}
      ok2: {type: u8, until: 3, default: 7}
      ok3: {type: u8, since: 2}
""")


def test_version_rules() -> None:
    assert semantics(VERSIONED).diagnostics == [
        diag("VG0501", key(VERSIONED, "a"), "'a' is since version 4, but section 'e' is at version 3"),
        diag("VG0503", key(VERSIONED, "b"),
             "'b' is added in version 3, after min_version 2, so loading an older stream needs its 'default'"),
        diag("VG0521", key(VERSIONED, "c"),
             "'c' is removed in version 3, so saving for an older target needs its 'default'"),
        diag("VG0504", key(VERSIONED, "d"),
             "'d' has until 2: it must be after since (2) and at most the section version (3)"),
        diag("VG0504", key(VERSIONED, "f"),
             "'f' has until 4: it must be after since (1) and at most the section version (3)"),
        diag("VG0522", key(VERSIONED, "g"),
             "'g' is carried only by versions below min_version 2; delete it from the schema"),
    ]


def test_registers_are_versioned_like_state() -> None:
    source = CAP_HEADER.replace("version: 1", "version: 2\nmin_version: 1") + schema("""
        registers:
          a: {offset: 0, width: 16, access: ro, since: 2}
          b: {offset: 2, width: 16, access: ro, since: 2, default: 0x10000}
          c: {offset: 4, width: 16, access: ro, since: 2, default: 0xffff}
    """)
    assert semantics(source).diagnostics == [
        diag("VG0503", key(source, "a"),
             "'a' is added in version 2, after min_version 1, so loading an older stream needs its 'default'"),
        diag("VG0505", within(source, "default: 0x10000", "0x10000"), "default 65536 of 'b' does not fit 16 bits"),
    ]


def test_defaults_must_fit() -> None:
    source = EMU + schema("""
        version: 2
        min_version: 1
        state:
          h: {type: u8, since: 2, default: 300}
          i: {type: "bytes[4]", since: 2, default: 1}
          j: {type: s8, default: -129}
          k: {type: s8, default: -128}
          z: {type: "bytes[4]", since: 2, default: 0}
    """)
    assert semantics(source).diagnostics == [
        diag("VG0505", within(source, "default: 300", "300"), "default 300 of 'h' does not fit u8"),
        diag("VG0505", within(source, "default: 1}", "1"), "'i' is a bytes; its only default is 0 (all zero)"),
        diag("VG0505", within(source, "default: -129", "-129"), "default -129 of 'j' does not fit s8"),
    ]


def test_struct_members_are_not_versioned() -> None:
    source = EMU + "version: 2\nstate:\n  k: {type: struct, members: {m: {type: u8, since: 2}}}\n"
    assert semantics(source).diagnostics == [diag(
        "VG0504", within(source, "m: {", "m"),
        "struct member 'm' cannot be versioned or take a default; version the field that holds the struct")]


def test_array_max_must_be_reachable() -> None:
    source = EMU + schema("""
        version: 1
        state:
          n: {type: u8}
          t: {type: array, length: "n", max: 300, element: {type: u8}}
          u: {type: array, length: "n + 1", max: 256, element: {type: u8}}
          v: {type: array, length: "n * 2", max: 510, element: {type: u8}}
          w: {type: array, length: "params.p", max: 70000, element: {type: u8}}
        params:
          p: {type: u16, default: 1}
    """)
    assert semantics(source).diagnostics == [
        diag("VG0506", within(source, "max: 300", "300"), "array 't' has max 300, but its length 'n' is at most 255"),
        diag("VG0506", within(source, "max: 70000", "70000"),
             "array 'w' has max 70000, but its length 'params.p' is at most 65535"),
    ]


# --- registers, values and enums -------------------------------------------------------------------------

REGISTERS = CAP_HEADER + schema("""
    enums:
      mode: {values: {a: 0, b: 5}}
      big: {values: {x: 300}}
    registers:
      r:
        offset: 0
        width: 16
        reset: 0x8001
        fields:
          en: {bits: 0, access: rw}
          m: {bits: "3:1", access: rw, enum: mode}
          b: {bits: "5:4", access: ro, enum: big}
          st: {bits: 6, access: rw1c}
      s: {offset: 2, width: 16, access: ro, reset: 0x10000}
      w: {offset: 4, width: 32, access: rw}
      x: {offset: 8, width: 32, access: rw, restore: {skip: "because"}}
      yy: {offset: 12, width: 32, access: rw, restore: {skip: "because"}}
    state:
      sm: {type: u8, enum: mode, default: 3}
      ss: {type: s8, enum: mode}
    restore:
      - {write: r, with: {en: 0, m: 4, st: 1}}
      - {write: r, with: {m: 9}}
      - s
      - yy
      - {write: r, with: {en: 0, m: 4, st: 1}}
      - sm
""")


def test_register_value_enum_and_restore_rules() -> None:
    text = REGISTERS
    first_r, second_r = _lines_with(text, "{write: r, with: {en: 0")
    # `st: 1` is no error: an override may set an rw1c bit (restore writes rw1c bits as 0 otherwise)
    assert semantics(text).diagnostics == [
        diag("VG0514", key(text, "r"), "reset value 0x8001 of 'r' sets reserved or undeclared bits (0x8000)"),
        diag("VG0519", key(text, "b", 6), "enum 'big' value x = 300 does not fit field 'r.b' (2 bits)",
             Note(within(text, "{x: 300}", "x"), "value declared here")),
        diag("VG0505", key(text, "s"), "reset value 0x10000 of 's' does not fit 16 bits"),
        diag("VG0509", key(text, "w"), "register 'w' has writable bits but no restore step writes it; add it to "
             "'restore' or give 'restore: {skip: <reason>}'"),
        diag("VG0517", key(text, "yy"), "register 'yy' is marked 'restore: skip' but a restore step writes it",
             Note(within(text, "- yy", "yy"), "written here")),
        diag("VG0513", within(text, "default: 3", "3"), "default of 'sm' 3 is not a value of enum 'mode' (a = 0, b = 5)"),
        diag("VG0519", key(text, "ss"), "enum field 'ss' must be unsigned"),
        diag("VG0513", first_r.sub(32, 33), "override of 'r.m' is 4, not a value of enum 'mode'"),
        diag("VG0505", within(text, "m: 9", "9"), "override value 9 does not fit 'r.m' (3 bits)"),
        diag("VG0518", within(text, "- s\n", "s"), "restore writes 's', which has no writable bits"),
        diag("VG0523", second_r.sub(12, 13), "'r' is restored twice with the same overrides",
             Note(first_r.sub(12, 13), "first restored here")),
        diag("VG0513", second_r.sub(32, 33), "override of 'r.m' is 4, not a value of enum 'mode'"),
        diag("VG0508", within(text, "- sm", "sm"), "restore step writes 'sm', a state field: restore writes "
             "registers to configuration space", Note(key(text, "sm"), "declared here")),
    ]


def _lines_with(text: str, needle: str) -> list[Span]:
    """Spans of each whole line holding `needle`, starting at column 1."""
    spans = []
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            spans.append(Span("s.yaml", number, 1, number, len(line) + 1))
    return spans


def test_restoring_a_register_twice_with_different_overrides_is_fine() -> None:
    source = CAP_HEADER + schema("""
        registers:
          c:
            offset: 0
            width: 16
            fields: {en: {bits: 0, access: rw}, n: {bits: "3:1", access: ro}}
        restore:
          - {write: c, with: {en: 0}}
          - c
    """)
    assert semantics(source).diagnostics == []


def test_override_expression_must_fit_the_field() -> None:
    source = CAP_HEADER + schema("""
        registers:
          c:
            offset: 0
            width: 16
            fields: {en: {bits: 0, access: rw}, n: {bits: "3:1", access: ro}, m: {bits: "5:4", access: rw}}
        restore:
          - {write: c, with: {m: "c.n & 3", en: "c.n"}}
          - c
    """)
    assert semantics(source).diagnostics == [
        diag("VG0505", within(source, 'en: "c.n"', "c.n"), "override of 'c.en' may not fit its 1 bits"),
    ]


# --- descriptors, compat and devices ---------------------------------------------------------------------

DESCRIBED = CAP_HEADER + schema("""
    registers:
      c:
        offset: 0
        width: 16
        fields:
          en: {bits: 0, access: rw}
          shape: {bits: "3:1", access: ro}
      w: {offset: 4, width: 32, access: rw}
    state:
      s: {type: u8}
    descriptor:
      cap_off: {type: u8}
      flag: {type: bool}
      blob: {type: "bytes[4]"}
      shp: {from: c, fields: [shape, en]}
      whole: {from: w}
      sd: {from: s}
      fine: {from: c}
    compat:
      - {require: present, reason: r}
      - {subset: flag, reason: r}
      - {target_ge: blob, reason: r}
      - {masked_equal: {field: blob, mask: 1}, reason: r}
      - {masked_equal: {field: cap_off, mask: 0x100}, reason: r}
      - {equal: s, reason: r}
      - {subset: blob, reason: r}
      - {masked_equal: {field: fine, mask: 0xffff}, reason: r}
    restore: [c, w]
""")


def test_descriptor_and_compat_rules() -> None:
    text = DESCRIBED
    rule = {n: _lines_with(text, n)[0] for n in ("subset: flag", "target_ge", "field: blob", "field: cap_off",
                                                 "equal: s")}
    assert semantics(text).diagnostics == [
        diag("VG0515", key(text, "shp"), "descriptor 'shp' takes 'c.en', which is rw: a descriptor describes what "
             "the device is, so it takes read-only bits", Note(key(text, "en", 6), "declared here")),
        diag("VG0515", key(text, "whole"), "descriptor 'whole' is derived from 'w', which has no read-only bits: a "
             "descriptor describes what the device is", Note(key(text, "w"), "declared here")),
        diag("VG0306", key(text, "sd"), "descriptor 'sd' is derived from 's', which is a state field, not a register",
             Note(key(text, "s"), "defined here")),
        diag("VG0516", _rule_span(rule["subset: flag"]), "'subset' needs a bit set (an integer or bytes); 'flag' is bool "
             "(use 'equal')"),
        diag("VG0516", _rule_span(rule["target_ge"]), "'target_ge' orders integers; 'blob' is bytes"),
        diag("VG0516", _rule_span(rule["field: blob"]), "'masked_equal' needs an integer; 'blob' is bytes"),
        diag("VG0516", _rule_span(rule["field: cap_off"]), "mask 0x100 is wider than 'cap_off' (8 bits)"),
        diag("VG0507", _rule_span(rule["equal: s"]), "compat rule 'equal' compares 's', a state field: compat rules "
             "compare descriptor fields, which each side computes for itself", Note(key(text, "s"), "'s' declared here")),
    ]


def _rule_span(line: Span) -> Span:
    """A compat rule written '  - {...}' spans its flow mapping."""
    return line.sub(4, line.end_column - 1)


DEVICE_SECTION = CAP_HEADER + schema("""
    params:
      n: {type: u8, default: 4}
      b: {type: bool, default: false}
    registers:
      r: {offset: 0, width: 16, access: ro}
""")


def test_device_rules() -> None:
    device = schema("""
        device: d
        title: D
        sections:
          - use: t
            params: {n: 256, q: 1}
          - use: t
    """)
    compiled = compile_texts({"s.yaml": DEVICE_SECTION, "d.yaml": device}, stop_before="normalize")
    assert compiled.diagnostics == [
        diag("VG0702", within(device, "n: 256", "n", path="d.yaml"), "param 'n' = 256 does not fit u8",
             Note(key(DEVICE_SECTION, "n"), "declared here")),
        diag("VG0702", within(device, "q: 1", "q", path="d.yaml"), "section 't' has no param 'q' (params: b, n)"),
        diag("VG0701", Span("d.yaml", 6, 10, 6, 11), "device 'd' uses section 't' twice; each section id may appear once in a blob",
             Note(within(device, "use: t\n    params", "t", path="d.yaml"), "first used here")),
    ]


@pytest.mark.parametrize("binding", ["{n: 255, b: true}", "{n: 0}", "{}"])
def test_device_bindings_that_fit(binding: str) -> None:
    device = f"device: d\ntitle: D\nsections:\n  - use: t\n    params: {binding}\n"
    compiled = compile_texts({"s.yaml": DEVICE_SECTION, "d.yaml": device})
    assert compiled.diagnostics == [] and compiled.module is not None


def test_param_default_must_fit() -> None:
    source = CAP_HEADER + "params:\n  n: {type: u8, default: 256}\n"
    assert semantics(source).diagnostics == [diag("VG0505", key(source, "n"),
                                                  "default 256 of param 'n' does not fit u8")]


# --- an absent field reads as 0 ------------------------------------------------------------------------------

ABSENT_ENUMS = CAP_HEADER + schema("""
    enums:
      mode: {values: {fast: 1, slow: 2}}
      pin: {values: {none: 0, inta: 1}}
    registers:
      control:
        offset: 0x02
        width: 16
        fields:
          wide: {bits: 0, access: ro}
          kind: {bits: "2:1", access: ro, enum: mode}
      extra:
        offset: 0x04
        width: 16
        present: control.wide
        fields:
          speed: {bits: "1:0", access: ro, enum: mode}
          line:  {bits: "3:2", access: ro, enum: pin}
      whole: {offset: 0x08, width: 8, access: ro, enum: mode, present: control.wide}
    state:
      chosen: {type: u8, enum: mode, present: control.wide}
      always: {type: u8, enum: mode}
      rows:
        type: array
        length: 2
        max: 2
        present: control.wide
        element:
          type: struct
          members:
            kind: {type: u8, enum: mode}
""")


def test_a_field_that_can_be_absent_needs_an_enum_with_zero() -> None:
    """Absent fields read as 0; an array that is absent has no elements, and a field always there is not absent."""
    message = ("can be absent, and an absent field reads as 0, which is not a value of enum 'mode'; "
               "give the enum a value 0")
    assert semantics(ABSENT_ENUMS).diagnostics == [
        diag("VG0513", key(ABSENT_ENUMS, "speed", indent=6), f"field 'extra.speed' {message}"),
        diag("VG0513", key(ABSENT_ENUMS, "whole"), f"register 'whole' {message}"),
        diag("VG0513", key(ABSENT_ENUMS, "chosen"), f"field 'chosen' {message}"),
    ]
