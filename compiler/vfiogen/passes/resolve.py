"""Resolve names (pass after `lower`).

Expects: a lowered `Module`. Guarantees on exit (when no error was reported):
section names, wire ids and device names are unique, and there is at most one
options file; each section's symbol
table is in `ctx.symbols`; every name an expression, enum reference, compat
rule, descriptor, restore step or device refers to exists. Whether it is the
right *kind* of thing is left to `semantics`, except where an expression could
not be typed at all.
"""

from __future__ import annotations

from vfiogen.context import Context
from vfiogen.diagnostics import Note
from vfiogen.ir.expr import Expr, refs
from vfiogen.ir.nodes import (
    ArrayType,
    Device,
    EnumType,
    Module,
    ScalarType,
    Section,
    StateField,
    StructType,
)
from vfiogen.ir.nodes import WAIT_HOOK
from vfiogen.ir.symbols import BOOL, ExprType, SectionSymbols, Symbol, SymbolKind
from vfiogen.ir.types import LocationKind, ScalarKind
from vfiogen.passes.plan import descriptor_name_taken
from vfiogen.passes.references import resolve_sources
from vfiogen.source import Span


def _scalar_type(kind: ScalarKind) -> ExprType:
    if kind is ScalarKind.BOOL:
        return BOOL
    return ExprType(is_bool=False, width=kind.bits, signed=kind.signed)


def _build_symbols(section: Section, ctx: Context) -> SectionSymbols:
    symbols: dict[str, Symbol] = {}
    wire_order: dict[str, int] = {}

    def define(symbol: Symbol) -> None:
        first = symbols.get(symbol.name)
        if first is not None:
            ctx.reporter.report("VG0301", symbol.span,
                                f"'{symbol.name}' is already defined in section '{section.name}' "
                                f"(as a {first.kind.value})",
                                Note(first.span, "first defined here"))
            return
        symbols[symbol.name] = symbol

    for register in section.registers:
        define(Symbol(SymbolKind.REGISTER, register.name, register.name,
                      ExprType(is_bool=False, width=register.width), register.span, register))
        wire_order.setdefault(register.name, len(wire_order))
        for bit_field in register.fields:
            field_type = BOOL if bit_field.hi == bit_field.lo else ExprType(
                is_bool=False, width=max(1, bit_field.hi - bit_field.lo + 1))
            define(Symbol(SymbolKind.BIT_FIELD, f"{register.name}.{bit_field.name}", register.name,
                          field_type, bit_field.span, bit_field))
    for state in section.state:
        readable = _scalar_type(state.type.kind) if isinstance(state.type, ScalarType) else None
        define(Symbol(SymbolKind.STATE, state.name, state.name, readable, state.span, state))
        wire_order.setdefault(state.name, len(wire_order))
    for descriptor in section.descriptor:
        define(Symbol(SymbolKind.DESCRIPTOR, descriptor.name, descriptor.name, None,
                      descriptor.span, descriptor))
    for descriptor in section.descriptor:
        if descriptor_name_taken(descriptor.name):
            ctx.reporter.report("VG0301", descriptor.span,
                                f"descriptor field '{descriptor.name}' takes a name the compiler gives every "
                                f"descriptor of section '{section.name}' (min_version, max_version, "
                                "mask_registers, the mask arrays emulated_masks and write_masks, and "
                                "emulated_<register> and wmask_<register> in compat reasons); rename it")
    for param in section.params:
        define(Symbol(SymbolKind.PARAM, f"params.{param.name}", f"params.{param.name}",
                      _scalar_type(param.kind), param.span, param))
    enums: dict[str, EnumType] = {}
    for enum_type in section.enums:
        if enum_type.name in enums:
            ctx.reporter.report("VG0301", enum_type.span, f"enum '{enum_type.name}' is already defined",
                                Note(enums[enum_type.name].span, "first defined here"))
            continue
        if enum_type.name in symbols:
            ctx.reporter.report("VG0301", enum_type.span,
                                f"enum '{enum_type.name}' has the name of a {symbols[enum_type.name].kind.value}; "
                                "expressions could not tell them apart",
                                Note(symbols[enum_type.name].span,
                                     f"{symbols[enum_type.name].kind.value} '{enum_type.name}' is defined here"))
            continue
        enums[enum_type.name] = enum_type
        for value in enum_type.values:
            define(Symbol(SymbolKind.ENUM_VALUE, f"{enum_type.name}.{value.name}", enum_type.name,
                          _enum_value_type(value.value), value.span, value))
    return SectionSymbols(section.name, symbols, enums, wire_order)


def _enum_value_type(value: int) -> ExprType:
    """Enum constants have the width of their value, so `~` on one stays meaningful."""
    return ExprType(is_bool=False, width=max(1, value.bit_length()))


