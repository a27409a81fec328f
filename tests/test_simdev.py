"""The simulated function (tests/simdev.py, its C twin tests/simdev/) under the generated restore.

The benefit of the declared restore order is measured, not read off the schema: the interrupt-setup calls are
counted for a restore in the order msi.yaml and msix.yaml declare, and for a build of the same library whose MSI
and MSI-X restore sequences write control as saved first (what copying config space does). The C twin, over the
same builds and inputs, must log the same writes, count the same calls and leave the same configuration space.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import GENERATED, ROOT, SCHEMAS, run_cli
from simdev import SIZE
from simdev_runs import VECTORS, build_twin, python_run, saved_blob, twin_run

sys.path.insert(0, str(ROOT / "tests" / "generated_c"))
from harness import COMPILERS  # noqa: E402
from isolated import import_build  # noqa: E402

from vfiogen_state import example_nic  # noqa: E402

UNORDERED = {
    "msi.yaml": ("restore:\n  - {write: control, with: {enable: 0}}\n  - address_lo\n  - address_hi\n  - data\n"
                 "  - ext_data\n  - mask\n  - control\n",
                 "restore:\n  - control\n  - address_lo\n  - address_hi\n  - data\n  - ext_data\n  - mask\n"),
    "msix.yaml": ("  - {write: control, with: {enable: 0, function_mask: 1}}\n  - {hook: msix_restore_vector_table}\n"
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


@pytest.mark.parametrize("build", ["declared", "unordered"])
def test_restore_applies_every_write_and_leaves_the_saved_state(build: str,
                                                                builds: dict[str, tuple[Path, ModuleType]]) -> None:
    device = builds[build][1]
    for mode in ("msix", "msi", "intx"):
        run = python_run(device, saved_blob(mode))
        sim, expected, state = run.sim, run.expected, run.state
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
            sim = python_run(device, saved_blob(mode)).sim
            out[build, mode] = (sim.msix_setups, sim.msi_setups)
    return out


def test_the_declared_order_costs_one_interrupt_setup_and_copying_costs_one_per_vector(
        builds: dict[str, tuple[Path, ModuleType]], capsys: pytest.CaptureFixture[str]) -> None:
    measured = counts(builds)
    # Declared: MSI-X off with the function masked, the table written, then control as saved: one setup when
    # MSI-X goes active. Control first: one setup on enable, then one per vector written while active.
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
    """The C twin's restore driver, compiled over each build's C."""
    directory = tmp_path_factory.mktemp(f"twin-{request.param}")
    return {build: build_twin(request.param, generated, directory / f"restore-{build}")
            for build, (generated, _) in builds.items()}


def test_the_c_twin_logs_counts_and_leaves_the_same(builds: dict[str, tuple[Path, ModuleType]],
                                                    twins: dict[str, Path]) -> None:
    for build, (_, device) in builds.items():
        for mode in ("msix", "msi", "intx"):
            blob = saved_blob(mode)
            run = python_run(device, blob)
            twin = twin_run(twins[build], blob, run)
            sim = run.sim
            assert twin.log == sim.log, (build, mode)
            assert twin.events == sim.events
            assert (twin.msix_setups, twin.msi_setups) == (sim.msix_setups, sim.msi_setups)
            assert twin.table == sim.table
            assert twin.readback == bytes(sim.read_config(i, 1) for i in range(SIZE))
