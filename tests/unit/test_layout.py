"""vfiogen.passes.layout: bit fields, capability size, and placement in every shape."""

from __future__ import annotations

import textwrap

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
from vfiogen.context import Context
from vfiogen.diagnostics import Note, Reporter
from vfiogen.driver import PASSES, SchemaInput
from vfiogen.ir.nodes import Module, Section
from vfiogen.ir.symbols import SectionSymbols
from vfiogen.passes.layout import MAX_CASES, placements

MSI = CAP_HEADER + schema("""
    registers:
      control:
        offset: 0x02
        width: 16
        fields:
          enable: {bits: 0, access: rw}
          addr64: {bits: 7, access: ro}
          pvm:    {bits: 8, access: ro}
      address_lo: {offset: 0x04, width: 32, access: rw}
      address_hi: {offset: 0x08, width: 32, access: rw, present: control.addr64}
      data:       {offset: "control.addr64 ? 0x0c : 0x08", width: 16, access: rw}
      mask:       {offset: "control.addr64 ? 0x10 : 0x0c", width: 32, access: rw, present: control.pvm}
    restore: [control, address_lo, address_hi, data, mask]
""")


def layout(source: str) -> Compiled:
    return compile_text(source, stop_before="semantics")


def registers(body: str) -> str:
    return CAP_HEADER + "registers:\n" + textwrap.indent(schema(body), "  ")


# --- moving offsets --------------------------------------------------------------------------------------

def test_msi_data_moves_between_0x08_and_0x0c() -> None:
    compiled = compile_text(MSI)
    assert compiled.diagnostics == [] and compiled.module is not None
    offsets = {c.register.name: c.offsets for c in compiled.module.sections[0].registers}
    assert offsets == {"control": (0x02,), "address_lo": (0x04,), "address_hi": (0x08,), "data": (0x08, 0x0c),
                       "mask": (0x0c, 0x10)}


def _typed(source: str) -> tuple[Section, SectionSymbols]:
    """The section as layout receives it (after typecheck), and its symbol table."""
    ctx = Context(reporter=Reporter())
    value: object = [SchemaInput("s.yaml", "s.yaml", source.encode())]
    for name, run in PASSES:
        if name == "layout":
            break
        value = run(value, ctx)
    assert ctx.reporter.diagnostics == []
    module = value
    assert isinstance(module, Module)
    return module.sections[0], ctx.symbols[module.sections[0].name]


def test_placements_enumerate_every_shape() -> None:
    cases = list(placements(*_typed(MSI)) or [])
    shapes = {case.condition: {r.name: offset for r, offset in case.offsets} for case in cases}
    assert shapes == {
        (("control.addr64", False), ("control.pvm", False)):
            {"control": 2, "address_lo": 4, "data": 8},
        (("control.addr64", False), ("control.pvm", True)):
            {"control": 2, "address_lo": 4, "data": 8, "mask": 12},
        (("control.addr64", True), ("control.pvm", False)):
            {"control": 2, "address_lo": 4, "address_hi": 8, "data": 12},
        (("control.addr64", True), ("control.pvm", True)):
            {"control": 2, "address_lo": 4, "address_hi": 8, "data": 12, "mask": 16},
    }
    assert [case.describe() for case in cases] == [
        "control.addr64 = 0, control.pvm = 0", "control.addr64 = 0, control.pvm = 1",
        "control.addr64 = 1, control.pvm = 0", "control.addr64 = 1, control.pvm = 1"]


def test_placements_use_param_bindings() -> None:
    source = CAP_HEADER + schema("""
        params:
          base: {type: u8, default: 8}
        registers:
          r: {offset: "params.base", width: 16, access: ro}
    """)
    section, table = _typed(source)
    assert [[o for _, o in c.offsets] for c in placements(section, table) or []] == [[8]]
    assert [[o for _, o in c.offsets] for c in placements(section, table, {"base": 12}) or []] == [[12]]


