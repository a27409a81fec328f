"""passes/plan.py: the wire plan both back ends print (runs, conditions, arrays, structs, restore lowering).

Every expected value below is worked out by hand from the inline schema next to it.
"""

from __future__ import annotations

from unit_support import CAP_HEADER, EMU_HEADER, compile_text, schema
from vfiogen.ir.checked import CheckedSection
from vfiogen.ir.expr import to_text
from vfiogen.ir.plan import Array, Cond, ElementShape, Leaf, LeafKind, Run, Step, Struct


def section(source: str) -> CheckedSection:
    compiled = compile_text(source)
    assert compiled.diagnostics == [], compiled.diagnostics
    assert compiled.module is not None
    return compiled.module.sections[0]


def shape(steps: tuple[Step, ...]) -> list[object]:
    """The walk as nested lists: a run is its leaves' (path, rel), other steps are (kind, path, body)."""
    out: list[object] = []
    for step in steps:
        if isinstance(step, Run):
            out.append([(leaf.path, leaf.rel) for leaf in step.leaves])
        elif isinstance(step, Cond):
            out.append(("cond", tuple(g.path for g in step.guards), shape(step.body)))
        elif isinstance(step, Struct):
            out.append(("struct", step.path, shape(step.body)))
        else:
            out.append(("array", step.path, shape(step.body)))
    return out


STATE = EMU_HEADER + schema("""
    version: 1
    state:
      a: {type: u8}
      b: {type: u16}
      s:
        type: struct
        members:
          x: {type: bool}
          inner:
            type: struct
            members:
              y: {type: u32}
          z: {type: u8}
      c: {type: u32}
      d: {type: "bytes[3]"}
""")


def test_runs_merge_neighbours_but_never_cross_a_struct_edge() -> None:
    walk = section(STATE).plan.version(1).walk
    assert shape(walk) == [
        [("a", 0), ("b", 1)],
        ("struct", "s", [[("s.x", 0)], ("struct", "s.inner", [[("s.inner.y", 0)]]), [("s.z", 0)]]),
        [("c", 0), ("d", 4)],
    ]
    first, _, last = walk
    assert isinstance(first, Run) and first.size == 3
    assert isinstance(last, Run) and last.size == 7


REGISTERS = CAP_HEADER + schema("""
    enums:
      two: {values: {a: 0, b: 1, c: 2, d: 3}}
      three: {values: {a: 0, b: 1, c: 2}}
    registers:
      control:
        offset: 0x02
        width: 16
        fields:
          enable: {bits: 0, access: rw}
          pvm:    {bits: 1, access: ro}
          wide:   {bits: 2, access: ro}
          full:   {bits: "5:4", access: rw, enum: two}
          part:   {bits: "7:6", access: rw, enum: three}
          mode:   {bits: "9:8", access: rw}
      mask:    {offset: 0x04, width: 32, access: rw, present: control.pvm}
      pending: {offset: 0x08, width: 32, access: ro, present: control.pvm}
      upper:   {offset: 0x0c, width: 32, access: rw, present: control.wide}
    restore:
      - {write: control, with: {enable: 0, full: two.c, mode: "control.pvm ? 1 : 2"}}
      - mask
      - upper
      - control
""")


def test_fields_with_one_presence_share_one_condition() -> None:
    walk = section(REGISTERS).plan.version(1).walk
    assert shape(walk) == [
        [("control", 0)],
        ("cond", ("mask", "pending"), [[("mask", 0), ("pending", 4)]]),
        ("cond", ("upper",), [[("upper", 0)]]),
    ]


def test_only_enums_that_leave_values_undefined_are_checked() -> None:
    checked = section(REGISTERS)
    control = checked.plan.version(1).walk[0]
    assert isinstance(control, Run)
    leaf = control.leaves[0]
    # `two` names all four values of bits 5:4, `three` leaves 3 undefined; bits 15:10 are undeclared.
    assert [(c.field, c.lo, c.mask, c.enum) for c in leaf.enum_checks] == [("part", 6, 0x3, "three")]
    assert leaf.reserved == 0xfc08
    assert leaf.read  # the presence of mask, pending and upper reads it
    assert [(r.register, [c.field for c in r.enum_checks]) for r in checked.plan.capture] == [
        ("control", ["part"]), ("mask", []), ("pending", []), ("upper", [])]


def test_restore_folds_constant_overrides_and_keeps_the_others() -> None:
    first, mask, upper, last = section(REGISTERS).plan.restore
    # enable (bit 0) to 0 and full (bits 5:4) to two.c = 2: keep every other bit, set 0b10 << 4.
    assert (first.register, first.keep, first.set) == ("control", 0xffce, 0x20)
    assert [(o.field, o.lo, o.mask) for o in first.overrides] == [("mode", 8, 0x300)]
    assert first.folded
    assert (mask.register, mask.keep, mask.set, mask.overrides, mask.folded) == ("mask", 0xffffffff, 0, (), False)
    assert upper.present is not None and last.register == "control" and not last.folded


ARRAYS = CAP_HEADER + schema("""
    registers:
      control:
        offset: 0x02
        width: 16
        fields:
          size: {bits: "10:0", access: ro}
          count: {bits: "15:11", access: ro}
    state:
      table:
        type: array
        length: "control.size + 1"
        max: 2048
        element:
          type: struct
          members:
            lo: {type: u32}
            hi: {type: u32}
      small:
        type: array
        length: "control.count"
        max: 16
        element: {type: u16}
      flags:
        type: array
        length: "control.count"
        max: 31
        element: {type: bool}
""")


