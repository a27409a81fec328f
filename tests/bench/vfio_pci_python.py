"""The Python half of bench_vfio_pci.py: whole vfio_pci blobs of a real function, and the states both halves use.

Not a test. `bench_vfio_pci.py` imports it; tests/test_bench_vfio_pci.py checks its setup.

The state: one function of the pciutils dumps (by default pri-pasid's 0000:6a:01.0, an Intel 8086:0b25 Root
Complex Integrated Endpoint with PM, PCIe, LTR, AER, ATS, PASID, PRI, VC and MSI-X), captured with the
generated Python (`vfio_pci.capture` at the capability offsets `vfiogen capture` finds, the descriptor
derived with those offsets as the host's fields); its blob must be the one `vfiogen capture` writes, byte
for byte, or nothing is timed. Then, per vector count (1, 64, 2048), a copy with its MSI-X table resized by
the generated helper (`msix.resize_control_table_size`), the vectors filled as bench_device's are, the
hypervisor's vfio_irq section added (MSI-X, every vector routed: capture cannot see it, it is emulation
state), and the descriptor derived again. The vector counts are synthetic on a real function's other
sections.

Timed, interleaved round by round (bench_common.interleave):
- generated: vfio_pci.save() and load() of the whole blob (header, descriptor frame, a frame and a CRC-32C
  per present section);
- sections: each present section's own save (or load) alone, no frames, descriptor or CRC;
- msix: the MSI-X section's alone (at 2048 vectors most of the sections' time);
- descriptor: the descriptor frame's records alone, packed on save (each present section's pack_descriptor)
  and unpacked on load (the device's own reader, `vfio_pci._load_descriptor`), mask lists included;
- absent: building the default state and descriptor of every section the function lacks, as a load does
  (VfioPciState and VfioPciDescriptor default every section they are not given);
- crc32c: the runtime's CRC-32C of every frame, as a load computes them;
- example_nic: the example device's whole blob at the same vector count (device_python.make_state), for
  the fixed cost of this device's sections against the example's five.
"""

from __future__ import annotations

