"""vfiogen.backends.docs: view models and the Markdown they render to."""

from __future__ import annotations

import pytest
from unit_support import CAP_HEADER, compile_texts, schema
from vfiogen.backends.docs.emit import DocsBackend, Row, device_view, section_view
from vfiogen.backends.jinja_env import hex_filter, md_cell
from vfiogen.ir.checked import CheckedModule

SECTION = CAP_HEADER + schema("""
    registers:
      control:
        offset: 0x02
        width: 16
        fields:
          enable: {bits: 0, access: rw, description: "on | off"}
          addr64: {bits: 7, access: ro}
      data: {offset: "control.addr64 ? 0x0c : 0x08", width: 16, access: rw, restore: {skip: "later"}}
      ident: {offset: 0x10, width: 32, access: ro}
    state:
      count: {type: u8}
      pair: {type: struct, members: {lo: {type: u16}, hi: {type: u32}}}
      table: {type: array, length: "count", max: 2, element: {type: struct, members: {a: {type: u16}, b: {type: u8}}}}
    constraints:
      - {check: "count < 2 || control.addr64", reason: "why"}
    restore:
      - {write: control, with: {enable: 0}}
      - {hook: fix}
      - control
""")

DEVICE = "device: dev\ntitle: Dev\nsections:\n  - use: t\n    required: false\n"


def module(**files: str) -> CheckedModule:
    compiled = compile_texts(files or {"s.yaml": SECTION, "d.yaml": DEVICE})
    assert compiled.diagnostics == [], compiled.diagnostics
    assert compiled.module is not None
    return compiled.module


def test_one_page_per_section_and_device_plus_an_index() -> None:
    outputs = DocsBackend().render(module())
    assert sorted(outputs) == ["docs/devices/dev.md", "docs/index.md", "docs/sections/t.md"]
    assert all(text.endswith("\n") for text in outputs.values())


def test_register_rows() -> None:
    view = section_view(module().section("t"))
    assert view.registers == (
        Row(("0x02", "16", "control", "0x0000", "0x0001", "0xff7e", "always", "all", "restored")),
        Row(("0x08 or 0x0c", "16", "data", "0x0000", "0xffff", "0x0000", "always", "all", "skipped: later")),
        Row(("0x10", "32", "ident", "0x00000000", "0x00000000", "0x00000000", "always", "all", "read-only")),
    )
    assert [d.heading for d in view.register_details] == [
        "control (0x02, 16 bits)", "data (0x08 or 0x0c, 16 bits)", "ident (0x10, 32 bits)"]
    assert view.register_details[0].fields == (
        Row(("0", "enable", "rw", "0x0001", "", "on | off")),
        Row(("7", "addr64", "ro", "0x0080", "", "")),
    )
    assert view.register_details[1].fields == (Row(("15:0", "(whole register)", "rw", "0xffff", "", "")),)


def test_restore_and_constraints() -> None:
    view = section_view(module().section("t"))
    assert view.restore == ("`control` with `enable` = `0`", "call hook `fix`", "`control` as saved")
    assert view.constraints == (Row(("`(count < 2) || control.addr64`", "why")),)


def test_identity_rows() -> None:
    view = section_view(module().section("t"))
    assert view.identity == (
        Row(("Section id", "0x0001")),
        Row(("Location", "PCI capability 0x05, up to 24 bytes")),
        Row(("Version", "1")),
        Row(("Oldest version loaded", "1")),
    )
    assert view.offset_base == "Offsets are from the start of the capability."


@pytest.mark.parametrize(("location", "text"), [
    ("header: {type: 0}", "type-0 configuration header (64 bytes)"),
    ("extended_capability: {id: 0x15, version: 1, size: 52}", "PCIe extended capability 0x0015 version 1, up to 52 bytes"),
    ("emulation: true", "hypervisor emulation state (no configuration space)"),
])
def test_location_text(location: str, text: str) -> None:
    source = CAP_HEADER.replace("capability: {id: 5, size: 24}", location) + "state:\n  x: {type: u8}\n"
    view = section_view(module(**{"s.yaml": source}).section("t"))
    assert view.identity[1] == Row(("Location", text))