def test_placements_give_up_beyond_max_cases() -> None:
    source = registers("""
        c:
          offset: 0
          width: 16
          fields: {n: {bits: "12:0", access: ro}}
        r: {offset: "c.n > 5 ? 4 : 8", width: 16, access: ro}
    """)
    section, table = _typed(source)
    assert placements(section, table) is None


def test_overlap_in_only_one_shape_reports_the_condition() -> None:
    # extra (0x0e..0x0f) collides with mask only in the 32-bit shape with per-vector masking
    source = MSI.replace("restore:", "  extra: {offset: 0x0e, width: 16, access: ro}\nrestore:")
    compiled = layout(source)
    assert compiled.diagnostics == [diag(
        "VG0401", key(source, "extra"),
        "register 'extra' overlaps 'mask' (0x0e..0x0f) when control.addr64 = 0, control.pvm = 1",
        Note(key(source, "mask"), "'mask' declared here"))]


def test_misalignment_in_only_one_shape_reports_the_condition() -> None:
    source = MSI.replace('"control.addr64 ? 0x10 : 0x0c"', '"control.addr64 ? 0x10 : 0x0a"')
    assert layout(source).diagnostics == [diag(
        "VG0406", span_of(source, "control.addr64 ? 0x10 : 0x0a"),  # the expression, inside the quotes
        "register 'mask' at 0x0a is not aligned to 4 bytes when control.addr64 = 0, control.pvm = 1")]


def test_a_fixed_layout_reports_no_condition() -> None:
    source = registers("""
        r: {offset: 2, width: 32, access: ro}
        s: {offset: 22, width: 32, access: ro}
        t: {offset: 9, width: 16, access: ro}
    """)
    assert layout(source).diagnostics == [
        diag("VG0406", within(source, "offset: 2,", "2"), "register 'r' at 0x02 is not aligned to 4 bytes"),
        diag("VG0404", within(source, "offset: 22", "22"), "register 's' at 0x16 (4 bytes) is beyond the 24-byte "
             "capability"),
        diag("VG0406", within(source, "offset: 9", "9"), "register 't' at 0x09 is not aligned to 2 bytes"),
    ]


def test_64_bit_registers_align_to_4_bytes() -> None:
    source = registers("""
        q: {offset: 4, width: 64, access: ro}
        b: {offset: 15, width: 8, access: ro}
    """)
    assert layout(source).diagnostics == []


def test_overlap_names_the_later_register_and_notes_the_earlier() -> None:
    source = registers("""
        a: {offset: 8, width: 32, access: ro}
        b: {offset: 4, width: 32, access: ro}
        c: {offset: 6, width: 16, access: ro}
    """)
    assert layout(source).diagnostics == [
        diag("VG0401", key(source, "c"), "register 'c' overlaps 'b' (0x06..0x07)",
             Note(key(source, "b"), "'b' declared here")),
    ]


def test_overlap_message_gives_the_overlapping_bytes_when_one_register_is_inside_another() -> None:
    source = registers("""
        big: {offset: 0, width: 64, access: ro}
        small: {offset: 2, width: 8, access: ro}
    """)
    diagnostics = layout(source).diagnostics
    assert [d.code for d in diagnostics] == ["VG0401"]
    assert diagnostics[0].span == key(source, "small")


def test_overlap_range_of_a_register_inside_another() -> None:
    source = registers("""
        big: {offset: 0, width: 64, access: ro}
        small: {offset: 2, width: 8, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0401", key(source, "small"), "register 'small' overlaps 'big' (0x02..0x02)",
        Note(key(source, "big"), "'big' declared here"))]


def test_overlap_range_of_a_register_at_the_start_of_a_wider_one() -> None:
    # same offset: sorted narrowest first, the overlap is the narrow register, not the wide one
    source = registers("""
        big: {offset: 8, width: 64, access: ro}
        small: {offset: 8, width: 16, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0401", key(source, "small"), "register 'small' overlaps 'big' (0x08..0x09)",
        Note(key(source, "big"), "'big' declared here"))]


