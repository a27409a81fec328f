"""The generated `capture` against real config space: pciutils' test dumps, checked field by field against lspci.

For every case NAME in ../shared/data/pciutils/ the config space of each device
comes from `NAME.lspci-xxxx.txt` (hex dump), and the reference decode from
`NAME.lspci-vvv.txt` (lspci 3.9.0 `-vvv`, run independently on the same dump).
Every MSI, MSI-X, SR-IOV and Resizable BAR capability found by walking the
capability lists is captured with the generated `capture` and each field is
compared with what lspci printed for the capability at the same `[offset]` of
the device at the same address. Each captured state is then restored into a
copy of the config space and captured again.

Disagreements that are schema or generator bugs are listed in
KNOWN_DISAGREEMENTS; `test_known_disagreement` runs each of them as a strict
xfail, so fixing the bug makes it XPASS (fail) and the entry must be removed.
"""

from __future__ import annotations

import copy
import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from known_failures import PCIUTILS_CAPTURE as KNOWN_DISAGREEMENTS
from lspci_dump import (
    CAP_ID_MSI,
    CAP_ID_MSIX,
    EXT_CAP_ID_REBAR,
    EXT_CAP_ID_SRIOV,
    Capability,
    DumpDevice,
    LspciCapability,
    LspciDevice,
    has_extended_space,
    normalise_slot,
    parse_dump,
    parse_lspci,
    walk_capabilities,
    walk_extended_capabilities,
)

from vfiogen_state import msi, msix, rebar, sriov

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pciutils"
MISSING = f"pciutils config-space dumps not found at {DATA} (../shared/data/pciutils from the project root)"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=MISSING)

CASES = sorted(p.name.removesuffix(".lspci-xxxx.txt") for p in DATA.glob("*.lspci-xxxx.txt")) if DATA.is_dir() else []
CASE_PARAMS: list[Any] = list(CASES) or [pytest.param("<no data>", marks=pytest.mark.skip(reason=MISSING))]

# What the dumps really hold, counted once (lspci prints the same numbers):
# a floor, so that a parser regression cannot make the comparison vacuous.
MIN_DEVICES = 137
MIN_CAPTURED = {"msi": 44, "msix": 15, "sriov": 4, "rebar": 2}
MIN_FIELD_CHECKS = {"msi": 466, "msix": 105, "sriov": 127, "rebar": 8}

# `case/slot/kind@offset/field` -> why the generated capture disagrees with lspci.


# --------------------------------------------------------------------------- comparison records


@dataclass(frozen=True)
class Check:
    case: str
    slot: str
    kind: str
    offset: int
    field: str
    lspci: object
    captured: object

    @property
    def key(self) -> str:
        return f"{self.case}/{self.slot}/{self.kind}@{self.offset:x}/{self.field}"

    @property
    def ok(self) -> bool:
        return self.lspci == self.captured

    def __str__(self) -> str:
        return f"{self.key}: lspci {_show(self.lspci)}, captured {_show(self.captured)}"


def _show(value: object) -> str:
    return f"0x{value:x}" if isinstance(value, int) and not isinstance(value, bool) and value > 9 else repr(value)


@dataclass
class Captured:
    """One capability found by the walk, captured (or the exception capture raised)."""

    case: str
    slot: str
    kind: str
    cap: Capability
    module: ModuleType
    params: Any
    config: bytes
    lcap: LspciCapability | None = None
    state: Any = None
    error: str | None = None


def reader(config: bytes | bytearray) -> Callable[[int, int], int]:
    def read_config(offset: int, size: int) -> int:
        assert size in (1, 2, 4), f"read of {size} bytes (config space is read at most a dword at a time)"
        assert 0 <= offset and offset + size <= len(config), f"read of {size} bytes at 0x{offset:x} outside config space"
        assert offset % size == 0, f"unaligned {size}-byte read at 0x{offset:x}"
        return int.from_bytes(config[offset:offset + size], "little")
    return read_config


def _flag(sign: str) -> bool:
    assert sign in "+-", sign
    return sign == "+"


