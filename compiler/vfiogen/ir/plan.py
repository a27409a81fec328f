"""The wire plan: how each section version is read and written, worked out once for every back end.

`passes.plan` builds it; the back ends print it and decide nothing about the
layout themselves (Emboss's split: sizes and offsets in the front end, text
in the back end). A version's walk is a tree of steps in wire order:

- a `Run` of fixed-size leaves that are always present together: one
  truncation check for all of them, and a truncation names the first leaf it
  cuts, in every language;
- a `Cond`, present only when its expression holds;
- an `Array` of elements, its count from its length expression;
- a `Struct`, whose members form runs of their own (a run never crosses a
  struct's edge, so every back end checks the same bytes in the same order).

Paths are schema paths, with `[]` standing for each enclosing array's index
(`vectors[].data`); a `member` path spells the same thing as a tuple
(`('vectors', '[]', 'data')`) for back ends that address state by name.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

from vfiogen.ir.expr import Expr
from vfiogen.ir.types import CompatKind, ScalarKind


class LeafKind(enum.Enum):
    UINT = "uint"
    """An unsigned integer or a register, big-endian at its size."""
    SINT = "sint"
    BOOL = "bool"
    """One byte, 0 or 1."""
    BYTES = "bytes"


@dataclass(frozen=True, slots=True, kw_only=True)
class EnumCheck:
    """A bit field whose enum does not cover every value its bits can hold, so a loader must check it."""

    field: str
    lo: int
    mask: int
    """The field's mask at bit 0."""
    enum: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Leaf:
    """One fixed-size value on the wire."""

    path: str
    """What an error names; `[]` for each enclosing array's index."""
    member: tuple[str, ...]
    """Where the value lives in the state: names, and `[]` for each array index."""
    kind: LeafKind
    size: int
    rel: int
    """Bytes from the start of its run."""
    scalar: ScalarKind | None = None
    """The scalar type (`u16` for a 16-bit register); None for bytes."""
    register: str | None = None
    """The register this leaf is, when it is one."""
    enum: str | None = None
    """An enum the whole value must be a value of."""
    enum_checks: tuple[EnumCheck, ...] = ()
    reserved: int = 0
    """Bits a loader refuses when set (registers with bit fields)."""
    carried: bool = True
    """False when the section's newest version no longer has the field: load drops it, save writes `gone`."""
    gone: int = 0
    read: bool = False
    """A top-level value some presence, length or constraint reads: a loader keeps it while it checks."""

    @property
    def value_checked(self) -> bool:
        """True when a value can break the leaf's own rules (reserved bits, an enum): what a save refuses."""
        return bool(self.reserved or self.enum_checks or self.enum)

    @property
    def checked(self) -> bool:
        """True when loading the leaf takes more than a bounds check."""
        return self.value_checked or self.kind is LeafKind.BOOL


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    leaves: tuple[Leaf, ...]
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Guarded:
    """A field (register, state field or struct member) that is on the wire only when a `Cond` holds."""

    path: str
    member: tuple[str, ...]
    field: str
    """Its schema path (`vectors.extra`, no index marks), for looking it up."""
    register: bool = False
    scalar: bool = False
    """A register or scalar (its zero is `0`), not bytes, an array or a struct."""
    carried: bool = True
    """False when the newest version no longer has it (nothing to reset when absent)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Cond:
    """Steps on the wire only when `present` holds; when it does not, each guarded field reads as zero.

    Neighbouring fields with one presence share one `Cond`, so the test is made once.
    """

    present: Expr
    body: tuple[Step, ...]
    guards: tuple[Guarded, ...]


class ElementShape(enum.Enum):
    SCALAR = "scalar"
    """A non-bool integer: the array is a list of integers of one size."""
    RECORD = "record"
    """A struct of non-bool integers without enums or presence: one fixed record per element."""
    OTHER = "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class Array:
    path: str
    member: tuple[str, ...]
    field: str
    """The array's schema path, for looking its type up."""
    length: Expr
    max: int
    depth: int
    """Arrays around this one; its elements are indexed by index `depth`."""
    body: tuple[Step, ...]
    """The steps of one element."""
    element_size: int | None
    """Bytes per element, when fixed."""
    element_leaves: tuple[Leaf, ...]
    """For fixed elements: each leaf with its offset in the element (to name the leaf a truncation cuts)."""
    shape: ElementShape
    checked: bool
    """True when loading an element takes more than a bounds check (or its size is not fixed)."""
    word: int
    """Bytes per word when the element's bytes are words of one size (integers of one width, or bytes),
    so the array can move with one byte-swapping copy; 0 when not, or when the state no longer has it."""
    carried: bool = True
    count_can_be_negative: bool = True
    count_can_exceed_max: bool = True
    """Whether the length expression's range reaches below 0 or above `max` (a check that cannot fire is not
    printed)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Struct:
    path: str
    member: tuple[str, ...]
    field: str
    """The struct's schema path (no index marks), which names its type."""
    members: tuple[str, ...]
    body: tuple[Step, ...]


