"""schemas/devices/vfio-pci.yaml: the restore order a hypervisor needs, asserted on the recorded write log of
the device restore, in Python and in C (ASan/UBSan), for every pciutils function.

Each function is captured with the generated Python (`vfio_pci.capture`, the sections its capability walk
finds), saved, loaded and restored into a log of `offset:value:bytes`, `hook:SECTION.HOOK` and `wait:US`
entries; the C driver restores the same blob and must give the same log. On that log, whenever the
sections involved are present:

* header: Command is first written with I/O, memory and bus-master off, before any BAR or the ROM; the
  BARs come before the last Command write, which is Command as saved;
* msi: Message Control with MSI enable off before the address and data, Message Control as saved last;
* msix: Message Control with MSI-X enable off (function masked) before the vector table and PBA hook,
  Message Control as saved after it;
* ltr: both latency registers before the PCIe capability's Device Control 2 (LTR Mechanism Enable);
* rebar: every BAR size control before the first BAR write.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from harness import COMPILERS, Answer, build, config_spec, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import SHARED_DATA  # noqa: E402

from vfiogen.configspace.dump import Function, read_dump  # noqa: E402
from vfiogen.configspace.report import inspect_function  # noqa: E402
from vfiogen_state import msix, vfio_pci  # noqa: E402

DATA = SHARED_DATA / "pciutils"
CASES = sorted(p.name.removesuffix(".lspci-xxxx.txt") for p in DATA.glob("*.lspci-xxxx.txt")) if DATA.is_dir() else []
ORDER = [name.removeprefix("HAS_").lower() for name in dir(vfio_pci) if name.startswith("HAS_")]
ORDER.sort(key=lambda name: getattr(vfio_pci, f"HAS_{name.upper()}"))
pytestmark = pytest.mark.skipif(not CASES, reason="pciutils dumps not found")


def _module() -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from conftest import standard_module
    return standard_module()


MODULE = _module()


def instances() -> list[tuple[str, Function, dict[str, int]]]:
    """(where, function, {section: base}) for each function with at least one vfio_pci section (first
    instance of each; the walk is the one `vfiogen inspect` does)."""
    out = []
    for name in CASES:
        for function in read_dump(DATA / f"{name}.lspci-xxxx.txt"):
            report = inspect_function(function, MODULE)
            bases: dict[str, int] = {}
            if report.header_schema == "header":
                bases["header"] = 0
            for cap in report.capabilities:
                if cap.schema in ORDER and cap.schema not in bases and cap.state is not None \
                        and not cap.state.problems:
                    bases[cap.schema] = cap.capability.offset
            bases = valid_sections(function, bases)
            if bases:
                out.append((f"{name} {function.address}", function, bases))
    return out


def valid_sections(function: Function, bases: dict[str, int]) -> dict[str, int]:
    """The sections whose captured state is valid (a load refuses the others: real devices break
    constraints, such as an MSI Multiple Message Enable above its Capable)."""
    data = function.config
    out = {}
    for s, base in bases.items():
        module = getattr(vfio_pci, f"_{s}")
        state = module.capture(lambda o, n: int.from_bytes(data[o:o + n], "little"), base)
        if s == "msix":
            state.vectors = [msix.VectorsEntry() for _ in range(state.control.table_size + 1)]
            state.pending = [0] * ((state.control.table_size + 64) // 64)
        if not module.validate(state):
            out[s] = base
    return out


def blob_and_log(function: Function, bases: dict[str, int]) -> tuple[bytes, dict[str, Any], list[str]]:
    present = [s for s in ORDER if s in bases]
    config = vfio_pci.VfioPciConfig(present=sum(getattr(vfio_pci, f"HAS_{s.upper()}") for s in present))
    data = function.config
    state = vfio_pci.capture(lambda o, n: int.from_bytes(data[o:o + n], "little"), bases, config)
    if state.msix is not None and "msix" in bases:
        vectors = state.msix.control.table_size + 1
        state.msix.vectors = [msix.VectorsEntry() for _ in range(vectors)]
        state.msix.pending = [0] * ((vectors + 63) // 64)
    host = vfio_pci.VfioPciDescriptor()
    for s in present:
        if hasattr(getattr(host, s), "cap_offset"):
            getattr(host, s).cap_offset = bases[s]
    blob = vfio_pci.save(state, vfio_pci.derive_descriptor(state, host, config), config=config)
    loaded, _ = vfio_pci.load(blob, config=config)
    log: list[str] = []
    owner = {h: s for s in ORDER for h in getattr(vfio_pci, f"_{s}").RESTORE_HOOKS}
    hooks = {h: (lambda _s, h=h: log.append(f"hook:{owner[h]}.{h}")) for h in owner}
    all_bases = {s: bases.get(s, 0) for s in ORDER}
    vfio_pci.restore(loaded, lambda o, v, w: log.append(f"{o}:{v}:{w}"), all_bases, hooks, config,
                     wait=lambda us: log.append(f"wait:{us}"))
    return blob, {"present": present, "params": {}}, log


def writes(log: list[str]) -> list[tuple[int, int, int, int]]:
    """(position, offset, value, size) of each config write in the log."""
    out = []
    for position, entry in enumerate(log):
        if not entry.startswith(("hook:", "wait:")):
            offset, value, size = (int(x) for x in entry.split(":"))
            out.append((position, offset, value, size))
    return out


def saved(function: Function, offset: int, size: int) -> int:
    return int.from_bytes(function.config[offset:offset + size], "little")


def check_order(where: str, function: Function, bases: dict[str, int], log: list[str]) -> set[str]:
    """Assert the declared order on `log`; returns the rules that applied."""
    done: set[str] = set()
    w = writes(log)
    bar_writes = [p for p, o, _, _ in w if 0x10 <= o < 0x28 or o == 0x30]
    if "header" in bases:
        commands = [(p, v) for p, o, v, _ in w if o == 0x04]
        assert commands[0][1] & 0x7 == 0, f"{where}: Command first written with decode or bus master on"
        assert all(commands[0][0] < p < commands[-1][0] for p in bar_writes), f"{where}: a BAR outside Command"
        assert commands[-1][1] == saved(function, 0x04, 2) & 0x7FF, f"{where}: Command last is not as saved"
        header = [p for p, o, _, _ in w if o < 0x40]
        assert header[-1] == commands[-1][0], f"{where}: a header write after the last Command"
        done.add("header")
    if "msi" in bases:
        m = bases["msi"]
        controls = [(p, v) for p, o, v, _ in w if o == m + 2]
        control = saved(function, m + 2, 2)
        # The capability's span (PCI 3.0 §6.8.1): 0x0c, 0x10 with a 64-bit address, 8 more with masking.
        span = (0x10 if control & 0x80 else 0x0c) + (8 if control & 0x100 else 0)
        body = [p for p, o, _, _ in w if m + 4 <= o < m + span]
        assert body, f"{where}: no MSI address or data written"
        assert controls[0][1] & 1 == 0, f"{where}: MSI control first written with enable on"
        assert all(controls[0][0] < p < controls[-1][0] for p in body), f"{where}: MSI address/data outside"
        assert controls[-1][1] & 1 == saved(function, m + 2, 2) & 1, f"{where}: MSI enable not as saved last"
        done.add("msi")
    if "msix" in bases:
        x = bases["msix"]
        controls = [(p, v) for p, o, v, _ in w if o == x + 2]
        table = log.index("hook:msix.msix_restore_vector_table")
        assert controls[0][1] & 0x8000 == 0 and controls[0][1] & 0x4000, f"{where}: MSI-X first write"
        assert controls[0][0] < table < controls[-1][0], f"{where}: vector table not between the writes"
        assert controls[-1][1] == saved(function, x + 2, 2) & 0xC7FF, f"{where}: MSI-X control not as saved"
        done.add("msix")
    if "ltr" in bases and "pcie" in bases:
        ltr = [p for p, o, _, _ in w if o in (bases["ltr"] + 4, bases["ltr"] + 6)]
        devctl2 = [p for p, o, _, _ in w if o == bases["pcie"] + 0x28]
        assert ltr and devctl2 and max(ltr) < min(devctl2), f"{where}: LTR after Device Control 2"
        done.add("ltr")
    if "rebar" in bases and "header" in bases:
        sizes = [p for p, o, _, _ in w if bases["rebar"] + 8 <= o < bases["rebar"] + 0x38 and (o - bases["rebar"]) % 8 == 0]
        assert sizes and max(sizes) < min(bar_writes), f"{where}: a BAR before a ReBAR size"
        done.add("rebar")
    return done


INSTANCES = instances()


def test_python_restore_follows_the_declared_order() -> None:
    applied: dict[str, int] = {}
    for where, function, bases in INSTANCES:
        _, _, log = blob_and_log(function, bases)
        for rule in check_order(where, function, bases, log):
            applied[rule] = applied.get(rule, 0) + 1
    # Measured over the 135 functions with a vfio_pci section whose captured state is valid: 91 type-0
    # headers, 44 MSI (43 until MME above MMC with MSI off was valid: cap-ptm-1's bridge, Count=16/2),
    # 15 MSI-X, 5 with LTR and PCIe, 2 with ReBAR.
    assert applied == {"header": 91, "msi": 44, "msix": 15, "ltr": 5, "rebar": 2}, applied


@pytest.fixture(scope="module", params=COMPILERS)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(request.param, True, str(tmp_path_factory.mktemp("vfio_pci")))


def test_c_restore_gives_the_same_log(driver: Path) -> None:
    commands, logs = [], []
    for _, function, bases in INSTANCES:
        blob, spec, log = blob_and_log(function, bases)
        all_bases = ",".join(str(bases.get(s, 0)) for s in ORDER)
        commands.append(f"devrestore vfio_pci {blob.hex()} {all_bases} - {config_spec('vfio_pci', spec)}")
        logs.append(log)
    answers = run(driver, commands)
    for (where, function, bases), answer, log in zip(INSTANCES, answers, logs, strict=True):
        assert answer == Answer(True, ";".join(log) or ""), f"{where}: {answer}"
        check_order(where, function, bases, answer.payload.split(";"))
