"""Derive what back ends share and freeze it into a `CheckedModule` (last pass).

Expects: a module that passed every check. Guarantees: masks per register,
every possible offset per register, and the wire layout of every loadable
version, computed once here so no back end recomputes (or disagrees about)
them; and the licence of the generated code (the options file's, or
`spdx.DEFAULT_LICENSE`).

Wire encoding of a payload, in declaration order (registers, then state),
only the fields the version carries and whose presence holds:
registers and integers big-endian at their width; bool as one byte 0 or 1;
bytes[N] as N bytes; arrays as their elements back to back, the count coming
from the length expression (never from the wire); structs as their members.
"""

from __future__ import annotations

from vfiogen.context import Context
from vfiogen.spdx import DEFAULT_LICENSE
from vfiogen.ir.checked import (
    BoundOffsets,
    CheckedModule,
    CheckedRegister,
    CheckedSection,
    RegisterMasks,
    VersionLayout,
    WireItem,
    type_text,
)
from vfiogen.ir.evaluate import EvaluationError, evaluate, value_range
from vfiogen.ir.expr import Binary, BinaryOp, Expr, refs, to_text
from vfiogen.ir.nodes import (
    ArrayType,
    BytesType,
    FieldType,
    Module,
    Register,
    ScalarType,
    Section,
    StructType,
)
from vfiogen.ir.plan import EnumCheck, SectionPlan
from vfiogen.ir.symbols import SectionSymbols
from vfiogen.ir.types import Access
from vfiogen.passes.layout import register_offsets
from vfiogen.ir.plan import MASK_REGISTERS, MAX_VERSION, MIN_VERSION
from vfiogen.passes.plan import plan_section


def register_masks(register: Register) -> RegisterMasks:
    full = (1 << register.width) - 1
    by_access = {access: 0 for access in Access}
    sticky = 0
    if register.fields:
        for bit_field in register.fields:
            by_access[bit_field.access.base] |= bit_field.mask
            sticky |= bit_field.mask if bit_field.access.sticky else 0
        declared = sum(by_access.values())
        by_access[Access.RSVDP] |= full & ~declared
    elif register.access is not None:
        by_access[register.access.base] = full
        sticky = full if register.access.sticky else 0
        declared = full
    else:
        declared = 0
    reserved = by_access[Access.RSVDP] | by_access[Access.RSVDZ]
    # A reserved bit reads 0 on both sides whoever answers the read, so it is never counted as emulated.
    emulated = full & ~reserved if register.emulated else 0
    emulated |= sum(f.mask for f in register.fields if f.emulated) & ~reserved
    return RegisterMasks(rw=by_access[Access.RW], ro=by_access[Access.RO], rw1c=by_access[Access.RW1C],
                         hwinit=by_access[Access.HWINIT], rsvdp=by_access[Access.RSVDP],
                         rsvdz=by_access[Access.RSVDZ], declared=declared, sticky=sticky, emulated=emulated)


def enum_checks(register: Register, table: SectionSymbols) -> tuple[EnumCheck, ...]:
    """The register's bit fields with an enum that leaves some value of the field's bits undefined."""
    checks = []
    for bit_field in register.fields:
        if bit_field.enum is None or bit_field.access.reserved:
            continue
        if {v.value for v in table.enums[bit_field.enum].values} >= set(range(1 << bit_field.width)):
            continue  # every value the bits can hold is named: nothing to check
        checks.append(EnumCheck(field=bit_field.name, lo=bit_field.lo, mask=(1 << bit_field.width) - 1,
                                enum=bit_field.enum))
    return tuple(checks)


def type_size(field_type: FieldType) -> tuple[int | None, int]:
    """(fixed size or None, maximum size) in bytes."""
    if isinstance(field_type, ScalarType):
        size = field_type.kind.size
        return size, size
    if isinstance(field_type, BytesType):
        return field_type.size, field_type.size
    if isinstance(field_type, ArrayType):
        _, element_max = type_size(field_type.element)
        return None, element_max * field_type.max
    fixed: int | None = 0
    maximum = 0
    for member in field_type.members:
        member_fixed, member_max = type_size(member.type)
        if member.present is not None:
            member_fixed = None
        fixed = fixed + member_fixed if fixed is not None and member_fixed is not None else None
        maximum += member_max
    return fixed, maximum


