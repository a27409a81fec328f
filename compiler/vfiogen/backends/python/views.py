"""View models of the Python back end: small frozen records of ready-made text the templates print."""

from __future__ import annotations

from dataclasses import dataclass

from vfiogen.backends.python import naming
from vfiogen.backends.python.config_space import CaptureStep, CaptureString, RestoreStep

_BUILTIN = frozenset({"int", "bool", "bytes", "str", "object", "None"})
"""Annotations left unquoted: the modules do not import `__future__` (its import alone costs about
0.15 ms), so every other annotation outside `if TYPE_CHECKING:` is a string, never evaluated."""


@dataclass(frozen=True)
class EnumView:
    name: str
    members: tuple[tuple[str, int], ...]
    schema_name: str
    value_names: tuple[tuple[int, str], ...]
    """(value, the schema's name for it): what JSON and messages show."""


@dataclass(frozen=True)
class BitFieldView:
    attr: str
    key: str
    lo: int
    width: int
    mask: int
    annotation: str
    default: str
    enum: str | None
    is_bool: bool

    register_width: int = 0

    @property
    def bit(self) -> int:
        return 1 << self.lo

    @property
    def clear(self) -> int:
        """The register's mask with this field's bits cleared."""
        return ((1 << self.register_width) - 1) & ~(self.mask << self.lo)


@dataclass(frozen=True)
class RegisterClassView:
    name: str
    schema_name: str
    width: int
    reserved: int
    fields: tuple[BitFieldView, ...]


@dataclass(frozen=True)
class AttrView:
    attr: str
    key: str
    annotation: str
    default: str
    """Python expression creating the default value."""
    json: str
    """Python text of how `to_dict` writes the attribute (`_runtime._json`'s `how`)."""
    fresh: bool = False
    """Build the default afresh for each instance even though it is not a bare call (a bound params object)."""

    @property
    def quoted(self) -> str:
        """The annotation as the module writes it: a string unless it names a builtin (see `_BUILTIN`)."""
        return self.annotation if self.annotation in _BUILTIN else f'"{self.annotation}"'

    @property
    def mutable(self) -> bool:
        """A default each instance must build afresh (a list, a register or struct object)."""
        if self.fresh:
            return True
        if self.default.startswith(naming.LAZY_ENUMS):
            return True  # an enum member: building it at import time would import the enums
        if ".from_value(" in self.default:
            return True  # a register with a non-zero default: shared, one state's change would be every state's
        return self.default.endswith("()") and not self.default.startswith("bytes(") or self.default.startswith("[")


@dataclass(frozen=True)
class StructClassView:
    name: str
    attrs: tuple[AttrView, ...]


@dataclass(frozen=True)
class Check:
    """One validation: when `failed` (Python text) holds, report `path` (Python text) with `reason`.

    A check with `loop` (index, element, iterable) instead runs `body` for each element.
    """

    failed: str
    path: str
    reason: str
    loop: tuple[str, str, str] | None = None
    body: tuple[Check, ...] = ()
    holds: str = ""
    """For a constraint: the Python text of the check itself (true when it holds)."""

    @property
    def reason_code(self) -> str:
        """`reason` as a Python string literal: an f-string only when it interpolates."""
        if "{" in self.reason.replace("{{", ""):
            return f'f"{self.reason}"'
        return '"' + self.reason.replace("{{", "{").replace("}}", "}") + '"'


@dataclass(frozen=True)
class RunItem:
    var: str
    raw: str
    value: str
    """Save: the Python value packed for this item."""
    path: str
    rel: int
    post: str
    """'reg' (bit-field register), 'bool', 'enum', or '' (the raw value is the value)."""
    cls: str
    reserved: int
    enum_checks: tuple[tuple[str, str, str], ...]
    """For 'reg': (field expression over the raw value, enum class, field key)."""
    bytes_size: int = 0
    """For bytes[N]: N, which save checks (struct would pad or cut silently)."""
    size: int = 0
    """Bytes on the wire (to name the field a truncation cuts)."""


@dataclass(frozen=True)
class Op:
    """One step of load and save; `kind` picks the template branch."""

    kind: str
    path: str = '""'
    var: str = ""
    value: str = ""
    size: int = 0
    fmt: str = ""
    struct_name: str = ""
    items: tuple[RunItem, ...] = ()
    condition_load: str = ""
    condition_save: str = ""
    body: tuple[Op, ...] = ()
    defaults: tuple[tuple[str, str, str], ...] = ()
    """A cond's locals when its presence is false: (local, value, and for a register object the integer its
    `_raw` is then set to, else '')."""
    absent: tuple[tuple[str, str], ...] = ()
    """For a cond on save: (Python text that the absent field holds a value, its path code), each refused."""
    length_load: str = ""
    length_save: str = ""
    maximum: int = 0
    count_low: bool = True
    count_high: bool = True
    """Whether the count can be below 0 / above `maximum` (a check that cannot fire is not printed)."""
    count: str = ""
    cls: str = ""
    element_mode: str = ""
    element_var: str = ""
    index: str = ""
    members: tuple[str, ...] = ()
    layout: tuple[tuple[str, int, int], ...] = ()
    """For fast arrays: (member suffix, offset in the element, size), to name a cut element member."""


@dataclass(frozen=True)
class VersionView:
    version: int
    ops: tuple[Op, ...]
    """What load reads and save writes, in wire order."""
    state_args: tuple[tuple[str, str], ...]
    """Keyword arguments building the state: (attribute, local or default)."""
    not_carried: tuple[tuple[str, str, str], ...]
    """(attribute, default text, key) of state fields this version cannot carry."""


