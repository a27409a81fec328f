"""Generated Python for small inline schemas: restore overrides and checked shifts.

Each test compiles a schema given as text, renders its section module with the
Python back end and executes that text as a fresh module (it imports the shipped
`vfiogen_state._runtime`, which `test_generated_up_to_date` keeps equal to the
template), so what runs is exactly what `vfiogen build` would write.
"""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Callable

import pytest

from vfiogen import driver
from vfiogen.backends.python.emit import PythonBackend
from vfiogen.context import Context
from vfiogen.diagnostics import Reporter


def generate(text: str) -> tuple[str, types.ModuleType]:
    """The section module's source for schema `text` (one section, named `t`), and that source executed."""
    source = textwrap.dedent(text).lstrip("\n")
    ctx = Context(reporter=Reporter(frozenset(), frozenset()))
    result = driver.compile_schemas([driver.SchemaInput("t.yaml", "t.yaml", source.encode())], ctx)
    assert result.module is not None, [str(d) for d in ctx.reporter.sorted()]
    backend = PythonBackend()
    backend.check(result.module, ctx)
    outputs = backend.render(result.module)
    code = outputs["python/vfiogen_state/t.py"]
    # The module and its sidecar (_t_more: validate, capture, restore, ...) under the names they import each
    # other by, the sidecar executed now (it imports from the module) and found by the module's lazy loader.
    module = types.ModuleType("vfiogen_state.t")
    more = types.ModuleType("vfiogen_state._t_more")
    saved = {name: sys.modules.get(name) for name in (module.__name__, more.__name__)}
    sys.modules[module.__name__], sys.modules[more.__name__] = module, more
    try:
        exec(compile(code, "t.py", "exec"), module.__dict__)  # noqa: S102 - the code is what the back end generated
        exec(compile(outputs["python/vfiogen_state/_t_more.py"], "_t_more.py", "exec"), more.__dict__)  # noqa: S102
        module._M = more  # what the module's save calls validate through
        for name in module._MORE:  # as the lazy loader would, on first use
            setattr(module, name, getattr(more, name))
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return code, module


def writes_of(module: types.ModuleType, state: object) -> list[tuple[int, int, int]]:
    writes: list[tuple[int, int, int]] = []
    restore: Callable[..., None] = module.restore
    restore(state, lambda offset, value, size: writes.append((offset, value, size)), 0x40)
    return writes


OVERRIDES = """
    section: t
    title: T
    id: 0x0011
    location:
      capability: {id: 0x11, size: 4}
    version: 1
    registers:
      control:
        offset: 0x02
        width: 16
        fields:
          size:          {bits: "10:0", access: ro}
          function_mask: {bits: 14, access: rw}
          enable:        {bits: 15, access: rw}
    restore:
      - {write: control, with: {enable: 1, function_mask: 0}}
      - control
"""


def test_a_second_override_clears_a_saved_bit() -> None:
    # Regression: with two overrides the second field's clear mask applied to the first override only,
    # so `function_mask: 0` left a saved function_mask bit set.
    _, module = generate(OVERRIDES)
    state = module.TState(control=module.ControlRegister(size=5, function_mask=True, enable=False))
    # First write: size kept (5), enable forced to 1 (bit 15), function_mask forced to 0 (bit 14 clear).
    # Second write: control as saved, 0x4000 | 5.
    assert writes_of(module, state) == [(0x42, 0x8005, 2), (0x42, 0x4005, 2)]


@pytest.mark.parametrize(("function_mask", "enable", "first"), [
    (False, False, 0x8005), (True, False, 0x8005), (False, True, 0x8005), (True, True, 0x8005)])
def test_overrides_win_whatever_was_saved(function_mask: bool, enable: bool, first: int) -> None:
    _, module = generate(OVERRIDES)
    state = module.TState(control=module.ControlRegister(size=5, function_mask=function_mask, enable=enable))
    assert writes_of(module, state)[0] == (0x42, first, 2)