class _Cursor:
    """Tracks the payload offset while laying items out."""

    def __init__(self, in_element: bool = False) -> None:
        self.in_element = in_element
        self.offset: int | None = 0
        self.anchor: str | None = None
        self.relative = 0
        self.items: list[WireItem] = []
        self.min_size = 0
        self.max_size = 0

    def place(self, path: str, text: str, size: int | None, max_size: int, *, condition: str | None = None,
              repeat: str | None = None, depth: int = 0, counts: bool = True, min_size: int = 0,
              at_defaults: bool | None = None) -> None:
        """Lay out one item; `at_defaults` is its presence with the params' defaults, when only params decide it."""
        if at_defaults is False:
            condition = f"{condition} (absent at the params' defaults)"
        self.items.append(WireItem(path=path, type_text=text, offset=self.offset,
                                   after=self.anchor if self.offset is None else None,
                                   relative=self.relative if self.offset is None else 0,
                                   size=size, max_size=max_size, condition=condition, repeat=repeat, depth=depth,
                                   in_element=self.in_element))
        if not counts or at_defaults is False:
            return
        if at_defaults:
            condition = None
        self.max_size += max_size
        if condition is None:
            self.min_size += size if size is not None else min_size
        if size is not None and condition is None:
            if self.offset is not None:
                self.offset += size
            else:
                self.relative += size
        else:
            self.offset = None
            self.anchor = path
            self.relative = 0


def _condition(expr: Expr | None) -> str | None:
    return to_text(expr) if expr is not None else None


def _both(outer: Expr | None, inner: Expr | None) -> Expr | None:
    if outer is None or inner is None:
        return outer or inner
    return Binary(op=BinaryOp.LOG_AND, left=outer, right=inner, span=inner.span.as_synthetic())


def _params_decide(present: Expr | None, section: Section) -> bool | None:
    """Presence at the params' defaults, when params and constants alone decide it."""
    if present is None:
        return None
    params = {f"params.{p.name}": p.default for p in section.params}
    enums = {f"{e.name}.{v.name}": v.value for e in section.enums for v in e.values}
    if not all(ref.dotted in params or ref.dotted in enums for ref in refs(present)):
        return None
    try:
        return bool(evaluate(present, {**params, **enums}))
    except EvaluationError:
        return None


def _lay_out_state(cursor: _Cursor, path: str, field_type: FieldType, present: Expr | None,
                   depth: int = 0, section: Section | None = None, table: SectionSymbols | None = None) -> None:
    size, max_size = type_size(field_type)
    if isinstance(field_type, StructType):
        condition = _condition(present)
        cursor.place(path, "struct", size, max_size, condition=condition, depth=depth, counts=False)
        for member in field_type.members:
            _lay_out_state(cursor, f"{path}.{member.name}", member.type,
                           _both(present, member.present), depth + 1)
        return
    if isinstance(field_type, ArrayType):
        fewest = _fewest_elements(field_type, table) if table is not None else 0
        element_min = type_size(field_type.element)[0] or 0
        cursor.place(path, type_text(field_type), None, max_size, condition=_condition(present), depth=depth,
                     repeat=f"{to_text(field_type.length)} (max {field_type.max})", min_size=fewest * element_min,
                     at_defaults=_params_decide(present, section) if section is not None else None)
        element = field_type.element
        if isinstance(element, StructType):
            # Element members are documented with offsets from the element's start.
            inner = _Cursor(in_element=True)
            for member in element.members:
                _lay_out_state(inner, f"{path}[].{member.name}", member.type, member.present,
                               depth + 1)
            cursor.items.extend(inner.items)
        return
    cursor.place(path, type_text(field_type), size, max_size, condition=_condition(present), depth=depth,
                 at_defaults=_params_decide(present, section) if section is not None else None)


