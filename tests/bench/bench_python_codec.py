"""Generated Python save/load of the header + MSI-X record against hand-written struct code and construct.

Not a test: run `python tests/bench/bench_python_codec.py` (construct comes with
`pip install -e '.[bench]'`). Every codec handles the same record, the
type-0 header (57 bytes with no 64-bit BARs) followed by the MSI-X section
at 64 and at 2048 vectors, and every codec is timed in the same process,
interleaved, so the ratios hold even when the machine's speed drifts.

- generated: vfiogen_state.header / vfiogen_state.msix save() and load(),
  which check reserved bits, enums, bools, counts and constraints;
- hand: struct.Struct code written for this benchmark, building the same
  state objects and checking nothing (the floor a careful human would write);
- construct: the same layout declared with construct, parsed and built both
  interpreted and compiled (`.compile()`).
"""

from __future__ import annotations

import statistics
import struct
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generated" / "python"))

from vfiogen_state import header, msix  # noqa: E402

# --- the record ----------------------------------------------------------------------------------------


def make_state(vectors: int) -> tuple[header.HeaderState, msix.MsixState]:
    head = header.HeaderState()
    head.vendor_id, head.device_id = 0x8086, 0x1572
    head.command.mem_space_enable = head.command.bus_master_enable = True
    head.bar0.base_address = 0xFE000
    x = msix.MsixState()
    x.control.table_size = vectors - 1
    x.control.enable = True
    x.vectors = [msix.VectorsEntry(0xFEE00000 | (i << 12), 0, 0x4000 + i, i & 1) for i in range(vectors)]
    x.pending = [0] * ((vectors + 63) // 64)
    return head, x


def generated_save(head: header.HeaderState, x: msix.MsixState) -> bytes:
    return header.save(head) + msix.save(x)


def generated_load(blob: bytes) -> tuple[header.HeaderState, msix.MsixState]:
    return header.load(blob, end=57), msix.load(blob, start=57)


# --- hand-written ------------------------------------------------------------------------------------------

_HAND_HEADER = struct.Struct(">HHHHBBBBBBBBIIIIIIIHHIBBBBB")
_HAND_MSIX = struct.Struct(">HII")
_HAND_VECTOR = struct.Struct(">IIII")


def hand_save(head: header.HeaderState, x: msix.MsixState) -> bytes:
    h = head
    out = _HAND_HEADER.pack(
        h.vendor_id, h.device_id, h.command.value(), h.status.value(), h.revision_id, h.class_prog_if,
        h.class_subclass, h.class_base, h.cache_line_size, h.latency_timer, h.header_type.value(), h.bist.value(),
        h.bar0.value(), h.bar1.value(), h.bar2.value(), h.bar3.value(), h.bar4.value(), h.bar5.value(),
        h.cardbus_cis, h.subsystem_vendor_id, h.subsystem_id, h.rom_base.value(), h.cap_ptr.value(),
        h.interrupt_line, h.interrupt_pin, h.min_gnt, h.max_lat)
    out += _HAND_MSIX.pack(x.control.value(), x.table.value(), x.pba.value())
    out += b"".join([_HAND_VECTOR.pack(v.address_lo, v.address_hi, v.data, v.vector_control) for v in x.vectors])
    out += struct.pack(f">{len(x.pending)}Q", *x.pending)
    return out


def hand_load(blob: bytes) -> tuple[header.HeaderState, msix.MsixState]:
    f = _HAND_HEADER.unpack_from(blob, 0)
    head = header.HeaderState(
        vendor_id=f[0], device_id=f[1], command=header.CommandRegister.from_value(f[2]),
        status=header.StatusRegister.from_value(f[3]), revision_id=f[4], class_prog_if=f[5], class_subclass=f[6],
        class_base=f[7], cache_line_size=f[8], latency_timer=f[9],
        header_type=header.HeaderTypeRegister.from_value(f[10]), bist=header.BistRegister.from_value(f[11]),
        bar0=header.MemoryBarRegister.from_value(f[12]), bar1=header.MemoryBarRegister.from_value(f[13]),
        bar2=header.MemoryBarRegister.from_value(f[14]), bar3=header.MemoryBarRegister.from_value(f[15]),
        bar4=header.MemoryBarRegister.from_value(f[16]), bar5=header.MemoryBarRegister.from_value(f[17]), cardbus_cis=f[18],
        subsystem_vendor_id=f[19], subsystem_id=f[20], rom_base=header.RomBaseRegister.from_value(f[21]),
        cap_ptr=header.CapPtrRegister.from_value(f[22]), interrupt_line=f[23],
        interrupt_pin=header.IntxPin(f[24]), min_gnt=f[25], max_lat=f[26])
    o = _HAND_HEADER.size
    control, table, pba = _HAND_MSIX.unpack_from(blob, o)
    o += _HAND_MSIX.size
    n = (control & 0x7FF) + 1
    vectors = [msix.VectorsEntry(*t) for t in _HAND_VECTOR.iter_unpack(memoryview(blob)[o:o + 16 * n])]
    o += 16 * n
    pending = list(struct.unpack_from(f">{(n + 63) // 64}Q", blob, o))
    return head, msix.MsixState(control=msix.ControlRegister.from_value(control),
                                table=msix.TableRegister.from_value(table), pba=msix.PbaRegister.from_value(pba),
                                vectors=vectors, pending=pending)


# --- construct -----------------------------------------------------------------------------------------------


def construct_codecs() -> tuple[object, object] | None:
    try:
        from construct import Array, Int8ub, Int16ub, Int32ub, Int64ub, Struct, this
    except ImportError:
        return None
    vector = Struct("address_lo" / Int32ub, "address_hi" / Int32ub, "data" / Int32ub, "vector_control" / Int32ub)
    record = Struct(
        "vendor_id" / Int16ub, "device_id" / Int16ub, "command" / Int16ub, "status" / Int16ub,
        "revision_id" / Int8ub, "class_prog_if" / Int8ub, "class_subclass" / Int8ub, "class_base" / Int8ub,
        "cache_line_size" / Int8ub, "latency_timer" / Int8ub, "header_type" / Int8ub, "bist" / Int8ub,
        "bars" / Array(6, Int32ub), "cardbus_cis" / Int32ub, "subsystem_vendor_id" / Int16ub,
        "subsystem_id" / Int16ub, "rom_base" / Int32ub, "cap_ptr" / Int8ub, "interrupt_line" / Int8ub,
        "interrupt_pin" / Int8ub, "min_gnt" / Int8ub, "max_lat" / Int8ub,
        "control" / Int16ub, "table" / Int32ub, "pba" / Int32ub,
        "vectors" / Array((this.control & 0x7FF) + 1, vector),
        "pending" / Array(((this.control & 0x7FF) + 64) // 64, Int64ub))
    return record, record.compile()


# --- timing --------------------------------------------------------------------------------------------------


def best_per_call(fn: Callable[[], object], repeat: int) -> float:
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return statistics.median(t / number for t in timer.repeat(repeat=repeat, number=number))


def main() -> None:
    codecs = construct_codecs()
    print(f"python {sys.version.split()[0]}, median of 7 repeats, each autoranged to >= 0.2 s\n")
    print("| vectors | operation | generated µs | hand µs | construct compiled µs | construct µs "
          "| generated / hand | compiled construct / generated |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for vectors in (64, 2048):
        report(vectors, codecs)


def report(vectors: int, codecs: tuple[object, object] | None) -> None:
    """Time every codec on the record with `vectors` MSI-X vectors and print two table rows."""
    head, x = make_state(vectors)
    blob = generated_save(head, x)
    assert hand_save(head, x) == blob
    assert hand_load(blob) == generated_load(blob) == (head, x)
    rows: dict[str, dict[str, float]] = {"save": {}, "load": {}}
    candidates: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "generated": (lambda: generated_save(head, x), lambda: generated_load(blob)),
        "hand": (lambda: hand_save(head, x), lambda: hand_load(blob)),
    }
    if codecs is not None:
        interpreted, compiled = codecs
        parsed = interpreted.parse(blob)  # type: ignore[attr-defined]
        assert interpreted.build(parsed) == blob  # type: ignore[attr-defined]
        assert compiled.build(compiled.parse(blob)) == blob  # type: ignore[attr-defined]
        candidates["compiled"] = (lambda: compiled.build(parsed),  # type: ignore[attr-defined]
                                  lambda: compiled.parse(blob))  # type: ignore[attr-defined]
        candidates["construct"] = (lambda: interpreted.build(parsed),  # type: ignore[attr-defined]
                                   lambda: interpreted.parse(blob))  # type: ignore[attr-defined]
    for _ in range(3):  # interleave the candidates so drift hits all of them alike
        for name, (save, load) in candidates.items():
            for op, fn in (("save", save), ("load", load)):
                value = best_per_call(fn, 7) * 1e6
                rows[op][name] = min(rows[op].get(name, value), value)
    for op in ("save", "load"):
        r = rows[op]
        compiled_text = f"{r['compiled']:.1f}" if "compiled" in r else "n/a"
        construct_text = f"{r['construct']:.1f}" if "construct" in r else "n/a"
        vs = f"{r['compiled'] / r['generated']:.1f}x" if "compiled" in r else "n/a"
        print(f"| {vectors} | {op} | {r['generated']:.1f} | {r['hand']:.1f} | {compiled_text} | {construct_text} "
              f"| {r['generated'] / r['hand']:.2f} | {vs} |")


if __name__ == "__main__":
    main()
