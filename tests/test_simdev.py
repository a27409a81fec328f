"""The simulated function (tests/simdev.py, its C twin tests/simdev/) under the generated restore.

The benefit of the declared restore order is measured, not read off the schema: the interrupt-setup calls are
counted for a restore in the order msi.yaml and msix.yaml declare, and for a build of the same library whose MSI
and MSI-X restore sequences write control as saved first (what copying config space does). The C twin, over the
same builds and inputs, must log the same writes, count the same calls and leave the same configuration space.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import GENERATED, ROOT, SCHEMAS, run_cli
from simdev import SIZE, SimDevice, masks

sys.path.insert(0, str(ROOT / "tests" / "generated_c"))
from harness import COMPILERS  # noqa: E402
from isolated import import_build  # noqa: E402

from vfiogen_state import example_nic  # noqa: E402

BASES = {"rebar": 0x160, "header": 0x00, "msi": 0x50, "msix": 0x70, "sriov": 0x180}
"""Where the valid blob's descriptor puts each capability (tests/vectors/devices/example_nic/valid_blob.yaml)."""
VECTORS = 64
UNORDERED = {
    "msi.yaml": ("restore:\n  - {write: control, with: {enable: 0}}\n  - address_lo\n  - address_hi\n  - data\n"
                 "  - ext_data\n  - mask\n  - control\n",
                 "restore:\n  - control\n  - address_lo\n  - address_hi\n  - data\n  - ext_data\n  - mask\n"),
    "msix.yaml": ("  - {write: control, with: {enable: 1, function_mask: 1}}\n  - {hook: msix_restore_vector_table}\n"
                  "  - control\n", "  - control\n  - {hook: msix_restore_vector_table}\n"),
}
"""The library with MSI and MSI-X restored as saved, control first: no declared order."""


@pytest.fixture(scope="module")
def unordered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unordered")
    schemas = root / "schemas"
    shutil.copytree(SCHEMAS, schemas)
    for name, (before, after) in UNORDERED.items():
        path = schemas / "sections" / name
        text = path.read_text("utf-8")
        assert text.count(before) == 1, name
        path.write_text(text.replace(before, after), "utf-8")
    result = run_cli("build", str(schemas), "-o", str(root / "out"))
    assert result.status == 0, result.stderr
    return root / "out"


@pytest.fixture(scope="module")
def builds(unordered: Path) -> dict[str, tuple[Path, ModuleType]]:
    return {"declared": (GENERATED, example_nic),
            "unordered": (unordered, import_build(unordered / "python")["example_nic"])}


def saved_blob(mode: str) -> bytes:
    """The valid blob's device, in `mode`: 'msix' (64 vectors, MSI-X enabled), 'msi' (MSI enabled, MSI-X off
    with its table programmed) or 'intx' (both off, the MSI-X table programmed)."""
    from migration_cases import base_blob
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
    return example_nic.save(state, example_nic.derive_descriptor(state, descriptor))


def python_run(device: ModuleType, blob: bytes) -> tuple[SimDevice, bytes, Any, bytes]:
    """Restore `blob` onto a powered-on copy of its own device: the device, the configuration space it must then
    read back, the saved state and the power-on configuration space it started from."""
    state, _ = device.load(blob)
    params = device.CONFIG.params
    emulated, wmask, w1c = masks({name: (getattr(state, name), getattr(params, name), base)
                                  for name, base in BASES.items()})
    raw = bytearray(SIZE)

    def write_raw(offset: int, value: int, size: int) -> None:
        raw[offset:offset + size] = value.to_bytes(size, "little")

    hooks = {"msix_restore_vector_table": lambda _s: None, "sriov_recreate_vfs": lambda _s: None}
    device.restore(state, write_raw, BASES, hooks=hooks)
    # Powered on: read-only bits as the device has them, every writable bit 0.
    config = bytearray(raw[i] & ~wmask[i] & 0xFF for i in range(SIZE))
    power_on = bytes(config)
    sim = SimDevice(config, emulated, wmask, w1c, msi_cap=BASES["msi"], msix_cap=BASES["msix"],
                    table_size=len(state.msix.vectors))
    device.restore(state, sim.write_config, BASES,
                   hooks={"msix_restore_vector_table": sim.restore_vector_table, "sriov_recreate_vfs": sim.recreate_vfs})
    # Everything saved, the rw1c bits excepted (restore writes them as 0), is read back.
    expected = bytes(raw[i] & ~w1c[i] & 0xFF for i in range(SIZE))
    return sim, expected, state, power_on