def test_absent_registers_take_no_space() -> None:
    source = registers("""
        c:
          offset: 0
          width: 16
          fields: {wide: {bits: 0, access: ro}}
        lo: {offset: 4, width: 32, access: ro}
        hi: {offset: 8, width: 32, access: ro, present: c.wide}
        other: {offset: 8, width: 32, access: ro, present: "!c.wide"}
    """)
    assert layout(source).diagnostics == []


def test_registers_that_leave_the_capability() -> None:
    source = registers("""
        c:
          offset: 0
          width: 16
          fields: {wide: {bits: 0, access: ro}}
        r: {offset: "c.wide ? 0x16 : 0x14", width: 32, access: ro}
    """)
    assert layout(source).diagnostics == [
        diag("VG0404", span_of(source, "c.wide ? 0x16 : 0x14"),
             "register 'r' at 0x16 (4 bytes) is beyond the 24-byte capability when c.wide = 1"),
    ]


def test_offsets_over_too_many_combinations() -> None:
    source = registers("""
        c:
          offset: 0
          width: 16
          fields: {n: {bits: "12:0", access: ro}}
        r: {offset: "c.n > 5 ? 4 : 8", width: 16, access: ro}
    """)
    assert 1 << 13 > MAX_CASES
    assert layout(source).diagnostics == [diag(
        "VG0408", span_of(source, "section: t").sub(9, 10),  # the section name
        f"register offsets in 't' depend on more than {MAX_CASES} combinations of bits; offsets may depend on a few "
        "read-only bits only")]


def test_offset_over_a_small_register_is_enumerated() -> None:
    source = registers("""
        c: {offset: 0, width: 8, access: ro}
        r: {offset: "c > 0x7f ? 4 : 8", width: 16, access: ro}
    """)
    compiled = compile_text(source)
    assert compiled.diagnostics == [] and compiled.module is not None
    assert compiled.module.sections[0].registers[1].offsets == (4, 8)


