"""Restores of the example NIC onto the simulated function (tests/simdev.py), in Python and through the C twin
(tests/simdev/restore_main.c), for test_simdev.py and test_scenarios.py."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from conftest import ROOT
from migration_cases import base_blob
from object_cache import compiled
from simdev import SIZE, SimDevice, masks

from vfiogen_state import example_nic

BASES = {"rebar": 0x160, "header": 0x00, "msi": 0x50, "msix": 0x70, "sriov": 0x180}
"""Where the valid blob's descriptor puts each capability (tests/vectors/devices/example_nic/valid_blob.yaml)."""
VECTORS = 64
HOOKS_NONE = {"msix_restore_vector_table": lambda _s: None, "sriov_recreate_vfs": lambda _s: None}


def nic_state(mode: str) -> tuple[Any, Any]:
    """The valid blob's device (state, descriptor) with 64 MSI-X vectors programmed, in `mode`: 'msix' (MSI-X
    enabled), 'msi' (MSI enabled, MSI-X off) or 'intx' (both off)."""
    state, descriptor = example_nic.load(base_blob({"device": "example_nic", "descriptor_of": "valid_blob"}))
    msix = state.msix
    msix.control.table_size = VECTORS - 1
    msix.vectors = [type(msix.vectors[0])(address_lo=0xFEE00000 | (i << 12), address_hi=0, data=0x4000 + i,
                                          vector_control=0) for i in range(VECTORS)]
    msix.control.enable = mode == "msix"
    state.msi.control.enable = mode == "msi"
    state.msi.address_lo.address = 0xFEE01000 >> 2
    state.msi.address_hi = 0
    state.msi.data = 0x4041
    return state, descriptor


def saved_blob(mode: str, state: Any = None) -> bytes:
    """The blob example_nic saves of nic_state(mode) (or of `state`)."""
    mine, descriptor = nic_state(mode)
    state = mine if state is None else state
    return bytes(example_nic.save(state, example_nic.derive_descriptor(state, descriptor)))


@dataclass
class Run:
    sim: SimDevice
    expected: bytes
    """The configuration space it must read back: everything saved, the rw1c bits excepted (restore writes them
    as 0)."""
    state: Any
    power_on: bytes
    """The configuration space it started from: read-only bits as the device has them, every writable bit 0."""


def python_run(device: ModuleType, blob: bytes) -> Run:
    """Restore `blob` (device's load, then its restore) onto a powered-on copy of its own function."""
    state, _ = device.load(blob)
    params = device.CONFIG.params
    emulated, wmask, w1c = masks({name: (getattr(state, name), getattr(params, name), base)
                                  for name, base in BASES.items()})
    raw = bytearray(SIZE)

    def write_raw(offset: int, value: int, size: int) -> None:
        raw[offset:offset + size] = value.to_bytes(size, "little")

    device.restore(state, write_raw, BASES, hooks=HOOKS_NONE)
    config = bytearray(raw[i] & ~wmask[i] & 0xFF for i in range(SIZE))
    power_on = bytes(config)
    sim = SimDevice(config, emulated, wmask, w1c, msi_cap=BASES["msi"], msix_cap=BASES["msix"],
                    table_size=len(state.msix.vectors))
    device.restore(state, sim.write_config, BASES,
                   hooks={"msix_restore_vector_table": sim.restore_vector_table, "sriov_recreate_vfs": sim.recreate_vfs})
    return Run(sim, bytes(raw[i] & ~w1c[i] & 0xFF for i in range(SIZE)), state, power_on)


def build_twin(compiler: str, generated: Path, binary: Path) -> Path:
    """The C twin's restore driver over a build's C, at the strict flags under ASan/UBSan."""
    here = ROOT / "tests" / "simdev"
    flags = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsanitize=address,undefined",
             "-fno-sanitize-recover=all"]
    objects = compiled(compiler, flags, generated / "c")  # the build's C, compiled once per run (object_cache)
    subprocess.run([compiler, *flags, f"-I{here}", f"-I{generated / 'c'}", str(here / "simdev.c"),
                    str(here / "restore_main.c"), *map(str, objects), "-o", str(binary)], check=True)
    return binary


@dataclass
class TwinRun:
    log: list[tuple[int, int, int]]
    events: list[str]
    msix_setups: int
    msi_setups: int
    table: list[tuple[int, ...]]
    readback: bytes


def twin_run(binary: Path, blob: bytes, run: Run) -> TwinRun:
    """The C twin's restore of `blob` onto the function `run` started from (same power-on space and masks)."""
    sim = run.sim
    lines = [blob.hex(), run.power_on.hex(), sim.emulated.hex(), sim.wmask.hex(), sim.w1c.hex(),
             f"{BASES['msi']} {BASES['msix']} {sim.table_size}", " ".join(str(BASES[n]) for n in BASES)]
    done = subprocess.run([str(binary)], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    log, events, setups, table, readback = done.stdout.splitlines()
    msix, msi = (int(n) for n in setups.split())
    writes = []
    for word in log.split():  # offset:value:size, the first two in hex
        offset, value, size = word.split(":")
        writes.append((int(offset, 16), int(value, 16), int(size)))
    return TwinRun(writes, events.split(), msix, msi,
                   [tuple(int(w, 16) for w in entry.split(".")) for entry in table.split()], bytes.fromhex(readback))