def section_expressions(section: Section) -> list[tuple[str, str, Expr]]:
    """Every expression of a section as (owner, role, expr), in declaration order."""
    found: list[tuple[str, str, Expr]] = []
    for register in section.registers:
        found.append((register.name, "offset", register.offset))
        if register.present is not None:
            found.append((register.name, "present", register.present))
        for bit_field in register.fields:
            if bit_field.reserved_when is not None:
                found.append((register.name, "reserved_when", bit_field.reserved_when))

    def visit_state(owner: str, state: StateField) -> None:
        if state.present is not None:
            found.append((owner, "present", state.present))
        field_type = state.type
        while isinstance(field_type, ArrayType):
            found.append((owner, "length", field_type.length))
            field_type = field_type.element
        if isinstance(field_type, StructType):
            for member in field_type.members:
                visit_state(owner, member)

    for state in section.state:
        visit_state(state.name, state)
    for constraint in section.constraints:
        found.append(("", "constraint", constraint.check))
    for step in section.restore:
        for override in step.overrides:
            found.append((step.register, "override", override.value))
        if step.when is not None:
            found.append(("", "wait condition", step.when))
    return found


def _check_references(section: Section, table: SectionSymbols, ctx: Context) -> None:
    for _, _, expr in section_expressions(section):
        for ref in refs(expr):
            if table.lookup(ref.path) is None:
                hint = _did_you_mean(ref.dotted, [name for name, symbol in table.symbols.items()
                                                  if symbol.type is not None])
                if ref.path[0] == "params" and not hint:
                    hint = "; params are declared under 'params:'"
                elif len(ref.path) == 1 and ref.path[0] in table.enums:
                    hint = f"; '{ref.path[0]}' is an enum: name one of its values"
                ctx.reporter.report("VG0302", ref.span,
                                    f"'{ref.dotted}' is not defined in section '{section.name}'{hint}")

    def check_enum(name: str | None, span: Span) -> None:
        if name is not None and name not in table.enums:
            ctx.reporter.report("VG0302", span, f"enum '{name}' is not defined in section '{section.name}'")

    for register in section.registers:
        check_enum(register.enum, register.enum_span or register.span)
        for bit_field in register.fields:
            check_enum(bit_field.enum, bit_field.enum_span or bit_field.span)
    for state in section.state:
        check_enum(state.enum, state.enum_span or state.span)
    for descriptor in section.descriptor:
        if descriptor.source_register is None:
            continue
        source = table.symbols.get(descriptor.source_register)
        if source is None:
            ctx.reporter.report("VG0302", descriptor.span,
                                f"descriptor '{descriptor.name}' is derived from '{descriptor.source_register}', "
                                "which is not defined")
            continue
        for name in descriptor.source_fields:
            if f"{descriptor.source_register}.{name}" not in table.symbols:
                ctx.reporter.report("VG0302", descriptor.span,
                                    f"descriptor '{descriptor.name}' names field '{name}', which register "
                                    f"'{descriptor.source_register}' does not have")
    for rule in section.compat:
        if rule.descriptor is not None and rule.descriptor not in table.symbols:
            ctx.reporter.report("VG0302", rule.span,
                                f"compat rule compares '{rule.descriptor}', which is not defined in section "
                                f"'{section.name}'")
    _check_hook_points(section, ctx)
    for step in section.restore:
        if step.hook is not None:
            continue
        if step.register not in table.symbols:
            hint = _did_you_mean(step.register, [r.name for r in section.registers])
            ctx.reporter.report("VG0302", step.span, f"restore step writes '{step.register}', which is not "
                                f"defined in section '{section.name}'{hint}")
            continue
        for override in step.overrides:
            if f"{step.register}.{override.bit_field}" not in table.symbols:
                written = next((r for r in section.registers if r.name == step.register), None)
                hint = _did_you_mean(override.bit_field, [f.name for f in written.fields] if written else [])
                ctx.reporter.report("VG0302", override.span,
                                    f"restore override names '{override.bit_field}', which register "
                                    f"'{step.register}' does not have{hint}")


