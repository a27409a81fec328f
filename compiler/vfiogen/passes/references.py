"""References across sections: params whose value another section's registers give (`from:`).

A section's expressions read only its own names; a fact that lives in another section (AER's root-port
registers follow the PCI Express capability's Device/Port Type) comes in as a param read from that
section: `root_port: {type: bool, default: false, from: "pcie.pcie_caps.device_port_type == 4"}`. The
checks live here, one function per stage that calls them:

- `resolve_sources` (from `resolve`): the section exists and is not the section itself, it is not a
  repeated section (whose instances would make the value ambiguous), every reference names that one
  section and then a register or bit field of it, and the sections' references form no cycle;
- `type_sources` (from `typecheck`): the expression's type is the param's (bool or integer), it reads no
  writable bit (a param is what the device *is*, as presence is), and its `~` widths are filled in from
  the section it reads;
- `check_device_sources` (from `semantics`): a device that lists the section read lists it *before* the
  dependent section and as required, so capture, load and restore always have its state first, and it
  does not bind the param too (the section decides it).

Expects: lowered sections (`Param.source` with the section name split off). Guarantees: what `plan_device`
turns into each device's derived params is well formed.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping

from vfiogen.context import Context
from vfiogen.diagnostics import Note
from vfiogen.ir.expr import ARITHMETIC, Binary, Conditional, Expr, Unary, UnaryOp, refs
from vfiogen.ir.nodes import Device, Param, Section
from vfiogen.ir.symbols import SectionSymbols, SymbolKind
from vfiogen.ir.types import ScalarKind
from vfiogen.passes.cycles import find_cycles


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _sourced(section: Section) -> list[Param]:
    return [p for p in section.params if p.source is not None]


def resolve_sources(sections: dict[str, Section], symbols: dict[str, SectionSymbols], ctx: Context) -> None:
    """Report a `from:` that names an unknown, repeated or second section, or an unknown name in it, or that
    closes a cycle of sections reading each other."""
    edges: dict[str, list[tuple[str, Param]]] = {}
    for section in sections.values():
        ctx.focus = section.span
        for param in _sourced(section):
            source = param.source
            assert source is not None
            if not _resolve_one(section, param, sections, symbols, ctx):
                continue
            edges.setdefault(section.name, []).append((source.section, param))
    _report_cycles(edges, ctx)


def _resolve_one(section: Section, param: Param, sections: dict[str, Section],
                 symbols: dict[str, SectionSymbols], ctx: Context) -> bool:
    source = param.source
    assert source is not None
    found = refs(source.expr)
    if not found:
        ctx.reporter.report("VG0602", source.span, f"param '{param.name}' is read from no section: its `from` "
                            "names no register (a constant is a `default`)")
        return False
    target = sections.get(source.section)
    first = found[0]
    if target is None:
        hint = _did_you_mean(source.section, list(sections))
        ctx.reporter.report("VG0302", first.span, f"param '{param.name}' is read from section "
                            f"'{source.section}', which no schema defines{hint}")
        return False
    if target.name == section.name:
        ctx.reporter.report("VG0310", first.span, f"param '{param.name}' of section '{section.name}' is read "
                            "from the section itself; its expressions read its own registers directly")
        return False
    if target.location.instances is not None:
        ctx.reporter.report("VG0311", first.span, f"param '{param.name}' is read from section "
                            f"'{target.name}', which is repeated (up to {target.location.instances} instances "
                            "in one function): which instance's register it means is ambiguous",
                            Note(target.location.span, "repeated here"))
        return False
    ok = True
    table = symbols.get(target.name)
    for ref, other in zip(found, source.written, strict=True):
        written = ".".join((other, *ref.path))
        if other != source.section:
            ctx.reporter.report("VG0312", ref.span, f"param '{param.name}' reads '{other}' and "
                                f"'{source.section}': a param is read from one section")
            ok = False
            continue
        if not ref.path:
            ctx.reporter.report("VG0302", ref.span, f"'{written}' names a section; name one of its registers "
                                f"or bit fields ('{source.section}.REGISTER' or '{source.section}.REGISTER.FIELD')")
            ok = False
            continue
        if table is None:
            ok = False
            continue
        symbol = table.lookup(ref.path)
        if symbol is None:
            readable = [name for name, s in table.symbols.items()
                        if s.kind in (SymbolKind.REGISTER, SymbolKind.BIT_FIELD, SymbolKind.ENUM_VALUE)]
            hint = _did_you_mean(ref.dotted, readable)
            hint = hint.replace("did you mean '", f"did you mean '{source.section}.") if hint else ""
            ctx.reporter.report("VG0302", ref.span, f"'{written}' is not defined in section "
                                f"'{source.section}'{hint}")
            ok = False
        elif symbol.kind not in (SymbolKind.REGISTER, SymbolKind.BIT_FIELD, SymbolKind.ENUM_VALUE):
            ctx.reporter.report("VG0306", ref.span, f"'{written}' is a {symbol.kind.value} of section "
                                f"'{source.section}'; a param is read from registers and bit fields, which "
                                "capture reads from configuration space", Note(symbol.span, "defined here"))
            ok = False
    return ok


def _report_cycles(edges: dict[str, list[tuple[str, Param]]], ctx: Context) -> None:
    for members in find_cycles(edges, sorted(edges)):
        chain = " -> ".join([n for n, _ in members] + [members[0][0]])
        first = members[0][1].source
        assert first is not None
        notes = [Note(p.source.span, f"'{n}' reads '{p.source.section}' here") for n, p in members[1:]
                 if p.source is not None]
        ctx.reporter.report("VG0310", first.span, f"sections read each other's registers for their params in a "
                            f"cycle: {chain}; no order captures or loads one before the other", *notes)


def type_sources(section: Section, symbols: Mapping[str, SectionSymbols], ctx: Context) -> Section:
    """Type each `from:` in the section it reads, against its param's type; return the section with the
    expressions annotated (`~` widths) in that section's namespace."""
    from vfiogen.passes.typecheck import annotate, expression_type, is_writable  # typecheck imports this

    params = []
    for param in section.params:
        source = param.source
        table = symbols.get(source.section) if source is not None else None
        if source is None or table is None:
            params.append(param)
            continue
        computed = _arithmetic(source.expr)
        if computed is not None:
            # Both back ends then evaluate it without a checked helper (nothing overflows or shifts too far),
            # so the value cannot fail in one language and not the other.
            ctx.reporter.report("VG0602", computed.span, f"param '{param.name}' is read from bits: its `from` "
                                "may compare, combine with '&&', '||', '!', '&', '|', '^', '~' and choose with "
                                "'?:', but not compute with arithmetic or shifts")
            params.append(param)
            continue
        expr_type = expression_type(source.expr, table, ctx)
        want_bool = param.kind is ScalarKind.BOOL
        if not expr_type.invalid and expr_type.is_bool != want_bool:
            hint = (" (compare it, e.g. '!= 0')" if want_bool else
                    " (declare the param `type: bool`, or give the number, e.g. 'c ? 1 : 0')")
            ctx.reporter.report("VG0602", source.span, f"param '{param.name}' is {param.kind.value}, and its "
                                f"`from` is {expr_type}{hint}")
        for ref in refs(source.expr):
            symbol = table.lookup(ref.path)
            if symbol is not None and is_writable(symbol):
                ctx.reporter.report("VG0511", ref.span, f"param '{param.name}' is read from "
                                    f"'{source.section}.{ref.dotted}', which software can write: a param says "
                                    "what the device is, not the mode it is in", Note(symbol.span, "writable here"))
        annotated: Expr = annotate(source.expr, table, ctx)
        params.append(dataclasses.replace(param, source=dataclasses.replace(source, expr=annotated)))
    return dataclasses.replace(section, params=tuple(params))