def _line(lcap: LspciCapability, pattern: str, where: str) -> re.Match[str]:
    """The one detail line of `lcap` matching `pattern` (an assertion error naming the device otherwise)."""
    found = [m for m in (re.fullmatch(pattern, line) for line in lcap.body) if m]
    assert len(found) == 1, f"{where}: expected one lspci line matching {pattern!r} in {lcap.body}"
    return found[0]


def _title(lcap: LspciCapability, pattern: str, where: str) -> re.Match[str]:
    m = re.fullmatch(pattern, lcap.title)
    assert m, f"{where}: lspci title {lcap.title!r} does not match {pattern!r}"
    return m


# --------------------------------------------------------------------------- per-kind comparisons
# Each returns (field, lspci's value, the captured value) triples.

Triple = tuple[str, object, object]


def compare_msi(s: msi.MsiState, lcap: LspciCapability, where: str) -> list[Triple]:
    t = _title(lcap, r"MSI: Enable([+-]) Count=(\d+)/(\d+) Maskable([+-]) 64bit([+-])", where)
    a = _line(lcap, r"Address: ([0-9a-f]{8}|[0-9a-f]{16})  Data: ([0-9a-f]{4})", where)
    addr = a[1]
    out: list[Triple] = [
        ("control.enable", _flag(t[1]), s.control.enable),
        ("control.mme (vectors enabled)", int(t[2]), 1 << s.control.mme),
        ("control.mmc (vectors capable)", int(t[3]), 1 << s.control.mmc),
        ("control.pvm", _flag(t[4]), s.control.pvm),
        ("control.addr64", _flag(t[5]), s.control.addr64),
        ("address width (hex digits)", len(addr), 16 if s.control.addr64 else 8),
        ("address_lo", int(addr[-8:], 16), s.address_lo.value()),
        ("address_hi", int(addr[:-8] or "0", 16), s.address_hi),
        ("data", int(a[2], 16), s.data),
    ]
    masking = [line for line in lcap.body if line.startswith("Masking:")]
    out.append(("mask/pending present", bool(masking), s.control.pvm))
    if masking:
        m = _line(lcap, r"Masking: ([0-9a-f]{8})  Pending: ([0-9a-f]{8})", where)
        out += [("mask", int(m[1], 16), s.mask), ("pending", int(m[2], 16), s.pending)]
    return out


def compare_msix(s: msix.MsixState, lcap: LspciCapability, where: str) -> list[Triple]:
    t = _title(lcap, r"MSI-X: Enable([+-]) Count=(\d+) Masked([+-])", where)
    table = _line(lcap, r"Vector table: BAR=(\d) offset=([0-9a-f]{8})", where)
    pba = _line(lcap, r"PBA: BAR=(\d) offset=([0-9a-f]{8})", where)
    return [
        ("control.enable", _flag(t[1]), s.control.enable),
        ("control.table_size (+1)", int(t[2]), s.control.table_size + 1),
        ("control.function_mask", _flag(t[3]), s.control.function_mask),
        ("table.bir", int(table[1]), s.table.bir),
        ("table.offset (<<3)", int(table[2], 16), s.table.offset << 3),
        ("pba.bir", int(pba[1]), s.pba.bir),
        ("pba.offset (<<3)", int(pba[2], 16), s.pba.offset << 3),
    ]


def vf_bar64(config: bytes, base: int) -> int:
    """Bit n set when VF BAR slot n starts a 64-bit BAR (its type bits 2:1 read 0b10), worked out here from the
    dump's bytes, independently of the schema's presence chain, which the capture must agree with."""
    bits, n = 0, 0
    while n < 6:
        if n < 5 and (int.from_bytes(config[base + 0x24 + 4 * n:base + 0x28 + 4 * n], "little") >> 1) & 3 == 2:
            bits |= 1 << n
            n += 2
        else:
            n += 1
    return bits


