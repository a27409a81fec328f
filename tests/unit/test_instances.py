"""Repeated sections (`instances:`): the capability claim rule (VG0308), device counts (VG0706) and the device plan.

Every expected value is worked out by hand from the inline schemas next to it.
"""

from __future__ import annotations

from unit_support import compile_texts, schema
from vfiogen.passes.plan import plan_device


def cap_section(name: str, wire_id: int, location: str) -> str:
    return schema(f"""
        section: {name}
        title: {name}
        id: {wire_id}
        location:
          {location}
        version: 1
        registers:
          r: {{offset: 0x04, width: 32, access: ro}}
        restore: []
        """)


def test_two_sections_claiming_one_capability_are_refused_at_the_second() -> None:
    compiled = compile_texts({"a.yaml": cap_section("a", 0x1001, "capability: {id: 0x09, size: 8}"),
                              "b.yaml": cap_section("b", 0x1002, "capability: {id: 0x09, size: 8, instances: 4}")})
    [diagnostic] = compiled.only("VG0308")
    assert (diagnostic.span.path, diagnostic.span.line, diagnostic.span.column) == ("b.yaml", 5, 3)
    assert "claimed by section 'b' and by section 'a'" in diagnostic.message
    [note] = diagnostic.notes
    assert (note.span.path, note.span.line) == ("a.yaml", 5)


def test_extended_capabilities_of_one_id_split_by_version() -> None:
    one = "extended_capability: {id: 0x0023, version: 1, size: 16}"
    two = "extended_capability: {id: 0x0023, version: 2, size: 16}"
    compiled = compile_texts({"a.yaml": cap_section("a", 0x1001, one), "b.yaml": cap_section("b", 0x1002, two)})
    assert compiled.codes() == []
    same = compile_texts({"a.yaml": cap_section("a", 0x1001, one), "b.yaml": cap_section("b", 0x1002, one)})
    assert same.codes() == ["VG0308"]
    assert "extended capability version 1 of id 0x0023" in same.only("VG0308")[0].message


def test_device_plan_numbers_instances_and_counts_the_built_in_config() -> None:
    device = schema("""
        device: board
        title: board
        sections:
          - use: plain
          - use: vendor
            instances: 3
        """)
    compiled = compile_texts({"plain.yaml": cap_section("plain", 0x1001, "capability: {id: 0x05, size: 8}"),
                              "vendor.yaml": cap_section("vendor", 0x1002,
                                                         "capability: {id: 0x09, size: 8, instances: 4}"),
                              "board.yaml": device})
    assert compiled.codes() == []
    assert compiled.module is not None
    plan = plan_device(compiled.module.devices[0], compiled.module)
    plain, vendor = plan.sections
    assert (plain.repeated, plain.max_instances, plain.names, plain.bit) == (False, 1, (), 0)
    assert (vendor.repeated, vendor.max_instances, vendor.default_instances, vendor.bit) == (True, 4, 3, 1)
    assert vendor.names == ("vendor[0]", "vendor[1]", "vendor[2]", "vendor[3]")
    assert plan.repeated == (vendor,)