def test_wire_layout_rows() -> None:
    (layout,) = section_view(module().section("t")).layouts
    assert layout.version == 1
    assert layout.size == "15 to 21"
    rows = [row.cells for row in layout.rows]
    assert rows[:5] == [
        ("0x00", "2", "`control`", "u16 register", "", ""),
        ("0x02", "2", "`data`", "u16 register", "", ""),
        ("0x04", "4", "`ident`", "u32 register", "", ""),
        ("0x08", "1", "`count`", "u8", "", ""),
        ("0x09", "6", "`pair`", "struct", "", ""),
    ]
    assert rows[7:] == [
        ("0x0f", "0 to 6", "`table`", "array of struct", "", "count (max 2)"),
        ("+0x00", "2", "&nbsp;&nbsp;`table[].a`", "u16", "", ""),
        ("+0x02", "1", "&nbsp;&nbsp;`table[].b`", "u8", "", ""),
    ]


def test_struct_member_offsets_are_not_written_as_relative() -> None:
    (layout,) = section_view(module().section("t")).layouts
    rows = [row.cells for row in layout.rows]
    # members of a plain struct field have offsets from the payload's start; only array elements use '+0xNN'
    assert rows[5:7] == [
        ("0x09", "2", "&nbsp;&nbsp;`pair.lo`", "u16", "", ""),
        ("0x0b", "4", "&nbsp;&nbsp;`pair.hi`", "u32", "", ""),
    ]
    page = DocsBackend().render(module())["docs/sections/t.md"]
    assert "| 0x09 | 2 | &nbsp;&nbsp;`pair.lo` | u16 |  |  |\n" in page
    assert "| 0x0b | 4 | &nbsp;&nbsp;`pair.hi` | u32 |  |  |\n" in page
    assert "| +0x00 | 2 | &nbsp;&nbsp;`table[].a` | u16 |  |  |\n" in page


def test_offsets_after_a_variable_field() -> None:
    source = schema("""
        section: e
        title: E
        id: 2
        location: {emulation: true}
        version: 1
        state:
          n: {type: u8}
          flag: {type: bool, present: "n > 1"}
          last: {type: u16}
    """)
    (layout,) = section_view(module(**{"s.yaml": source}).section("e")).layouts
    assert [row.cells[:2] for row in layout.rows] == [("0x00", "1"), ("0x01", "1"), ("end of flag + 0", "2")]
    assert layout.rows[1].cells[4] == "n > 1"
    assert layout.size == "3 to 4"


def test_device_view_lists_sections_with_bound_params() -> None:
    section = CAP_HEADER + "params:\n  n: {type: u8, default: 4}\n  m: {type: u8, default: 1}\n"
    device = "device: dev\ntitle: Dev\nsections:\n  - use: t\n    params: {m: 9}\n"
    checked = module(**{"s.yaml": section, "d.yaml": device})
    view = device_view(checked.devices[0], checked)
    assert view.sections == (Row(("[t](../sections/t.md)", "0x0001", "1", "required", "n = 4, m = 9", "")),)


def test_rendered_pages_escape_table_cells() -> None:
    outputs = DocsBackend().render(module())
    page = outputs["docs/sections/t.md"]
    assert page.startswith("<!-- Generated by vfiogen from s.yaml. DO NOT EDIT. -->\n# `t`: T\n")
    assert "| 0 | enable | rw | 0x0001 |  | on \\| off |" in page
    assert "| `(count < 2) \\|\\| control.addr64` | why |" in page
    assert "| 0x08 or 0x0c | 16 | data | 0x0000 | 0xffff | 0x0000 | always | all | skipped: later |" in page
    assert "1. `control` with `enable` = `0`\n2. call hook `fix`\n3. `control` as saved\n" in page
    assert "### Version 1 (15 to 21 bytes)" in page
    device = outputs["docs/devices/dev.md"]
    assert "# Device `dev`: Dev" in device
    assert "| [t](../sections/t.md) | 0x0001 | 1 | optional |  |" in device
    index = outputs["docs/index.md"]
    assert "| [t](sections/t.md) | 0x0001 | T | 1 | 1 |" in index
    assert "| [dev](devices/dev.md) | Dev |" in index


def test_filters() -> None:
    assert hex_filter(255) == "0xff"
    assert hex_filter(10, 4) == "0x000a"
    assert md_cell("a | b\nc") == "a \\| b c"
    assert md_cell(5) == "5"


def test_rendering_is_deterministic() -> None:
    assert DocsBackend().render(module()) == DocsBackend().render(module())