def compare_sriov(s: sriov.SriovState, lcap: LspciCapability, where: str, pairs: int) -> list[Triple]:
    cap = _line(lcap, r"IOVCap:\s+Migration([+-]) 10BitTagReq([+-]) Interrupt Message Number: ([0-9a-f]{3})", where)
    ctl = _line(lcap, r"IOVCtl:\s+Enable([+-]) Migration([+-]) Interrupt([+-]) MSE([+-]) ARIHierarchy([+-]) 10BitTagReq([+-])", where)
    sta = _line(lcap, r"IOVSta:\s+Migration([+-])", where)
    vfs = _line(lcap, r"Initial VFs: (\d+), Total VFs: (\d+), Number of VFs: (\d+), Function Dependency Link: ([0-9a-f]{2})", where)
    rid = _line(lcap, r"VF offset: (\d+), stride: (\d+), Device ID: ([0-9a-f]{4})", where)
    pages = _line(lcap, r"Supported Page Size: ([0-9a-f]{8}), System Page Size: ([0-9a-f]{8})", where)
    mig = _line(lcap, r"VF Migration: offset: ([0-9a-f]{8}), BIR: ([0-9a-f])", where)
    out: list[Triple] = [
        ("sriov_cap.vf_migration_capable", _flag(cap[1]), s.sriov_cap.vf_migration_capable),
        ("sriov_cap.vf_10bit_tag_req_supported", _flag(cap[2]), s.sriov_cap.vf_10bit_tag_req_supported),
        ("sriov_cap.vf_migration_int_msg_num", int(cap[3], 16), s.sriov_cap.vf_migration_int_msg_num),
        ("sriov_ctrl.vf_enable", _flag(ctl[1]), s.sriov_ctrl.vf_enable),
        ("sriov_ctrl.vf_migration_enable", _flag(ctl[2]), s.sriov_ctrl.vf_migration_enable),
        ("sriov_ctrl.vf_migration_int_enable", _flag(ctl[3]), s.sriov_ctrl.vf_migration_int_enable),
        ("sriov_ctrl.vf_mse", _flag(ctl[4]), s.sriov_ctrl.vf_mse),
        ("sriov_ctrl.ari_capable_hierarchy", _flag(ctl[5]), s.sriov_ctrl.ari_capable_hierarchy),
        ("sriov_ctrl.vf_10bit_tag_req_enable", _flag(ctl[6]), s.sriov_ctrl.vf_10bit_tag_req_enable),
        ("sriov_status.vf_migration_status", _flag(sta[1]), s.sriov_status.vf_migration_status),
        ("initial_vfs", int(vfs[1]), s.initial_vfs),
        ("total_vfs", int(vfs[2]), s.total_vfs),
        ("num_vfs", int(vfs[3]), s.num_vfs),
        ("func_dep_link", int(vfs[4], 16), s.func_dep_link),
        ("first_vf_offset", int(rid[1]), s.first_vf_offset),
        ("vf_stride", int(rid[2]), s.vf_stride),
        ("vf_device_id", int(rid[3], 16), s.vf_device_id),
        ("supported_page_sizes", int(pages[1], 16), s.supported_page_sizes),
        ("system_page_size", int(pages[2], 16), s.system_page_size),
        ("vf_migration_state_array_offset.offset (<<3)", int(mig[1], 16), s.vf_migration_state_array_offset.offset << 3),
        ("vf_migration_state_array_offset.bir", int(mig[2], 16), s.vf_migration_state_array_offset.bir),
    ]
    # lspci prints a VF BAR slot only when it reads neither 0 nor all ones, and
    # skips the slot holding the upper half of a 64-bit one.
    regions = {}
    for line in lcap.body:
        m = re.fullmatch(r"Region (\d): Memory at ([0-9a-f]{8}|[0-9a-f]{16}) \((32|64)-bit, (non-)?prefetchable\)", line)
        if m:
            regions[int(m[1])] = m
    uppers = {n + 1 for n in range(5) if pairs >> n & 1}
    for n in range(6):
        if n in uppers:  # the capture took the slot as an upper dword: its BAR form is absent and reads 0
            out.append((f"vf_bar{n} (absent: upper dword)", 0, getattr(s, f"vf_bar{n}").value()))
            continue
        bar = getattr(s, f"vf_bar{n}")
        if n not in regions:
            out.append((f"vf_bar{n} (not shown: reads 0 or ~0)", 0, 0 if bar.value() == 0xFFFFFFFF else bar.value()))
            continue
        m = regions[n]
        wide = len(m[2]) == 16
        upper = getattr(s, f"vf_bar{n + 1}_upper") if n + 1 in uppers else 0
        out += [
            (f"vf_bar{n}.mem_type (32/64)", m[3], "32" if bar.mem_type == sriov.BarMemType.MEM32 else "64"),
            (f"vf_bar{n} is 64-bit (upper in next slot)", wide, n + 1 in uppers),
            (f"vf_bar{n}.prefetchable", m[4] is None, bar.prefetchable),
            (f"vf_bar{n} address" + (f" (+vf_bar{n + 1}_upper)" if wide else ""), int(m[2], 16),
             (upper << 32) | (bar.base_address << 4)),
        ]
    return out