@pytest.mark.parametrize("build", ["declared", "unordered"])
def test_restore_applies_every_write_and_leaves_the_saved_state(build: str,
                                                                builds: dict[str, tuple[Path, ModuleType]]) -> None:
    device = builds[build][1]
    for mode in ("msix", "msi", "intx"):
        sim, expected, state, _ = python_run(device, saved_blob(mode))
        readback = bytes(sim.read_config(i, 1) for i in range(SIZE))
        assert readback == expected, mode
        assert sim.table == [(v.address_lo, v.address_hi, v.data, v.vector_control) for v in state.msix.vectors]
        # Emulated bits never reach the device: its BAR 0 keeps its power-on value (type bits only) while the guest
        # reads the restored address from the hypervisor's copy.
        assert sim.config[0x10:0x14] == bytes([0x0C, 0, 0, 0]) and sim.read_config(0x10, 4) == 0xF000000C


def counts(builds: dict[str, tuple[Path, ModuleType]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(build, mode) -> (MSI-X setup calls, MSI setup calls) of a restore onto the simulated function."""
    out = {}
    for build, (_, device) in builds.items():
        for mode in ("msix", "msi"):
            sim, _, _, _ = python_run(device, saved_blob(mode))
            out[build, mode] = (sim.msix_setups, sim.msi_setups)
    return out


def test_the_declared_order_costs_one_interrupt_setup_and_copying_costs_one_per_vector(
        builds: dict[str, tuple[Path, ModuleType]], capsys: pytest.CaptureFixture[str]) -> None:
    measured = counts(builds)
    # Declared: MSI-X enabled with every vector masked, the table written, then control as saved: one setup when
    # the function mask lifts. Control first: one setup on enable, then one per vector written while active.
    assert measured["declared", "msix"] == (1, 0)
    assert measured["unordered", "msix"] == (1 + VECTORS, 0)
    # MSI (64-bit, no per-vector masking): enable off while address_lo, address_hi and data are written, then one
    # setup on enable; control first costs the enable and one per message register written after it.
    assert measured["declared", "msi"] == (0, 1)
    assert measured["unordered", "msi"] == (0, 1 + 3)
    with capsys.disabled():
        print("\ninterrupt-setup calls (MSI-X, MSI) with the declared order and without:",
              {f"{b}/{m}": v for (b, m), v in measured.items()})


@pytest.fixture(scope="module", params=COMPILERS)
def twins(request: pytest.FixtureRequest, builds: dict[str, tuple[Path, ModuleType]],
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The C twin's restore driver, compiled over each build's C (ASan/UBSan)."""
    out = {}
    here = ROOT / "tests" / "simdev"
    for build, (generated, _) in builds.items():
        binary = tmp_path_factory.mktemp(f"twin-{request.param}") / f"restore-{build}"
        sources = [here / "simdev.c", here / "restore_main.c", *sorted((generated / "c").glob("vfg_*.c"))]
        subprocess.run([request.param, "-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pedantic",
                        "-fsanitize=address,undefined", "-fno-sanitize-recover=all", f"-I{here}",
                        f"-I{generated / 'c'}", *map(str, sources), "-o", str(binary)], check=True)
        out[build] = binary
    return out


def c_run(binary: Path, blob: bytes, sim: SimDevice, table_size: int, power_on: bytes) -> list[str]:
    lines = [blob.hex(), power_on.hex(), sim.emulated.hex(), sim.wmask.hex(), sim.w1c.hex(),
             f"{BASES['msi']} {BASES['msix']} {table_size}", " ".join(str(BASES[n]) for n in BASES)]
    done = subprocess.run([str(binary)], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_the_c_twin_logs_counts_and_leaves_the_same(builds: dict[str, tuple[Path, ModuleType]],
                                                    twins: dict[str, Path]) -> None:
    for build, (_, device) in builds.items():
        for mode in ("msix", "msi", "intx"):
            blob = saved_blob(mode)
            sim, _, state, power_on = python_run(device, blob)
            log, events, setups, table, readback = c_run(twins[build], blob, sim, len(state.msix.vectors), power_on)
            assert log == " ".join(f"{o:x}:{v:x}:{s}" for o, v, s in sim.log), (build, mode)
            assert events == " ".join(sim.events)
            assert setups == f"{sim.msix_setups} {sim.msi_setups}"
            assert table == " ".join(".".join(f"{w:x}" for w in entry) for entry in sim.table)
            assert readback == bytes(sim.read_config(i, 1) for i in range(SIZE)).hex()

