"""Vendor-specific capabilities (cap 0x09, the repeated `vendor_specific` section) against lspci on real devices.

The independent reference is Debian's lspci -vvv decode (`NAME.lspci-vvv.txt`)
of pciutils' dumps in ../shared/data/pciutils, as in test_library_conformance.py
(which this file does not grow past its size). For every function:

* `inspect` finds every standard vendor-specific capability lspci lists, in
  list order, numbered as instances 0, 1, ... of the one section; where lspci
  prints `Len=yy` the captured cap_length is yy, and where it decodes a virtio
  capability (`VirtIO: CommonCfg` ... `BAR=0 offset=00003000 size=0000003c`)
  the captured vendor bytes hold that type, BAR, offset, length and notify
  multiplier (virtio_pci_cap: cfg_type at 3, bar at 4, offset and length as
  little-endian u32s at 8 and 12, the multiplier at 16);
* the generic device carries all of a function's instances: capture -> save ->
  load -> restore in Python, and the same capture and blob in C (gcc and
  clang under ASan/UBSan); a target whose instance differs in a byte is
  refused with the instance named, by both languages.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from conftest import ROOT, SHARED_DATA, standard_module

from vfiogen.configspace.dump import Function, read_dump
from vfiogen.configspace.report import inspect_function
from vfiogen_state import generic
from vfiogen_state import vendor_specific as vs
from vfiogen_state._runtime import LoadError, MigrationRefused

sys.path.insert(0, str(ROOT / "tests" / "generated_python"))
sys.path.insert(0, str(ROOT / "tests" / "generated_c"))
from lspci_dump import LspciCapability, parse_lspci  # noqa: E402

DATA = SHARED_DATA / "pciutils"
MISSING = f"pciutils config-space dumps not found at {DATA} (../shared/data/pciutils from the project root)"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=MISSING)
CASES = sorted(p.name.removesuffix(".lspci-xxxx.txt") for p in DATA.glob("*.lspci-xxxx.txt")) if DATA.is_dir() else []
TITLE = "Vendor Specific Information"
VIRTIO_TYPES = {"CommonCfg": 1, "Notify": 2, "ISR": 3, "DeviceCfg": 4}
"""lspci's names of the virtio configuration types (virtio 1.x, 4.1.4); any other prints `<unknown>`."""
MODULE = standard_module()
MAX_IN_STANDARD_SPACE = 192


@dataclass
class Instance:
    case: str
    function: Function
    index: int
    offset: int
    registers: dict[str, int | None]
    data: bytes
    """The byte-string register `data`: the vendor bytes from offset 3, as many as the length says."""
    lcap: LspciCapability

    @property
    def where(self) -> str:
        return f"{self.case} {self.function.address} vendor_specific[{self.index}]@{self.offset:02x}"

    def byte(self, offset: int) -> int:
        return self.data[offset - 3]

    def le32(self, offset: int) -> int:
        return int.from_bytes(bytes(self.byte(offset + i) for i in range(4)), "little")


@cache
def instances(case: str) -> tuple[Instance, ...]:
    """Every vendor-specific instance inspect finds in the dump, each with lspci's line for it."""
    lspci = {d.slot: d for d in parse_lspci((DATA / f"{case}.lspci-vvv.txt").read_text())}
    found = []
    for function in read_dump(DATA / f"{case}.lspci-xxxx.txt"):
        listed = [c for c in lspci[function.address].caps if c.version is None and c.title.startswith(TITLE)]
        reports = [r for r in inspect_function(function, MODULE).capabilities if r.schema == "vendor_specific"]
        where = f"{case} {function.address}"
        # every one lspci lists, in its order, and no other
        assert [r.capability.offset for r in reports] == [c.offset for c in listed], where
        assert [r.instance for r in reports] == list(range(len(reports))), where
        for report, lcap in zip(reports, listed, strict=True):
            assert report.state is not None and report.label == f"vendor_specific[{report.instance}]", where
            found.append(Instance(case, function, report.instance or 0, report.capability.offset,
                                  report.state.registers, report.state.strings["data"], lcap))
    return tuple(found)