def _did_you_mean(name: str, candidates: list[str]) -> str:
    """`; did you mean 'x'?` for the closest candidate, or '' when none is close (difflib's 0.6 ratio)."""
    import difflib  # here: only a misspelt name pays for it (5 ms of every `check` otherwise)

    close = difflib.get_close_matches(name, sorted(candidates), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _check_hook_points(section: Section, ctx: Context) -> None:
    """A hook name names one hook point of its section: restore steps (any number of them), pre-save or post-load.

    The C back end gives each name one function pointer per section, and the
    points' signatures differ (restore hooks see a const state), so a name at
    two points has no C declaration.
    """
    points: dict[str, tuple[str, Span]] = {}
    for step in section.restore:
        if step.hook == WAIT_HOOK and step.wait_us is None:
            ctx.reporter.report("VG0301", step.span, f"'{WAIT_HOOK}' is the hook that restore's wait steps call; "
                                "give this hook another name")
    for name, point, span in section.hook_uses():
        first = points.setdefault(name, (point, span))
        if first[0] != point:
            ctx.reporter.report("VG0301", span, f"hook '{name}' is already {first[0]} of section '{section.name}'; "
                                f"name each hook point's function differently",
                                Note(first[1], f"first used here as {first[0]}"))


# Generated files of their own: vfg_runtime.{h,c} in C.
RESERVED_NAMES = {"runtime": "vfg_runtime.h", "err": "its status codes, VFG_ERR_*"}
"""Names a section or device may not take, with what of the generated runtime they would collide with (a
section `err` would define VFG_ERR_VERSION, one of the statuses)."""


def _check_not_reserved(kind: str, name: str, span: Span, ctx: Context) -> None:
    if name in RESERVED_NAMES:
        ctx.reporter.report("VG0301", span, f"{kind} name '{name}' is taken by the generated runtime "
                            f"({RESERVED_NAMES[name]}); choose another")


def _check_capability_claims(module: Module, ctx: Context) -> None:
    """One capability belongs to one section (VG0308).

    `inspect`, `capture` and a hypervisor match a capability found in config space to the section whose
    location names its id; with two claimants the match is a guess, and a second occurrence would silently be
    nobody's. A section says the capability occurs several times with `instances:`, and extended capabilities
    of one id split by version (each section names its own). There is no other way to split an id, so any
    other pair of claimants is an error.
    """
    claims: dict[tuple[LocationKind, int, int | None], Section] = {}
    for section in sorted(module.sections, key=lambda s: (s.source_path, s.span.line)):
        location = section.location
        if location.kind not in (LocationKind.CAPABILITY, LocationKind.EXTENDED_CAPABILITY) or location.cap_id is None:
            continue
        versions: list[int | None] = list(location.cap_versions) or [None]
        keys = [(location.kind, cap_id, version) for cap_id in location.cap_ids for version in versions]
        clash = next((key for key in keys if key in claims), None)
        if clash is None:
            claims.update((key, section) for key in keys)
            continue
        first = claims[clash]
        if first.name == section.name:
            continue  # one section defined twice: VG0304 says so already
        what = ("capability" if location.kind is LocationKind.CAPABILITY else
                f"extended capability version {clash[2]} of id")
        width = 2 if location.kind is LocationKind.CAPABILITY else 4
        ctx.reporter.report("VG0308", location.span, f"{what} 0x{clash[1]:0{width}x} is claimed by section "
                            f"'{section.name}' and by section '{first.name}'; one section describes every "
                            "occurrence of a capability (declare `instances: N` on it when the capability may "
                            "occur several times in one function)",
                            Note(first.location.span, f"claimed by '{first.name}' here"))


def resolve_names(module: Module, ctx: Context) -> Module:
    """Build symbol tables and report undefined and duplicate names."""
    by_name: dict[str, Section] = {}
    by_id: dict[int, Section] = {}
    for section in sorted(module.sections, key=lambda s: s.source_path):
        _check_not_reserved("section", section.name, section.span, ctx)
        first = by_name.get(section.name)
        if first is not None:
            ctx.reporter.report("VG0304", section.span,
                                f"section '{section.name}' is also defined in {first.span.path}",
                                Note(first.span, "first defined here"))
        else:
            by_name[section.name] = section
        other = by_id.get(section.wire_id)
        if other is not None:
            ctx.reporter.report("VG0303", section.span,
                                f"section id 0x{section.wire_id:04x} is already used by section '{other.name}'",
                                Note(other.span, "first used here"))
        else:
            by_id[section.wire_id] = section
    _check_capability_claims(module, ctx)
    for section in by_name.values():
        ctx.focus = section.span
        table = _build_symbols(section, ctx)
        ctx.symbols[section.name] = table
        _check_references(section, table, ctx)
    resolve_sources(by_name, ctx.symbols, ctx)
    devices: dict[str, Device] = {}
    for extra in module.options[1:]:
        first_options = module.options[0]
        ctx.reporter.report("VG0307", extra.span, f"a build takes one options file, and {first_options.span.path} "
                            "is one already", Note(first_options.span, "the first options file"))
    for device in sorted(module.devices, key=lambda d: d.source_path):
        if device.name in devices:
            first_device = devices[device.name]
            ctx.reporter.report("VG0301", device.span, f"device '{device.name}' is already defined",
                                Note(first_device.span, "first defined here"))
            continue
        devices[device.name] = device
        _check_not_reserved("device", device.name, device.span, ctx)
        if device.name in by_name:
            ctx.reporter.report("VG0301", device.span, f"device '{device.name}' has the name of a section; the two "
                                "would be generated into the same files", Note(by_name[device.name].span,
                                                                               "the section is defined here"))
        for use in device.sections:
            if use.section not in by_name:
                ctx.reporter.report("VG0305", use.span,
                                    f"device '{device.name}' uses section '{use.section}', which no schema defines")
    return module
