"""vfiogen.passes.normalize: masks, offsets and wire layouts derived once for every back end."""

from __future__ import annotations

import json

import pytest
from unit_support import CAP_HEADER, compile_text, compile_texts, schema
from vfiogen.backends.lock.emit import LockBackend
from vfiogen.ir.checked import BoundOffsets, CheckedModule, RegisterMasks, WireItem
from vfiogen.ir.expr import IntLit
from vfiogen.ir.nodes import (
    ArrayType,
    BytesType,
    Register,
    ScalarType,
    StateField,
    StructType,
    Versioning,
)
from vfiogen.ir.types import Access, ScalarKind
from vfiogen.passes.normalize import register_masks, type_size, type_text
from vfiogen.source import Span

NOWHERE = Span("n", 1, 1, 1, 1)


def bits(hi: int, lo: int | None = None) -> int:
    """The mask of bits hi..lo (or of bit hi alone), written out bit by bit."""
    lo = hi if lo is None else lo
    mask = 0
    for bit in range(lo, hi + 1):
        mask |= 1 << bit
    return mask


def checked(source: str) -> CheckedModule:
    compiled = compile_text(source)
    assert compiled.diagnostics == [], compiled.diagnostics
    assert compiled.module is not None
    return compiled.module


# --- masks -----------------------------------------------------------------------------------------------

MIXED = CAP_HEADER + schema("""
    registers:
      mixed:
        offset: 0
        width: 32
        fields:
          enable:  {bits: 0,       access: rw}
          caps:    {bits: "3:1",   access: ro}
          status:  {bits: "5:4",   access: rw1c}
          fw:      {bits: "7:6",   access: hwinit}
          zero:    {bits: "11:8",  access: rsvdz}
          keep:    {bits: "15:12", access: rsvdp}
          vector:  {bits: "23:20", access: rw}
          top:     {bits: 31,      access: ro}
    restore: [mixed]
""")


def test_masks_of_a_mixed_access_register() -> None:
    masks = checked(MIXED).sections[0].registers[0].masks
    rw = bits(0) | bits(23, 20)
    ro = bits(3, 1) | bits(31)
    rw1c = bits(5, 4)
    hwinit = bits(7, 6)
    rsvdz = bits(11, 8)
    undeclared = bits(19, 16) | bits(30, 24)
    rsvdp = bits(15, 12) | undeclared  # bits no field declares are reserved (rsvdp)
    declared = rw | ro | rw1c | hwinit | rsvdz | bits(15, 12)
    assert masks == RegisterMasks(rw=rw, ro=ro, rw1c=rw1c, hwinit=hwinit, rsvdp=rsvdp, rsvdz=rsvdz,
                                  declared=declared)
    assert masks.writable == rw | rw1c == 0x00f00031
    assert masks.reserved == rsvdp | rsvdz == 0x7f0fff00
    # every bit of the register is in exactly one access mask
    parts = [masks.rw, masks.ro, masks.rw1c, masks.hwinit, masks.rsvdp, masks.rsvdz]
    assert sum(parts) == 0xffffffff
    for i, a in enumerate(parts):
        for b in parts[i + 1:]:
            assert a & b == 0


@pytest.mark.parametrize(("access", "field"), [(Access.RW, "rw"), (Access.RO, "ro"), (Access.RW1C, "rw1c"),
                                               (Access.HWINIT, "hwinit"), (Access.RSVDP, "rsvdp"),
                                               (Access.RSVDZ, "rsvdz")])
def test_masks_of_a_register_with_one_access(access: Access, field: str) -> None:
    register = Register(name="r", offset=_zero(), width=16, access=access, versioning=Versioning(span=NOWHERE),
                        span=NOWHERE)
    masks = register_masks(register)
    expected = {name: 0 for name in ("rw", "ro", "rw1c", "hwinit", "rsvdp", "rsvdz")}
    expected[field] = 0xffff
    assert masks == RegisterMasks(**expected, declared=0xffff)


def _zero() -> IntLit:
    return IntLit(value=0, span=NOWHERE)


def test_masks_of_a_64_bit_register() -> None:
    register = Register(name="r", offset=_zero(), width=64, access=Access.RW, versioning=Versioning(span=NOWHERE),
                        span=NOWHERE)
    assert register_masks(register).rw == 2**64 - 1


