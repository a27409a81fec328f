"""Check meaning: versions, values, descriptors, compat rules, restore order, devices.

Expects: resolved names, typed expressions, a valid layout. Guarantees on
exit: every version range is consistent and loadable; every default, reset,
param and override fits its field; compat rules compare descriptor fields in
a way their types allow; every writable register is restored or skipped with
a reason; devices use each section once with well-typed params.
"""

from __future__ import annotations

from vfiogen.context import Context
from vfiogen.diagnostics import Note
from vfiogen.ir.defaults import array_lengths, broken_constraints, unreachable_length
from vfiogen.ir.evaluate import Range, value_range
from vfiogen.ir.expr import BoolLit, Expr, IntLit, Unary, UnaryOp, to_text
from vfiogen.ir.nodes import (
    WAIT_HOOK,
    ArrayType,
    BitField,
    BytesType,
    Device,
    DeviceSection,
    FieldType,
    Module,
    Register,
    ScalarType,
    Section,
    StateField,
    StructType,
    Versioning,
)
from vfiogen.ir.symbols import SectionSymbols
from vfiogen.ir.types import Access, CompatKind, ScalarKind
from vfiogen.passes.references import check_device_sources
from vfiogen.source import Span


def _fits(value: int, kind: ScalarKind) -> bool:
    return kind.min_value <= value <= kind.max_value


def _check_versioning(section: Section, name: str, versioning: Versioning, field_type: FieldType | None,
                      span: Span, ctx: Context) -> None:
    report = ctx.reporter.report
    if versioning.since > section.version:
        report("VG0501", span, f"'{name}' is since version {versioning.since}, but section '{section.name}' "
               f"is at version {section.version}")
        return
    until = versioning.until
    if until is not None and (until <= versioning.since or until > section.version):
        report("VG0504", span, f"'{name}' has until {until}: it must be after since ({versioning.since}) and "
               f"at most the section version ({section.version})")
        return
    if until is not None and until <= section.min_version:
        report("VG0522", span, f"'{name}' is carried only by versions below min_version "
               f"{section.min_version}; delete it from the schema")
        return
    composite = field_type is not None and not isinstance(field_type, ScalarType)
    if versioning.default is None:
        if versioning.since > section.min_version:
            report("VG0503", span, f"'{name}' is added in version {versioning.since}, after min_version "
                   f"{section.min_version}, so loading an older stream needs its 'default'")
        elif until is not None:
            report("VG0521", span, f"'{name}' is removed in version {until}, so saving for an older target "
                   "needs its 'default'")
    elif composite and versioning.default != 0:
        report("VG0505", versioning.span, f"'{name}' is a {type(field_type).__name__.removesuffix('Type').lower()}; "
               "its only default is 0 (all zero)")


def _int_range(expr: Expr, table: SectionSymbols) -> Range | None:
    return value_range(expr, table.ref_range)


def _check_enum_value(section: Section, table: SectionSymbols, enum: str | None, value: int, what: str,
                      span: Span, ctx: Context) -> None:
    if enum is None or enum not in table.enums:
        return
    values = table.enums[enum].values
    if value not in {v.value for v in values}:
        allowed = ", ".join(f"{v.name} = {v.value}" for v in values)
        ctx.reporter.report("VG0513", span, f"{what} {value} is not a value of enum '{enum}' ({allowed})")


def _check_absent_reads_zero(table: SectionSymbols, enum: str | None, what: str, span: Span,
                             ctx: Context) -> None:
    """A field that can be absent reads as 0 there, so its enum must have the value 0."""
    if enum is None or enum not in table.enums or 0 in {v.value for v in table.enums[enum].values}:
        return
    ctx.reporter.report("VG0513", span, f"{what} can be absent, and an absent field reads as 0, which is not a "
                        f"value of enum '{enum}'; give the enum a value 0")