@needs_data
@pytest.mark.parametrize("case", CASES)
def test_inspect_finds_every_instance_with_its_length(case: str) -> None:
    wrong = []
    for found in instances(case):
        length = found.registers["cap_length"]
        match = re.match(rf"{TITLE}: Len=([0-9a-f]+) <\?>$", found.lcap.title)
        if match is not None and int(match.group(1), 16) != length:
            wrong.append(f"{found.where}: lspci Len={match.group(1)}, captured cap_length 0x{length:02x}")
        # the bytes inside the length are captured, as they are in the dump; a length past the byte string's
        # max (tree-asus-p6t6 00:10.0, Len=ff at 0x50 in a 256-byte dump) takes the max, and inspect says why
        inside = min((length or 0) - 3, 189)
        want = found.function.config[found.offset + 3:found.offset + 3 + inside]
        if found.data != want:
            wrong.append(f"{found.where}: vendor bytes {found.data.hex()} for length {length}, dump {want.hex()}")
        if length is not None and length - 3 > 189:
            report = next(r for r in inspect_function(found.function, MODULE).capabilities
                          if r.capability.offset == found.offset)
            # 0x50 + 3 + 189 runs past the 256-byte dump as well
            assert report.state is not None and report.state.problems == [
                f"data: its length {length - 3} is outside 0..189",
                f"data: 0x{len(found.function.config):x} is past the dump's {len(found.function.config)} bytes"
            ], found.where
    assert not wrong, "\n".join(wrong)


@needs_data
@pytest.mark.parametrize("case", CASES)
def test_virtio_capabilities_decode_as_lspci_does(case: str) -> None:
    wrong = []
    for found in instances(case):
        match = re.match(rf"{TITLE}: VirtIO: (\S+)$", found.lcap.title)
        if match is None:
            continue
        detail = re.match(r"BAR=(\d+) offset=([0-9a-f]{8}) size=([0-9a-f]{8})(?: multiplier=([0-9a-f]{8}))?$",
                          found.lcap.body[0])
        assert detail is not None, found.lcap.body
        want = {"cfg_type": VIRTIO_TYPES.get(match.group(1)), "bar": int(detail.group(1)),
                "offset": int(detail.group(2), 16), "length": int(detail.group(3), 16)}
        got = {"cfg_type": found.byte(3), "bar": found.byte(4), "offset": found.le32(8), "length": found.le32(12)}
        if want["cfg_type"] is None:  # `<unknown>`: a type lspci has no name for
            want["cfg_type"] = got["cfg_type"] if got["cfg_type"] not in VIRTIO_TYPES.values() else -1
        if detail.group(4) is not None:
            want["multiplier"], got["multiplier"] = int(detail.group(4), 16), found.le32(16)
        if want != got:
            wrong.append(f"{found.where}: lspci {want}, captured {got}")
    assert not wrong, "\n".join(wrong)


@needs_data
def test_enough_instances_were_compared() -> None:
    """Floors counted by hand in the -vvv files: 16 standard vendor-specific capabilities, 9 of them virtio (two
    functions of cap-vendor-virtio, 5 and 4), 7 with `Len=`; 6 functions have one or more."""
    every = [f for case in CASES for f in instances(case)]
    assert len(every) >= 16
    assert sum("VirtIO" in f.lcap.title for f in every) >= 9
    assert sum("Len=" in f.lcap.title for f in every) >= 7
    assert len({(f.case, f.function.address) for f in every}) >= 6
    assert max(f.index for f in every) >= 4  # a function with five instances


# --------------------------------------------------------------------------- the generic device, all instances


def functions() -> list[tuple[str, Function, list[int]]]:
    """(case, function, vendor-specific offsets) of every function that has one."""
    out: dict[tuple[str, str], tuple[str, Function, list[int]]] = {}
    for case in CASES:
        for found in instances(case):
            out.setdefault((case, found.function.address), (case, found.function, []))[2].append(found.offset)
    return list(out.values())


def config(count: int) -> generic.GenericConfig:
    made = generic.GenericConfig(present=generic.HAS_VENDOR_SPECIFIC)
    made.instances.vendor_specific = count
    return made


def host(offsets: list[int]) -> generic.GenericDescriptor:
    made = generic.GenericDescriptor(present=generic.HAS_VENDOR_SPECIFIC)
    made.vendor_specific = [vs.VendorSpecificDescriptor(cap_offset=o) for o in offsets]
    return made