def test_masks_in_the_lock_are_hex() -> None:
    lock = json.loads(LockBackend().render(checked(MIXED))["schema.lock.json"])
    assert lock["sections"]["t"]["registers"][0]["masks"] == {
        "rw": "0xf00001", "ro": "0x8000000e", "rw1c": "0x30", "hwinit": "0xc0", "rsvdp": "0x7f0ff000",
        "rsvdz": "0xf00", "writable": "0xf00031", "reserved": "0x7f0fff00", "emulated": "0x0"}


# --- sizes -----------------------------------------------------------------------------------------------

def _state(name: str, field_type: object) -> StateField:
    return StateField(name=name, type=field_type, versioning=Versioning(span=NOWHERE), span=NOWHERE)  # type: ignore[arg-type]


@pytest.mark.parametrize(("field_type", "size", "text"), [
    (ScalarType(kind=ScalarKind.U8, span=NOWHERE), (1, 1), "u8"),
    (ScalarType(kind=ScalarKind.S16, span=NOWHERE), (2, 2), "s16"),
    (ScalarType(kind=ScalarKind.U64, span=NOWHERE), (8, 8), "u64"),
    (ScalarType(kind=ScalarKind.BOOL, span=NOWHERE), (1, 1), "bool"),
    (BytesType(size=16, span=NOWHERE), (16, 16), "bytes[16]"),
    (ArrayType(element=ScalarType(kind=ScalarKind.U32, span=NOWHERE), length=_zero(), max=10, max_span=NOWHERE, span=NOWHERE),
     (None, 40), "array of u32"),
    (StructType(members=(_state("a", ScalarType(kind=ScalarKind.U16, span=NOWHERE)),
                         _state("b", BytesType(size=3, span=NOWHERE))), span=NOWHERE), (5, 5), "struct"),
    (StructType(members=(_state("a", ScalarType(kind=ScalarKind.U8, span=NOWHERE)),
                         _state("t", ArrayType(element=ScalarType(kind=ScalarKind.U16, span=NOWHERE), length=_zero(),
                                               max=3, max_span=NOWHERE, span=NOWHERE))), span=NOWHERE), (None, 7), "struct"),
])
def test_type_size_and_text(field_type: object, size: tuple[int | None, int], text: str) -> None:
    assert type_size(field_type) == size  # type: ignore[arg-type]
    assert type_text(field_type) == text  # type: ignore[arg-type]


# --- wire layout -----------------------------------------------------------------------------------------

WIRE = schema("""
    section: e
    title: E
    id: 2
    location: {emulation: true}
    version: 3
    min_version: 2
    state:
      count: {type: u8}
      flags: {type: u16, present: "count > 0"}
      ident: {type: u32}
      table:
        type: array
        length: "count"
        max: 4
        element:
          type: struct
          members:
            addr: {type: u64}
            data: {type: u32}
      tail: {type: "bytes[3]"}
      ok: {type: bool}
      newer: {type: u16, since: 3, default: 0}
      older: {type: u8, until: 3, default: 5}
      ancient: {type: u8, since: 1, until: 3, default: 1}
""")


def item(path: str, text: str, offset: int | None, size: int | None, max_size: int, *, after: str | None = None,
         relative: int = 0, condition: str | None = None, repeat: str | None = None, depth: int = 0,
         in_element: bool = False) -> WireItem:
    return WireItem(path=path, type_text=text, offset=offset, after=after, relative=relative, size=size,
                    max_size=max_size, condition=condition, repeat=repeat, depth=depth, in_element=in_element)


def test_layouts_exist_for_every_loadable_version() -> None:
    section = checked(WIRE).sections[0]
    assert [layout.version for layout in section.layouts] == [2, 3]