def _check_enum_fits(table: SectionSymbols, enum: str | None, bits: int, what: str, span: Span,
                     ctx: Context) -> None:
    if enum is None or enum not in table.enums:
        return
    for value in table.enums[enum].values:
        if value.value >= 1 << bits:
            ctx.reporter.report("VG0519", span, f"enum '{enum}' value {value.name} = {value.value} does not fit "
                                f"{what} ({bits} bits)", Note(value.span, "value declared here"))
            return


def _check_register(section: Section, table: SectionSymbols, register: Register, ctx: Context) -> None:
    _check_versioning(section, register.name, register.versioning, None, register.span, ctx)
    full = (1 << register.width) - 1
    declared = 0
    for bit_field in register.fields:
        declared |= bit_field.mask
        if bit_field.reserved_when is not None and bit_field.access.reserved:
            ctx.reporter.report("VG0526", bit_field.reserved_when.span,
                                f"field '{register.name}.{bit_field.name}' is reserved on every function "
                                f"({bit_field.access.value}): reserved_when can only make a bit reserved on "
                                "some of them")
        _check_enum_fits(table, bit_field.enum, bit_field.width, f"field '{register.name}.{bit_field.name}'",
                         bit_field.span, ctx)
    _check_enum_fits(table, register.enum, register.width, f"register '{register.name}'", register.span, ctx)
    if register.present is not None:
        _check_absent_reads_zero(table, register.enum, f"register '{register.name}'", register.span, ctx)
        for bit_field in register.fields:
            _check_absent_reads_zero(table, bit_field.enum, f"field '{register.name}.{bit_field.name}'",
                                     bit_field.span, ctx)
    reserved = sum(f.mask for f in register.fields if f.access.reserved) | (full & ~declared if register.fields
                                                                           else 0)
    if register.access is not None and register.access.reserved:
        reserved = full
    if register.reset & ~full:
        ctx.reporter.report("VG0505", register.span, f"reset value 0x{register.reset:x} of '{register.name}' does "
                            f"not fit {register.width} bits")
    elif register.reset & reserved:
        ctx.reporter.report("VG0514", register.span, f"reset value 0x{register.reset:x} of '{register.name}' sets "
                            f"reserved or undeclared bits (0x{register.reset & reserved:x})")
    default = register.versioning.default
    if default is not None and not 0 <= default <= full:
        ctx.reporter.report("VG0505", register.versioning.span,
                            f"default {default} of '{register.name}' does not fit {register.width} bits")
    elif default is not None and default & reserved:
        # The default is a whole register value (what an older stream stands for): no reserved bits, as a loader
        # refuses them.
        ctx.reporter.report("VG0514", register.versioning.span, f"default 0x{default:x} of '{register.name}' "
                            f"sets reserved or undeclared bits (0x{default & reserved:x})")
    elif default is not None:
        _check_enum_value(section, table, register.enum, default, f"default of '{register.name}'",
                          register.versioning.span, ctx)