def reader(function: Function) -> Any:
    return lambda offset, size: int.from_bytes(function.config[offset:offset + size], "little")


def fits(function: Function, offsets: list[int]) -> bool:
    """Every instance's length fits standard configuration space (the schema's constraint)."""
    return all(function.config[o + 2] <= MAX_IN_STANDARD_SPACE for o in offsets)


@needs_data
def test_capture_save_load_restore_carries_every_instance() -> None:
    done = refused = 0
    for case, function, offsets in functions():
        where = f"{case} {function.address}"
        c = config(len(offsets))
        if not fits(function, offsets):
            # tree-asus-p6t6 00:10.0: Len=ff at 0x50 runs past 0xff; capture refuses the byte string's length
            # (252 bytes, more than its 189), naming the field and the config-space offset of its first byte
            bad = next(o for o in offsets if function.config[o + 2] > MAX_IN_STANDARD_SPACE)
            with pytest.raises(LoadError) as caught:
                generic.capture(reader(function), {"vendor_specific": offsets}, c)
            assert (caught.value.field, caught.value.offset) == ("data", bad + 3), where
            assert "its length 252 read from the device is outside 0..189" in caught.value.reason, where
            refused += 1
            continue
        state = generic.capture(reader(function), {"vendor_specific": offsets}, c)
        assert [s.cap_length for s in state.vendor_specific] == [function.config[o + 2] for o in offsets], where
        assert [bytes(s.data) for s in state.vendor_specific] == [
            function.config[o + 3:o + function.config[o + 2]] for o in offsets], where
        descriptor = generic.derive_descriptor(state, host(offsets), c)
        assert [d.vendor for d in descriptor.vendor_specific] == [
            bytes(s.data).ljust(189, b"\0") for s in state.vendor_specific], where
        blob = generic.save(state, descriptor, config=c)
        loaded, source = generic.load(blob, config=c, target=descriptor)
        assert loaded.vendor_specific == state.vendor_specific and source.vendor_specific == descriptor.vendor_specific
        assert all(vs.validate(s) == [] for s in loaded.vendor_specific), where
        writes: list[tuple[int, int, int]] = []
        generic.restore(loaded, lambda o, v, n, into=writes: into.append((o, v, n)), {"vendor_specific": offsets},
                        config=c)
        assert writes == [], f"{where}: nothing of a vendor-specific capability is writable, and restore wrote"
        # capture again from the unchanged device: the same instances
        assert generic.capture(reader(function), {"vendor_specific": offsets}, c).vendor_specific == loaded.vendor_specific
        done += 1
    assert done >= 5 and refused == 1


@needs_data
def test_a_target_whose_instance_differs_is_refused_naming_it() -> None:
    case, function, offsets = next(f for f in functions() if len(f[2]) == 5)  # cap-vendor-virtio, 5 instances
    c = config(5)
    state = generic.capture(reader(function), {"vendor_specific": offsets}, c)
    descriptor = generic.derive_descriptor(state, host(offsets), c)
    blob = generic.save(state, descriptor, config=c)
    target = generic.derive_descriptor(state, host(offsets), c)
    vendor = bytearray(target.vendor_specific[3].vendor)
    vendor[8 - 3] ^= 0x40  # the target's DeviceCfg window at another offset: byte 8 of the capability
    target.vendor_specific[3].vendor = bytes(vendor)
    with pytest.raises(MigrationRefused) as caught:
        generic.load(blob, config=c, target=target)
    [failure] = caught.value.failures
    assert (failure.section, failure.rule, failure.field, failure.offset) == ("vendor_specific[3]", "equal",
                                                                              "vendor", 8), case
    assert (failure.source, failure.target) == (vendor[5] ^ 0x40, vendor[5]), case
    # a target with one instance fewer: the source's last one has nowhere to go
    fewer = config(4)
    short = generic.derive_descriptor(generic.GenericState(vendor_specific=state.vendor_specific[:4]),
                                      host(offsets[:4]), fewer)
    with pytest.raises(MigrationRefused) as caught:
        generic.load(blob, config=fewer, target=short)
    assert [(f.section, f.rule) for f in caught.value.failures] == [("vendor_specific[4]", "present")]
