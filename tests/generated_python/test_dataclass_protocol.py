"""The generated classes follow the dataclasses protocol without importing dataclasses at import time.

`dataclasses.is_dataclass`, `fields`, `asdict`, `astuple` and `replace` work on
a section state, a register, an array-of-struct element, params, a
descriptor and the device state; `_runtime` builds `__dataclass_fields__`
on first use, so importing the package never imports `dataclasses` (nor
`inspect`, which it would bring along).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vfiogen_state import _runtime as rt
from vfiogen_state import example_nic as nic
from vfiogen_state import header, msix, pcix

from nic_example import descriptor_of, valid_state

PYTHON_DIR = Path(__file__).resolve().parents[2] / "generated" / "python"


def msix_state() -> msix.MsixState:
    state = msix.MsixState()
    state.control.table_size = 1
    state.control.enable = True
    state.table.offset = 0x200
    state.vectors = [msix.VectorsEntry(0xFEE00000, 0, 0x41, 0), msix.VectorsEntry(0xFEE01000, 0, 0x42, 1)]
    state.pending = [0x2]
    return state


def test_is_dataclass_on_classes_and_instances() -> None:
    for obj in (msix_state(), msix.MsixState, msix.ControlRegister(), msix.VectorsEntry, msix.MsixDescriptor(),
                header.Params, valid_state(), nic.ExampleNicDescriptor):
        assert dataclasses.is_dataclass(obj), obj
    params = msix.MsixState.__dataclass_params__
    assert params.init and params.repr and params.eq and not params.frozen
    # The shared bases are not dataclasses themselves.
    assert not dataclasses.is_dataclass(rt.Record)
    assert not dataclasses.is_dataclass(rt.Register)


def test_section_state() -> None:
    state = msix_state()
    fields = dataclasses.fields(state)
    assert [f.name for f in fields] == ["control", "table", "pba", "vectors", "pending"]
    assert [f.type for f in fields] == ["ControlRegister", "TableRegister", "PbaRegister", "list[VectorsEntry]",
                                        "list[int]"]
    assert all(f.kw_only for f in fields)  # the state's __init__ takes keywords only
    # Mutable defaults are factories building what __init__ builds.
    assert fields[0].default is dataclasses.MISSING and fields[0].default_factory() == msix.ControlRegister()
    assert fields[3].default_factory() == [msix.VectorsEntry()]  # as many vectors as a table size of 0 says

    assert dataclasses.asdict(state) == {
        "control": {"table_size": 1, "function_mask": False, "enable": True},
        "table": {"bir": 0, "offset": 0x200},
        "pba": {"bir": 0, "offset": 0},
        "vectors": [
            {"address_lo": 0xFEE00000, "address_hi": 0, "data": 0x41, "vector_control": 0},
            {"address_lo": 0xFEE01000, "address_hi": 0, "data": 0x42, "vector_control": 1},
        ],
        "pending": [0x2],
    }
    assert dataclasses.astuple(state) == (
        (1, False, True), (0, 0x200), (0, 0),
        [(0xFEE00000, 0, 0x41, 0), (0xFEE01000, 0, 0x42, 1)], [0x2])

    changed = dataclasses.replace(state, pending=[0x3])
    assert type(changed) is msix.MsixState
    assert changed != state
    assert changed.pending == [0x3] and changed.vectors == state.vectors and changed.control == state.control
    assert dataclasses.replace(state) == state
    assert msix.load(msix.save(changed)) == changed


def test_register() -> None:
    register = msix.ControlRegister(table_size=5, enable=True)
    assert [(f.name, f.type, f.default) for f in dataclasses.fields(register)] == [
        ("table_size", "int", 0), ("function_mask", "bool", False), ("enable", "bool", False)]
    assert dataclasses.asdict(register) == {"table_size": 5, "function_mask": False, "enable": True}
    assert dataclasses.astuple(register) == (5, False, True)
    changed = dataclasses.replace(register, enable=False)
    assert type(changed) is msix.ControlRegister
    assert changed == msix.ControlRegister(table_size=5) and changed != register
    with pytest.raises(ValueError, match="does not fit 11 bits"):
        dataclasses.replace(register, table_size=1 << 11)  # the field checks still apply


def test_register_with_enum_fields() -> None:
    bar = header.MemoryBarRegister(space_indicator=header.BarSpace.MEMORY, mem_type=header.BarMemType.MEM64,
                                   base_address=0xFE000)
    names = [f.name for f in dataclasses.fields(bar)]
    assert names == ["space_indicator", "mem_type", "prefetchable", "base_address"]
    assert dataclasses.fields(bar)[0].type == "BarSpace"
    as_dict = dataclasses.asdict(bar)
    assert as_dict["mem_type"] is header.BarMemType.MEM64 and as_dict["base_address"] == 0xFE000
    assert dataclasses.replace(bar, prefetchable=True).prefetchable is True


def test_array_of_struct_element() -> None:
    entry = msix.VectorsEntry(0xFEE00000, 1, 0x41, 0)
    fields = dataclasses.fields(msix.VectorsEntry)
    assert [f.name for f in fields] == ["address_lo", "address_hi", "data", "vector_control"]
    assert [f.default for f in fields] == [0, 0, 0, 0] and not any(f.kw_only for f in fields)
    assert dataclasses.asdict(entry) == {"address_lo": 0xFEE00000, "address_hi": 1, "data": 0x41, "vector_control": 0}
    assert dataclasses.astuple(entry) == (0xFEE00000, 1, 0x41, 0)
    changed = dataclasses.replace(entry, data=0x42)
    assert type(changed) is msix.VectorsEntry
    assert changed == msix.VectorsEntry(0xFEE00000, 1, 0x42, 0) and changed != entry


def test_params() -> None:
    params = pcix.Params(type1_header=1)
    assert [f.name for f in dataclasses.fields(params)] == ["type1_header"]
    assert dataclasses.asdict(params) == {"type1_header": 1}
    assert dataclasses.replace(params, type1_header=0) == pcix.Params()
    assert dataclasses.fields(msix.Params) == ()


def test_descriptor() -> None:
    state = msix_state()
    descriptor = msix.derive_descriptor(state, cap_offset=0x70)
    # The schema's fields, then the build's version range and register count, then per register (control,
    # table, pba) its emulated bits and write mask (msix.yaml: every register emulated; only function_mask
    # and enable, bits 14 and 15, writable).
    masks = {"min_version": 1, "max_version": 1, "mask_registers": 3,
             "emulated_masks": (0xC7FF, 0xFFFFFFFF, 0xFFFFFFFF), "write_masks": (0xC000, 0, 0)}
    assert [f.name for f in dataclasses.fields(descriptor)] == ["cap_offset", "table_size", "table_place",
                                                               "pba_place", *masks]
    assert dataclasses.asdict(descriptor) == {"cap_offset": 0x70, "table_size": 1, "table_place": 0x1000,
                                              "pba_place": 0, **masks}
    packed = msix.pack_descriptor(descriptor)
    assert msix.unpack_descriptor(packed, 0, len(packed)) == descriptor
    assert dataclasses.astuple(descriptor) == (0x70, 1, 0x1000, 0, *masks.values())
    changed = dataclasses.replace(descriptor, cap_offset=0x80)
    assert type(changed) is msix.MsixDescriptor
    assert changed != descriptor and changed == msix.derive_descriptor(state, cap_offset=0x80)


def test_device_state_and_descriptor() -> None:
    state = valid_state()
    assert [f.name for f in dataclasses.fields(state)] == list(type(state).__slots__)
    as_dict = dataclasses.asdict(state)
    assert as_dict["msix"] == dataclasses.asdict(state.msix)
    assert as_dict["header"]["command"] == dataclasses.asdict(state.header.command)
    assert dataclasses.astuple(state)[0] == dataclasses.astuple(state.rebar)
    changed = dataclasses.replace(state, msix=msix_state())
    assert type(changed) is nic.ExampleNicState
    assert changed.msix == msix_state() and changed.header is state.header and changed != state

    descriptor = descriptor_of(state)
    assert dataclasses.asdict(descriptor)["msix"] == dataclasses.asdict(descriptor.msix)
    assert dataclasses.replace(descriptor) == descriptor


def test_importing_the_device_imports_neither_dataclasses_nor_inspect() -> None:
    code = ("import sys, vfiogen_state.example_nic\n"
            "print(sorted(m for m in ('dataclasses', 'inspect', 'typing', 'enum') if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_fields_type_checks_for_a_user(tmp_path: Path) -> None:
    mypy_api = pytest.importorskip("mypy.api")
    user = tmp_path / "user.py"
    user.write_text(
        "import dataclasses\n\n"
        "from vfiogen_state import example_nic, msix\n\n"
        "state = msix.MsixState()\n"
        "names: list[str] = [f.name for f in dataclasses.fields(state)]\n"
        "entries = dataclasses.fields(msix.VectorsEntry)\n"
        "register_fields = dataclasses.fields(state.control)\n"
        "again: msix.MsixState = dataclasses.replace(state, pending=[1])\n"
        "data: dict[str, object] = dataclasses.asdict(example_nic.ExampleNicState())\n")
    config = tmp_path / "mypy.ini"
    config.write_text(f"[mypy]\nmypy_path = {PYTHON_DIR}\n")
    stdout, stderr, status = mypy_api.run(["--strict", "--config-file", str(config), "--cache-dir",
                                           str(tmp_path / "cache"), str(user)])
    assert status == 0, stdout + stderr
