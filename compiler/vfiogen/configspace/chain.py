"""Walking the capability lists of a function (PCI Local Bus 3.0 §6.7, PCIe Base §7.6).

The standard list exists when Status bit 4 is set; its head is at 0x34 (0x14 in
a CardBus bridge's header). Each entry is an id byte and a next-pointer byte
whose two low bits are reserved. The extended list starts at 0x100 in a
function with a PCI Express or PCI-X capability; each entry opens with a dword
of id (bits 15:0), version (19:16) and next offset (31:20).

Real devices and dumps break these rules, so every walk is bounded: it stops,
and says why, at a pointer into the header or past the dump, an entry that
reads all ones, or an offset it has already visited. It never loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vfiogen.configspace.dump import Function

Kind = Literal["cap", "ecap"]
Stop = Literal["end", "no-list", "outside", "loop", "bad-pointer", "broken", "short"]
"""Why a walk ended: the list's end, no list at all (Status bit 4 clear), no extended space in the dump; or,
as problems, a loop, a pointer out of range, an entry reading all ones, or a dump that ends first."""

CAP_ID_PCIX = 0x07
CAP_ID_EXP = 0x10


@dataclass(frozen=True)
class Capability:
    kind: Kind
    id: int
    offset: int
    version: int | None = None
    """Extended capabilities only."""


@dataclass
class Chain:
    caps: list[Capability] = field(default_factory=list)
    stop: Stop = "end"
    stop_at: int | None = None
    """The offset that ended the walk (the loop's target, the bad pointer), when one did."""
    problem: str | None = None
    """What went wrong, in words, when the walk ended early."""

    def fail(self, stop: Stop, at: int | None, problem: str) -> Chain:
        self.stop, self.stop_at, self.problem = stop, at, problem
        return self


def walk_standard(function: Function) -> Chain:
    chain = Chain()
    status, layout = function.read(0x06, 2), function.read(0x0E, 1)
    if status is None or layout is None:
        return chain.fail("short", None, "the dump ends inside the header")
    if not status & 0x10:
        chain.stop = "no-list"
        return chain
    head = 0x14 if layout & 0x7F == 2 else 0x34
    pointer = (function.read(head, 1) or 0) & ~3
    seen: set[int] = set()
    while pointer:
        if pointer < 0x40 or pointer > 0xFC:
            return chain.fail("bad-pointer", pointer, f"a capability pointer 0x{pointer:02x} outside 0x40..0xfc")
        if pointer in seen:
            return chain.fail("loop", pointer, f"the list loops back to 0x{pointer:02x}")
        seen.add(pointer)
        cap_id, following = function.read(pointer, 1), function.read(pointer + 1, 1)
        if cap_id is None or following is None:
            return chain.fail("short", pointer, f"the capability at 0x{pointer:02x} is past the dump's "
                              f"{len(function.config)} bytes")
        if cap_id == 0xFF:
            return chain.fail("broken", pointer, f"the capability at 0x{pointer:02x} reads all ones")
        chain.caps.append(Capability("cap", cap_id, pointer))
        pointer = following & ~3
    return chain


def has_extended_space(function: Function, standard: Chain) -> bool:
    """A 4096-byte dump of a function with a PCI Express or PCI-X capability (as lspci decides too)."""
    return len(function.config) == 4096 and any(c.id in (CAP_ID_EXP, CAP_ID_PCIX) for c in standard.caps)


def walk_extended(function: Function) -> Chain:
    """The extended list; a header of 0 or all ones ends it (nothing there), as lspci reads it too."""
    chain = Chain()
    if len(function.config) < 4096:
        chain.stop = "outside"
        return chain
    pointer = 0x100
    seen: set[int] = set()
    while True:
        if pointer in seen:
            return chain.fail("loop", pointer, f"the extended list loops back to 0x{pointer:03x}")
        seen.add(pointer)
        header = function.read(pointer, 4)
        if header is None:
            return chain.fail("short", pointer, f"the extended capability at 0x{pointer:03x} is past the dump")
        if header in (0, 0xFFFFFFFF):
            chain.stop_at = pointer
            return chain
        chain.caps.append(Capability("ecap", header & 0xFFFF, pointer, (header >> 16) & 0xF))
        pointer = (header >> 20) & ~3
        if pointer == 0:
            return chain
        if pointer < 0x100 or pointer > 0xFFC:
            return chain.fail("bad-pointer", pointer,
                              f"an extended capability pointer 0x{pointer:03x} outside 0x100..0xffc")


def capabilities(function: Function) -> tuple[list[Capability], list[str]]:
    """Every capability of the function in list order (standard, then extended), and the walks' problems."""
    standard = walk_standard(function)
    found, problems = list(standard.caps), [p for p in (standard.problem,) if p]
    if has_extended_space(function, standard):
        extended = walk_extended(function)
        found += extended.caps
        problems += [p for p in (extended.problem,) if p]
    return found, problems
