"""The Python half of bench_device.py: whole example_nic blobs, generated against a hand-written codec.

Not a test. `bench_device.py` imports it; `python tests/bench/device_python.py` runs it alone.

- generated: vfiogen_state.example_nic save() and load(), framing, descriptor and CRC included;
- sections: the five generated section codecs alone (payloads, no frames, no descriptor, no CRC), so the
  framing's share is visible;
- hand: a struct codec written for this benchmark with plain `__slots__` objects of its own (not the
  generated classes): the same blob byte for byte, with its own checks on load (magic, format, frame ids,
  versions, flags, lengths, each frame's CRC-32C, every register's reserved bits, ReBAR's bar count, the
  MSI-X table size against the payload length, the SR-IOV VF count and its bool, the descriptor compared
  with its own) and, like any codec of this blob, the CRC-32C; it handles this device's shape only (no
  64-bit MSI address, no per-vector masking, no VFs), and checks no constraint or compat rule beyond those;
- crc32c: the runtime's CRC-32C of every frame of the blob, as a load computes them (the integrity check's
  share of a load or a save).
"""

from __future__ import annotations

import statistics
import struct
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generated" / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import interleave, ratio  # noqa: E402

from vfiogen_state import _runtime as rt  # noqa: E402
from vfiogen_state import example_nic, header, msi, msix, rebar, sriov  # noqa: E402

VECTORS = (1, 64, 2048)


def _set(obj: object, name: str, value: int) -> None:
    """A register (its raw value) or a plain integer field."""
    current = getattr(obj, name)
    setattr(obj, name, value if isinstance(current, int) else type(current).from_value(value))


