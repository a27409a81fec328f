"""Byte-string registers through the front end and the plan (`registers: {data: {bytes: ..., max: ...}}`).

The inline schema below is a 24-byte capability: a length byte at 2, a byte string `data` from offset 4 of
`count - 4` bytes (at most 16), and a control register at 0x14 written after it in the schema. Every expected
value is worked out by hand from it and from docs/schema-language.md ("Byte-string registers").
"""

from __future__ import annotations

from unit_support import CAP_HEADER, compile_text, schema
from vfiogen.ir.checked import CheckedSection
from vfiogen.ir.dump import dump
from vfiogen.ir.expr import to_text
from vfiogen.ir.plan import Array, CaptureBytes, LeafKind, Run
from vfiogen.ir.types import CompatKind

SOURCE = CAP_HEADER + schema("""
    registers:
      count: {offset: 0x02, width: 8, access: ro, default: 4}
      data: {offset: 0x04, bytes: "count - 4", max: 16, access: ro}
      control: {offset: 0x14, width: 16, fields: {enable: {bits: 0, access: rw}}}
    state:
      cookie: {type: u8}
    descriptor:
      cap_offset: {type: u8}
      vendor: {from: data}
    compat:
      - {equal: vendor, reason: "other bytes"}
      - {subset: vendor, reason: "fewer bits"}
    restore: [control]
""")


def section() -> CheckedSection:
    compiled = compile_text(SOURCE)
    assert compiled.diagnostics == [], compiled.diagnostics
    assert compiled.module is not None
    return compiled.module.sections[0]


def test_a_byte_string_goes_on_the_wire_after_the_registers_and_before_the_state() -> None:
    walk = section().plan.version(1).walk
    # count (1) and control (2) merge into one run; the array of u8; then the state field cookie
    assert isinstance(walk[0], Run) and [(leaf.path, leaf.rel) for leaf in walk[0].leaves] == [("count", 0),
                                                                                            ("control", 1)]
    array = walk[1]
    assert isinstance(array, Array)
    assert (array.path, to_text(array.length), array.max, array.word, array.element_size) == ("data", "count - 4",
                                                                                           16, 1, 1)
    # count is a u8, so count - 4 reaches -4..251: both bounds are checked on load
    assert array.count_can_be_negative and array.count_can_exceed_max
    assert isinstance(walk[2], Run) and [leaf.path for leaf in walk[2].leaves] == ["cookie"]


def test_capture_reads_the_byte_string_after_every_register() -> None:
    plan = section().plan
    assert [read.register for read in plan.capture] == ["count", "control"]
    [string] = plan.capture_bytes
    assert isinstance(string, CaptureBytes)
    assert (string.field, string.offset, to_text(string.length), string.max) == ("data", 4, "count - 4", 16)


def test_a_descriptor_from_a_byte_string_is_bytes_of_its_max() -> None:
    plan = section().plan
    items = {item.name: item for item in plan.descriptor}
    vendor = items["vendor"]
    # cap_offset (1 byte) first, so vendor starts at 1 and takes 16
    assert (vendor.kind, vendor.size, vendor.offset, vendor.byte_string, vendor.config_offset) == (
        LeafKind.BYTES, 16, 1, "data", 4)
    assert not vendor.host and items["cap_offset"].host
    # then min_version, max_version and mask_registers (2 each); control's masks go in the mask list
    assert plan.descriptor_size == 1 + 16 + 6
    assert [r.name for r in plan.masks.negotiated] == ["control"]
    # a field of any other kind keeps no config offset, so its dump (and every fingerprint) is as before
    assert "config_offset" not in dump(items["cap_offset"]) and "config_offset: 4" in dump(vendor)


def test_a_rule_over_a_byte_string_names_the_first_byte_that_breaks_it() -> None:
    equal, subset = section().plan.compat.checks[:2]
    assert (equal.kind, subset.kind) == (CompatKind.EQUAL, CompatKind.SUBSET)
    source = bytes([0x01, 0x02, 0x03, 0x04])
    assert equal.first_break(source, source) is None
    assert equal.first_break(source, bytes([0x01, 0x02, 0x07, 0x00])) == 2
    # subset: a bit set in the source's byte and clear in the target's; 0x03 -> 0x07 holds, 0x04 -> 0x00 breaks
    assert subset.first_break(source, bytes([0x01, 0x02, 0x07, 0x00])) == 3
    assert subset.first_break(source, bytes([0xFF] * 4)) is None


def test_vendor_specific_compiles_to_one_byte_string() -> None:
    from conftest import standard_module

    checked = standard_module().section("vendor_specific")
    assert [r.name for r in checked.section.registers] == ["cap_length"]
    [data] = checked.section.state
    assert data.byte_string and data.config_offset == 3
    assert [item.name for item in checked.plan.descriptor] == ["cap_offset", "length", "vendor", "min_version",
                                                               "max_version", "mask_registers"]
    # 1 + 1 + 189 + 2 + 2 + 2: byte3..byte191's 195 bytes, and the register count; the list is empty (nothing
    # is writable or emulated)
    assert checked.plan.descriptor_size == 197 and checked.plan.masks.negotiated == ()