_UNITS = {"MB": 0, "GB": 10, "TB": 20, "PB": 30, "EB": 40}


def _rebar_size(text: str) -> int:
    """lspci's `16MB` as bytes."""
    m = re.fullmatch(r"(\d+)(MB|GB|TB|PB|EB)", text)
    assert m, f"not a Resizable BAR size: {text!r}"
    return int(m[1]) << (20 + _UNITS[m[2]])


def compare_rebar(s: rebar.RebarState, lcap: LspciCapability, where: str) -> list[Triple]:
    assert not any(line.startswith("<") for line in lcap.body), f"{where}: lspci could not decode it: {lcap.body}"
    bars = [re.fullmatch(r"BAR (\d): current size: (\S+?)(?:, supported:((?: \S+)+))?", line) for line in lcap.body]
    assert bars and all(bars), f"{where}: unexpected Resizable BAR lines {lcap.body}"
    out: list[Triple] = [("ctrl0.num_bars", len(bars), s.ctrl0.num_bars)]
    for k, m in enumerate(bars):
        assert m is not None
        cap, ctrl = getattr(s, f"cap{k}"), getattr(s, f"ctrl{k}")
        supported = [i for i in range(28) if cap.sizes_supported >> i & 1]
        supported += [28 + i for i in range(16) if ctrl.sizes_supported_ext >> i & 1]
        out += [
            (f"ctrl{k}.bar_index", int(m[1]), ctrl.bar_index),
            (f"ctrl{k}.bar_size (bytes, 2^(20+bar_size))", _rebar_size(m[2]), 1 << (20 + ctrl.bar_size)),
            (f"cap{k}.sizes_supported + ctrl{k}.sizes_supported_ext (bytes)",
             [_rebar_size(x) for x in (m[3] or "").split()], [1 << (20 + i) for i in supported]),
        ]
    return out


def compare(entry: Captured, state: Any) -> list[Triple]:
    """`state` (captured for `entry`, or altered from it) against what lspci printed for the capability."""
    assert entry.lcap is not None
    where = f"{entry.case} {entry.slot} {entry.kind}@{entry.cap.offset:x}"
    if entry.kind == "msi":
        return compare_msi(state, entry.lcap, where)
    if entry.kind == "msix":
        return compare_msix(state, entry.lcap, where)
    if entry.kind == "sriov":
        return compare_sriov(state, entry.lcap, where, vf_bar64(entry.config, entry.cap.offset))
    return compare_rebar(state, entry.lcap, where)


KINDS: dict[str, tuple[bool, int, ModuleType, str]] = {
    # kind: (extended, capability ID, generated module, how lspci titles it)
    "msi": (False, CAP_ID_MSI, msi, "MSI: "),
    "msix": (False, CAP_ID_MSIX, msix, "MSI-X: "),
    "sriov": (True, EXT_CAP_ID_SRIOV, sriov, "Single Root I/O Virtualization (SR-IOV)"),
    "rebar": (True, EXT_CAP_ID_REBAR, rebar, "Physical Resizable BAR"),
}


# --------------------------------------------------------------------------- loading, once


@dataclass
class Case:
    name: str
    devices: list[DumpDevice]
    lspci: dict[str, LspciDevice]
    captured: list[Captured]
    checks: list[Check]