def test_offset_over_a_value_it_cannot_enumerate_is_reported() -> None:
    source = registers("""
        c: {offset: 0, width: 16, access: ro}
        r: {offset: "c != 0 ? 0 : 200", width: 32, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0408", within(source, '"c != 0', "c"),
        "offset of 'r' has no bounded value: it depends on 'c', a 16-bit register; "
        "offsets may depend on a few read-only bits only")]


def test_offset_with_a_negative_shift_is_a_diagnostic_not_a_crash() -> None:
    source = registers("""
        r: {offset: "4 << (0 - 1)", width: 16, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0408", span_of(source, "4 << (0 - 1)"), "offset of 'r' has no value: shift count -1 is outside 0..63")]


def test_offset_without_a_value_in_one_shape_reports_the_condition() -> None:
    source = registers("""
        c:
          offset: 0
          width: 16
          fields: {n: {bits: 0, access: ro}}
        r: {offset: "c.n ? 4 : 1 >> (0 - 2)", width: 32, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0408", span_of(source, "c.n ? 4 : 1 >> (0 - 2)"),
        "offset of 'r' has no value when c.n = 0: shift count -2 is outside 0..63")]


def test_offset_with_a_huge_shift_is_a_diagnostic_not_a_crash() -> None:
    source = registers("""
        r: {offset: "1 << (1 << (60 + 10))", width: 16, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0408", span_of(source, "1 << (1 << (60 + 10))"),
        "offset of 'r' has no value: shift count 70 is outside 0..63")]


def test_offset_with_a_shift_count_too_large_to_compute_is_a_diagnostic() -> None:
    source = registers("""
        r: {offset: "1 << (1 << 62)", width: 16, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0408", span_of(source, "1 << (1 << 62)"),
        "offset of 'r' has no value: shift count 4611686018427387904 is outside 0..63")]


def test_right_shift_by_64_or_more_has_no_value_rather_than_0() -> None:
    # 64-bit values in generated C: shifting by 70 is undefined there, so it is not taken to be 0
    source = registers("""
        r: {offset: "0x10 >> (60 + 10)", width: 16, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0408", span_of(source, "0x10 >> (60 + 10)"), "offset of 'r' has no value: shift count 70 is outside 0..63")]


def test_literal_shift_count_of_64_or_more_is_an_expression_error() -> None:
    source = registers("""
        r: {offset: "0x10 >> 70", width: 16, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0607", span_of(source, "70"), "shift count 70 is outside 0..63; values are 64-bit")]


def test_shift_count_out_of_range_for_one_register_value_names_the_first_such_value() -> None:
    source = registers("""
        c: {offset: 0, width: 8, access: ro}
        r: {offset: "c < 2 ? 4 : 4 >> (c + 62)", width: 32, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0408", span_of(source, "c < 2 ? 4 : 4 >> (c + 62)"),
        "offset of 'r' has no value when c = 2: shift count 64 is outside 0..63")]


# --- bit fields ------------------------------------------------------------------------------------------

def test_bit_field_errors() -> None:
    source = registers("""
        r:
          offset: 0
          width: 8
          fields:
            a: {bits: "8:7", access: ro}
            b: {bits: "1:3", access: ro}
            c: {bits: "5:2", access: ro}
            d: {bits: 4, access: ro}
            e: {bits: "7:5", access: ro}
    """)
    assert layout(source).diagnostics == [
        diag("VG0403", key(source, "a", 6), "bit field 'r.a' uses bit 8, beyond the 8-bit register"),
        diag("VG0407", key(source, "b", 6), "bit range '1:3' of 'r.b' is reversed; write the high bit first: '3:1'"),
        diag("VG0402", key(source, "d", 6), "bit field 'd' overlaps 'c' in register 'r' (bit 4)",
             Note(key(source, "c", 6), "'c' declared here")),
        diag("VG0402", key(source, "e", 6), "bit field 'e' overlaps 'c' in register 'r' (bit 5)",
             Note(key(source, "c", 6), "'c' declared here")),
    ]


def test_bit_field_overlap_over_several_bits() -> None:
    source = registers("""
        r:
          offset: 0
          width: 32
          fields:
            a: {bits: "15:4", access: ro}
            b: {bits: "31:8", access: ro}
    """)
    assert layout(source).diagnostics == [
        diag("VG0402", key(source, "b", 6), "bit field 'b' overlaps 'a' in register 'r' (bits 15:8)",
             Note(key(source, "a", 6), "'a' declared here")),
    ]


def test_top_bit_of_a_64_bit_register_is_inside() -> None:
    source = registers("""
        r:
          offset: 0
          width: 64
          fields: {top: {bits: 63, access: ro}, rest: {bits: "62:0", access: ro}}
    """)
    assert layout(source).diagnostics == []


# --- locations -------------------------------------------------------------------------------------------

def test_capability_too_large() -> None:
    source = CAP_HEADER.replace("size: 24", "size: 193") + "registers:\n  r: {offset: 0, width: 16, access: ro}\n"
    assert layout(source).diagnostics == [diag(
        "VG0405", span_of(source, "{capability: {id: 5, size: 193}}"),
        "capability size 193 does not fit: a standard capability has at most 192 bytes of configuration space")]


def test_largest_capabilities_fit() -> None:
    standard = CAP_HEADER.replace("size: 24", "size: 192") + "registers:\n  r: {offset: 188, width: 32, access: ro}\n"
    assert layout(standard).diagnostics == []
    extended = CAP_HEADER.replace("capability: {id: 5, size: 24}",
                                  "extended_capability: {id: 5, version: 1, size: 3840}") + \
        "registers:\n  r: {offset: 3836, width: 32, access: ro}\n"
    assert layout(extended).diagnostics == []


def test_extended_capability_too_large() -> None:
    source = CAP_HEADER.replace("capability: {id: 5, size: 24}", "extended_capability: {id: 5, version: 1, size: 3841}")
    assert layout(source).diagnostics == [diag(
        "VG0405", span_of(source, "{extended_capability: {id: 5, version: 1, size: 3841}}"),
        "capability size 3841 does not fit: an extended capability has at most 3840 bytes of configuration space")]


def test_register_beyond_an_extended_capability() -> None:
    source = CAP_HEADER.replace("capability: {id: 5, size: 24}", "extended_capability: {id: 5, version: 1, size: 52}") \
        + "registers:\n  r: {offset: 51, width: 8, access: ro}\n  s: {offset: 52, width: 8, access: ro}\n"
    assert layout(source).diagnostics == [diag(
        "VG0404", within(source, "offset: 52", "52"), "register 's' at 0x34 (1 byte) is beyond the 52-byte extended capability")]


def test_header_registers_sit_in_the_64_byte_header() -> None:
    source = CAP_HEADER.replace("capability: {id: 5, size: 24}", "header: {type: 0}") + schema("""
        registers:
          vendor: {offset: 0, width: 16, access: ro}
          last: {offset: 0x3c, width: 32, access: ro}
          beyond: {offset: 0x40, width: 8, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0404", within(source, "offset: 0x40", "0x40"), "register 'beyond' at 0x40 (1 byte) is beyond the 64-byte header")]


def test_emulation_sections_have_no_registers() -> None:
    source = schema("""
        section: e
        title: E
        id: 2
        location: {emulation: true}
        version: 1
        registers:
          r: {offset: 0, width: 16, access: ro}
    """)
    assert layout(source).diagnostics == [diag(
        "VG0404", key(source, "r"),
        "register 'r' in emulation section 'e', which has no configuration space; declare it under 'state:'")]


# --- device param bindings -------------------------------------------------------------------------------

def test_device_bindings_are_laid_out_too() -> None:
    section = CAP_HEADER + schema("""
        params:
          wide: {type: bool, default: false}
        registers:
          r: {offset: 0, width: 32, access: ro}
          s: {offset: "params.wide ? 2 : 4", width: 16, access: ro}
    """)
    device = schema("""
        device: d
        title: D
        sections:
          - use: t
            params: {wide: true}
    """)
    compiled = compile_texts({"s.yaml": section, "d.yaml": device}, stop_before="semantics")
    assert compiled.diagnostics == [diag(
        "VG0401", key(section, "s"), "register 's' overlaps 'r' (0x02..0x03)",
        Note(key(section, "r"), "'r' declared here"),
        Note(within(device, "use: t", "t", path="d.yaml"), "with the params device 'd' binds here"))]
    # without the device, the defaults lay out fine
    assert layout(section).diagnostics == []


# --- presence past MAX_CASES: co-presence of the two registers that meet ---------------------------------

def _chained(second_presence: str) -> str:
    # 15 presence bits (5 x 3) are 32768 combinations, past MAX_CASES: layout enumerates what it can and
    # asks whether the two registers at 0x10 can both be present over their own inputs.
    return registers(f"""
        t0: {{offset: 0, width: 8, fields: {{k: {{bits: "2:0", access: ro}}}}}}
        t1: {{offset: 1, width: 8, fields: {{k: {{bits: "2:0", access: ro}}}}}}
        t2: {{offset: 2, width: 8, fields: {{k: {{bits: "2:0", access: ro}}}}}}
        t3: {{offset: 3, width: 8, fields: {{k: {{bits: "2:0", access: ro}}}}}}
        t4: {{offset: 4, width: 8, fields: {{k: {{bits: "2:0", access: ro}}}}}}
        z: {{offset: 8, width: 8, access: ro, present: "t0.k == 1 && t1.k == 1 && t2.k == 1 && t3.k == 1"}}
        a: {{offset: 0x10, width: 32, access: rw, present: "t4.k == 2"}}
        b: {{offset: 0x10, width: 32, access: rw, present: "{second_presence}"}}
    """)


def test_presence_past_max_cases_complementary_registers_do_not_overlap() -> None:
    assert 8 ** 5 > MAX_CASES
    assert layout(_chained("t4.k != 2")).diagnostics == []


def test_presence_past_max_cases_overlap_is_still_found() -> None:
    source = _chained("t4.k >= 2")
    assert [d.code for d in layout(source).diagnostics] == ["VG0401"]
