"""Build the C view models and render the headers: `generated/c/vfg_<section>.h`.

This first increment of the C back end (issue 5) emits, per section, the
identity constants, every register's masks and bit-field accessors, the
enums, and the state, params and descriptor structs. Save, load, validate,
capture and restore come next and will sit in `vfg_<section>.c` beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfiogen.backends.c import naming
from vfiogen.backends.jinja_env import environment
from vfiogen.context import Context
from vfiogen.ir.checked import CheckedModule, CheckedSection
from vfiogen.ir.expr import to_text
from vfiogen.ir.nodes import ArrayType, BytesType, FieldType, ScalarType, StructType
from vfiogen.ir.types import ScalarKind


@dataclass(frozen=True)
class FieldView:
    name: str
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


@dataclass(frozen=True)
class StructView:
    name: str
    members: tuple[MemberView, ...]


@dataclass(frozen=True)
class SectionView:
    name: str
    source: str
    sha256: str
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


class _Builder:
    def __init__(self, checked: CheckedSection) -> None:
        self.checked = checked
        self.section = checked.section
        self.structs: list[StructView] = []

    def member(self, path: str, name: str, field_type: FieldType, comment: str) -> MemberView:
        dims = ""
        while isinstance(field_type, ArrayType):
            dims += f"[{field_type.max}]"
            comment = f"{comment}; count: {to_text(field_type.length)}".lstrip("; ")
            field_type = field_type.element
        if isinstance(field_type, ScalarType):
            ctype = naming.C_TYPES[field_type.kind.value]
        elif isinstance(field_type, BytesType):
            ctype, dims = "uint8_t", f"{dims}[{field_type.size}]"
        else:
            ctype = f"struct {self.struct(path, field_type)}"
        return MemberView(f"{ctype} {naming.ident(name)}{dims};", comment)

    def struct(self, path: str, struct: StructType) -> str:
        name = naming.symbol(self.section.name, *path.split("."), "entry")
        members = tuple(self.member(f"{path}.{m.name}", m.name, m.type, m.description) for m in struct.members)
        self.structs.append(StructView(name, members))
        return name

    def layouts(self) -> tuple[tuple[LayoutView, ...], tuple[RegisterView, ...]]:
        layouts: dict[str, LayoutView] = {}
        registers = []
        for checked in self.checked.registers:
            register = checked.register
            layout_name = register.field_set or register.name
            width = register.width
            masks = checked.masks
            macros = [("WRITABLE", naming.literal(masks.writable, width)),
                      ("RESERVED", naming.literal(masks.reserved, width)),
                      ("READ_ONLY", naming.literal(masks.ro | masks.hwinit, width)),
                      ("RW1C", naming.literal(masks.rw1c, width))]
            offsets = checked.offsets
            registers.append(RegisterView(register.name, " or ".join(f"0x{o:02x}" for o in offsets) or "?",
                                          width, tuple((naming.macro(self.section.name, register.name, n), v)
                                                       for n, v in macros)))
            if not register.fields or layout_name in layouts:
                continue
            wide = "uint64_t" if width > 32 else "uint32_t"
            fields = []
            for bit_field in register.fields:
                if bit_field.access.reserved:
                    continue
                mask = (1 << bit_field.width) - 1
                clear = ((1 << width) - 1) & ~(mask << bit_field.lo)
                is_bool = bit_field.width == 1 and bit_field.enum is None
                fields.append(FieldView(
                    name=bit_field.name,
                    getter=naming.symbol(self.section.name, layout_name, bit_field.name),
                    setter=naming.symbol(self.section.name, layout_name, "set", bit_field.name),
                    shift=bit_field.lo, mask=naming.literal(mask, width), clear=naming.literal(clear, width),
                    is_bool=is_bool, value_type="bool" if is_bool else naming.register_type(width),
                    shift_macro=naming.macro(self.section.name, layout_name, bit_field.name, "SHIFT"),
                    mask_macro=naming.macro(self.section.name, layout_name, bit_field.name, "MASK")))
            layouts[layout_name] = LayoutView(layout_name, naming.register_type(width), wide, tuple(fields))
        return tuple(layouts.values()), tuple(registers)

    def build(self) -> SectionView:
        section = self.section
        layouts, registers = self.layouts()
        state_members = [self.member(r.name, r.name, ScalarType(kind=ScalarKind(f"u{r.width}"), span=r.span),
                                     f"register at {rv.offset}")
                         for r, rv in zip((c.register for c in self.checked.registers), registers, strict=True)
                         if r.versioning.carried_by(section.version)]
        state_members += [self.member(s.name, s.name, s.type, s.description) for s in section.state
                          if s.versioning.carried_by(section.version)]
        params = tuple(MemberView(f"{naming.C_TYPES[p.kind.value]} {naming.ident(p.name)};", p.description)
                       for p in section.params)
        params_default = "{ " + ", ".join(f".{naming.ident(p.name)} = {p.default}" for p in section.params) + " }" \
            if section.params else "{ 0 }"
        descriptor = []
        registers_by_name = {r.name: r for r in section.registers}
        for item in section.descriptor:
            if item.type is not None:
                descriptor.append(self.member(f"descriptor.{item.name}", item.name, item.type, item.description))
            else:
                width = registers_by_name[item.source_register or ""].width
                descriptor.append(MemberView(f"{naming.register_type(width)} {naming.ident(item.name)};",
                                             f"read-only bits of {item.source_register}"))
        enums = tuple(EnumView(naming.symbol(section.name, e.name),
                               tuple((naming.macro(section.name, e.name, v.name), v.value) for v in e.values),
                               naming.symbol(section.name, e.name, "valid"), tuple(v.value for v in e.values))
                      for e in section.enums)
        if not params:
            params = (MemberView("uint8_t unused_;", "this section has no params; C99 needs a member"),)
        if not state_members:
            state_members = [MemberView("uint8_t unused_;", "this section has no state; C99 needs a member")]
        if not descriptor:
            descriptor = [MemberView("uint8_t unused_;", "this section has no descriptor; C99 needs a member")]
        return SectionView(
            name=section.name, source=section.source_path, sha256=section.source_sha256,
            guard=naming.macro(section.name, "H"), title=section.title,
            constants=((naming.macro(section.name, "SECTION_ID"), f"0x{section.wire_id:04x}u"),
                       (naming.macro(section.name, "VERSION"), f"{section.version}u"),
                       (naming.macro(section.name, "MIN_VERSION"), f"{section.min_version}u")),
            registers=registers, layouts=layouts, enums=enums, structs=tuple(self.structs),
            state=StructView(naming.symbol(section.name, "state"), tuple(state_members)),
            params=StructView(naming.symbol(section.name, "params"), params), params_default=params_default,
            descriptor=StructView(naming.symbol(section.name, "descriptor"), tuple(descriptor)))


class CBackend:
    name = "c"

    def check(self, module: CheckedModule, ctx: Context) -> None:
        """Everything checked is expressible in C99."""

    def render(self, module: CheckedModule) -> dict[str, str]:
        env = environment("vfiogen.backends.c")
        template = env.get_template("section.h.j2")
        return {f"c/{naming.PREFIX}_{checked.name}.h": template.render(s=_Builder(checked).build())
                for checked in module.sections}