def test_the_shipped_header_restore_turns_decoding_off_first() -> None:
    # The same bug in the shipped schema: the first command write (three overrides) kept the saved
    # memory-space and bus-master bits, so BARs were rewritten with decoding still on.
    from vfiogen_state import header

    state = header.HeaderState()
    state.command.io_space_enable = state.command.mem_space_enable = state.command.bus_master_enable = True
    saved = state.command.value()
    writes: list[tuple[int, int, int]] = []
    header.restore(state, lambda offset, value, size: writes.append((offset, value, size)), 0)
    assert writes[0] == (0x04, saved & ~0x7, 2)
    assert writes[-1] == (0x04, saved, 2)


SHIFTS = """
    section: t
    title: T
    id: 0x0011
    location:
      capability: {id: 0x11, size: 8}
    version: 1
    registers:
      control: {offset: 0x04, width: 32, access: rw}
    state:
      count: {type: u8}
    constraints:
      - {check: "(control >> count) < 0x100", reason: "control above bit count + 8"}
      - {check: "(1 << count) != 0", reason: "never fails"}
      - {check: "(control >> 4) < 0x10000000 && (control << 3) >= 0", reason: "never fails either"}
    restore:
      - control
"""


def test_a_shift_count_outside_0_63_is_an_error_as_in_c() -> None:
    code, module = generate(SHIFTS)
    # The count `count` (a u8) may reach 255: checked by the runtime helpers.
    assert "_shr(s.control, s.count)" in code
    assert "_shl(1, s.count)" in code
    # Literal counts are provably in 0..63: plain Python shifts, no helper.
    assert "(s.control >> 4)" in code and "(s.control << 3)" in code

    ok = module.TState(control=0x1234, count=8)
    assert module.validate(ok) == []
    assert module.load(module.save(ok)) == ok

    for count in (64, 70, 255):
        bad = module.TState(control=0x1234, count=count)
        problems = module.validate(bad)
        assert [p.field for p in problems] == ["control", "count"]
        assert all(p.reason == f"constraint cannot be evaluated: shift count {count} is outside 0..63"
                   for p in problems)
        # Save refuses what a load would (issue 15); a payload with that count is refused by the load.
        with pytest.raises(module.SaveError, match=f"shift count {count} is outside 0..63"):
            module.save(bad)
        with pytest.raises(module.LoadError, match=f"shift count {count} is outside 0..63"):
            module.load(module.save(ok)[:-1] + bytes([count]))
    # 63 is still a count C allows: Python's big integers give the exact results.
    assert module.validate(module.TState(control=0x1234, count=63)) == []


def test_the_shipped_modules_use_the_helpers_only_where_a_count_is_not_provable() -> None:
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "generated" / "python" / "vfiogen_state"
    calls = {path.stem: path.read_text().count("_shr(") + path.read_text().count("_shl(")
             for path in package.glob("*.py") if not path.stem.startswith("_")}
    # Only rebar and acs shift by a field (rebar its capability bits by a BAR size, acs an egress control
    # vector dword by the vector size: both guarded by a conditional the range analysis does not narrow);
    # every other shift in the schemas is by a literal.
    assert {name for name, n in calls.items() if n} == {"acs", "rebar"}


MEMBER_PRESENCE = """
    section: t
    title: T
    id: 0x0011
    location:
      capability: {id: 0x11, size: 4}
    version: 1
    registers:
      control:
        offset: 0x02
        width: 16
        fields:
          rows:    {bits: "3:0", access: ro}
          has_ext: {bits: 4,     access: ro}
    state:
      rows:
        type: array
        length: "control.rows"
        max: 15
        element:
          type: struct
          members:
            id:    {type: u8}
            extra: {type: u16, present: "control.has_ext"}
    restore:
      - control
"""


