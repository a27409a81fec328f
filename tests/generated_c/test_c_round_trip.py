"""A round trip in C on every real device (issue 11 item 7): the C captures each pciutils function (the
vfio_pci device: every section its capability walk finds, as `test_c_vfio_pci` selects them), saves it,
loads the blob and restores it; the restore's writes go into a blank simulated config space with per-byte
write masks (the schema's rw bits; rw1c bits are only ever cleared, ro bits keep the blank's 0). The
restored bytes must equal the dump's for every register the schema saves and restore writes: its rw bits,
but those the last restore write of the register forces to a constant (Secondary Bus Reset, Retrain Link,
Initiate FLR, a PM state change written as D0 first...: the schema's `with:` overrides on the last write).

The simulated space applies the C's write log here, byte by byte; the capture, save, load and restore are
the generated C's (gcc and clang under ASan/UBSan). The Python twin is test_library_conformance.py's
`test_capture_save_load_restore_round_trip`, per section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness import COMPILERS, Answer, build, config_spec, run
from test_c_vfio_pci import INSTANCES, MODULE, ORDER

from vfiogen.configspace.dump import Function
from vfiogen.configspace.report import inspect_function
from vfiogen.passes.plan import plan_device
from vfiogen.ir.evaluate import evaluate, register_values, section_constants

pytestmark = pytest.mark.skipif(not INSTANCES, reason="pciutils dumps not found")


def register_places(function: Function, section: Any, base: int, params: dict[str, int]) -> dict[str, int]:
    """Each present register's config-space offset, by the capture plan (offsets and presence can read
    registers read before them, and params: those read from another section, as inspect read them)."""
    env = section_constants(section.section, params)
    places = {}
    for read in section.plan.capture:
        register = section.register(read.register).register
        present = read.present is None or bool(evaluate(read.present, env))
        offset = base + int(evaluate(read.offset, env))
        value = int.from_bytes(function.config[offset:offset + read.width // 8], "little") & read.keep \
            if present else 0
        env.update(register_values(register, value))
        if present:
            places[read.register] = offset
    return places


DEVICE = next(d for d in MODULE.devices if d.name == "vfio_pci")
DERIVED = {s.section: {d.param for d in s.derived} for s in plan_device(DEVICE, MODULE).sections}
"""The params vfio_pci reads from another of its sections itself (aer's, from pcie)."""


def inspected_params(function: Function) -> dict[str, dict[str, int]]:
    """Each section's params as inspect read them from the function's other sections (`from:`)."""
    report = inspect_function(function, MODULE)
    return {c.schema: c.state.params for c in report.capabilities if c.schema and c.state is not None}


def run_time_params(function: Function, bases: dict[str, int]) -> dict[str, dict[str, int]]:
    """The params a hypervisor gives vfio_pci in its config: those read from a section vfio_pci does not list
    (pcix's type1_header, from the type-1 header), as it learns them from the function."""
    return {name: kept for name, values in inspected_params(function).items() if name in bases
            for kept in [{k: v for k, v in values.items() if k not in DERIVED.get(name, set())}] if kept}


def expected_masks(function: Function, bases: dict[str, int]) -> tuple[bytearray, bytearray, int]:
    """(write mask per byte, compare mask per byte, registers compared)."""
    rw, compare = bytearray(4096), bytearray(4096)
    count = 0
    params = inspected_params(function)
    for name, base in bases.items():
        section = MODULE.section(name)
        last = {w.register: w for w in section.plan.restore if w.hook is None}
        for register, offset in register_places(function, section, base, params.get(name, {})).items():
            checked = section.register(register)
            size = checked.register.width // 8
            mask = checked.masks.rw
            for i in range(size):
                rw[offset + i] |= mask >> 8 * i & 0xFF
            write = last.get(register)
            if checked.register.restore_skip is not None or write is None or not mask:
                continue
            kept = mask & write.keep  # bits the last write takes from the saved value
            for i in range(size):
                compare[offset + i] |= kept >> 8 * i & 0xFF
            count += 1
    return rw, compare, count


def apply(log: str, rw: bytearray) -> bytearray:
    space = bytearray(4096)
    for entry in log.split(";") if log else []:
        if entry.startswith(("hook:", "wait:")):
            continue
        offset, value, size = (int(x) for x in entry.split(":"))
        for i, byte in enumerate(value.to_bytes(size, "little")):
            space[offset + i] = space[offset + i] & ~rw[offset + i] | byte & rw[offset + i]
    return space


@pytest.fixture(scope="module", params=COMPILERS)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(request.param, True, str(tmp_path_factory.mktemp("round_trip")))


def test_capture_save_load_restore_in_c_gives_back_every_saved_writable_register(driver: Path) -> None:
    captures = []
    for _, function, bases in INSTANCES:
        spec = config_spec("vfio_pci", {"present": [s for s in ORDER if s in bases],
                                        "params": run_time_params(function, bases)})
        all_bases = ",".join(str(bases.get(s, 0)) for s in ORDER)
        config = bytes(function.config) + bytes(4096 - len(function.config))
        captures.append(f"devcapture vfio_pci {spec} {all_bases} {config.hex()}")
    blobs = run(driver, captures)
    restores = []
    for (where, function, bases), blob in zip(INSTANCES, blobs, strict=True):
        assert blob.ok, f"{where}: C capture/save refused: {blob}"
        spec = config_spec("vfio_pci", {"present": [s for s in ORDER if s in bases],
                                        "params": run_time_params(function, bases)})
        restores.append(f"devrestore vfio_pci {blob.payload} {','.join(str(bases.get(s, 0)) for s in ORDER)} "
                        f"- {spec}")
    logs = run(driver, restores)
    registers = 0
    problems = []
    for (where, function, bases), log in zip(INSTANCES, logs, strict=True):
        assert isinstance(log, Answer) and log.ok, f"{where}: C load/restore refused: {log}"
        rw, compare, count = expected_masks(function, bases)
        restored = apply(log.payload, rw)
        config = bytes(function.config) + bytes(4096 - len(function.config))
        wrong = [f"0x{i:x}: restored 0x{restored[i] & m:02x}, dump 0x{config[i] & m:02x}"
                 for i, m in enumerate(compare) if m and restored[i] & m != config[i] & m]
        if wrong:
            problems.append(f"{where}: {wrong[:6]}")
        registers += count
    assert not problems, "\n".join(problems[:20])
    # Measured: 135 functions, 1705 registers with rw bits restore writes as saved (1702 until MSI's MME above
    # MMC with MSI off was valid: + the control, address and data of cap-ptm-1's bridge; 1639 before AER version 2
    # and VC under id 0x0009 were matched; 1673 before params were read from other sections: + 14 Root Error
    # Command registers of the root ports' AER, which vfio_pci now reads root_port for from pcie itself, + 15
    # for the PCI-X bridges, whose form (two split transaction control registers, not one command) the config
    # now gives from the type-1 header, as a hypervisor learns it).
    assert (len(INSTANCES), registers) == (135, 1705), registers


def test_the_comparison_sees_a_lost_write() -> None:
    """The check can fail: dropping the restore's writes to one register leaves its bytes at the blank's 0."""
    where, function, bases = next(i for i in INSTANCES if "msi" in i[2] and i[1].config[i[2]["msi"] + 4])
    rw, compare, _ = expected_masks(function, bases)
    msi = bases["msi"]
    log = ";".join(f"{o}:{v}:4" for o in range(msi + 4, msi + 8, 4)
                   for v in [int.from_bytes(function.config[o:o + 4], "little")])
    assert apply(log, rw)[msi + 4:msi + 8] == function.config[msi + 4:msi + 8] and any(compare[msi + 4:msi + 8])
    assert apply("", rw)[msi + 4:msi + 8] != function.config[msi + 4:msi + 8], where