def _check_state(section: Section, table: SectionSymbols, state: StateField, ctx: Context,
                 top_level: bool = True, within_optional: bool = False) -> None:
    """`within_optional`: a struct member whose struct, or an enclosing one, has a presence."""
    if top_level:
        _check_versioning(section, state.name, state.versioning, state.type, state.span, ctx)
    if state.access is not None and state.access.base not in (Access.RO, Access.HWINIT):
        # Restore writes registers a width at a time with their overrides; opaque bytes of a length only the
        # device knows have neither, so a writable byte string would be saved and silently never restored.
        ctx.reporter.report("VG0525", state.access_span or state.span,
                            f"byte-string register '{state.name}' is {state.access.value}: a byte string is "
                            "read-only (ro, hwinit or ros); restore does not write one")
    optional = within_optional or state.present is not None
    if optional:
        _check_absent_reads_zero(table, state.enum, f"field '{state.name}'", state.span, ctx)
    field_type = state.type
    default = state.versioning.default
    if isinstance(field_type, ScalarType):
        if default is not None and not _fits(default, field_type.kind):
            ctx.reporter.report("VG0505", state.versioning.span, f"default {default} of '{state.name}' does not "
                                f"fit {field_type.kind.value}")
        elif default is not None:
            _check_enum_value(section, table, state.enum, default, f"default of '{state.name}'",
                              state.versioning.span, ctx)
        if state.enum is not None and field_type.kind.signed:
            ctx.reporter.report("VG0519", state.span, f"enum field '{state.name}' must be unsigned")
        else:
            _check_enum_fits(table, state.enum, field_type.kind.bits, f"field '{state.name}'", state.span, ctx)
    elif state.enum is not None:
        ctx.reporter.report("VG0519", state.span, f"enum '{state.enum}' needs a scalar field, and "
                            f"'{state.name}' is not one")
    in_array = isinstance(field_type, ArrayType)
    while isinstance(field_type, ArrayType):
        bound = _int_range(field_type.length, table)
        if bound is not None and field_type.max > bound[1]:
            ctx.reporter.report("VG0506", field_type.max_span,
                                f"{'byte-string register' if state.byte_string else 'array'} '{state.name}' has "
                                f"max {field_type.max}, but its length "
                                f"'{to_text(field_type.length)}' is at most {bound[1]}")
        field_type = field_type.element
    if isinstance(field_type, StructType):
        for member in field_type.members:
            versioning = member.versioning
            if versioning.since != 1 or versioning.until is not None or versioning.default is not None:
                ctx.reporter.report("VG0504", member.span, f"struct member '{member.name}' cannot be versioned "
                                    "or take a default; version the field that holds the struct")
            # An absent array has no elements to read as 0; an absent struct's members do read as 0.
            _check_state(section, table, member, ctx, top_level=False, within_optional=optional and not in_array)


def _check_descriptor(section: Section, table: SectionSymbols, ctx: Context) -> None:
    for descriptor in section.descriptor:
        if descriptor.source_register is None:
            continue
        symbol = table.symbols.get(descriptor.source_register)
        if symbol is None:
            continue
        if isinstance(symbol.node, StateField) and symbol.node.byte_string:
            continue  # its bytes, 0 past the length: read-only by VG0525 (`fields:` is VG0302 in resolve)
        if not isinstance(symbol.node, Register):
            ctx.reporter.report("VG0306", descriptor.span, f"descriptor '{descriptor.name}' is derived from "
                                f"'{descriptor.source_register}', which is a {symbol.kind.value}, not a register",
                                Note(symbol.span, "defined here"))
            continue
        fields = {f.name: f for f in symbol.node.fields}
        if not descriptor.source_fields and not _fixed_bits(symbol.node):
            ctx.reporter.report("VG0515", descriptor.span,
                                f"descriptor '{descriptor.name}' is derived from '{symbol.node.name}', which has no "
                                "read-only bits: a descriptor describes what the device is",
                                Note(symbol.span, "declared here"))
        for name in descriptor.source_fields:
            bit_field = fields.get(name)
            if bit_field is not None and (bit_field.access.writable or bit_field.access.reserved):
                ctx.reporter.report("VG0515", descriptor.span,
                                    f"descriptor '{descriptor.name}' takes '{descriptor.source_register}.{name}', "
                                    f"which is {bit_field.access.value}: a descriptor describes what the device "
                                    "is, so it takes read-only bits", Note(bit_field.span, "declared here"))


def _fixed_bits(register: Register) -> int:
    """Bits that describe the device: read-only and hardware-initialised ones."""
    if register.fields:
        return sum(f.mask for f in register.fields if f.access.base in (Access.RO, Access.HWINIT))
    if register.access is not None and register.access.base in (Access.RO, Access.HWINIT):
        return (1 << register.width) - 1
    return 0