def test_wire_layout_of_a_section_with_an_array_of_structs_and_a_conditional_field() -> None:
    v2, v3 = checked(WIRE).sections[0].layouts
    common_head = [
        item("count", "u8", 0, 1, 1),
        # flags is there only sometimes: it starts at a fixed offset, but what follows it does not
        item("flags", "u16", 1, 2, 2, condition="count > 0"),
        item("ident", "u32", None, 4, 4, after="flags", relative=0),
        # 4 + 8 + ... the array follows ident: 4 bytes after the end of flags, up to 4 x 12 bytes
        item("table", "array of struct", None, None, 4 * (8 + 4), after="flags", relative=4, repeat="count (max 4)"),
        # element members: offsets from the start of one element
        item("table[].addr", "u64", 0, 8, 8, depth=1, in_element=True),
        item("table[].data", "u32", 8, 4, 4, depth=1, in_element=True),
        item("tail", "bytes[3]", None, 3, 3, after="table", relative=0),
        item("ok", "bool", None, 1, 1, after="table", relative=3),
    ]
    assert list(v2.items) == common_head + [
        item("older", "u8", None, 1, 1, after="table", relative=4),
        item("ancient", "u8", None, 1, 1, after="table", relative=5),
    ]
    assert list(v3.items) == common_head + [
        item("newer", "u16", None, 2, 2, after="table", relative=4),
    ]
    # always-there fixed sizes: count, ident, tail, ok + the version's own fields
    assert (v2.min_size, v2.max_size) == (1 + 4 + 3 + 1 + 1 + 1, 1 + 2 + 4 + 48 + 3 + 1 + 1 + 1)
    assert (v3.min_size, v3.max_size) == (1 + 4 + 3 + 1 + 2, 1 + 2 + 4 + 48 + 3 + 1 + 2)


def test_register_sections_put_registers_first_with_their_presence() -> None:
    source = CAP_HEADER.replace("version: 1", "version: 2\nmin_version: 1") + schema("""
        registers:
          control:
            offset: 0
            width: 16
            fields: {wide: {bits: 0, access: ro}}
          lo: {offset: 4, width: 32, access: ro}
          hi: {offset: 8, width: 32, access: ro, present: control.wide}
          extra: {offset: 12, width: 8, access: ro, since: 2, default: 0}
        state:
          shadow: {type: u16}
    """)
    v1, v2 = checked(source).sections[0].layouts
    assert list(v1.items) == [
        item("control", "u16 register", 0, 2, 2),
        item("lo", "u32 register", 2, 4, 4),
        item("hi", "u32 register", 6, 4, 4, condition="control.wide"),
        item("shadow", "u16", None, 2, 2, after="hi", relative=0),
    ]
    assert (v1.min_size, v1.max_size) == (8, 12)
    assert [i.path for i in v2.items] == ["control", "lo", "hi", "extra", "shadow"]
    assert v2.items[3] == item("extra", "u8 register", None, 1, 1, after="hi", relative=0)
    assert (v2.min_size, v2.max_size) == (9, 13)


def test_struct_field_members_follow_each_other() -> None:
    source = schema("""
        section: e
        title: E
        id: 2
        location: {emulation: true}
        version: 1
        state:
          pair:
            type: struct
            members:
              lo: {type: u16}
              hi: {type: u32}
          after: {type: u8}
    """)
    (v1,) = checked(source).sections[0].layouts
    assert list(v1.items) == [
        item("pair", "struct", 0, 6, 6),
        item("pair.lo", "u16", 0, 2, 2, depth=1),
        item("pair.hi", "u32", 2, 4, 4, depth=1),
        item("after", "u8", 6, 1, 1),
    ]
    assert (v1.min_size, v1.max_size) == (7, 7)


def test_member_presence_inside_a_conditional_struct_keeps_both_conditions() -> None:
    source = schema("""
        section: e
        title: E
        id: 2
        location: {emulation: true}
        version: 1
        state:
          count: {type: u8}
          pair:
            type: struct
            present: "count > 0"
            members:
              lo: {type: u16}
              hi: {type: u16, present: "count > 1"}
    """)
    (v1,) = checked(source).sections[0].layouts
    assert [i.path for i in v1.items] == ["count", "pair", "pair.lo", "pair.hi"]
    assert v1.items[1].condition == "count > 0"
    # (the struct's own size is test_a_struct_with_a_conditional_member_has_no_fixed_size)
    assert list(v1.items[2:]) == [
        item("pair.lo", "u16", 1, 2, 2, condition="count > 0", depth=1),
        item("pair.hi", "u16", None, 2, 2, after="pair.lo", condition="(count > 0) && (count > 1)", depth=1),
    ]
    assert (v1.min_size, v1.max_size) == (1, 5)


def test_a_struct_with_a_conditional_member_has_no_fixed_size() -> None:
    source = schema("""
        section: e
        title: E
        id: 2
        location: {emulation: true}
        version: 1
        state:
          count: {type: u8}
          pair:
            type: struct
            members:
              lo: {type: u16}
              hi: {type: u16, present: "count > 1"}
          after: {type: u8}
    """)
    (v1,) = checked(source).sections[0].layouts
    assert (v1.min_size, v1.max_size) == (4, 6)
    assert v1.items[1] == item("pair", "struct", 1, None, 4)


