"""View models of the C back end: small frozen records of ready-made C text that the templates print.

`emit` builds the section views and `device` the device views; neither imports the other's module.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfiogen.backends.c import naming, wrap


@dataclass(frozen=True)
class Function:
    signature: str
    body: str


@dataclass(frozen=True)
class FieldView:
    name: str
    member: str
    """Its member in the layout's fields struct."""
    place: str
    """'bit 3' or 'bits 6:4'."""
    getter: str
    setter: str
    shift: int
    mask: str
    """The field's mask at bit 0, as a C literal."""
    clear: str
    """The register with the field's bits cleared, as a C literal."""
    is_bool: bool
    value_type: str
    shift_macro: str
    mask_macro: str


@dataclass(frozen=True)
class LayoutView:
    """The accessors of one register layout (a register, or a field set several registers share)."""

    name: str
    ctype: str
    wide: str
    """The unsigned type the accessors compute in: uint32_t, or uint64_t for 64-bit registers."""
    fields: tuple[FieldView, ...]
    fields_struct: str
    """`struct vfg_<section>_<layout>_fields`: the bit fields as named members."""
    unpack: str
    pack: str


@dataclass(frozen=True)
class RegisterView:
    name: str
    offset: str
    width: int
    macros: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EnumView:
    name: str
    members: tuple[tuple[str, int], ...]
    valid: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class MemberView:
    declaration: str
    comment: str

    @property
    def text(self) -> str:
        """The member as it is printed in its struct: with the comment after it if both fit on the line, else
        with the comment above it, filled to 80 columns."""
        declaration = "\n".join(wrap.statement(self.declaration, 4))
        if not self.comment:
            return declaration
        line = f"{declaration} /* {self.comment} */"
        if "\n" not in line and len(line) <= wrap.LIMIT:
            return line
        return "\n".join([*wrap.comment(self.comment, 4), declaration])


@dataclass(frozen=True)
class StructView:
    name: str
    members: tuple[MemberView, ...]


@dataclass(frozen=True)
class SectionView:
    name: str
    source: str
    sha256: str
    """The section's fingerprint (`ir.fingerprint`), as in the schema lock."""
    guard: str
    title: str
    constants: tuple[tuple[str, str], ...]
    registers: tuple[RegisterView, ...]
    layouts: tuple[LayoutView, ...]
    enums: tuple[EnumView, ...]
    structs: tuple[StructView, ...]
    state: StructView
    params: StructView
    params_default: str
    descriptor: StructView
    hooks: StructView
    versions: tuple[int, ...]
    max_payload: int
    descriptor_fixed: int
    descriptor_max: int
    mask_registers: int
    compat_rules: int
    absent_reason: list[str]
    """Adjacent C string literals."""
    items: tuple[str, ...]
    layout_checks: tuple[str, ...]
    private: tuple[Function, ...]
    public: tuple[Function, ...]
    resizes: tuple[tuple[str, Function], ...] = ()
    """The `resize_<field>` helpers with their header comments (backends.c.resize)."""

    @property
    def prefix(self) -> str:
        return f"{naming.PREFIX}_{self.name}"

    @property
    def macro_prefix(self) -> str:
        return self.prefix.upper()


@dataclass(frozen=True)
class DeviceSectionView:
    name: str
    prefix: str
    macro: str
    required: bool
    params: str
    """C initializer of the device's params for this section: the file's bindings, else the section's defaults."""
    has: str
    """`VFG_<DEVICE>_HAS_<SECTION>`: the section's bit in a presence set."""
    bit: int
    """Its position in the device, which is its bit number."""
    pre_save: tuple[str, ...]
    post_load: tuple[str, ...]
    restore_hooks: tuple[str, ...]
    max_payload: int
    descriptor_max: int
    compat_rules: int
    absent_refused: bool
    """A target without the section refuses a source that has it (`require: present`, or the device requires
    the section)."""
    defaults: tuple[tuple[str, str], ...] = ()
    """The device file's `defaults`: (register member, C value) a new state holds instead of the section's."""
    descriptor_bytes: tuple[tuple[str, int], ...] = ()
    """The descriptor's bytes fields: (member, offset in the packed record). A compat failure points at their
    bytes, so a check of the stream's descriptor points the source's at the record in the blob."""
    repeated: bool = False
    """A repeated section (`ir.plan.DeviceSectionPlan`): its state, descriptor and base are arrays of `count`."""
    max_instances: int = 1
    default_instances: int = 1
    names: tuple[str, ...] = ()
    missing_reason: str = ""
    missing_instances: tuple[str, ...] = ()
    """The plan's reasons for the section, and for each instance, that the target requires and the source
    lacks."""
    """Each instance's name in errors and compat reasons."""
    count: str = ""
    """`VFG_<DEVICE>_<SECTION>_MAX`: its arrays' size, for a repeated section."""
    sources: tuple[tuple[str, str], ...] = ()
    """The sections its derived params are read from (`ir.plan.DerivedParam`), in device order: (state
    member, C prefix); the arguments of the device's `params_<section>` after the config."""
    derived: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = ()
    """Per source: (its member, its `HAS_` macro, the params computed from its state as (member, C value),
    reading the state as `src_<member>`)."""

    @property
    def member(self) -> str:
        return naming.ident(self.name)

    @property
    def instances(self) -> int:
        """Frames and descriptor records it can take in one blob."""
        return self.max_instances if self.repeated else 1


@dataclass(frozen=True)
class DeviceView:
    name: str
    title: str
    source: str
    sha256: str
    """The device's fingerprint (`ir.fingerprint`), as in the schema lock."""
    sections: tuple[DeviceSectionView, ...]
    descriptor_payload: int
    """The descriptor frame's payload with every section present."""
    max_size: int
    generic: bool
    """No built-in config: every function takes the caller's (`Device.generic`)."""

    @property
    def compat_max(self) -> int:
        """The most failures the device's check_compat reports: every rule, and a presence failure per section."""
        return sum((s.compat_rules + 1) * s.instances for s in self.sections)

    @property
    def repeated(self) -> tuple[DeviceSectionView, ...]:
        return tuple(s for s in self.sections if s.repeated)

    @property
    def sources(self) -> tuple[tuple[str, str], ...]:
        """Every section some derived param is read from: (member, C prefix), in device order."""
        used = {member for s in self.sections for member, _ in s.sources}
        return tuple((s.member, s.prefix) for s in self.sections if s.member in used)

    @property
    def source_members(self) -> tuple[str, ...]:
        return tuple(member for member, _ in self.sources)

    @property
    def prefix(self) -> str:
        return f"{naming.PREFIX}_{self.name}"

    @property
    def macro_prefix(self) -> str:
        return self.prefix.upper()

    @property
    def guard(self) -> str:
        return f"{self.macro_prefix}_H"

    @property
    def optional(self) -> tuple[DeviceSectionView, ...]:
        return tuple(s for s in self.sections if not s.required)

    @property
    def to_last_bytes(self) -> tuple[DeviceSectionView, ...]:
        """The sections up to the last whose descriptor has a bytes field (none if no section's has)."""
        last = max((i for i, s in enumerate(self.sections) if s.descriptor_bytes), default=-1)
        return self.sections[:last + 1]

    @property
    def has_post_load(self) -> bool:
        return any(s.post_load for s in self.sections)

    @property
    def has_pre_save(self) -> bool:
        return any(s.pre_save for s in self.sections)

    @property
    def has_all(self) -> str:
        return f"{self.macro_prefix}_ALL_SECTIONS"

    @property
    def all_bits(self) -> str:
        return f"0x{(1 << len(self.sections)) - 1:x}u"