def make_state(vectors: int) -> example_nic.ExampleNicState:
    """The state c_device.c builds too: one resizable BAR, 64-bit BARs 0 and 2, `vectors` MSI-X vectors."""
    s = example_nic.ExampleNicState()
    _set(s.rebar, "cap0", 1 << 4)
    _set(s.rebar, "ctrl0", 1 << 5)
    _set(s.header, "vendor_id", 0x8086)
    _set(s.header, "device_id", 0x1572)
    _set(s.header, "command", 0x6)
    _set(s.header, "bar0", 0xFE000004)
    _set(s.header, "bar2", 0xFD000004)
    _set(s.sriov, "vf_bar0", 0x4)
    _set(s.sriov, "supported_page_sizes", 0x553)
    _set(s.sriov, "system_page_size", 0x1)
    _set(s.msix, "control", 0x8000 | (vectors - 1))
    s.msix.vectors = [msix.VectorsEntry(0xFEE00000 | (i << 12), 0, 0x4000 + i, i & 1) for i in range(vectors)]
    s.msix.pending = [0] * ((vectors + 63) // 64)
    return s


def descriptor_of(s: example_nic.ExampleNicState) -> example_nic.ExampleNicDescriptor:
    return example_nic.derive_descriptor(s, example_nic.ExampleNicDescriptor())


# --- the section codecs alone ----------------------------------------------------------------------------

P = example_nic.CONFIG.params


def sections_save(s: example_nic.ExampleNicState) -> list[bytes]:
    return [rebar.save(s.rebar, rebar.VERSION, P.rebar), header.save(s.header, header.VERSION, P.header),
            msi.save(s.msi, msi.VERSION, P.msi), msix.save(s.msix, msix.VERSION, P.msix),
            sriov.save(s.sriov, sriov.VERSION, P.sriov)]


def sections_load(payloads: list[bytes]) -> tuple[object, ...]:
    return (rebar.load(payloads[0], rebar.VERSION, P.rebar), header.load(payloads[1], header.VERSION, P.header),
            msi.load(payloads[2], msi.VERSION, P.msi), msix.load(payloads[3], msix.VERSION, P.msix),
            sriov.load(payloads[4], sriov.VERSION, P.sriov))


# --- hand-written -------------------------------------------------------------------------------------------

class HandError(Exception):
    pass


class Plain:
    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(getattr(self, f) == getattr(other, f) for f in self.__slots__)


class HRebar(Plain):
    __slots__ = ("cap0", "ctrl0")

    def __init__(self, cap0: int, ctrl0: int) -> None:
        self.cap0, self.ctrl0 = cap0, ctrl0


HEADER_FIELDS = ("vendor_id", "device_id", "command", "status", "revision_id", "class_prog_if", "class_subclass",
                 "class_base", "cache_line_size", "latency_timer", "header_type", "bist", "bar0", "bar1_upper",
                 "bar2", "bar3_upper", "bar4", "bar5", "cardbus_cis", "subsystem_vendor_id", "subsystem_id",
                 "rom_base", "cap_ptr", "interrupt_line", "interrupt_pin", "min_gnt", "max_lat")


class HHeader(Plain):
    __slots__ = HEADER_FIELDS

    def __init__(self, *values: int) -> None:
        for name, value in zip(HEADER_FIELDS, values, strict=True):
            setattr(self, name, value)

    def values(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in HEADER_FIELDS)


class HMsi(Plain):
    __slots__ = ("control", "address_lo", "data")

    def __init__(self, control: int, address_lo: int, data: int) -> None:
        self.control, self.address_lo, self.data = control, address_lo, data


class HVector(Plain):
    __slots__ = ("address_lo", "address_hi", "data", "vector_control")

    def __init__(self, address_lo: int, address_hi: int, data: int, vector_control: int) -> None:
        self.address_lo, self.address_hi, self.data, self.vector_control = address_lo, address_hi, data, vector_control


class HMsix(Plain):
    __slots__ = ("control", "table", "pba", "vectors", "pending")

    def __init__(self, control: int, table: int, pba: int, vectors: list[HVector], pending: list[int]) -> None:
        self.control, self.table, self.pba, self.vectors, self.pending = control, table, pba, vectors, pending


SRIOV_FIELDS = ("sriov_cap", "sriov_ctrl", "sriov_status", "initial_vfs", "total_vfs", "num_vfs", "func_dep_link",
                "first_vf_offset", "vf_stride", "vf_device_id", "supported_page_sizes", "system_page_size",
                "vf_bar0", "vf_bar1_upper", "vf_bar2", "vf_bar3", "vf_bar4", "vf_bar5",
                "vf_migration_state_array_offset", "vfs_created", "vf_user_created")


class HSriov(Plain):
    __slots__ = SRIOV_FIELDS

    def __init__(self, *values: int) -> None:
        for name, value in zip(SRIOV_FIELDS, values, strict=True):
            setattr(self, name, value)

    def values(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in SRIOV_FIELDS)


class HDevice(Plain):
    __slots__ = ("rebar", "header", "msi", "msix", "sriov")

    def __init__(self, rebar: HRebar, header: HHeader, msi: HMsi, msix: HMsix, sriov: HSriov) -> None:
        self.rebar, self.header, self.msi, self.msix, self.sriov = rebar, header, msi, msix, sriov


BLOB_HEAD = struct.Struct(">4sHH")
FRAME_HEAD = struct.Struct(">HHII")
U32 = struct.Struct(">I")
REBAR = struct.Struct(">II")
HEADER = struct.Struct(">HHHHBBBBBBBBIIIIIIIHHIBBBBB")
MSI = struct.Struct(">HIH")
MSIX = struct.Struct(">HII")
VECTOR = struct.Struct(">IIII")
SRIOV = struct.Struct(">IHHHHHBHHHIIIIIIIIIHB")
IDS = (0x0115, 0x0001, 0x0005, 0x0011, 0x0110)
# Reserved bits per register, by position in the struct above (from the PCIe spec, as the schemas have them).
HEADER_RESERVED = {2: 0xF800, 3: 0x46, 11: 0x30, 21: 0x700, 22: 0x3}
SRIOV_RESERVED = {0: 0x1FFFF0, 1: 0xFF80, 2: 0xFFFE}


def _frame(section_id: int, version: int, payload: bytes) -> bytes:
    body = FRAME_HEAD.pack(section_id, version, 1, len(payload)) + payload
    return body + U32.pack(rt.crc32c(body))


def hand_save(d: HDevice, descriptor: bytes) -> bytes:
    m = d.msix
    frames = [
        _frame(IDS[0], 1, REBAR.pack(d.rebar.cap0, d.rebar.ctrl0)),
        _frame(IDS[1], 1, HEADER.pack(*d.header.values())),
        _frame(IDS[2], 2, MSI.pack(d.msi.control, d.msi.address_lo, d.msi.data)),
        _frame(IDS[3], 1, MSIX.pack(m.control, m.table, m.pba) + b"".join(
            [VECTOR.pack(v.address_lo, v.address_hi, v.data, v.vector_control) for v in m.vectors])
            + struct.pack(f">{len(m.pending)}Q", *m.pending)),
        _frame(IDS[4], 2, SRIOV.pack(*d.sriov.values())),
    ]
    return BLOB_HEAD.pack(b"VFGS", 1, 5) + _frame(0, 1, descriptor) + b"".join(frames)


def _read_frame(blob: bytes, offset: int, section_id: int, version: int) -> tuple[int, int]:
    sid, ver, flags, length = FRAME_HEAD.unpack_from(blob, offset)
    end = offset + 12 + length
    if sid != section_id or ver != version or flags != 1 or end + 4 > len(blob):
        raise HandError(f"bad frame at {offset}")
    if rt.crc32c(memoryview(blob)[offset:end]) != U32.unpack_from(blob, end)[0]:
        raise HandError(f"CRC mismatch at {end}")
    return offset + 12, end


def hand_load(blob: bytes, descriptor: bytes) -> HDevice:
    magic, version, count = BLOB_HEAD.unpack_from(blob, 0)
    if magic != b"VFGS" or version != 1 or count != 5:
        raise HandError("bad blob header")
    start, end = _read_frame(blob, 8, 0, 1)
    if blob[start:end] != descriptor:
        raise HandError("descriptor differs")
    start, end = _read_frame(blob, end + 4, IDS[0], 1)
    cap0, ctrl0 = REBAR.unpack_from(blob, start)
    if end - start != REBAR.size or cap0 & 0xF or ctrl0 & 0xC018 or (ctrl0 >> 5) & 7 != 1:
        raise HandError("rebar")
    r = HRebar(cap0, ctrl0)
    start, end = _read_frame(blob, end + 4, IDS[1], 1)
    f = HEADER.unpack_from(blob, start)
    if end - start != HEADER.size or any(f[i] & mask for i, mask in HEADER_RESERVED.items()):
        raise HandError("header")
    h = HHeader(*f)
    start, end = _read_frame(blob, end + 4, IDS[2], 2)
    control, address_lo, data = MSI.unpack_from(blob, start)
    if end - start != MSI.size or control & 0xF800 or control & 0x180:
        raise HandError("msi")
    i = HMsi(control, address_lo, data)
    start, end = _read_frame(blob, end + 4, IDS[3], 1)
    control, table, pba = MSIX.unpack_from(blob, start)
    n = (control & 0x7FF) + 1
    words = (n + 63) // 64
    if control & 0x3800 or end - start != MSIX.size + 16 * n + 8 * words:
        raise HandError("msix")
    o = start + MSIX.size
    vectors = [HVector(*t) for t in VECTOR.iter_unpack(memoryview(blob)[o:o + 16 * n])]
    x = HMsix(control, table, pba, vectors, list(struct.unpack_from(f">{words}Q", blob, o + 16 * n)))
    start, end = _read_frame(blob, end + 4, IDS[4], 2)
    f = SRIOV.unpack_from(blob, start)
    if end - start != SRIOV.size or any(f[i] & mask for i, mask in SRIOV_RESERVED.items()) or f[19] or f[20] > 1:
        raise HandError("sriov")
    if end + 4 != len(blob):
        raise HandError("bytes after the last frame")
    return HDevice(r, h, i, x, HSriov(*f))


def _raw(value: object) -> int:
    return int(value) if isinstance(value, int) else value.value()  # type: ignore[attr-defined, no-any-return]


def hand_state(s: example_nic.ExampleNicState) -> HDevice:
    """The same state as plain objects (built once, outside the timing)."""
    x = s.msix
    return HDevice(HRebar(_raw(s.rebar.cap0), _raw(s.rebar.ctrl0)),
                   HHeader(*[_raw(getattr(s.header, name)) for name in HEADER_FIELDS]),
                   HMsi(_raw(s.msi.control), _raw(s.msi.address_lo), _raw(s.msi.data)),
                   HMsix(_raw(x.control), _raw(x.table), _raw(x.pba),
                         [HVector(v.address_lo, v.address_hi, v.data, v.vector_control) for v in x.vectors],
                         list(x.pending)),
                   HSriov(*[_raw(getattr(s.sriov, name)) for name in SRIOV_FIELDS]))


# --- timing ---------------------------------------------------------------------------------------------------

def measure(rounds: int) -> dict[tuple[int, str, str], list[float]]:
    """Seconds per call, one sample per round and candidate, candidates interleaved within each round."""
    samples: dict[tuple[int, str, str], list[float]] = {}
    for vectors in VECTORS:
        _measure_one(vectors, rounds, samples)
    return samples


def _measure_one(vectors: int, rounds: int, samples: dict[tuple[int, str, str], list[float]]) -> None:
    if True:
        s = make_state(vectors)
        d = descriptor_of(s)
        blob = example_nic.save(s, d)
        loaded, _ = example_nic.load(blob)
        assert loaded == s, "the generated load does not give the saved state back"
        payloads = sections_save(s)
        assert sections_load(payloads) == (s.rebar, s.header, s.msi, s.msix, s.sriov)
        descriptor = blob[20:20 + FRAME_HEAD.unpack_from(blob, 8)[3]]
        hs = hand_state(s)
        view, frames, offset = memoryview(blob), [], 8
        while offset < len(blob):
            end = offset + 12 + FRAME_HEAD.unpack_from(blob, offset)[3]
            frames.append((offset, end))
            offset = end + 4
        assert hand_save(hs, descriptor) == blob, "the hand codec saves another blob"
        assert hand_load(blob, descriptor) == hs
        candidates: dict[tuple[str, str], Callable[[], object]] = {
            ("save", "generated"): lambda: example_nic.save(s, d),
            ("save", "sections"): lambda: sections_save(s),
            ("save", "hand"): lambda: hand_save(hs, descriptor),
            ("load", "generated"): lambda: example_nic.load(blob),
            ("load", "sections"): lambda: sections_load(payloads),
            ("load", "hand"): lambda: hand_load(blob, descriptor),
            ("crc", "crc32c"): lambda: [rt.crc32c(view[a:b]) for a, b in frames],
        }
        timed: dict[tuple[str, str], list[float]] = {}
        interleave(candidates, rounds, {1: 400, 64: 100, 2048: 4}[vectors], timed)
        for (op, name), values in timed.items():
            samples[(vectors, op, name)] = values
        samples[(vectors, "bytes", str(len(blob)))] = [0.0]


def report(samples: dict[tuple[int, str, str], list[float]], rounds: int) -> None:
    print(f"### Python {sys.version.split()[0]}: {rounds} interleaved rounds, µs per call (median), "
          "ratios per round: median [p25-p75]\n")
    print("| vectors | blob bytes | op | generated | sections alone | hand | crc32c of the frames "
          "| generated / hand | sections / generated | crc / generated |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for vectors in VECTORS:
        size = next(k[2] for k in samples if k[0] == vectors and k[1] == "bytes")
        crc = samples[(vectors, "crc", "crc32c")]
        for op in ("save", "load"):
            g, sec, h = (samples[(vectors, op, n)] for n in ("generated", "sections", "hand"))
            print(f"| {vectors} | {size} | {op} | {statistics.median(g) * 1e6:.1f} | {statistics.median(sec) * 1e6:.1f} "
                  f"| {statistics.median(h) * 1e6:.1f} | {statistics.median(crc) * 1e6:.1f} | {ratio(g, h)} "
                  f"| {ratio(sec, g)} | {ratio(crc, g)} |")
    print()


def main(rounds: int = 15, portable_crc: bool = False) -> None:
    if portable_crc:  # the pure-Python CRC-32C even where the crc32c package is installed
        rt._native[:] = [None]
    print(f"CRC-32C: {'the crc32c package (C)' if rt.crc32c(b'') == 0 and rt._native[0] else 'pure Python'}\n")
    report(measure(rounds), rounds)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
