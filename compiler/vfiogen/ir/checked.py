"""IR stage two: the checked module that back ends accept.

`passes.normalize` builds it from a `Module` that passed every check. It keeps
the as-written nodes and adds what is derived from them once, for every back
end: register masks, the offsets a register can take, and the byte layout of
each section version on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vfiogen.ir.nodes import Device, Register, Section, StateField
from vfiogen.source import Span


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterMasks:
    """Bit masks of a register by access; `reserved` includes undeclared bits."""

    rw: int
    ro: int
    rw1c: int
    hwinit: int
    rsvdp: int
    rsvdz: int
    declared: int
    """Bits some field (or the whole-register access) declares."""

    @property
    def writable(self) -> int:
        return self.rw | self.rw1c

    @property
    def reserved(self) -> int:
        return self.rsvdp | self.rsvdz


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedRegister:
    register: Register
    masks: RegisterMasks
    offsets: tuple[int, ...]
    """Every offset the register can sit at (one, unless it moves with read-only bits)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WireItem:
    """One field's bytes in a section payload (or a descriptor record)."""

    path: str
    """Dotted path; array elements are written `name[]`."""
    type_text: str
    """'u16 register', 'u32', 'bytes[16]', 'array', 'struct'..."""
    offset: int | None
    """Byte offset from the payload start, when every earlier item has a fixed size."""
    after: str | None
    """When `offset` is None: the item this one follows, and `relative` bytes after it."""
    relative: int
    size: int | None
    """Bytes, when fixed."""
    max_size: int
    condition: str | None = None
    """Presence expression text, or None when always there."""
    repeat: str | None = None
    """For arrays: the length expression and maximum, as text."""
    depth: int = 0
    """Nesting level (struct members and array elements are indented in docs)."""
    in_element: bool = False
    """True when `offset` counts from the start of one array element, not of the payload."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionLayout:
    version: int
    items: tuple[WireItem, ...]
    min_size: int
    max_size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedSection:
    section: Section
    registers: tuple[CheckedRegister, ...]
    state: tuple[StateField, ...]
    layouts: tuple[VersionLayout, ...]
    """One per loadable version, min_version first."""
    descriptor_layout: tuple[WireItem, ...]
    span: Span = field(compare=False)

    @property
    def name(self) -> str:
        return self.section.name


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundOffsets:
    """Where a device's param bindings put a register, when that differs from the params' defaults."""

    device: str
    section: str
    register: str
    offsets: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedModule:
    sections: tuple[CheckedSection, ...]
    devices: tuple[Device, ...]
    bound_offsets: tuple[BoundOffsets, ...] = ()
    license: str
    """The SPDX expression every generated file's licence line carries (the options file's, or the default)."""

    def section(self, name: str) -> CheckedSection:
        return next(s for s in self.sections if s.name == name)
