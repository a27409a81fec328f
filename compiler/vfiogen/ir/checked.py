"""IR stage two: the checked module that back ends accept.

`passes.normalize` builds it from a `Module` that passed every check. It keeps
the as-written nodes and adds what is derived from them once, for every back
end: register masks and enum checks, the offsets a register can take, the
byte layout of each section version on the wire, the section's symbol table,
and its wire plan (`ir.plan`), which the back ends print. Back ends read
nothing but this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vfiogen.ir.nodes import (ArrayType, BytesType, Device, FieldType, Register, ScalarType, Section, StateField,
                              StructType)
from vfiogen.ir.plan import EnumCheck, SectionPlan
from vfiogen.ir.symbols import SectionSymbols
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
    sticky: int = 0
    """Bits that survive a hot reset (rws, rw1cs, ros); also counted in `rw`, `rw1c` or `ro`."""
    emulated: int = 0
    """Bits the hypervisor emulates (`emulated:` on the register or its fields); never reserved bits."""

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
    enum_checks: tuple[EnumCheck, ...] = ()
    """Its bit fields whose enum does not cover every value the bits can hold (the others need no check)."""


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
    plan: SectionPlan
    symbols: SectionSymbols = field(compare=False, repr=False)
    """The section's names, for translating expressions (derived from the section, so not compared)."""
    span: Span = field(compare=False)

    @property
    def name(self) -> str:
        return self.section.name

    def register(self, name: str) -> CheckedRegister:
        return next(r for r in self.registers if r.register.name == name)

    def state_field(self, path: str) -> StateField:
        """The state field or struct member at a schema path (`rows.extra`; array elements need no mark)."""
        first, *rest = path.split(".")
        found = next(s for s in self.state if s.name == first)
        for name in rest:
            field_type = found.type
            while isinstance(field_type, ArrayType):
                field_type = field_type.element
            assert isinstance(field_type, StructType), path
            found = next(m for m in field_type.members if m.name == name)
        return found


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


def type_text(field_type: FieldType) -> str:
    """How the lock and the docs spell a field's type."""
    if isinstance(field_type, ScalarType):
        return field_type.kind.value
    if isinstance(field_type, BytesType):
        return f"bytes[{field_type.size}]"
    if isinstance(field_type, ArrayType):
        return f"array of {type_text(field_type.element)}"
    return "struct"