@pytest.mark.parametrize(("has_ext", "payload"), [
    # control (0x0002 or 0x0012), then per row its id and, only with has_ext, extra.
    (False, "0002" "0a" "0b"),
    (True, "0012" "0a" "1234" "0b" "5678"),
])
def test_a_struct_member_is_on_the_wire_only_when_its_presence_holds(has_ext: bool, payload: str) -> None:
    # Regression: member presence was ignored (the member always written) although the language and the
    # generated docs' wire layout say an absent member takes no bytes.
    _, module = generate(MEMBER_PRESENCE)
    rows = [module.RowsEntry(0x0A, 0x1234 if has_ext else 0), module.RowsEntry(0x0B, 0x5678 if has_ext else 0)]
    state = module.TState(control=module.ControlRegister(rows=2, has_ext=has_ext), rows=rows)
    assert module.save(state).hex() == payload
    assert module.load(bytes.fromhex(payload)) == state


MEMBER_STRUCT_PRESENCE = MEMBER_PRESENCE.replace(
    "extra: {type: u16, present: \"control.has_ext\"}",
    "extra: {type: struct, present: \"control.has_ext\", members: {lo: {type: u8}, hi: {type: u8}}}")


def test_validate_reports_an_absent_struct_member_that_holds_a_value() -> None:
    # Regression: the check named the member's struct class by the member's name alone (ExtraEntry, a
    # NameError) instead of its schema path (RowsExtraEntry).
    code, module = generate(MEMBER_STRUCT_PRESENCE)
    assert "RowsExtraEntry" in code
    state = module.TState(control=module.ControlRegister(rows=1, has_ext=False),
                          rows=[module.RowsEntry(id=1, extra=module.RowsExtraEntry())])
    assert module.validate(state) == []
    state.rows[0].extra.hi = 3
    assert [(p.field, p.reason) for p in module.validate(state)] == [
        ("rows[0].extra", "is absent on this device (its presence is false) but holds a value")]


DEFAULTS = """
    section: t
    title: T
    id: 0x0011
    location:
      capability: {id: 0x11, size: 16}
    version: 2
    min_version: 1
    registers:
      control:
        offset: 0x02
        width: 16
        fields:
          has_ext: {bits: 0, access: ro}
      ext: {offset: 0x04, width: 32, access: rw, present: control.has_ext, default: 7}
      levels:
        offset: 0x08
        width: 16
        since: 2
        default: 0x0005
        fields:
          on:    {bits: 0,     access: rw}
          level: {bits: "3:1", access: rw}
    restore:
      - ext
      - levels
"""


def test_an_absent_register_holds_0_whatever_its_default() -> None:
    # Regression: an absent register loaded as its `default` (7) in Python but as 0 in C, whose validate then
    # expected 7, while the Python capture gave 0 and its validate expected 7: "absent reads as 0".
    _, module = generate(DEFAULTS)
    loaded = module.load(bytes.fromhex("0000" "0005"))        # control without has_ext, then levels (v2)
    assert loaded.ext == 0 and module.validate(loaded) == []
    captured = module.capture(lambda offset, size: 0, 0x40)
    assert captured.ext == 0 and module.validate(captured) == []
    assert [p.field for p in module.validate(module.TState(ext=7))] == ["ext"]


def test_a_register_with_fields_takes_its_default_from_an_older_stream() -> None:
    # Regression: the `default` of a register with bit fields was ignored (0 in both back ends), so a version 1
    # stream loaded `levels` as 0 and a state holding the default could not be saved for version 1.
    _, module = generate(DEFAULTS)
    old = module.load(bytes.fromhex("0000"), 1)
    assert old.levels.value() == 5 and old.levels.on and old.levels.level == 2
    assert module.save(old, 1) == bytes.fromhex("0000")
    old.levels.level = 3
    with pytest.raises(module.SaveError, match="levels"):
        module.save(old, 1)
    assert module.TState().levels.value() == 5


WIDE = """
    section: t
    title: T
    id: 0x0011
    location:
      capability: {id: 0x11, size: 24}
    version: 1
    registers:
      control:
        offset: 0x02
        width: 16
        fields:
          wide:   {bits: 0, access: ro}
          enable: {bits: 1, access: rw}
      wide_reg:
        offset: "control.wide ? 0x08 : 0x04"
        width: 64
        fields:
          enable: {bits: 1, access: rw}
          low:    {bits: "31:2", access: rw}
          high:   {bits: "62:32", access: rw}
    restore:
      - {write: wide_reg, with: {enable: 0}}
      - control
      - wide_reg
"""