Step = Union[Run, Cond, Array, Struct]


@dataclass(frozen=True, slots=True, kw_only=True)
class Missing:
    """A field the newest version has that an older version does not carry: a load gives it its default."""

    name: str
    register: bool = False
    default: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionPlan:
    version: int
    walk: tuple[Step, ...]
    missing: tuple[Missing, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DescriptorItem:
    """One field of the section's descriptor record, at `offset` bytes from the record's start."""

    name: str
    kind: LeafKind
    size: int
    offset: int
    scalar: ScalarKind | None = None
    register: str | None = None
    """For a field derived from a register: the register, and the bits of it the field takes."""
    mask: int = 0
    present: Expr | None = None
    """The register's presence (an absent register gives 0)."""
    constant: int | None = None
    """For a field the build itself fixes (its version bounds, its number of registers): its value. Each side
    derives it from its own schemas and never copies it."""
    byte_string: str | None = None
    """For a field taken from a byte-string register (`bytes[max]`): the register, whose bytes the field holds,
    0 past its length."""
    config_offset: int | None = None
    """For a byte-string field: the config-space offset (in the capability) of its byte 0, which a compat
    reason names for the first byte that differs (None for any other field, which keeps their dumps and so
    every fingerprint as before)."""

    @property
    def host(self) -> bool:
        """The host supplies the value (a capability offset, a size it learned): not read from a register,
        not fixed by the build."""
        return self.register is None and self.constant is None and self.byte_string is None


MIN_VERSION, MAX_VERSION, MASK_REGISTERS = "min_version", "max_version", "mask_registers"
"""The fixed descriptor fields every section gets after the schema's own: the versions the side's build loads,
and how many registers its mask list indexes."""
MASK_ENTRY_HEAD = 3
"""Bytes before an entry's masks in a descriptor record's mask list: the register's index (u16), its width in
bytes (u8)."""
MASK_ARRAYS = ("emulated_masks", "write_masks")
"""A descriptor's in-memory mask arrays, indexed by register: the emulated bits, the write masks."""
MASK_FIELD_PREFIXES = ("emulated_", "wmask_")
"""How compat reasons name one register's masks (`emulated_control`, `wmask_control`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservedWhen:
    """Bits of a register that are reserved (RsvdP) on a function where `condition` holds: a bit field's
    `reserved_when` (DevCtl bit 15 is neither Initiate FLR nor Bridge Configuration Retry Enable on a switch
    port). Capture reads them as 0 there and the mask list leaves them out of both masks; the section's
    `checks` refuse them set."""

    register: str
    fields: tuple[str, ...]
    """The bit fields reserved under this condition (several when they share it, as written)."""
    bits: int
    condition: Expr
    """Over read-only bits of the section (typecheck holds it to what the device is, as `present`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StateCheck:
    """A condition every state of the section meets, which validate tests and a loader tests once it has read
    the whole payload: a schema constraint, or a conditionally reserved bit field left clear."""

    holds: Expr
    path: str
    """The field an error names: a constraint's first reference, or `register.field`."""
    reason: str
    reserved: bool = False
    """A conditional reservation (C status VFG_ERR_RESERVED) rather than a constraint (VFG_ERR_CONSTRAINT)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MaskedRegister:
    """A register as the descriptor's mask list knows it (docs/wire-format.md, "Descriptor frame")."""

    name: str
    index: int
    """Its entry's key: its place among the section's registers in first-version order (by the version that
    added it, then declaration order), so a register keeps its index when later versions add others."""
    width: int
    """In bits."""
    emulated: int
    writable: int
    """This build's masks: the bits the hypervisor emulates and those the guest may write; both 0 for a
    register the newest version does not carry, and on a device where `present` is false."""
    present: Expr | None
    emulated_reason: str
    writable_reason: str
    """What a difference in either mask refuses, naming the register and the section."""
    reserved_when: tuple[ReservedWhen, ...] = ()
    """Mask bits that are reserved, and so in neither mask, on a function where the condition holds."""

    @property
    def negotiated(self) -> bool:
        """The build may put an entry for it in the list (some mask bit is set)."""
        return bool(self.emulated | self.writable)

    def masks_on(self, holds: Callable[[Expr], bool]) -> tuple[int, int]:
        """(emulated bits, write mask) on a function where the register is present, `holds` answering each
        `reserved_when` condition there: what the generated derive_descriptor gives, for code that interprets
        the plan."""
        dropped = 0
        for reserved in self.reserved_when:
            if holds(reserved.condition):
                dropped |= reserved.bits
        return self.emulated & ~dropped, self.writable & ~dropped

    @property
    def emulated_field(self) -> str:
        return f"{MASK_FIELD_PREFIXES[0]}{self.name}"

    @property
    def writable_field(self) -> str:
        return f"{MASK_FIELD_PREFIXES[1]}{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MaskList:
    """The part of a descriptor record after its fixed items: one entry (index, width, emulated bits, write
    mask) per register whose masks are not both 0, in index order. A target compares the registers both
    builds index (a missing entry means both masks are 0) and skips the entries of registers only the
    source's build has, which no version the target loads carries; so a new section version may add a
    negotiated register without making the builds on either side of it refuse each other."""

    registers: tuple[MaskedRegister, ...]
    """Every register of the section, by index."""
    word: int
    """Bits of one element of the in-memory mask arrays: the widest register's (8 when there is none)."""

    @property
    def negotiated(self) -> tuple[MaskedRegister, ...]:
        return tuple(r for r in self.registers if r.negotiated)

    @property
    def max_size(self) -> int:
        """Bytes of the longest list this build packs: an entry for every register (a descriptor unpacked from
        another build may hold masks for a register this one does not negotiate)."""
        return sum(MASK_ENTRY_HEAD + 2 * (r.width // 8) for r in self.registers)

    def differences(self, source_count: int, source: dict[int, tuple[int, int]], target_count: int,
                    target: dict[int, tuple[int, int]]) -> list[tuple[MaskedRegister, bool, int, int]]:
        """(register, whether it is the write mask, source's mask, target's) for each mask that differs among
        the registers both builds index, in index order, emulated bits before the write mask: what the
        generated check_compat compares, for code that interprets the plan. `source` and `target` map an
        index to its (emulated, write mask) entry; a missing index is (0, 0)."""
        found = []
        for register in self.registers[:min(source_count, target_count)]:
            pairs = source.get(register.index, (0, 0)), target.get(register.index, (0, 0))
            for writable in (False, True):
                if pairs[0][writable] != pairs[1][writable]:
                    found.append((register, writable, pairs[0][writable], pairs[1][writable]))
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatCheck:
    """One compat rule over a descriptor field, as both back ends test it on (source, target).

    `equal`: the values are equal (bytes: byte for byte); `subset`: no bit set in the source's is clear in
    the target's; `superset`: the reverse; `target_ge`: the target's value is at least the source's;
    `masked_equal`: the values agree on the bits of `mask`.
    """

    kind: CompatKind
    item: DescriptorItem
    mask: int = 0
    reason: str

    def breaks(self, source: int | bytes, target: int | bytes) -> bool:
        """Whether (source, target) values of the item break the rule: the condition each back end prints,
        for code that interprets the plan (`vfiogen compat`). Bytes compare byte for byte."""
        if self.kind is CompatKind.EQUAL:
            return source != target
        if self.kind is CompatKind.TARGET_GE:
            return bool(target < source)  # type: ignore[operator]
        if self.kind is CompatKind.SUPERSET:
            source, target = target, source
        if isinstance(source, bytes) or isinstance(target, bytes):
            assert isinstance(source, bytes) and isinstance(target, bytes)
            pairs = list(zip(source, target, strict=True))
            if self.kind is CompatKind.MASKED_EQUAL:
                return any(a != b for a, b in pairs)
            return any(a & ~b for a, b in pairs)
        if self.kind is CompatKind.MASKED_EQUAL:
            return bool((source ^ target) & self.mask)
        return bool(source & ~target)

    def first_break(self, source: bytes, target: bytes) -> int | None:
        """For a rule over a byte-string field: the index of the first byte pair that breaks it (what the
        reason names, at `item.config_offset` + index), or None when none does."""
        return next((i for i, pair in enumerate(zip(source, target, strict=True))
                     if self.breaks(bytes(pair[:1]), bytes(pair[1:]))), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionCompat:
    """What a migration of one section needs of the target."""

    checks: tuple[CompatCheck, ...]
    """In schema order; a failing one does not stop the others."""
    absent_reason: str
    """Why a target without the section is refused: the schema's `require: present` reason, else a
    sentence that names the section."""
    require_present: bool
    """The schema says `require: present`: a target without the section is refused even where the device
    file makes the section optional."""
    min_version: DescriptorItem
    max_version: DescriptorItem
    """The descriptor fields holding the versions the side's build loads (and saves): min_version..version.
    No common version refuses the migration with `versions_reason`; otherwise the section is saved at the
    highest common one."""
    versions_reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureRead:
    """One register read from configuration space, in an order where its offset and presence are known."""

    register: str
    width: int
    offset: Expr
    present: Expr | None
    keep: int
    """Bits kept from what the device returns (all but the reserved ones)."""
    enum: str | None = None
    enum_checks: tuple[EnumCheck, ...] = ()
    reserved_when: tuple[ReservedWhen, ...] = ()
    """Bits also dropped on a function where the condition holds (read after the registers it reads)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureBytes:
    """A byte-string register read from configuration space, after every register (its length reads them)."""

    field: str
    offset: int
    """Of its byte 0, in the capability."""
    length: Expr
    max: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    """A bit field written as `value` instead of as saved."""

    field: str
    lo: int
    mask: int
    """In place (not at bit 0)."""
    value: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreWrite:
    """One restore step: a configuration write, or a hook call when `hook` is set.

    The value written is `(saved & keep) | set`, then each dynamic override in turn: constant overrides
    are folded into `keep` and `set` here, once.
    """

    hook: str | None = None
    wait_us: int | None = None
    """For a wait step (`hook` is `wait`): the microseconds the caller's wait hook waits."""
    when: Expr | None = None
    """For a wait step: wait only when this holds over the saved state."""
    reason: str = ""
    register: str = ""
    width: int = 0
    offset: Expr | None = None
    present: Expr | None = None
    keep: int = 0
    set: int = 0
    overrides: tuple[Override, ...] = ()

    @property
    def folded(self) -> bool:
        """True when some bits are written other than as saved."""
        return self.keep != (1 << self.width) - 1 or self.set != 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Resized:
    """A top-level array whose length a `Resize` field gives."""

    name: str
    length: Expr
    max: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Resize:
    """A field top-level array lengths read (MSI-X's `control.table_size`, SR-IOV's `vfs_created`).

    Each back end prints one helper per field that sets it and resizes those arrays with it, so that a
    state changed by hand still saves: added elements take their defaults, surplus ones are dropped, and a
    value the field cannot hold or one that takes a length past its max is refused with nothing changed.
    """

    field: str
    """Its schema path: `register.bit_field`, or a top-level unsigned scalar state field."""
    register: str | None = None
    """The register, for a bit field."""
    lo: int = 0
    width: int
    """Bits of the field (a scalar: its width)."""
    arrays: tuple[Resized, ...]
    """In declaration order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionPlan:
    versions: tuple[VersionPlan, ...]
    """One per loadable version, min_version first."""
    descriptor: tuple[DescriptorItem, ...]
    """The record's fixed items: the schema's fields, then the compiler's (`min_version`, `max_version`,
    `mask_registers`)."""
    descriptor_size: int
    """Bytes of the fixed items; the mask list follows."""
    masks: MaskList
    compat: SectionCompat
    capture: tuple[CaptureRead, ...]
    restore: tuple[RestoreWrite, ...]
    read: tuple[str, ...]
    """Top-level fields some presence, length or check reads, in declaration order."""
    checks: tuple[StateCheck, ...] = ()
    """The schema's constraints in order, then each conditionally reserved bit field in declaration order."""
    resizes: tuple[Resize, ...] = ()
    """The fields array lengths read, each with the arrays it sizes (declaration order of the arrays)."""
    capture_bytes: tuple[CaptureBytes, ...] = ()
    """The byte-string registers, in declaration order, read after `capture`."""

    def version(self, number: int) -> VersionPlan:
        return next(v for v in self.versions if v.version == number)


# --- devices ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedParam:
    """A param of a device's section that another section of the device gives (`from:` in the schema).

    Every device function computes it from the source section's state before it uses the params:
    capture from the state just captured (the device lists the source first), load from the state just
    loaded (its frame comes first), save, restore, validate and derive from the state they are given.
    Where the device instance has not the source section (its presence bit is clear), the config's
    value stands, as for any param.
    """

    param: str
    kind: ScalarKind
    source: str
    """The section read; the device lists it before the dependent section, as required."""
    source_bit: int
    """The source section's presence bit in the device."""
    expr: Expr
    """In the source section's namespace (`pcie_caps.device_port_type == 4`)."""
    text: str
    """As written in the schema, for comments (`pcie.pcie_caps.device_port_type == 4`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSectionPlan:
    """One section of a device as every back end prints it: its presence bit and, when repeated, its instances.

    A repeated section (its location declares `instances`) has, in one device instance, from 0 to
    `max_instances` instances, numbered by their order in the capability list. Each has its own state,
    descriptor record and frame (`wire.format.FLAG_INSTANCE_SHIFT`); errors and compat reasons name it as
    `names[i]` (`vendor_specific[1]`). The presence bit is set exactly when there is at least one.
    """

    section: str
    bit: int
    """Its bit in a presence set: its place in the device's list."""
    required: bool
    absent_refused: bool
    """A target without the section (or instance) refuses a source that has it (`require: present`, or the
    device requires the section)."""
    repeated: bool
    max_instances: int
    """1 for a section that is not repeated."""
    default_instances: int
    """How many instances the device file's built-in config has (a generic device has no built-in config)."""
    names: tuple[str, ...]
    """For a repeated section, each instance's name in errors and compat reasons; () otherwise."""
    missing_reason: str
    """The compat reason when the target's device requires the section and the source has none."""
    missing_instance_reason: str = ""
    """For a repeated section, the reason when the target has instance `{index}` and the source does not, as a
    `str.format` template (each back end fills in the index its own way)."""
    derived: tuple[DerivedParam, ...] = ()
    """Its params that earlier sections of the device give, in the section's declaration order."""

    @property
    def sources(self) -> tuple[str, ...]:
        """The sections its derived params read, each once, in device order."""
        return tuple(dict.fromkeys(d.source for d in sorted(self.derived, key=lambda d: d.source_bit)))

    def missing_instance(self, index: int) -> str:
        return self.missing_instance_reason.format(index=index)


@dataclass(frozen=True, slots=True, kw_only=True)
class DevicePlan:
    sections: tuple[DeviceSectionPlan, ...]

    @property
    def sources(self) -> tuple[str, ...]:
        """Every section some derived param reads, in device order."""
        used = {source for s in self.sections for source in s.sources}
        return tuple(s.section for s in self.sections if s.section in used)

    @property
    def repeated(self) -> tuple[DeviceSectionPlan, ...]:
        return tuple(s for s in self.sections if s.repeated)

    def section(self, name: str) -> DeviceSectionPlan:
        return next(s for s in self.sections if s.section == name)