def _arithmetic(expr: Expr) -> Expr | None:
    """The first arithmetic or shift in `expr`, if any."""
    if isinstance(expr, Binary):
        if expr.op in ARITHMETIC:
            return expr
        return _arithmetic(expr.left) or _arithmetic(expr.right)
    if isinstance(expr, Unary):
        return expr if expr.op is UnaryOp.NEG else _arithmetic(expr.operand)
    if isinstance(expr, Conditional):
        return _arithmetic(expr.test) or _arithmetic(expr.if_true) or _arithmetic(expr.if_false)
    return None


def check_device_sources(device: Device, sections: dict[str, Section], ctx: Context) -> None:
    """A device that lists the section a param is read from lists it first, as required, and binds the
    param nowhere: the section decides it."""
    place = {use.section: (index, use) for index, use in enumerate(device.sections)}
    for index, use in enumerate(device.sections):
        section = sections.get(use.section)
        if section is None:
            continue
        for param in _sourced(section):
            source = param.source
            assert source is not None
            listed = place.get(source.section)
            if listed is None:
                continue  # the device binds the param, or the config gives it at run time
            where, source_use = listed
            binding = next((b for b in use.params if b.name == param.name), None)
            if binding is not None:
                ctx.reporter.report("VG0707", binding.span, f"device '{device.name}' binds param "
                                    f"'{param.name}' of section '{section.name}', which section "
                                    f"'{source.section}' decides: `from: {source.text}`",
                                    Note(param.span, "read from another section here"))
            if where > index:
                ctx.reporter.report("VG0707", use.span, f"device '{device.name}' lists section "
                                    f"'{section.name}' before section '{source.section}', which its param "
                                    f"'{param.name}' is read from; list '{source.section}' first, so that its "
                                    "state is captured, loaded and restored first",
                                    Note(source_use.span, f"'{source.section}' is listed here"),
                                    Note(source.span, "read here"))
            elif not source_use.required:
                ctx.reporter.report("VG0707", source_use.span, f"device '{device.name}' lists section "
                                    f"'{source.section}' as optional, and param '{param.name}' of section "
                                    f"'{section.name}' is read from it; a section a param is read from is "
                                    "required, so that both sides read the param from the same state",
                                    Note(source.span, "read here"))
