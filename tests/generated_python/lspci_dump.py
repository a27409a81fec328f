"""Read pciutils' test dumps: config space from `-xxx`/`-xxxx` hex, capability chains, and `lspci -vvv` text.

Written for the tests from the PCI Local Bus and PCIe Base specifications (the
capability list at 0x34, the extended list from 0x100), not from pciutils.

A `NAME.lspci-xxxx.txt` file holds, per device, a line naming the device
(`00:1f.3 Audio device: ...`, or with a domain `0000:00:1f.3 ...`), the
reporter's `lspci -vvv` text (indented) and the hex dump (`00: 86 80 ...`, one
line per 16 bytes, offsets up to `ff` or `fff`). A `NAME.lspci-vvv.txt` file
holds the same devices decoded again by lspci 3.9.0: a device line, indented
register lines and `\tCapabilities: [50] MSI: ...` with `\t\t` detail lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

CONFIG_SIZES = (256, 4096)  # `lspci -xxx` dumps the PCI header space, `-xxxx` the PCIe extended space too

CAP_ID_PCIX = 0x07
CAP_ID_MSI = 0x05
CAP_ID_EXP = 0x10
CAP_ID_MSIX = 0x11
EXT_CAP_ID_SRIOV = 0x0010
EXT_CAP_ID_REBAR = 0x0015

_SLOT = re.compile(r"^(?:(?P<domain>[0-9a-fA-F]{4,8}):)?(?P<bus>[0-9a-fA-F]{2}):(?P<dev>[0-9a-fA-F]{2})\.(?P<fn>[0-7])(?=\s)")
_HEX = re.compile(r"^(?P<offset>[0-9a-fA-F]{2,3}):(?P<bytes>(?: [0-9a-fA-F]{2}){16})\s*$")
_CAP_LINE = re.compile(r"^\tCapabilities: \[(?P<offset>[0-9a-f]+)(?: v(?P<version>\d+))?\] (?P<title>.*)$")


class DumpFormatError(ValueError):
    """The text is not the dump format described above (the message says where)."""


def normalise_slot(text: str) -> str:
    """`00:1f.3` or `0000:00:1f.3` as `0000:00:1f.3` (domain 0 when absent), lower case."""
    m = _SLOT.match(text + " ")
    if not m:
        raise ValueError(f"not a PCI address: {text!r}")
    domain = int(m["domain"] or "0", 16)
    return f"{domain:04x}:{m['bus'].lower()}:{m['dev'].lower()}.{m['fn']}"


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
    """Every device of a `.lspci-xxxx.txt` file, in file order, with its config space."""
    devices: list[DumpDevice] = []
    slot: str | None = None
    title = ""
    rows: list[bytes] = []

    def close(lineno: int) -> None:
        if slot is None:
            return
        config = b"".join(rows)
        if len(config) not in CONFIG_SIZES:
            raise DumpFormatError(f"line {lineno}: device {slot} has {len(config)} bytes of config space, "
                                  f"not one of {CONFIG_SIZES}")
        devices.append(DumpDevice(slot, title, config))

    for lineno, line in enumerate(text.splitlines(), 1):
        if _SLOT.match(line):
            close(lineno)
            slot, title, rows = normalise_slot(line.split()[0]), line, []
            continue
        m = _HEX.match(line)
        if not m:
            continue  # the reporter's lspci text, blank lines
        if slot is None:
            raise DumpFormatError(f"line {lineno}: hex dump before any device line")
        offset = int(m["offset"], 16)
        if offset != 16 * len(rows):
            raise DumpFormatError(f"line {lineno}: {slot}: hex line at 0x{offset:x}, expected 0x{16 * len(rows):x}")
        rows.append(bytes.fromhex(m["bytes"]))
    close(len(text.splitlines()) + 1)
    return devices


# --------------------------------------------------------------------------- capability chains

StopReason = Literal["end", "no-list", "loop", "bad-pointer", "broken", "outside"]


@dataclass(frozen=True)
class Capability:
    offset: int
    id: int
    version: int | None = None   # extended capabilities only
    next: int = 0                # the raw next pointer as read


@dataclass
class Chain:
    caps: list[Capability] = field(default_factory=list)
    stop: StopReason = "end"     # why the walk ended
    stop_at: int | None = None   # the offset that ended it (loop target, bad pointer), if any

    def find(self, cap_id: int) -> list[Capability]:
        return [c for c in self.caps if c.id == cap_id]


def walk_capabilities(dev: DumpDevice) -> Chain:
    """The standard capability list.

    Present only when Status bit 4 is set; the first pointer is at 0x34 (0x14
    for a CardBus bridge, header layout 2). Each entry is an ID byte and a next
    byte whose low two bits are reserved. The walk stops at a zero pointer, a
    pointer into the header (below 0x40), an ID of 0xff (a pointer into space
    that reads all ones), or an offset already visited.
    """
    chain = Chain()
    if not dev.read(0x06, 16) & 0x10:
        chain.stop = "no-list"
        return chain
    layout = dev.read(0x0E, 8) & 0x7F
    pointer = dev.read(0x14 if layout == 2 else 0x34, 8) & ~3
    seen: set[int] = set()
    while pointer:
        if pointer < 0x40 or pointer > 0xFC:
            chain.stop, chain.stop_at = "bad-pointer", pointer
            return chain
        if pointer in seen:
            chain.stop, chain.stop_at = "loop", pointer
            return chain
        seen.add(pointer)
        cap_id, nxt = dev.read(pointer, 8), dev.read(pointer + 1, 8)
        if cap_id == 0xFF:
            chain.stop, chain.stop_at = "broken", pointer
            return chain
        chain.caps.append(Capability(pointer, cap_id, None, nxt))
        pointer = nxt & ~3
    return chain


def walk_extended_capabilities(dev: DumpDevice) -> Chain:
    """The PCIe extended capability list, starting at 0x100.

    Each entry starts with a 32-bit header: ID in bits 15:0, version in 19:16,
    next offset in 31:20 (low two bits reserved). The walk stops at a header
    of 0 or 0xffffffff (nothing there), a next offset of 0, a next offset
    below 0x100 (not extended space), or an offset already visited. A 256-byte
    dump has no extended space: the chain is empty with stop `outside`.
    """
    chain = Chain()
    if len(dev.config) < 4096:
        chain.stop = "outside"
        return chain
    pointer = 0x100
    seen: set[int] = set()
    while True:
        if pointer in seen:
            chain.stop, chain.stop_at = "loop", pointer
            return chain
        seen.add(pointer)
        header = dev.read(pointer, 32)
        if header in (0, 0xFFFFFFFF):
            chain.stop, chain.stop_at = "end", pointer
            return chain
        nxt = header >> 20
        chain.caps.append(Capability(pointer, header & 0xFFFF, (header >> 16) & 0xF, nxt))
        pointer = nxt & ~3
        if pointer == 0:
            return chain
        if pointer < 0x100:
            chain.stop, chain.stop_at = "bad-pointer", pointer
            return chain


def has_extended_space(dev: DumpDevice, chain: Chain) -> bool:
    """Whether the function can have extended capabilities: a PCI Express or PCI-X capability, and a 4 KB dump.

    lspci shows the extended list under the same condition, so this is also
    when its `-vvv` text lists capabilities at 0x100 and above.
    """
    return len(dev.config) == 4096 and any(c.id in (CAP_ID_EXP, CAP_ID_PCIX) for c in chain.caps)


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