import ctypes
import json
import statistics
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generated" / "python"))
sys.path.insert(0, str(ROOT / "tests" / "generated_c"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import device_python  # noqa: E402
from bench_common import interleave, ratio  # noqa: E402
from cstate import c_bytes, state_members  # noqa: E402

from vfiogen_state import _runtime as rt  # noqa: E402
from vfiogen_state import example_nic, msix, vfio_irq, vfio_pci  # noqa: E402

VECTORS = (1, 64, 2048)
# The tests find the shared data at ../shared/data from the repository root; so does this.
DATA = ROOT.parent / "shared" / "data" / "pciutils"
DUMP, FUNCTION = "pri-pasid", "0000:6a:01.0"
FRAME_HEAD = struct.Struct(">HHII")
LOCK = ROOT / "generated" / "schema.lock.json"


class SetupError(Exception):
    """The benchmark cannot start: no dumps, no such function, or a capture that differs from the CLI's."""


@dataclass
class Captured:
    """A function as capture gives it: its state, config and descriptor, and the blob `vfiogen capture`
    writes for it."""

    where: str
    sections: list[str]
    state: Any
    config: Any
    host: Any
    blob: bytes


@dataclass
class Case:
    """The state at one vector count, its descriptor and its blob (saved by the generated Python)."""

    vectors: int
    state: Any
    config: Any
    descriptor: Any
    blob: bytes
    sections: list[str]


def _module() -> Any:
    """The shipped schemas' checked IR, compiled in-process (what `vfiogen capture` walks the dump with)."""
    from vfiogen import driver
    from vfiogen.context import Context
    from vfiogen.diagnostics import Reporter

    ctx = Context(reporter=Reporter())
    result = driver.compile_schemas(driver.discover([str(ROOT / "schemas")], ctx.reporter), ctx)
    if result.module is None:
        raise SetupError(f"schemas/ does not compile: {ctx.reporter.sorted()}")
    return result.module


def capture(dump: str = DUMP, address: str = FUNCTION, data: Path = DATA) -> Captured:
    """The function `address` of `data/<dump>.lspci-xxxx.txt`, captured through the generated Python."""
    from vfiogen.configspace.dump import read_dump
    from vfiogen.migration.blob import encode
    from vfiogen.migration.descriptor import derive
    from vfiogen.migration.sections import find_sections

    path = data / f"{dump}.lspci-xxxx.txt"
    if not path.is_file():
        raise SetupError(f"{path}: not found; the pciutils dumps are expected in {data} (see "
                         f"{data.parent / 'README.md'}): without a real function there is nothing to time")
    functions = {f.address: f for f in read_dump(path)}
    if address not in functions:
        raise SetupError(f"{path}: no function {address} (functions: {', '.join(functions)})")
    function = functions[address]
    module = _module()
    device = next(d for d in module.devices if d.name == vfio_pci.DEVICE)
    found = find_sections(function, module, device)
    if not found.sections or any(s.captured.problems for s in found.sections):
        raise SetupError(f"{path} {address}: nothing vfio_pci can capture, or a capture problem")
    bases = {s.name: s.base for s in found.sections}
    if "msix" not in bases:
        raise SetupError(f"{path} {address}: no MSI-X capability, so no vector count to vary (sections: "
                         f"{', '.join(bases)})")
    config = vfio_pci.VfioPciConfig(present=sum(getattr(vfio_pci, f"HAS_{n.upper()}") for n in bases))
    space = function.config
    state = vfio_pci.capture(lambda o, n: int.from_bytes(space[o:o + n], "little"), bases, config)
    host = vfio_pci.VfioPciDescriptor()
    for name, base in bases.items():
        if hasattr(getattr(host, name), "cap_offset"):  # the host supplies the capability offsets
            getattr(host, name).cap_offset = base
    blob = vfio_pci.save(state, vfio_pci.derive_descriptor(state, host, config), config=config)
    cli = encode(found.sections, derive(found))
    if blob != cli:
        raise SetupError(f"{path} {address}: the generated capture's blob differs from `vfiogen capture`'s")
    return Captured(f"{dump} {address}", list(bases), state, config, host, blob)


def make_case(captured: Captured, vectors: int) -> Case:
    """The captured function with `vectors` MSI-X vectors and the vfio_irq section routing them all."""
    state, _ = vfio_pci.load(captured.blob, config=captured.config)  # a copy of the captured state
    msix.resize_control_table_size(state.msix, vectors - 1)
    state.msix.vectors = [msix.VectorsEntry(0xFEE00000 | (i << 12), 0, 0x4000 + i, i & 1) for i in range(vectors)]
    state.vfio_irq = vfio_irq.VfioIrqState(mode=vfio_irq.IrqMode.MSIX, vectors=vectors)
    config = vfio_pci.VfioPciConfig(present=captured.config.present | vfio_pci.HAS_VFIO_IRQ)
    descriptor = vfio_pci.derive_descriptor(state, captured.host, config)
    problems = vfio_pci.validate(state, config)
    if problems:
        raise SetupError(f"{captured.where} at {vectors} vectors: {problems}")
    blob = vfio_pci.save(state, descriptor, config=config)
    sections = [name for name in vfio_pci.VfioPciState.__slots__
                if config.present & getattr(vfio_pci, f"HAS_{name.upper()}")]
    return Case(vectors, state, config, descriptor, blob, sections)


def section_codecs(case: Case) -> list[tuple[Any, Any, Any]]:
    """(module, state, params) of each present section, as the device save passes them."""
    params = case.config.params
    out = []
    for name in case.sections:
        p = vfio_pci._params_aer(case.config, case.state.pcie) if name == "aer" else getattr(params, name)
        out.append((getattr(vfio_pci, f"_{name}"), getattr(case.state, name), p))
    return out


def frames(blob: bytes) -> list[tuple[int, int]]:
    """(start, end) of each frame's CRC-covered bytes (head and payload), the descriptor frame first."""
    out, offset = [], 8
    while offset < len(blob):
        end = offset + 12 + FRAME_HEAD.unpack_from(blob, offset)[3]
        out.append((offset, end))
        offset = end + 4
    return out


# --- the C state, for c_vfio_pci.c ------------------------------------------------------------------------

def c_state(lock: dict[str, Any], device: str, state: Any, present: list[str]) -> bytes:
    """The bytes of `struct vfg_<device>_state` holding the Python `state` (cstate.c_bytes per section, at
    the section structs' offsets in the device struct as ctypes lays it out; sections not in `present`
    zero, as a C load into a zeroed state leaves them)."""
    names = [use["section"] for use in lock["devices"][device]["sections"]]
    layouts = [(name, type(name, (ctypes.Structure,), {"_fields_": state_members(lock["sections"][name])}))
               for name in names]
    layout = type(device, (ctypes.Structure,), {"_fields_": layouts})
    target = layout()
    for name in present:
        data = c_bytes(lock["sections"][name], getattr(state, name))
        ctypes.memmove(ctypes.addressof(target) + getattr(layout, name).offset, data, len(data))
    return bytes(target)


def c_input(captured: Captured) -> tuple[bytes, str]:
    """What c_vfio_pci.c reads on its standard input (each case: device 0 vfio_pci or 1 example_nic,
    vectors, config.present, the Python blob, the C state's bytes, as big-endian u32 lengths and values),
    and the X-macro list of vfio_pci's sections it is compiled with."""
    lock = json.loads(LOCK.read_text("utf-8"))
    out = bytearray()
    for vectors in VECTORS:
        case = make_case(captured, vectors)
        example = device_python.make_state(vectors)
        example_blob = example_nic.save(example, device_python.descriptor_of(example))
        vfio = c_state(lock, "vfio_pci", case.state, case.sections)
        plain = c_state(lock, "example_nic", example, list(example.__slots__))
        for device, present, blob, state in ((0, case.config.present, case.blob, vfio), (1, 0, example_blob, plain)):
            out += struct.pack(">IIII", device, vectors, present, len(blob)) + blob
            out += struct.pack(">I", len(state)) + state
    names = [use["section"] for use in lock["devices"]["vfio_pci"]["sections"]]
    header = "#define VFIO_PCI_SECTIONS(X) " + " ".join(f"X({n}, {n.upper()})" for n in names) + "\n"
    return bytes(out), header


# --- timing ---------------------------------------------------------------------------------------------------

def measure(captured: Captured, rounds: int) -> dict[tuple[int, str, str], list[float]]:
    """Seconds per call, one sample per round and candidate, candidates interleaved within each round."""
    samples: dict[tuple[int, str, str], list[float]] = {}
    for vectors in VECTORS:
        _measure_one(captured, vectors, rounds, samples)
    return samples


def _measure_one(captured: Captured, vectors: int, rounds: int,
                 samples: dict[tuple[int, str, str], list[float]]) -> None:
    case = make_case(captured, vectors)
    s, d, c, blob = case.state, case.descriptor, case.config, case.blob
    loaded, source = vfio_pci.load(blob, config=c)
    assert loaded == s and source == d, "the generated load does not give the saved state back"
    codecs = section_codecs(case)
    payloads = [m.save(st, m.VERSION, p) for m, st, p in codecs]
    assert [m.load(b, m.VERSION, p) for (m, _, p), b in zip(codecs, payloads, strict=True)] == [
        st for _, st, _ in codecs]
    x = case.sections.index("msix")
    xm, xs, xp = codecs[x]
    view, spans = memoryview(blob), frames(blob)
    records = [(getattr(vfio_pci, f"_{name}"), getattr(d, name)) for name in case.sections]
    head = spans[0][0] + 12, spans[0][1]  # the descriptor frame's payload
    assert b"".join(rt.RECORD.pack(m.SECTION_ID, len(r)) + r for (m, _), r in zip(
        records, [m.pack_descriptor(r) for m, r in records], strict=True)) == blob[head[0]:head[1]]
    assert vfio_pci._load_descriptor(blob, *head) == d
    s0, d0 = vfio_pci.VfioPciState(), vfio_pci.VfioPciDescriptor()
    absent = [type(getattr(r, n)) for r in (s0, d0) for n in vfio_pci.VfioPciState.__slots__ if n not in case.sections]
    e = device_python.make_state(vectors)
    ed = device_python.descriptor_of(e)
    eblob = example_nic.save(e, ed)
    candidates: dict[tuple[str, str], Callable[[], object]] = {
        ("save", "generated"): lambda: vfio_pci.save(s, d, config=c),
        ("save", "sections"): lambda: [m.save(st, m.VERSION, p) for m, st, p in codecs],
        ("save", "msix"): lambda: xm.save(xs, xm.VERSION, xp),
        ("save", "descriptor"): lambda: [m.pack_descriptor(r) for m, r in records],
        ("save", "example"): lambda: example_nic.save(e, ed),
        ("load", "generated"): lambda: vfio_pci.load(blob, config=c),
        ("load", "sections"): lambda: [m.load(b, m.VERSION, p)
                                       for (m, _, p), b in zip(codecs, payloads, strict=True)],
        ("load", "msix"): lambda: xm.load(payloads[x], xm.VERSION, xp),
        ("load", "descriptor"): lambda: vfio_pci._load_descriptor(blob, *head),
        ("load", "example"): lambda: example_nic.load(eblob),
        ("load", "absent"): lambda: [cls() for cls in absent],
        ("crc", "crc32c"): lambda: [rt.crc32c(view[a:b]) for a, b in spans],
    }
    timed: dict[tuple[str, str], list[float]] = {}
    interleave(candidates, rounds, {1: 200, 64: 100, 2048: 4}[vectors], timed)
    for (op, name), values in timed.items():
        samples[(vectors, op, name)] = values
    samples[(vectors, "bytes", f"{len(blob)} {len(eblob)} {len(case.sections)}")] = [0.0]


def report(captured: Captured, samples: dict[tuple[int, str, str], list[float]], rounds: int) -> None:
    med = {k: statistics.median(v) * 1e6 for k, v in samples.items()}
    print(f"### Python {sys.version.split()[0]}, vfio_pci of {captured.where}: {rounds} interleaved rounds, "
          "µs per call (median), ratios per round: median [p25-p75]\n")
    print("| vectors | sections | blob bytes | op | generated | sections alone | MSI-X alone | descriptor alone "
          "| CRC of the frames | sections / generated | descriptor / generated | CRC / generated "
          "| example_nic (bytes) | generated / example_nic |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for vectors in VECTORS:
        size, esize, count = next(k[2] for k in samples if k[0] == vectors and k[1] == "bytes").split()
        crc = samples[(vectors, "crc", "crc32c")]
        for op in ("save", "load"):
            g = samples[(vectors, op, "generated")]
            k = (vectors, op)
            print(f"| {vectors} | {count} | {size} | {op} | {med[k + ('generated',)]:.1f} "
                  f"| {med[k + ('sections',)]:.1f} | {med[k + ('msix',)]:.1f} | {med[k + ('descriptor',)]:.1f} "
                  f"| {med[(vectors, 'crc', 'crc32c')]:.1f} | {ratio(samples[k + ('sections',)], g)} "
                  f"| {ratio(samples[k + ('descriptor',)], g)} | {ratio(crc, g)} "
                  f"| {med[k + ('example',)]:.1f} ({esize}) | {ratio(g, samples[k + ('example',)])} |")
    absent = [statistics.median(samples[(vectors, "load", "absent")]) * 1e6 for vectors in VECTORS]
    lacking = len(vfio_pci.VfioPciState.__slots__) - int(count)
    print(f"Building the default states and descriptors of the {lacking} sections the function lacks, as every "
          f"load does: {min(absent):.1f}-{max(absent):.1f} µs.\n")


def main(rounds: int = 11, portable_crc: bool = False, captured: Captured | None = None) -> None:
    if portable_crc:  # the pure-Python CRC-32C even where the crc32c package is installed
        rt._native[:] = [None]
    captured = captured or capture()
    print(f"CRC-32C: {'the crc32c package (C)' if rt.crc32c(b'') == 0 and rt._native[0] else 'pure Python'}\n")
    report(captured, measure(captured, rounds), rounds)


if __name__ == "__main__":
    try:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 11)
    except SetupError as exc:
        sys.exit(f"vfio_pci_python: {exc}")