def test_nested_struct_members_in_an_array_element_count_from_the_element() -> None:
    source = schema("""
        section: e
        title: E
        id: 2
        location: {emulation: true}
        version: 1
        state:
          num: {type: u8}
          rows:
            type: array
            length: num
            max: 2
            element:
              type: struct
              members:
                tag: {type: u8}
                span: {type: struct, members: {lo: {type: u16}, hi: {type: u16, present: "num > 1"}}}
          after: {type: u8}
    """)
    (v1,) = checked(source).sections[0].layouts
    assert [(i.path, i.offset, i.condition, i.in_element) for i in v1.items] == [
        ("num", 0, None, False),
        ("rows", 1, None, False),
        ("rows[].tag", 0, None, True),
        ("rows[].span", 1, None, True),
        ("rows[].span.lo", 1, None, True),
        ("rows[].span.hi", 3, "num > 1", True),
        ("after", None, None, False),
    ]


def test_descriptor_layout() -> None:
    source = CAP_HEADER + schema("""
        registers:
          control:
            offset: 0
            width: 16
            fields: {n: {bits: "3:1", access: ro}}
        descriptor:
          cap_offset: {type: u8}
          shape: {from: control}
          wmask: {type: "bytes[24]"}
          wide: {type: u64}
    """)
    assert list(checked(source).sections[0].descriptor_layout) == [
        item("cap_offset", "u8", 0, 1, 1),
        item("shape", "u16 from control", 1, 2, 2),
        item("wmask", "bytes[24]", 3, 24, 24),
        item("wide", "u64", 27, 8, 8),
        # Then what the compiler adds: the versions this build handles; control has no masks, since the
        # hypervisor emulates none of its bits and the guest may write none (n is ro).
        item("min_version", "u16 oldest version this build loads", 35, 2, 2),
        item("max_version", "u16 newest version this build saves", 37, 2, 2),
        item("mask_registers", "u16 registers the mask list indexes", 39, 2, 2),
    ]


def test_descriptor_masks_follow_the_access_and_emulated_declarations() -> None:
    source = CAP_HEADER + schema("""
        registers:
          control:
            offset: 0
            width: 16
            fields:
              enable: {bits: 0, access: rw, emulated: true}
              status: {bits: 1, access: rw1c}
              shape:  {bits: "3:2", access: ro}
              gap:    {bits: "7:4", access: rsvdp}
              mode:   {bits: "9:8", access: rw}
          table: {offset: 4, width: 32, access: ro, emulated: true}
          mask: {offset: 8, width: 32, access: rw, present: control.shape == 1}
        restore: [control, mask]
    """)
    plan = checked(source).sections[0].plan
    masks = {r.name: (r.index, r.width, r.emulated, r.writable, r.present is not None) for r in plan.masks.registers}
    # wmask: rw and rw1c bits (0, 1, 8, 9 = 0x303); emulated: enable only; the whole-register table's 32 bits;
    # mask's masks hold only where mask is present (the presence travels with them).
    assert masks == {
        "control": (0, 16, 0x0001, 0x0303, False),
        "table": (1, 32, 0xFFFFFFFF, 0, False),
        "mask": (2, 32, 0, 0xFFFFFFFF, True),
    }
    assert plan.masks.word == 32
    # an entry per register: index u16, width u8, then both masks at the register's width
    assert plan.masks.max_size == (3 + 4) + (3 + 8) + (3 + 8)
    assert plan.compat.checks == ()  # the masks are compared as a list, not as rules
    control = plan.masks.registers[0]
    assert "register control" in control.emulated_reason and "emulates" in control.emulated_reason
    assert "register control" in control.writable_reason and "may write" in control.writable_reason
    assert (plan.compat.min_version.constant, plan.compat.max_version.constant) == (1, 1)
    assert next(i for i in plan.descriptor if i.name == "mask_registers").constant == 3