def test_a_64_bit_register_is_two_dword_accesses_low_first() -> None:
    """Config space is accessed at most 4 bytes at a time (README "Decisions"): a 64-bit register is read and
    written as two dwords, the low one at the register's offset first, overrides applied to the whole value."""
    _, module = generate(WIDE)
    space = bytearray(0x40)
    space[0x42 - 0x40:0x44 - 0x40] = (0x0001).to_bytes(2, "little")                  # control.wide: at 0x08
    space[0x48 - 0x40:0x50 - 0x40] = (0xC123_4567_89AB_CDEF).to_bytes(8, "little")   # bit 63 is reserved
    reads: list[tuple[int, int]] = []

    def read(offset: int, size: int) -> int:
        reads.append((offset, size))
        # A hypervisor's read returns only the bytes asked for; anything above them would be a bug of its own.
        return int.from_bytes(space[offset - 0x40:offset - 0x40 + size], "little") | 0xFFFF_FFFF << 32

    state = module.capture(read, 0x40)
    assert reads == [(0x42, 2), (0x48, 4), (0x4C, 4)]
    assert state.wide_reg.value() == 0x4123_4567_89AB_CDEE                            # reserved bits 63 and 0 dropped
    writes: list[tuple[int, int, int]] = []
    module.restore(state, lambda offset, value, size: writes.append((offset, value, size)), 0x40)
    assert writes == [(0x48, 0x89AB_CDEC, 4), (0x4C, 0x4123_4567, 4),                 # enable (bit 1) forced 0
                      (0x42, 0x0001, 2),
                      (0x48, 0x89AB_CDEE, 4), (0x4C, 0x4123_4567, 4)]


CHECKED = """
    section: t
    title: T
    id: 0x0011
    location:
      capability: {id: 0x11, size: 8}
    version: 2
    min_version: 1
    registers:
      cap:
        offset: 0x02
        width: 16
        fields:
          size: {bits: "10:0", access: ro}
          ctl:  {bits: 15, access: rw}
      extra: {offset: 0x04, width: 16, access: ro, since: 2, default: 0}
    descriptor:
      cap_size:  {from: cap, fields: [size]}
      extra_ro:  {from: extra}
    restore:
      - cap
"""


def test_check_descriptor_names_the_first_field_that_differs_in_a_register_the_version_carries() -> None:
    # check_descriptor compares the derived fields as one tuple and, when they differ, goes field by field
    # in schema order, skipping a register the payload's version does not carry (a version-1 payload loads
    # `extra` as its default, 0, whatever the descriptor says).
    code, module = generate(CHECKED)
    assert "derive_descriptor(s" not in code.split("def check_descriptor", 1)[1].split("\ndef ", 1)[0]
    state = module.TState(cap=module.CapRegister(size=5, ctl=True), extra=7)
    d = module.derive_descriptor(state, cap_offset=0) if "cap_offset" in code else module.derive_descriptor(state)
    assert (d.cap_size, d.extra_ro) == (5, 7)
    v1 = module.load(module.save(module.TState(cap=module.CapRegister(size=5), extra=0), 1), 1)
    module.check_descriptor(v1, d, 1, offset=40)  # extra differs, but version 1 does not carry it
    with pytest.raises(module.LoadError) as error:
        module.check_descriptor(v1, d, 2, offset=40)
    assert (error.value.section, error.value.field, error.value.offset) == ("t", "descriptor.extra_ro", 40)
    assert error.value.reason == ("the payload's registers disagree with the stream's descriptor: "
                                  "they give extra_ro 0, the descriptor says 7")
    d.cap_size = 4  # now an earlier field, carried by every version, differs too: it is the one named
    for version in (1, 2):
        with pytest.raises(module.LoadError) as error:
            module.check_descriptor(v1, d, version, offset=40)
        assert error.value.field == "descriptor.cap_size" and "they give cap_size 5, the descriptor says 4" in error.value.reason
    module.check_descriptor(state, module.derive_descriptor(state), 2)  # equal: nothing raised
