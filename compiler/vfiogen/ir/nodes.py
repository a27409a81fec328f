"""IR nodes for schemas as written (stage one of two; see `ir.checked`).

Every node is frozen, has a span that structural equality ignores, and refers
to others by name only: no parent links, no cycles. Optional syntax has been
given its documented default by `lower`; nothing here is derived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from vfiogen.ir.expr import Expr
from vfiogen.ir.types import Access, CompatKind, LocationKind, ScalarKind
from vfiogen.source import Span


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    kind: LocationKind
    """Header, standard capability, extended capability or pure emulation state."""
    cap_id: int | None = None
    """Capability id (header: the header type)."""
    cap_version: int | None = None
    """Extended capability version."""
    cap_also_id: int | None = None
    """A second extended capability id of the same layout (VC: 0x0009 beside 0x0002); None for none."""
    cap_last_version: int | None = None
    """The newest extended capability version the section also describes (None: `cap_version` alone)."""
    size: int = 0
    """Bytes of configuration space the capability spans at most (0 for emulation)."""
    offset: int | None = None
    """Where a device-specific range starts in configuration space (None for every other kind)."""
    instances: int | None = None
    """How many times the capability may occur in one function (None: once, as not written); above 1 the
    section is repeated: each occurrence is an instance of its own, numbered by its order in the capability
    list. None rather than 1 keeps the dump, and so every fingerprint, of a section that does not say it."""
    span: Span = field(compare=False)

    @property
    def max_instances(self) -> int:
        return self.instances or 1

    @property
    def cap_ids(self) -> tuple[int, ...]:
        """The capability ids the section matches (empty when it names none)."""
        if self.cap_id is None:
            return ()
        return (self.cap_id,) if self.cap_also_id is None else (self.cap_id, self.cap_also_id)

    @property
    def cap_versions(self) -> range:
        """The extended capability versions the section matches (empty when it names none)."""
        if self.cap_version is None:
            return range(0)
        return range(self.cap_version, (self.cap_last_version or self.cap_version) + 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnumValue:
    name: str
    value: int
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnumType:
    name: str
    values: tuple[EnumValue, ...]
    description: str = ""
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamSource:
    """Where a param's value comes from when another section of the device says it (`from:`).

    A device that lists `section` computes the param from that section's state (captured, loaded or
    saved) instead of taking it from its config; one that does not list it binds the param as any other.
    """

    section: str
    """The section read: the first name of every reference in the expression as written."""
    expr: Expr
    """The expression with that first name dropped, so it reads in `section`'s own namespace."""
    text: str
    """The expression as written (`pcie.pcie_caps.device_port_type == 4`), for the lock, docs and errors."""
    written: tuple[str, ...] = ()
    """The first name of each reference as written, in order (all `section` when the schema is valid)."""
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    """A per-device constant a section's expressions may read as `params.NAME`."""

    name: str
    kind: ScalarKind
    default: int
    description: str = ""
    source: ParamSource | None = None
    """Set when the param is read from another section's registers (`from:`); None for one the device binds."""
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class BitField:
    name: str
    hi: int
    lo: int
    access: Access
    enum: str | None = None
    enum_span: Span | None = field(default=None, compare=False)
    emulated: bool = False
    """The hypervisor emulates these bits: the guest reads and writes its copy, not the device's."""
    reserved_when: Expr | None = None
    """Where this read-only condition holds (a device/port type, say), the bits are reserved (RsvdP)."""
    description: str = ""
    span: Span = field(compare=False)

    @property
    def width(self) -> int:
        return self.hi - self.lo + 1

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lo


@dataclass(frozen=True, slots=True, kw_only=True)
class Versioning:
    """When a field is on the wire, and what loading an older version fills in."""

    since: int = 1
    until: int | None = None
    """First version that no longer carries the field (exclusive), or None."""
    default: int | None = None
    span: Span = field(compare=False)

    def carried_by(self, version: int) -> bool:
        return self.since <= version and (self.until is None or version < self.until)


@dataclass(frozen=True, slots=True, kw_only=True)
class Register:
    name: str
    offset: Expr
    """Byte offset from the start of the capability (or of config space, for the header)."""
    width: int
    access: Access | None = None
    """Access of the whole register; None when `fields` gives access per bit."""
    fields: tuple[BitField, ...] = ()
    field_set: str | None = None
    """The shared `field_sets` entry `fields` came from, if any (registers sharing one share a layout)."""
    reset: int = 0
    present: Expr | None = None
    versioning: Versioning
    restore_skip: str | None = None
    """Why a writable register is deliberately not restored."""
    enum: str | None = None
    enum_span: Span | None = field(default=None, compare=False)
    emulated: bool = False
    """Every declared bit is emulated by the hypervisor (a bit field may also say so for its own bits)."""
    description: str = ""
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScalarType:
    kind: ScalarKind
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class BytesType:
    size: int
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrayType:
    element: FieldType
    length: Expr
    max: int
    max_span: Span = field(compare=False)
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class StructType:
    members: tuple[StateField, ...]
    span: Span = field(compare=False)