@functools.cache
def load_case(name: str) -> Case:
    devices = parse_dump((DATA / f"{name}.lspci-xxxx.txt").read_text())
    lspci_devices = parse_lspci((DATA / f"{name}.lspci-vvv.txt").read_text())
    lspci = {d.slot: d for d in lspci_devices}
    assert len(lspci) == len(lspci_devices), f"{name}: an address appears twice in the lspci output"
    case = Case(name, devices, lspci, [], [])
    for dev in devices:
        ldev = lspci.get(dev.slot)
        if ldev is None:
            continue  # test_dumps_parse reports it
        chain = walk_capabilities(dev)
        caps = [(False, c) for c in chain.caps]
        if has_extended_space(dev, chain):
            caps += [(True, c) for c in walk_extended_capabilities(dev).caps]
        for extended, cap in caps:
            for kind, (k_ext, k_id, module, title) in KINDS.items():
                if extended != k_ext or cap.id != k_id:
                    continue
                where = f"{name} {dev.slot} {kind}@{cap.offset:x}"
                params = module.PARAMS
                lcap = ldev.cap_at(cap.offset)
                assert lcap is not None, f"{where}: lspci shows no capability at [{cap.offset:x}]"
                assert lcap.title.startswith(title), f"{where}: lspci calls it {lcap.title!r}"
                entry = Captured(name, dev.slot, kind, cap, module, params, dev.config, lcap)
                case.captured.append(entry)
                try:
                    entry.state = module.capture(reader(dev.config), cap.offset, params)
                except Exception as exc:  # any failure to capture is a disagreement with lspci, reported below
                    entry.error = f"{type(exc).__name__}: {exc}"
                    case.checks.append(Check(name, dev.slot, kind, cap.offset, "capture", "captures", entry.error))
                    continue
                case.checks += [Check(name, dev.slot, kind, cap.offset, f, want, got)
                                for f, want, got in compare(entry, entry.state)]
    return case


def all_cases() -> list[Case]:
    return [load_case(name) for name in CASES]


# --------------------------------------------------------------------------- the dumps and the walks


@needs_data
@pytest.mark.parametrize("name", CASE_PARAMS)
def test_dumps_parse_and_match_lspci_devices(name: str) -> None:
    case = load_case(name)
    assert case.devices, f"{name}: no device found"
    assert sorted(d.slot for d in case.devices) == sorted(case.lspci), f"{name}: the two files list different devices"
    for dev in case.devices:
        ldev = case.lspci[dev.slot]
        # lspci -nn prints [vendor:device] at the end of the name; the dump's own IDs must agree.
        ids = re.findall(r"\[([0-9a-f]{4}):([0-9a-f]{4})\]", ldev.title)
        assert ids, ldev.title
        assert (int(ids[-1][0], 16), int(ids[-1][1], 16)) == (dev.read(0, 16), dev.read(2, 16)), (name, dev.slot)
        status = [line for line in ldev.lines if line.startswith("\tStatus: ")]
        assert len(status) == 1 and status[0].startswith(f"\tStatus: Cap{'+' if dev.read(6, 16) & 0x10 else '-'} ")


@needs_data
@pytest.mark.parametrize("name", CASE_PARAMS)
def test_capability_walks_find_what_lspci_shows(name: str) -> None:
    """Both chains, offset by offset and version by version, as lspci printed them; every lspci MSI/MSI-X/SR-IOV/ReBAR title sits on the right ID."""
    case = load_case(name)
    for dev in case.devices:
        ldev = case.lspci[dev.slot]
        chain = walk_capabilities(dev)
        assert chain.stop in ("end", "no-list"), f"{name} {dev.slot}: capability list stopped: {chain.stop} at {chain.stop_at}"
        mine: list[tuple[int, int | None, int, bool]] = [(c.offset, None, c.id, False) for c in chain.caps]
        if has_extended_space(dev, chain):
            ext = walk_extended_capabilities(dev)
            assert ext.stop == "end", f"{name} {dev.slot}: extended list stopped: {ext.stop} at {ext.stop_at}"
            mine += [(c.offset, c.version, c.id, True) for c in ext.caps]
        assert [(o, v) for o, v, _, _ in mine] == [(c.offset, c.version) for c in ldev.caps], f"{name} {dev.slot}"
        for (offset, _, cap_id, extended), lcap in zip(mine, ldev.caps, strict=True):
            for kind, (k_ext, k_id, _, title) in KINDS.items():
                assert (extended == k_ext and cap_id == k_id) == lcap.title.startswith(title), (
                    f"{name} {dev.slot} [{offset:x}]: ID 0x{cap_id:x} but lspci says {lcap.title!r} ({kind})")


