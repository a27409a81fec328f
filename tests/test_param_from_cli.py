"""`vfiogen capture` and `vfiogen decode` with params read from another section (`from:`), on the pciutils dumps.

Independent references: lspci's own reading of each function (its Express line names the port type, so it
says which functions' AER has the Root Error registers), and the generated vfio_pci device, which computes
AER's root_port from the PCI Express state itself while the tools read it from the dump's capture.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import GENERATED, SCHEMAS, SHARED_DATA, run_cli, standard_module

from vfiogen.configspace.dump import Function, read_dump
from vfiogen.migration.blob import encode
from vfiogen.migration.descriptor import derive
from vfiogen.migration.sections import find_sections
from vfiogen.passes.plan import plan_device
from vfiogen.wire.decode import decode_blob

sys.path.insert(0, str(GENERATED / "python"))
from vfiogen_state import aer, msix, vfio_pci  # noqa: E402

DATA = SHARED_DATA / "pciutils"
CASES = sorted(p.name.removesuffix(".lspci-xxxx.txt") for p in DATA.glob("*.lspci-xxxx.txt")) if DATA.is_dir() else []
MODULE = standard_module()
DEVICE = next(d for d in MODULE.devices if d.name == "vfio_pci")
DERIVED = {s.section: {d.param for d in s.derived} for s in plan_device(DEVICE, MODULE).sections}
pytestmark = pytest.mark.skipif(not CASES, reason="pciutils dumps not found")


def _root_ports() -> dict[tuple[str, str], bool]:
    """Per (case, address) of a function with AER: whether lspci's Express line says Root Port or Root Complex
    Event Collector."""
    out = {}
    for name in CASES:
        text = (DATA / f"{name}.lspci-vvv.txt").read_text()
        for block in re.split(r"\n(?=[0-9a-f]{2,4}:[0-9a-f]{2}[:.])", text):
            if "Advanced Error Reporting" not in block:
                continue
            express = re.search(r"Express \(v\d\) ([^,\n]*)", block)
            kind = express[1] if express else ""
            out[(name, block.split()[0])] = "Root Port" in kind or "Root Complex Event Collector" in kind
    return out


def _aer_paths(blob: bytes) -> set[str]:
    (frame,) = [s for s in decode_blob(blob, MODULE, None).sections if s.name == "aer"]
    return {e.path for e in frame.entries}


ROOT_REGISTERS = {"root_error_command", "root_error_status", "error_source_identification"}


def test_captured_blobs_carry_the_root_registers_of_root_ports_only() -> None:
    """What `vfiogen capture` writes for every function lspci shows with AER, decoded as `vfiogen decode` does:
    the Root Error registers are in the blob exactly where lspci says Root Port or Root Complex Event Collector
    (no param given anywhere)."""
    roots = _root_ports()
    seen = {True: 0, False: 0}
    for (name, address), root in sorted(roots.items()):
        (function,) = [f for f in read_dump(DATA / f"{name}.lspci-xxxx.txt") if f.address.endswith(address)]
        found = find_sections(function, MODULE)
        assert (ROOT_REGISTERS <= _aer_paths(encode(found.sections, derive(found)))) == root, (name, address)
        seen[root] += 1
    assert seen == {True: 14, False: 20}, seen  # counted from the lspci -vvv files


@pytest.mark.parametrize("name, address, root", [("cap-aer-log", "00:1c.0", True),
                                                 ("cap-pcie-2", "01:00.0", False)])
def test_the_cli_captures_and_decodes_them(tmp_path: Path, name: str, address: str, root: bool) -> None:
    blob = tmp_path / "state.bin"
    captured = run_cli("capture", str(SCHEMAS), str(DATA / f"{name}.lspci-xxxx.txt"), "--function", address,
                       "-o", str(blob))
    assert captured.status == 0, captured.stderr
    decoded = run_cli("decode", str(SCHEMAS), str(blob), "--format", "json")
    assert decoded.status == 0, decoded.stderr
    (frame,) = [s for s in json.loads(decoded.stdout)["sections"] if s["name"] == "aer"]
    assert (ROOT_REGISTERS <= {e["path"] for e in frame["fields"]}) == root
    # inspect says which params it read from the function's other sections
    inspected = run_cli("inspect", "--format", "json", str(DATA / f"{name}.lspci-xxxx.txt"))
    assert inspected.status == 0, inspected.stderr
    (device,) = [d for d in json.loads(inspected.stdout)["devices"] if d["address"].endswith(address)]
    (cap,) = [c for c in device["capabilities"] if c["schema"] == "aer"]
    assert cap["params"] == {"root_port": int(root), "tlp_prefix_log": 0}


def _function_params(found: Any) -> dict[str, dict[str, int]]:
    return {s.checked.name: dict(s.params) for s in found.sections if s.instance is None}


def test_capture_with_vfio_pci_equals_the_generated_device() -> None:
    """`capture --device vfio_pci`'s blob (the tools read aer's params from the dump's PCI Express capture) is
    the generated vfio_pci's byte for byte, whose device code reads them from the PCI Express state itself.
    The config gives only the params vfio_pci does not read (pcix's form: vfio_pci lists no type-1 header)."""
    compared = roots = 0
    for name in CASES:
        for function in read_dump(DATA / f"{name}.lspci-xxxx.txt"):
            found = find_sections(function, MODULE, DEVICE)
            if not found.sections or any(s.captured.problems for s in found.sections):
                continue
            ours = encode(found.sections, derive(found))
            config = vfio_pci.VfioPciConfig()
            for s in found.sections:
                config.present |= getattr(vfio_pci, f"HAS_{s.checked.name.upper()}")
                given = {k: v for k, v in s.params.items() if k not in DERIVED.get(s.checked.name, set())}
                if given:
                    module = getattr(vfio_pci, f"_{s.checked.name}")
                    setattr(config.params, s.checked.name, module.Params(**given))
            bases = {s.checked.name: s.base for s in found.sections}
            state = vfio_pci.capture(_reader(function), bases, config)
            if config.present & vfio_pci.HAS_MSIX:
                vectors = state.msix.control.table_size + 1  # zeroed, as `vfiogen capture` writes them
                state.msix.vectors = [msix.VectorsEntry() for _ in range(vectors)]
                state.msix.pending = [0] * ((vectors + 63) // 64)
            host = vfio_pci.VfioPciDescriptor()
            for s in found.sections:
                if hasattr(getattr(host, s.checked.name), "cap_offset"):
                    getattr(host, s.checked.name).cap_offset = s.base
            theirs = vfio_pci.save(state, vfio_pci.derive_descriptor(state, host, config), config=config)
            assert ours == theirs, f"{name} {function.address}"
            compared += 1
            roots += bool(config.present & vfio_pci.HAS_AER) and isinstance(state.aer, aer.AerState) and \
                _function_params(found).get("aer", {}).get("root_port", 0) == 1
    assert compared > 100 and roots == 14, (compared, roots)


def _reader(function: Function) -> Any:
    def read_config(offset: int, size: int) -> int:
        return int.from_bytes(function.config[offset:offset + size], "little")
    return read_config