@dataclass(frozen=True)
class DescriptorView:
    name: str
    attrs: tuple[AttrView, ...]
    fmt: str
    size: int
    derived: tuple[tuple[str, str, str], ...]
    """(attribute, value text, presence text or '') for fields read from registers (masked) or fixed by the
    build."""
    host: tuple[str, ...]
    checked: tuple[tuple[str, str, str, str], ...] = ()
    """(attribute, field name, versions text, value text) of the derived fields check_descriptor compares: the
    versions whose payloads carry the register as a tuple display ('None' for all), and the field's value read
    from the state `s`, as derive_descriptor computes it."""
    mask_widths: tuple[int, ...] = ()
    """Each register's width in bytes, by mask-list index."""
    mask_reasons: tuple[tuple[str, str, str, str, str], ...] = ()
    """By mask-list index: the register's name, then for its emulated bits and for its write mask the field
    name a compat failure gives and the reason (a Python literal)."""


@dataclass(frozen=True)
class CompatView:
    """One compat rule as the section's check_compat tests it."""

    breaks: str
    """An expression over `source` and `target` that is true when the rule fails."""
    rule: str
    field: str
    attr: str
    reason: str
    """The schema's reason, as a Python string literal."""
    first: str = ""
    """For a field taken from a byte-string register: the test of one byte pair `a`, `b` that breaks the rule
    (the failure names the first such byte); '' for any other field."""
    base: int = 0
    """For a byte-string field: the config-space offset of its byte 0."""


@dataclass(frozen=True)
class SectionView:
    name: str
    source: str
    title: str
    wire_id: int
    version: int
    min_version: int
    state_class: str
    enums: tuple[EnumView, ...]
    param_attrs: tuple[AttrView, ...]
    registers: tuple[RegisterClassView, ...]
    structs: tuple[StructClassView, ...]
    attrs: tuple[AttrView, ...]
    versions: tuple[VersionView, ...]
    run_structs: tuple[tuple[str, str], ...]
    register_checks: tuple[Check, ...]
    checks: tuple[Check, ...]
    constraints: tuple[Check, ...]
    descriptor: DescriptorView
    compat: tuple[CompatView, ...]
    absent_reason: str
    """Why a target without the section refuses a source with it, as a Python string literal."""
    versions_reason: str
    """Why no common version refuses, as a Python string literal."""
    runtime_imports: tuple[str, ...]
    enum_names: dict[str, str]
    """Enum class -> the schema's enum name, for messages."""
    capture: tuple[CaptureStep, ...]
    capture_strings: tuple[CaptureString, ...]
    restore: tuple[RestoreStep, ...]
    restore_hooks: tuple[str, ...]
    waits: bool
    """The restore sequence has wait steps: `restore` takes a `wait` callable."""
    pre_save: tuple[str, ...]
    post_load: tuple[str, ...]
    resizes: tuple[str, ...] = ()
    """The text of each `resize_<field>` helper (backends.python.resize)."""
    capture_resizes: tuple[tuple[str, str], ...] = ()
    """(helper, the field as read from the captured state) for each register field array lengths read: capture
    sizes the arrays by what it read, so that a captured state saves."""


@dataclass(frozen=True)
class DeviceSectionView:
    module: str
    attr: str
    state_class: str
    descriptor_class: str
    required: bool
    params: tuple[tuple[str, str], ...]
    """The params the device file binds, as (attr, Python literal)."""
    has: str
    """`HAS_<SECTION>`: the section's bit in a presence set (bit i is the device's i-th section)."""
    bit: int
    absent_refused: bool
    """A target without the section refuses a source that has it (`require: present`, or the device
    requires the section)."""
    host: tuple[str, ...]
    """The descriptor attrs the host supplies (the keyword arguments of the section's derive_descriptor)."""
    pre_save: bool
    post_load: bool
    restore_hooks: bool
    """Whether the section has hooks of each kind."""
    waits: bool
    """Whether its restore sequence waits."""
    repeated: bool = False
    """A repeated section: its state and descriptor are lists, one per instance (`ir.plan.DeviceSectionPlan`)."""
    max_instances: int = 1
    names: tuple[str, ...] = ()
    """Each instance's name in errors and compat reasons."""
    missing_reason: str = ""
    missing_instance_reason: str = ""
    """The plan's reasons for a section (an instance, `{index}`) the target requires and the source lacks."""
    derived: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = ()
    """The params earlier sections give (`ir.plan.DerivedParam`), per source: (its attr, `HAS_<SOURCE>`, the
    Params keyword arguments as (name, value): computed from its state, read as `src_<attr>`, or the config's)."""
    sources: tuple[str, ...] = ()
    """The source sections' attrs, in device order: the arguments of the device's `_params_<section>`."""
    source_types: tuple[str, ...] = ()
    """Their state classes, qualified (`_pcie.PcieState`)."""


@dataclass(frozen=True)
class DeviceView:
    name: str
    source: str
    title: str
    class_name: str
    sections: tuple[DeviceSectionView, ...]
    state_attrs: tuple[AttrView, ...]
    descriptor_attrs: tuple[AttrView, ...]
    params_attrs: tuple[AttrView, ...]
    config_attrs: tuple[AttrView, ...]
    generic: bool
    all_sections: str
    """The presence set with every section, as a Python literal."""
    repeated: tuple[DeviceSectionView, ...] = ()
    """The repeated sections, whose instance counts the config's `instances` gives."""
    instances_attrs: tuple[AttrView, ...] = ()