FieldType = Union[ScalarType, BytesType, ArrayType, StructType]


@dataclass(frozen=True, slots=True, kw_only=True)
class StateField:
    """Emulation state that is not a register: saved and loaded, never written to config space."""

    name: str
    type: FieldType
    enum: str | None = None
    enum_span: Span | None = field(default=None, compare=False)
    present: Expr | None = None
    versioning: Versioning
    config_offset: int | None = None
    """For a byte-string register (written under `registers:` with `bytes:`): where its first byte lies in the
    capability. The field is then an array of u8 whose elements capture reads from configuration space."""
    access: Access | None = None
    """For a byte-string register: its access as written (semantics allows only the read-only kinds)."""
    access_span: Span | None = field(default=None, compare=False)
    description: str = ""
    span: Span = field(compare=False)

    @property
    def byte_string(self) -> bool:
        """A byte-string register: opaque bytes of configuration space, as many as its length says."""
        return self.config_offset is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class DescriptorField:
    """Configuration each side computes for itself; compared, never copied.

    Either a value the host supplies (`type`), or bits of a register
    (`source_register` and, optionally, some of its read-only fields).
    """

    name: str
    type: ScalarType | BytesType | None = None
    source_register: str | None = None
    source_fields: tuple[str, ...] = ()
    description: str = ""
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Constraint:
    check: Expr
    reason: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatRule:
    kind: CompatKind
    descriptor: str | None = None
    """The descriptor field compared (None for `require: present`)."""
    mask: int | None = None
    """For `masked_equal`: the bits compared."""
    reason: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    bit_field: str
    value: Expr
    span: Span = field(compare=False)


WAIT_HOOK = "wait"
"""The hook a restore step `{wait: ...}` calls, with the microseconds (a name no other hook may take)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreStep:
    """Write `register` (with `overrides` applied), or, when `hook` is set, call that hook."""

    register: str = ""
    overrides: tuple[Override, ...] = ()
    hook: str | None = None
    """A caller-provided function run at this point of the sequence (e.g. to
    write an emulated table between two writes of a control register)."""
    wait_us: int | None = None
    """For a wait step (`hook` is then `wait`): the microseconds the hypervisor waits here."""
    when: Expr | None = None
    """For a wait step: wait only when this holds over the saved state."""
    reason: str = ""
    """For a wait step: why (the specification's rule), for the docs and the generated comment."""
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hook:
    name: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    name: str
    title: str
    description: str = ""
    wire_id: int
    """The section id on the wire; unique across all schemas."""
    location: Location
    version: int
    min_version: int
    params: tuple[Param, ...] = ()
    enums: tuple[EnumType, ...] = ()
    registers: tuple[Register, ...] = ()
    state: tuple[StateField, ...] = ()
    descriptor: tuple[DescriptorField, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    compat: tuple[CompatRule, ...] = ()
    restore: tuple[RestoreStep, ...] = ()
    pre_save: tuple[Hook, ...] = ()
    post_load: tuple[Hook, ...] = ()
    source_path: str
    span: Span = field(compare=False)

    def hook_uses(self) -> tuple[tuple[str, str, Span], ...]:
        """Every use of a hook name, in schema order: (name, "a restore step" / "a pre-save hook" /
        "a post-load hook", where)."""
        return (tuple((step.hook, "a restore step", step.span) for step in self.restore if step.hook is not None)
                + tuple((hook.name, "a pre-save hook", hook.span) for hook in self.pre_save)
                + tuple((hook.name, "a post-load hook", hook.span) for hook in self.post_load))


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamBinding:
    name: str
    value: int
    written_as_bool: bool = False
    """`true`/`false` in the device file (which only a bool param accepts)."""
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSection:
    section: str
    required: bool = True
    """A loader refuses a blob missing this section, or an unknown one marked required."""
    params: tuple[ParamBinding, ...] = ()
    defaults: tuple[ParamBinding, ...] = ()
    """Register values a new state of the device starts with, in place of the section's defaults (which
    may not fit the params bound here); each a register name and its raw value."""
    instances: int | None = None
    """For a repeated section: how many instances the device file's built-in config has (None: 1)."""
    instances_span: Span | None = field(default=None, compare=False)
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    name: str
    title: str
    description: str = ""
    sections: tuple[DeviceSection, ...]
    """In save and restore order; bit i of a run-time presence set is the i-th."""
    generic: bool = False
    """The device's sections and params are given at run time only (what vfio-pci learns from the device):
    the file binds no params and the generated functions have no built-in config."""
    source_path: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """An `options:` file: settings of the build that apply to every generated file."""

    license: str | None = None
    """The SPDX expression of the generated code's licence line; None leaves the default."""
    source_path: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Module:
    """Every schema of one build, sections and devices sorted by name."""

    sections: tuple[Section, ...]
    devices: tuple[Device, ...]
    options: tuple[Options, ...] = ()
    """The options files, sorted by path; `resolve` allows at most one."""