def _descriptor_bits(section: Section, table: SectionSymbols, name: str) -> tuple[str, int | None]:
    """('int', width) / ('bool', None) / ('bytes', size) of a descriptor field."""
    descriptor = next(d for d in section.descriptor if d.name == name)
    if isinstance(descriptor.type, BytesType):
        return "bytes", descriptor.type.size
    if isinstance(descriptor.type, ScalarType):
        kind = descriptor.type.kind
        return ("bool", None) if kind is ScalarKind.BOOL else ("int", kind.bits)
    symbol = table.symbols.get(descriptor.source_register or "")
    if symbol is not None and isinstance(symbol.node, StateField) and isinstance(symbol.node.type, ArrayType):
        return "bytes", symbol.node.type.max  # a byte-string register
    width = symbol.node.width if symbol is not None and isinstance(symbol.node, Register) else None
    return "int", width


def _enum_valued(section: Section, name: str) -> tuple[str, str] | None:
    """(what, enum) when descriptor `name` takes a value of an enum (a whole register's or a field's)."""
    descriptor = next(d for d in section.descriptor if d.name == name)
    register = next((r for r in section.registers if r.name == descriptor.source_register), None)
    if register is None:
        return None
    if register.enum is not None:
        return f"register '{register.name}'", register.enum
    taken = [f for f in register.fields if (f.name in descriptor.source_fields if descriptor.source_fields
                                            else f.access.base in (Access.RO, Access.HWINIT))]
    field = next((f for f in taken if f.enum is not None), None)
    return (f"field '{register.name}.{field.name}'", field.enum) if field is not None and field.enum else None


def _check_compat(section: Section, table: SectionSymbols, ctx: Context) -> None:
    descriptors = {d.name for d in section.descriptor}
    for rule in section.compat:
        if rule.descriptor is None:
            continue
        symbol = table.symbols.get(rule.descriptor)
        if symbol is None:
            continue
        if rule.descriptor not in descriptors:
            ctx.reporter.report("VG0507", rule.span,
                                f"compat rule '{rule.kind.value}' compares '{rule.descriptor}', a {symbol.kind.value}: "
                                "compat rules compare descriptor fields, which each side computes for itself",
                                Note(symbol.span, f"'{rule.descriptor}' declared here"))
            continue
        kind, size = _descriptor_bits(section, table, rule.descriptor)
        if rule.kind is CompatKind.TARGET_GE and kind != "int":
            ctx.reporter.report("VG0516", rule.span, f"'target_ge' orders integers; '{rule.descriptor}' is {kind}"
                                + (" (use 'equal')" if kind == "bool" else ""))
        elif rule.kind in (CompatKind.SUBSET, CompatKind.SUPERSET) and kind == "bool":
            ctx.reporter.report("VG0516", rule.span, f"'{rule.kind.value}' needs a bit set (an integer or bytes); "
                                f"'{rule.descriptor}' is bool (use 'equal')")
        elif rule.kind in (CompatKind.SUBSET, CompatKind.SUPERSET) and (
                valued := _enum_valued(section, rule.descriptor)) is not None:
            what, enum = valued
            ctx.reporter.report("VG0516", rule.span, f"'{rule.kind.value}' needs a bit set; '{rule.descriptor}' "
                                f"takes {what}, a value of enum '{enum}', whose bits are no set of flags "
                                "(use 'equal')")
        elif rule.kind is CompatKind.MASKED_EQUAL:
            if kind != "int":
                ctx.reporter.report("VG0516", rule.span,
                                    f"'masked_equal' needs an integer; '{rule.descriptor}' is {kind}")
            elif size is not None and rule.mask is not None and rule.mask >> size:
                ctx.reporter.report("VG0516", rule.span, f"mask 0x{rule.mask:x} is wider than '{rule.descriptor}' "
                                    f"({size} bits)")


def _writable_bits(register: Register) -> int:
    if register.fields:
        return sum(f.mask for f in register.fields if f.access.writable)
    return (1 << register.width) - 1 if register.access is not None and register.access.writable else 0