@needs_data
def test_broken_extended_chain_stops_safely() -> None:
    """broken-ecaps: the 4 KB dump repeats the 256-byte header space, so 0x100 holds the vendor/device word, not a capability header.

    Its "next" pointer (0x791 -> 0x790) leads to 0xd00 and back to 0x790: the
    walk must notice the loop and stop, without reporting any capability we
    capture. lspci shows no capability at all (Status: Cap-, no PCIe capability).
    """
    case = load_case("broken-ecaps")
    (dev,) = case.devices
    chain = walk_capabilities(dev)
    assert chain.stop == "no-list" and chain.caps == []
    assert not has_extended_space(dev, chain)
    ext = walk_extended_capabilities(dev)
    assert ext.stop == "loop" and ext.stop_at == 0x790
    assert [(c.offset, c.id) for c in ext.caps] == [(0x100, 0x1002), (0x790, 0x0000), (0xD00, 0x1002)]
    assert not any(c.id in (EXT_CAP_ID_SRIOV, EXT_CAP_ID_REBAR) for c in ext.caps)
    assert case.lspci[dev.slot].caps == []
    assert case.captured == []


def _device(config: dict[int, int], size: int = 4096) -> DumpDevice:
    buf = bytearray(size)
    for offset, byte in config.items():
        buf[offset] = byte
    return DumpDevice("0000:00:00.0", "synthetic", bytes(buf))


def test_walkers_stop_on_loops_and_bad_pointers() -> None:
    """The guards, on made-up config spaces (no data needed)."""
    status_caps = {0x06: 0x10}
    looped = walk_capabilities(_device({**status_caps, 0x34: 0x40, 0x40: 0x05, 0x41: 0x50, 0x50: 0x11, 0x51: 0x40}))
    assert (looped.stop, looped.stop_at, [c.offset for c in looped.caps]) == ("loop", 0x40, [0x40, 0x50])
    into_header = walk_capabilities(_device({**status_caps, 0x34: 0x40, 0x40: 0x05, 0x41: 0x10}))
    assert (into_header.stop, into_header.stop_at, len(into_header.caps)) == ("bad-pointer", 0x10, 1)
    all_ones = walk_capabilities(_device({**status_caps, 0x34: 0x40, 0x40: 0xFF, 0x41: 0xFF}))
    assert (all_ones.stop, all_ones.caps) == ("broken", [])
    assert walk_capabilities(_device({0x34: 0x40, 0x40: 0x05})).stop == "no-list"   # Status bit 4 clear
    low_bits = walk_capabilities(_device({**status_caps, 0x34: 0x43, 0x40: 0x05, 0x41: 0x00}))
    assert [c.offset for c in low_bits.caps] == [0x40]

    def header(offset: int, cap_id: int, nxt: int) -> dict[int, int]:
        value = cap_id | 1 << 16 | nxt << 20
        return {offset + i: value >> 8 * i & 0xFF for i in range(4)}

    ext_loop = walk_extended_capabilities(_device({**header(0x100, 0x10, 0x200), **header(0x200, 0x15, 0x100)}))
    assert (ext_loop.stop, ext_loop.stop_at, [c.offset for c in ext_loop.caps]) == ("loop", 0x100, [0x100, 0x200])
    ext_low = walk_extended_capabilities(_device({**header(0x100, 0x10, 0x040)}))
    assert (ext_low.stop, ext_low.stop_at) == ("bad-pointer", 0x40)
    ext_ones = walk_extended_capabilities(_device({**header(0x100, 0x10, 0x200), **{0x200 + i: 0xFF for i in range(4)}}))
    assert (ext_ones.stop, [c.id for c in ext_ones.caps]) == ("end", [0x10])
    assert walk_extended_capabilities(_device({}, 256)).stop == "outside"
    assert normalise_slot("00:1F.3") == "0000:00:1f.3" and normalise_slot("0001:62:00.0") == "0001:62:00.0"