def _fewest_elements(array: ArrayType, table: SectionSymbols) -> int:
    """The least count the array's length expression can give (0 when unknown)."""
    bound = value_range(array.length, table.ref_range)
    return max(bound[0], 0) if bound is not None else 0


def _layout(section: Section, version: int, table: SectionSymbols) -> VersionLayout:
    cursor = _Cursor()
    for register in section.registers:
        if register.versioning.carried_by(version):
            size = register.width // 8
            cursor.place(register.name, f"u{register.width} register", size, size,
                         condition=_condition(register.present), at_defaults=_params_decide(register.present, section))
    for state in section.state:
        if state.versioning.carried_by(version):
            _lay_out_state(cursor, state.name, state.type, state.present, 0, section, table)
    return VersionLayout(version=version, items=tuple(cursor.items), min_size=cursor.min_size,
                         max_size=cursor.max_size)


def _descriptor_layout(section: Section, plan: SectionPlan) -> tuple[WireItem, ...]:
    """The descriptor record's bytes: the schema's fields, then those the plan adds (versions, masks)."""
    cursor = _Cursor()
    registers = {r.name: r for r in section.registers}
    for descriptor in section.descriptor:
        if descriptor.type is not None:
            size, _ = type_size(descriptor.type)
            assert size is not None
            cursor.place(descriptor.name, type_text(descriptor.type), size, size)
        elif descriptor.source_register not in registers:
            string = next(s for s in section.state if s.name == descriptor.source_register)
            assert isinstance(string.type, ArrayType)
            size = string.type.max
            cursor.place(descriptor.name, f"bytes[{size}] from {string.name}", size, size)
        else:
            register = registers[descriptor.source_register or ""]
            size = register.width // 8
            cursor.place(descriptor.name, f"u{register.width} from {register.name}", size, size)
    for item in plan.descriptor[len(section.descriptor):]:
        what = {MIN_VERSION: "oldest version this build loads", MAX_VERSION: "newest version this build saves",
                MASK_REGISTERS: "registers the mask list indexes"}[item.name]
        cursor.place(item.name, f"u{item.size * 8} {what}", item.size, item.size)
    return tuple(cursor.items)


def normalize(module: Module, ctx: Context) -> CheckedModule:
    """Freeze the checked module with its derived layouts."""
    sections: list[CheckedSection] = []
    for section in module.sections:
        ctx.focus = section.span
        table = ctx.symbols[section.name]
        offsets = _offsets(section, table, {})
        registers = tuple(CheckedRegister(register=r, masks=register_masks(r), offsets=offsets[r.name],
                                          enum_checks=enum_checks(r, table))
                          for r in section.registers)
        layouts = tuple(_layout(section, version, table)
                        for version in range(section.min_version, section.version + 1))
        plan = plan_section(section, table, {r.register.name: r for r in registers})
        sections.append(CheckedSection(section=section, registers=registers, state=section.state, layouts=layouts,
                                       descriptor_layout=_descriptor_layout(section, plan), plan=plan, symbols=table,
                                       span=section.span))
    license = next((o.license for o in module.options if o.license is not None), DEFAULT_LICENSE)
    return CheckedModule(sections=tuple(sections), devices=module.devices,
                         bound_offsets=_bound_offsets(module, ctx), license=license)


def _offsets(section: Section, table: SectionSymbols, bindings: dict[str, int]) -> dict[str, tuple[int, ...]]:
    found = register_offsets(section, table, bindings)
    assert found is not None, "layout reports sections whose placements cannot be enumerated"
    return found


def _bound_offsets(module: Module, ctx: Context) -> tuple[BoundOffsets, ...]:
    sections = {s.name: s for s in module.sections}
    moved: list[BoundOffsets] = []
    for device in module.devices:
        for use in device.sections:
            if not use.params:
                continue
            section = sections[use.section]
            table = ctx.symbols[section.name]
            defaults = _offsets(section, table, {})
            bound = _offsets(section, table, {b.name: b.value for b in use.params})
            moved.extend(BoundOffsets(device=device.name, section=section.name, register=r.name,
                                      offsets=bound[r.name])
                         for r in section.registers if bound[r.name] != defaults[r.name])
    return tuple(moved)