def _check_restore(section: Section, table: SectionSymbols, ctx: Context) -> None:
    restored: dict[str, list[tuple[tuple[tuple[str, str], ...], Span]]] = {}
    for step in section.restore:
        symbol = table.symbols.get(step.register)
        if symbol is None:  # a hook, or undefined (reported by resolve)
            continue
        register = symbol.node
        if not isinstance(register, Register):
            byte_string = isinstance(symbol.node, StateField) and symbol.node.byte_string
            what = "byte-string register, which is read-only" if byte_string else symbol.kind.value
            ctx.reporter.report("VG0508", step.span, f"restore step writes '{step.register}', a "
                                f"{what}: restore writes registers to configuration space",
                                Note(symbol.span, "declared here"))
            continue
        if not _writable_bits(register):
            ctx.reporter.report("VG0518", step.span, f"restore writes '{register.name}', which has no writable bits")
        fields = {f.name: f for f in register.fields}
        for override in step.overrides:
            bit_field = fields.get(override.bit_field)
            if bit_field is None:
                continue
            if not bit_field.access.writable:
                ctx.reporter.report("VG0510", override.span,
                                    f"override sets '{register.name}.{override.bit_field}', which is "
                                    f"{bit_field.access.value}; only writable (rw, rw1c) bits can be forced "
                                    "during restore", Note(bit_field.span, "declared here"))
            _check_override_value(table, register, bit_field, override.value, ctx)
        key = tuple(sorted((o.bit_field, to_text(o.value)) for o in step.overrides))
        previous = restored.setdefault(register.name, [])
        same = [span for k, span in previous if k == key]
        if same:
            ctx.reporter.report("VG0523", step.span, f"'{register.name}' is restored twice with the same overrides",
                                Note(same[0], "first restored here"))
        previous.append((key, step.span))
    for register in section.registers:
        if register.name in restored and register.restore_skip is not None:
            ctx.reporter.report("VG0517", register.span, f"register '{register.name}' is marked 'restore: skip' "
                                "but a restore step writes it", Note(restored[register.name][0][1], "written here"))
        elif register.name not in restored and register.restore_skip is None and _writable_bits(register):
            ctx.reporter.report("VG0509", register.span,
                                f"register '{register.name}' has writable bits but no restore step writes it; "
                                "add it to 'restore' or give 'restore: {skip: <reason>}'")


def _check_override_value(table: SectionSymbols, register: Register, bit_field: BitField, value: Expr,
                          ctx: Context) -> None:
    constant: int | None = None
    if isinstance(value, IntLit):
        constant = value.value
    elif isinstance(value, BoolLit):
        constant = int(value.value)
    elif isinstance(value, Unary) and value.op is UnaryOp.NEG and isinstance(value.operand, IntLit):
        constant = -value.operand.value
    if constant is None:
        bound = _int_range(value, table)
        if bound is None or bound[0] < 0 or bound[1] >= 1 << bit_field.width:
            ctx.reporter.report("VG0505", value.span, f"override of '{register.name}.{bit_field.name}' may not "
                                f"fit its {bit_field.width} bits")
        return
    if not 0 <= constant < 1 << bit_field.width:
        ctx.reporter.report("VG0505", value.span, f"override value {constant} does not fit "
                            f"'{register.name}.{bit_field.name}' ({bit_field.width} bits)")
        return
    _check_enum_value_in(table, bit_field.enum, constant, f"override of '{register.name}.{bit_field.name}'",
                         value.span, ctx)


def _check_enum_value_in(table: SectionSymbols, enum: str | None, value: int, what: str, span: Span,
                         ctx: Context) -> None:
    if enum is None or enum not in table.enums:
        return
    if value not in {v.value for v in table.enums[enum].values}:
        ctx.reporter.report("VG0513", span, f"{what} is {value}, not a value of enum '{enum}'")