def test_mask_list_indexes_registers_by_the_version_that_added_them() -> None:
    # A register added by version 2 but declared first still comes after version 1's registers, so a build
    # of version 1 and one of version 2 give the registers they share the same index.
    source = CAP_HEADER.replace("version: 1", "version: 2") + schema("""
        registers:
          late: {offset: 8, width: 16, access: rw, since: 2}
          first: {offset: 0, width: 8, access: rw}
          second: {offset: 4, width: 32, access: ro}
        restore: [first, late]
    """)
    masks = checked(source).sections[0].plan.masks
    assert [(r.name, r.index) for r in masks.registers] == [("first", 0), ("second", 1), ("late", 2)]
    assert [r.name for r in masks.negotiated] == ["first", "late"]


def test_mask_list_differences_compare_only_registers_both_builds_index() -> None:
    source = CAP_HEADER + schema("""
        registers:
          a: {offset: 0, width: 8, access: rw}
          b: {offset: 1, width: 8, access: rw}
        restore: [a, b]
    """)
    masks = checked(source).sections[0].plan.masks
    # register 1 differs, but the source's build indexes only register 0: not compared
    assert masks.differences(1, {0: (0, 0xFF)}, 2, {0: (0, 0xFF), 1: (0, 0xFF)}) == []
    # both index both: a missing entry means 0, emulated bits before the write mask
    found = masks.differences(2, {0: (1, 0xFF)}, 2, {0: (0, 0xFF), 1: (0, 0xFF)})
    assert [(r.name, writable, s, t) for r, writable, s, t in found] == [
        ("a", False, 1, 0), ("b", True, 0, 0xFF)]


def test_checked_module_keeps_the_written_section_and_devices() -> None:
    module = checked(WIRE)
    section = module.section("e")
    assert section.name == "e"
    assert section.section.version == 3 and section.section.min_version == 2
    assert [s.name for s in section.state] == [s.name for s in section.section.state]
    assert module.devices == ()
    with pytest.raises(StopIteration):
        module.section("missing")


def test_offsets_a_device_binding_moves_are_recorded_per_device() -> None:
    section = CAP_HEADER + schema("""
        params:
          wide: {type: bool, default: false}
        registers:
          extra: {offset: "params.wide ? 0x0c : 0x08", width: 32, access: ro}
    """)
    device = "device: d\ntitle: D\nsections:\n  - use: t\n    params: {wide: true}\n"
    compiled = compile_texts({"s.yaml": section, "d.yaml": device})
    assert compiled.module is not None
    # The section keeps the params' defaults; the device's binding is recorded beside it.
    assert compiled.module.sections[0].registers[0].offsets == (0x08,)
    assert compiled.module.bound_offsets == (BoundOffsets(device="d", section="t", register="extra",
                                                          offsets=(0x0c,)),)


SHARED_LAYOUT = CAP_HEADER + schema("""
    field_sets:
      errors:
        timeout: {bits: 0}
        poison:  {bits: "2:1"}
        fixed:   {bits: 3, access: ro}
    registers:
      status:   {offset: 0x04, width: 32, fields: errors, access: rw1cs, restore: {skip: "status only"}}
      mask:     {offset: 0x08, width: 32, fields: errors, access: rws}
      severity: {offset: 0x0c, width: 32, fields: errors, access: hwinit}
    restore: [mask]
""")


def test_a_field_set_takes_each_registers_access() -> None:
    """One layout, three accesses: a set field without its own access takes the register's; `fixed`, which
    gives one, keeps it; the registers share the layout (field_set) and get masks each of its own."""
    section = checked(SHARED_LAYOUT).sections[0]
    accesses = {r.register.name: {f.name: f.access for f in r.register.fields} for r in section.registers}
    assert accesses == {
        "status": {"timeout": Access.RW1CS, "poison": Access.RW1CS, "fixed": Access.RO},
        "mask": {"timeout": Access.RWS, "poison": Access.RWS, "fixed": Access.RO},
        "severity": {"timeout": Access.HWINIT, "poison": Access.HWINIT, "fixed": Access.RO}}
    masks = {r.register.name: r.masks for r in section.registers}
    assert (masks["status"].rw1c, masks["status"].sticky, masks["status"].rw) == (bits(2, 0), bits(2, 0), 0)
    assert (masks["mask"].rw, masks["mask"].sticky, masks["mask"].rw1c) == (bits(2, 0), bits(2, 0), 0)
    assert (masks["severity"].hwinit, masks["severity"].writable) == (bits(2, 0), 0)
    assert all(m.ro == bits(3) and m.reserved == 0xfffffff0 for m in masks.values())
    assert {r.register.field_set for r in section.registers} == {"errors"}
    assert all(r.register.access is None for r in section.registers)