def test_arrays_know_their_element_and_which_count_checks_can_fire() -> None:
    _, table, small, flags = section(ARRAYS).plan.version(1).walk
    assert isinstance(table, Array) and isinstance(small, Array) and isinstance(flags, Array)
    # control.size + 1 is 1..2048 and max is 2048: neither bound can be crossed.
    assert (table.count_can_be_negative, table.count_can_exceed_max) == (False, False)
    assert (table.element_size, table.shape, table.word, table.checked) == (8, ElementShape.RECORD, 4, False)
    assert [(leaf.path, leaf.rel, leaf.size) for leaf in table.element_leaves] == [
        ("table[].lo", 0, 4), ("table[].hi", 4, 4)]
    assert table.member == ("table",) and table.body[0].member == ("table", "[]")  # type: ignore[union-attr]
    # control.count is 0..31, over small's max of 16 but within flags' 31.
    assert (small.count_can_be_negative, small.count_can_exceed_max) == (False, True)
    assert (small.shape, small.word, small.checked) == (ElementShape.SCALAR, 2, False)
    assert (flags.count_can_exceed_max, flags.shape, flags.word, flags.checked) == (
        False, ElementShape.OTHER, 0, True)


VERSIONS = EMU_HEADER + schema("""
    version: 2
    min_version: 1
    state:
      old: {type: u16}
      new: {type: u32, since: 2, default: 7}
    descriptor:
      offset: {type: u8}
      flag: {type: bool}
      tag: {type: "bytes[4]"}
      size: {type: u32}
""")


def test_older_versions_list_what_they_miss_and_the_descriptor_has_offsets() -> None:
    plan = section(VERSIONS).plan
    v1, v2 = plan.versions
    assert [(m.name, m.default) for m in v1.missing] == [("new", 7)] and v2.missing == ()
    assert shape(v1.walk) == [[("old", 0)]] and shape(v2.walk) == [[("old", 0), ("new", 2)]]
    assert [(d.name, d.kind, d.offset, d.size) for d in plan.descriptor] == [
        ("offset", LeafKind.UINT, 0, 1), ("flag", LeafKind.BOOL, 1, 1), ("tag", LeafKind.BYTES, 2, 4),
        ("size", LeafKind.UINT, 6, 4),
        # the compiler's: the versions this build handles (1..2), and the registers its mask list indexes
        # (none: the section has no registers)
        ("min_version", LeafKind.UINT, 10, 2), ("max_version", LeafKind.UINT, 12, 2),
        ("mask_registers", LeafKind.UINT, 14, 2)]
    assert [d.constant for d in plan.descriptor[-3:]] == [1, 2, 0]
    assert plan.descriptor_size == 16
    assert plan.masks.registers == () and plan.masks.max_size == 0


def test_a_leaf_is_checked_only_when_loading_it_takes_more_than_bounds() -> None:
    plain = Leaf(path="x", member=("x",), kind=LeafKind.UINT, size=4, rel=0)
    assert not plain.checked
    assert Leaf(path="x", member=("x",), kind=LeafKind.BOOL, size=1, rel=0).checked
    assert Leaf(path="x", member=("x",), kind=LeafKind.UINT, size=4, rel=0, reserved=1).checked
    assert Leaf(path="x", member=("x",), kind=LeafKind.UINT, size=1, rel=0, enum="e").checked


STICKY = CAP_HEADER + schema("""
    registers:
      pmcsr:
        offset: 0x04
        width: 16
        fields:
          power_state: {bits: "1:0", access: rw}
          no_soft_reset: {bits: 3, access: ro}
          pme_enable: {bits: 8, access: rws}
          pme_status: {bits: 15, access: rw1cs}
      status:
        offset: 0x08
        width: 32
        fields:
          error: {bits: 0, access: rw1c}
          latched: {bits: 1, access: rw1c}
          mode: {bits: "5:4", access: rw}
    restore:
      - pmcsr
      - {write: status, with: {latched: 1}}
""")


def test_sticky_access_counts_as_its_base_and_is_marked_sticky() -> None:
    pmcsr = section(STICKY).register("pmcsr").masks
    assert (pmcsr.rw, pmcsr.ro, pmcsr.rw1c, pmcsr.sticky) == (0x0103, 0x0008, 0x8000, 0x8100)


def test_restore_writes_rw1c_bits_as_zero_unless_an_override_sets_them() -> None:
    pmcsr, status = section(STICKY).plan.restore
    # pme_status (rw1cs, bit 15) is never written back as saved: a saved 1 would clear the target's status.
    assert (pmcsr.keep, pmcsr.set, pmcsr.folded) == (0x7FFF, 0, True)
    # error (bit 0) written 0; latched (bit 1) forced to 1 by the schema, on purpose.
    assert (status.keep, status.set) == (0xFFFFFFFC, 0x2)


WAITS = CAP_HEADER + schema("""
    enums:
      d_state: {values: {d0: 0, d1: 1, d2: 2, d3hot: 3}}
    registers:
      pmcsr:
        offset: 0x04
        width: 16
        fields:
          power_state: {bits: "1:0", access: rw, enum: d_state}
    restore:
      - {write: pmcsr, with: {power_state: d_state.d0}}
      - pmcsr
      - {wait: 10ms, when: "pmcsr.power_state == d_state.d3hot", reason: "into D3hot"}
      - {wait: 3s, reason: "always"}
""")


def test_wait_steps_carry_microseconds_and_their_condition() -> None:
    _, _, into_d3, always = section(WAITS).plan.restore
    assert (into_d3.hook, into_d3.wait_us, to_text(into_d3.when) if into_d3.when else None) == (
        "wait", 10_000, "pmcsr.power_state == d_state.d3hot")
    assert (always.hook, always.wait_us, always.when, always.reason) == ("wait", 3_000_000, None, "always")