def _check_device_hooks(device: Device, sections: dict[str, Section], ctx: Context) -> None:
    """The Python device takes its hooks as one mapping by name, so a name belongs to one section of a device
    (but `wait`, which any section's wait steps call with nothing but the microseconds)."""
    owner: dict[str, tuple[str, Span]] = {}
    for use in device.sections:
        section = sections.get(use.section)
        if section is None:
            continue
        for name, _point, span in section.hook_uses():
            if name == WAIT_HOOK:
                continue  # one wait function serves every section: it is told only how long to wait
            first = owner.setdefault(name, (section.name, span))
            if first[0] != section.name:
                ctx.reporter.report("VG0703", use.span, f"device '{device.name}' uses sections '{first[0]}' and "
                                    f"'{section.name}', which both call hook '{name}'; a device's hooks are "
                                    "named once across its sections: rename one", Note(first[1], "first here"),
                                    Note(span, "and here"))


def _check_device(device: Device, sections: dict[str, Section], ctx: Context) -> None:
    _check_device_hooks(device, sections, ctx)
    check_device_sources(device, sections, ctx)
    seen: dict[str, Span] = {}
    for use in device.sections:
        if use.section in seen:
            ctx.reporter.report("VG0701", use.span, f"device '{device.name}' uses section '{use.section}' twice; "
                                "each section id may appear once in a blob", Note(seen[use.section], "first used here"))
            continue
        seen[use.section] = use.span
        section = sections.get(use.section)
        if section is None:
            continue
        params = {p.name: p for p in section.params}
        if device.generic and use.params:
            # The generated functions of a generic device take every param from the caller: a binding
            # would be silently unused, so it is refused rather than ignored.
            ctx.reporter.report("VG0704", use.params[0].span, f"device '{device.name}' is generic: its params "
                                f"are given at run time, so it cannot bind '{use.params[0].name}' of section "
                                f"'{section.name}'", Note(device.span, "generic device declared here"))
            continue
        _check_device_defaults(device, section, use, ctx)
        _check_device_instances(device, section, use, ctx)
        for binding in use.params:
            param = params.get(binding.name)
            if param is None:
                known = ", ".join(sorted(params)) or "none"
                ctx.reporter.report("VG0702", binding.span, f"section '{section.name}' has no param "
                                    f"'{binding.name}' (params: {known})")
            elif binding.written_as_bool != (param.kind is ScalarKind.BOOL) or not _fits(binding.value, param.kind):
                shown = ("true" if binding.value else "false") if binding.written_as_bool else str(binding.value)
                ctx.reporter.report("VG0702", binding.span, f"param '{binding.name}' = {shown} does not fit "
                                    f"{param.kind.value}", Note(param.span, "declared here"))


def _check_device_instances(device: Device, section: Section, use: DeviceSection, ctx: Context) -> None:
    """A device's `instances` counts a repeated section's instances within the section's maximum."""
    if use.instances is None:
        return
    span = use.instances_span or use.span
    most = section.location.max_instances
    if device.generic:
        ctx.reporter.report("VG0704", span, f"device '{device.name}' is generic: how many instances of section "
                            f"'{section.name}' it has is given at run time", Note(device.span,
                                                                                  "generic device declared here"))
    elif use.instances > most:
        said = (f"at most {most} instances" if section.location.instances is not None
                else "one instance: its location does not declare `instances`")
        ctx.reporter.report("VG0706", span, f"device '{device.name}' gives section '{section.name}' "
                            f"{use.instances} instances, and the section has {said}",
                            Note(section.location.span, "the section's location"))


def _reserved_bits(register: Register) -> int:
    full = (1 << register.width) - 1
    if register.access is not None and register.access.reserved:
        return full
    declared = sum(f.mask for f in register.fields)
    return sum(f.mask for f in register.fields if f.access.reserved) | (full & ~declared if register.fields else 0)