# --------------------------------------------------------------------------- capture against lspci


@needs_data
@pytest.mark.parametrize("name", CASE_PARAMS)
def test_capture_agrees_with_lspci(name: str) -> None:
    case = load_case(name)
    wrong = [str(c) for c in case.checks if not c.ok and c.key not in KNOWN_DISAGREEMENTS]
    assert not wrong, "the generated capture disagrees with lspci:\n" + "\n".join(wrong)


@needs_data
def test_enough_was_compared() -> None:
    cases = all_cases()
    devices = sum(len(c.devices) for c in cases)
    captured = Counter(e.kind for c in cases for e in c.captured)
    checks = [ch for c in cases for ch in c.checks]
    per_kind = Counter(ch.kind for ch in checks)
    # lspci's own count of each kind: every one of them was captured and compared.
    titles = Counter(kind for c in cases for ldev in c.lspci.values() for lcap in ldev.caps
                     for kind, (_, _, _, title) in KINDS.items() if lcap.title.startswith(title))
    print(f"\n{len(cases)} cases, {devices} devices; capabilities captured {dict(captured)}, "
          f"field comparisons {dict(per_kind)} ({len(checks)} in all, "
          f"{sum(not ch.ok for ch in checks)} disagreeing, {len(KNOWN_DISAGREEMENTS)} known)")
    assert devices >= MIN_DEVICES
    assert dict(captured) == dict(titles), "a capability lspci decoded was not captured, or the reverse"
    for kind, floor in MIN_CAPTURED.items():
        assert captured[kind] >= floor, f"only {captured[kind]} {kind} capabilities compared, expected at least {floor}"
        assert per_kind[kind] >= MIN_FIELD_CHECKS[kind], (
            f"only {per_kind[kind]} {kind} fields compared, expected at least {MIN_FIELD_CHECKS[kind]}")


# One altered field per kind, and the comparison that must then notice it.
MUTATIONS: dict[str, list[tuple[str, Callable[[Any], None]]]] = {
    "msi": [("control.mme", lambda s: setattr(s.control, "mme", s.control.mme ^ 1)),
            ("control.enable", lambda s: setattr(s.control, "enable", not s.control.enable)),
            ("address_lo", lambda s: setattr(s.address_lo, "zero", s.address_lo.zero ^ 1)),
            ("data", lambda s: setattr(s, "data", s.data ^ 0x8000))],
    "msix": [("control.table_size", lambda s: setattr(s.control, "table_size", s.control.table_size ^ 1)),
             ("pba.offset", lambda s: setattr(s.pba, "offset", s.pba.offset ^ 1)),
             ("table.bir", lambda s: setattr(s.table, "bir", s.table.bir ^ 1))],
    "sriov": [("vf_device_id", lambda s: setattr(s, "vf_device_id", s.vf_device_id ^ 1)),
              ("sriov_ctrl.ari_capable_hierarchy", lambda s: setattr(
                  s.sriov_ctrl, "ari_capable_hierarchy", not s.sriov_ctrl.ari_capable_hierarchy)),
              ("vf_bar0 address", lambda s: setattr(s.vf_bar0, "base_address", s.vf_bar0.base_address ^ 1))],
    "rebar": [("ctrl0.bar_size", lambda s: setattr(s.ctrl0, "bar_size", s.ctrl0.bar_size + 1)),
              ("cap0.sizes_supported", lambda s: setattr(s.cap0, "sizes_supported", s.cap0.sizes_supported ^ 1))],
}


