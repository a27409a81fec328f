"""Read pciutils' test dumps: config space and capability chains (through vfiogen's own `configspace`
reader, which these tests hold against lspci), and the independent `lspci -vvv` text.

A `NAME.lspci-xxxx.txt` file holds, per device, a line naming the device
(`00:1f.3 Audio device: ...`, or with a domain `0000:00:1f.3 ...`), the
reporter's `lspci -vvv` text (indented) and the hex dump (`00: 86 80 ...`, one
line per 16 bytes, offsets up to `ff` or `fff`). A `NAME.lspci-vvv.txt` file
holds the same devices decoded again by lspci 3.9.0: a device line, indented
register lines and `\tCapabilities: [50] MSI: ...` with `\t\t` detail lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vfiogen.configspace.chain import Capability, Chain, walk_extended, walk_standard
from vfiogen.configspace.chain import has_extended_space as function_has_extended_space
from vfiogen.configspace.dump import DumpError as DumpFormatError
from vfiogen.configspace.dump import Function, normalise_address, parse_text


CAP_ID_PCIX = 0x07
CAP_ID_MSI = 0x05
CAP_ID_EXP = 0x10
CAP_ID_MSIX = 0x11
EXT_CAP_ID_SRIOV = 0x0010
EXT_CAP_ID_REBAR = 0x0015

_SLOT = re.compile(r"^(?:(?P<domain>[0-9a-fA-F]{4,8}):)?(?P<bus>[0-9a-fA-F]{2}):(?P<dev>[0-9a-fA-F]{2})\.(?P<fn>[0-7])(?=\s)")
_CAP_LINE = re.compile(r"^\tCapabilities: \[(?P<offset>[0-9a-f]+)(?: v(?P<version>\d+))?\] (?P<title>.*)$")


def normalise_slot(text: str) -> str:
    """`00:1f.3` or `0000:00:1f.3` as `0000:00:1f.3` (domain 0 when absent), lower case."""
    slot = normalise_address(text)
    if slot is None:
        raise ValueError(f"not a PCI address: {text!r}")
    return slot


@dataclass
class DumpDevice:
    """One device of a `.lspci-xxxx.txt` file."""

    slot: str            # normalised, `0000:00:1f.3`
    title: str           # the line that opened the block
    config: bytes        # 256 or 4096 bytes

    def read(self, offset: int, width_bits: int) -> int:
        """A little-endian register of `width_bits` (8, 16 or 32) at `offset`; IndexError outside the dump."""
        size = width_bits // 8
        if width_bits not in (8, 16, 32) or offset < 0 or offset + size > len(self.config):
            raise IndexError(f"{self.slot}: cannot read {width_bits} bits at 0x{offset:x} of {len(self.config)} bytes")
        return int.from_bytes(self.config[offset:offset + size], "little")


def parse_dump(text: str) -> list[DumpDevice]:
    """Every device of a `.lspci-xxxx.txt` file, in file order, with its config space (vfiogen's own reader)."""
    return [DumpDevice(f.address, f.title, f.config) for f in parse_text(text, "<dump>")]


# --------------------------------------------------------------------------- capability chains (vfiogen's walks)


def _function(dev: DumpDevice) -> Function:
    return Function(dev.slot, dev.title, dev.config)


def walk_capabilities(dev: DumpDevice) -> Chain:
    return walk_standard(_function(dev))


def walk_extended_capabilities(dev: DumpDevice) -> Chain:
    return walk_extended(_function(dev))


def has_extended_space(dev: DumpDevice, chain: Chain) -> bool:
    return function_has_extended_space(_function(dev), chain)


# --------------------------------------------------------------------------- lspci -vvv text


@dataclass
class LspciCapability:
    offset: int
    version: int | None   # `[100 v1]`: extended capabilities carry one
    title: str            # the text after `] `
    body: list[str]       # the `\t\t` detail lines, stripped


@dataclass
class LspciDevice:
    slot: str
    title: str
    lines: list[str]
    caps: list[LspciCapability]

    def cap_at(self, offset: int) -> LspciCapability | None:
        found = [c for c in self.caps if c.offset == offset]
        return found[0] if len(found) == 1 else None


def parse_lspci(text: str) -> list[LspciDevice]:
    """Every device of a `.lspci-vvv.txt` file, with its capabilities in the order lspci printed them."""
    devices: list[LspciDevice] = []
    in_cap = False   # detail lines (two tabs) belong to the capability line above them
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            in_cap = False
            continue
        if _SLOT.match(line):
            devices.append(LspciDevice(normalise_slot(line.split()[0]), line, [], []))
            in_cap = False
            continue
        if not devices:
            raise DumpFormatError(f"line {lineno}: text before any device line")
        dev = devices[-1]
        dev.lines.append(line)
        m = _CAP_LINE.match(line)
        if m:
            version = int(m["version"]) if m["version"] else None
            dev.caps.append(LspciCapability(int(m["offset"], 16), version, m["title"], []))
            in_cap = True
        elif line.startswith("\t\t"):
            if in_cap:
                dev.caps[-1].body.append(line.strip())
        else:
            in_cap = False
    return devices


__all__ = ["Capability", "Chain", "DumpDevice", "DumpFormatError", "LspciCapability", "LspciDevice",
           "has_extended_space", "normalise_slot", "parse_dump", "parse_lspci", "walk_capabilities",
           "walk_extended_capabilities"]