def _check_device_defaults(device: Device, section: Section, use: DeviceSection, ctx: Context) -> None:
    """A device's `defaults` name registers of the section and hold values a loader accepts."""
    if device.generic and use.defaults:
        ctx.reporter.report("VG0704", use.defaults[0].span, f"device '{device.name}' is generic: a new state "
                            f"has the sections' own defaults, so it cannot give '{use.defaults[0].name}' of "
                            f"section '{section.name}' one", Note(device.span, "generic device declared here"))
        return
    registers = {r.name: r for r in section.registers}
    for binding in use.defaults:
        register = registers.get(binding.name)
        if register is None:
            known = ", ".join(sorted(registers)) or "none"
            ctx.reporter.report("VG0705", binding.span, f"section '{section.name}' has no register "
                                f"'{binding.name}' to give a default (registers: {known})")
        elif not 0 <= binding.value < 1 << register.width:
            ctx.reporter.report("VG0705", binding.span, f"default {binding.value} of '{binding.name}' does not fit "
                                f"{register.width} bits", Note(register.span, "declared here"))
        elif binding.value & _reserved_bits(register):
            ctx.reporter.report("VG0705", binding.span, f"default 0x{binding.value:x} of '{binding.name}' sets "
                                f"reserved or undeclared bits (0x{binding.value & _reserved_bits(register):x})",
                                Note(register.span, "declared here"))
    given = {b.name: b.value for b in use.defaults}
    params = {b.name: b.value for b in use.params}
    if given and array_lengths(section, params, given) != array_lengths(section, params):
        ctx.reporter.report("VG0705", use.defaults[0].span, f"the defaults of section '{section.name}' change "
                            "the length of an array in a new state; give the length's fields their default in "
                            "the section instead")


def _check_new_state(section: Section, params: dict[str, int], ctx: Context, where: str = "",
                     binding: Span | None = None, registers: dict[str, int] | None = None) -> None:
    """A new state (every register and field at its default, every array as long as its length says)
    must save, and what it saves must load: it may break no constraint, and no array's length may pass
    its max. `where` names a device whose bound params make it so."""
    notes = (Note(binding, "the params and defaults given here"),) if binding is not None else ()
    for index in broken_constraints(section, params, registers):
        constraint = section.constraints[index]
        ctx.reporter.report("VG0524", constraint.span,
                            f"a new '{section.name}' state{where} breaks this constraint ({constraint.reason}): "
                            "give the registers and fields it reads a 'default' that satisfies it (a device "
                            "whose params need other register values gives them under 'defaults'), so that a "
                            "new state saves and what it saves loads", *notes)
    for name, length in unreachable_length(section, params, registers):
        field = next(s for s in section.state if s.name == name)
        ctx.reporter.report("VG0524", field.span,
                            f"in a new '{section.name}' state{where}, '{name}' would hold {length} elements, "
                            "outside 0..max: give the fields its length reads a 'default' that fits", *notes)


def check_semantics(module: Module, ctx: Context) -> Module:
    """Report every semantic error; the module is returned unchanged."""
    for section in module.sections:
        ctx.focus = section.span
        table = ctx.symbols.get(section.name)
        if table is None:
            continue
        if section.min_version > section.version:
            ctx.reporter.report("VG0502", section.span, f"section '{section.name}' has min_version "
                                f"{section.min_version} above its version {section.version}")
            continue
        for param in section.params:
            if not _fits(param.default, param.kind):
                ctx.reporter.report("VG0505", param.span, f"default {param.default} of param '{param.name}' "
                                    f"does not fit {param.kind.value}")
        for register in section.registers:
            _check_register(section, table, register, ctx)
        for state in section.state:
            _check_state(section, table, state, ctx)
        _check_descriptor(section, table, ctx)
        _check_compat(section, table, ctx)
        _check_restore(section, table, ctx)
        if not ctx.reporter.error_count:
            _check_new_state(section, {}, ctx)
    sections = {s.name: s for s in module.sections}
    for device in module.devices:
        _check_device(device, sections, ctx)
        if ctx.reporter.error_count:
            continue
        for use in device.sections:
            if (use.params or use.defaults) and use.section in sections:
                _check_new_state(sections[use.section], {b.name: b.value for b in use.params}, ctx,
                                 f" of device '{device.name}'", use.span,
                                 {b.name: b.value for b in use.defaults})
    return module