@needs_data
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_comparison_notices_a_wrong_field(kind: str) -> None:
    """Alter one captured field at a time: the comparison with lspci must then disagree on it (it is not vacuous)."""
    entries = [e for c in all_cases() for e in c.captured if e.kind == kind and e.state is not None]
    assert entries
    for entry in entries:
        for field, mutate in MUTATIONS[kind]:
            state = copy.deepcopy(entry.state)
            mutate(state)
            wrong = [f for f, want, got in compare(entry, state) if want != got]
            assert wrong and all(f.startswith(field) for f in wrong), (entry.slot, field, wrong)


@needs_data
def test_known_disagreements_are_real() -> None:
    """Each known entry names a comparison that exists (a mistyped key must not pass as an expected failure)."""
    checks = {ch.key: ch for c in all_cases() for ch in c.checks}
    for key in KNOWN_DISAGREEMENTS:
        assert key in checks, f"known disagreement {key} names no comparison"


KNOWN_PARAMS = [pytest.param(key, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason), id=key)
                for key, reason in KNOWN_DISAGREEMENTS.items()] or [
    pytest.param("<none>", marks=pytest.mark.skip(reason="no known disagreement between capture and lspci"))]


@needs_data
@pytest.mark.parametrize("key", KNOWN_PARAMS)
def test_known_disagreement(key: str) -> None:
    case = load_case(key.split("/", 1)[0])
    (check,) = [ch for ch in case.checks if ch.key == key]
    assert check.lspci == check.captured, str(check)


# --------------------------------------------------------------------------- restore round trip

# Bytes a capability occupies from its offset: restore must write nowhere else.
def _footprint(entry: Captured) -> int:
    s = entry.state
    if entry.kind == "msi":
        return 0x18
    if entry.kind == "msix":
        return 0x0C
    if entry.kind == "sriov":
        return 0x40
    return 4 + 8 * max(1, min(6, int(s.ctrl0.num_bars)))


def _restore(entry: Captured, into: bytearray) -> list[tuple[int, int, int]]:
    writes: list[tuple[int, int, int]] = []

    def write_config(offset: int, value: int, size: int) -> None:
        assert size in (1, 2, 4) and 0 <= value < 1 << (8 * size), (offset, value, size)
        writes.append((offset, value, size))
        into[offset:offset + size] = value.to_bytes(size, "little")

    hooks = {name: (lambda _s: None) for name in entry.module.RESTORE_HOOKS}
    entry.module.restore(entry.state, write_config, entry.cap.offset, entry.params, hooks=hooks)
    return writes


@needs_data
@pytest.mark.parametrize("name", CASE_PARAMS)
def test_restore_then_capture_gives_the_same_state(name: str) -> None:
    """restore(state) into a copy of the dump, capture again: the same state, so restore and capture use the same offsets.

    Then the stronger form: the registers restore writes are zeroed first, so
    every value captured from them must have come from restore.
    """
    problems: list[str] = []
    for entry in load_case(name).captured:
        if entry.state is None:
            continue  # capture failed: reported by test_capture_agrees_with_lspci
        where = f"{entry.slot} {entry.kind}@{entry.cap.offset:x}"
        base, end = entry.cap.offset, entry.cap.offset + _footprint(entry)
        copy = bytearray(entry.config)
        writes = _restore(entry, copy)
        assert writes, f"{where}: restore wrote nothing"
        outside = [(hex(o), size) for o, _, size in writes if o < base or o + size > end]
        if outside:
            problems.append(f"{where}: restore wrote outside the capability: {outside}")
        again = entry.module.capture(reader(copy), base, entry.params)
        if again != entry.state:
            problems.append(f"{where}: after restore into a copy, capture gives {again} instead of {entry.state}")
        changed = [hex(i) for i in range(len(copy)) if copy[i] != entry.config[i]]
        if changed:
            problems.append(f"{where}: restoring the captured state changed bytes {changed}")

        zeroed = bytearray(entry.config)
        for offset, _, size in writes:
            zeroed[offset:offset + size] = bytes(size)
        _restore(entry, zeroed)
        again = entry.module.capture(reader(zeroed), base, entry.params)
        if again != entry.state:
            problems.append(f"{where}: after restore over zeroed registers, capture gives {again} instead of {entry.state}")
    assert not problems, "\n".join(problems)
