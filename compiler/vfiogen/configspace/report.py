"""`vfiogen inspect`: each function of a dump with its capabilities, and the state the schemas capture.

A capability is matched to the section whose location names its kind and id
(an extended capability also by version, when the schema gives one); one
without a schema is listed with `schema: null`, never dropped. The type-0
header is captured by the section located at header type 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from vfiogen.configspace.capture import Captured, capture
from vfiogen.configspace.chain import Capability, capabilities
from vfiogen.configspace.dump import Function
from vfiogen.configspace.names import name_of
from vfiogen.ir.checked import CheckedModule, CheckedSection
from vfiogen.ir.evaluate import Value, source_params
from vfiogen.ir.types import LocationKind
from vfiogen.passes.plan import instance_name


@dataclass
class CapabilityReport:
    capability: Capability
    name: str
    schema: str | None
    state: Captured | None
    instance: int | None = None
    """For a repeated section (vendor-specific): which occurrence of its capability this is, counted in list
    order from 0, as the section's instances are numbered on the wire."""

    @property
    def label(self) -> str | None:
        """The schema, and for a repeated section the instance: `vendor_specific[1]`."""
        if self.schema is None or self.instance is None:
            return self.schema
        return instance_name(self.schema, self.instance)

    def to_json(self) -> dict[str, Any]:
        cap = self.capability
        return {"kind": cap.kind, "id": cap.id, "version": cap.version, "offset": cap.offset, "name": self.name,
                "schema": self.schema, **({"instance": self.instance} if self.instance is not None else {}),
                "state": self.state.to_json() if self.state is not None else None,
                **({"params": self.state.params} if self.state is not None and self.state.params else {}),
                "problems": self.state.problems if self.state is not None else []}


@dataclass
class FunctionReport:
    function: Function
    header_schema: str | None
    header: Captured | None
    capabilities: list[CapabilityReport]
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        config = self.function
        return {"address": config.address, "vendor_id": config.read(0, 2), "device_id": config.read(2, 2),
                "header_type": _layout(config), "config_size": len(config.config),
                "header": {"schema": self.header_schema,
                           "state": self.header.to_json() if self.header is not None else None},
                "capabilities": [c.to_json() for c in self.capabilities], "problems": self.problems}


def _layout(function: Function) -> int | None:
    value = function.read(0x0E, 1)
    return value & 0x7F if value is not None else None


def _schema_for(module: CheckedModule | None, cap: Capability) -> CheckedSection | None:
    if module is None:
        return None
    kind = LocationKind.CAPABILITY if cap.kind == "cap" else LocationKind.EXTENDED_CAPABILITY
    for checked in module.sections:
        location = checked.section.location
        if location.kind is kind and cap.id in location.cap_ids and (
                cap.kind == "cap" or location.cap_version is None or cap.version in location.cap_versions):
            return checked
    return None


def inspect_function(function: Function, module: CheckedModule | None) -> FunctionReport:
    found, problems = capabilities(function)
    header_section = next((c for c in module.sections if c.section.location.kind is LocationKind.HEADER
                           and c.section.location.cap_id == _layout(function)), None) if module else None
    header = capture(header_section, function, 0) if header_section is not None else None
    reports = []
    seen: Counter[str] = Counter()
    for cap in found:
        checked = _schema_for(module, cap)
        instance = None
        if checked is not None and checked.section.location.instances is not None:
            instance = seen[checked.name]
            seen[checked.name] += 1
        reports.append(CapabilityReport(cap, name_of(cap.kind, cap.id), checked.name if checked else None,
                                        None, instance))
    # Capture in an order where a section comes after those its params are read from (`from:`), as the
    # generated device code captures in device order: each section's derived params from their state.
    envs: dict[str, dict[str, Value]] = {}
    if header_section is not None and header is not None:
        envs[header_section.name] = header.env
    pending = [r for r in reports if r.schema is not None]
    while pending and module is not None:
        waiting = {r.schema for r in pending if r.instance is None}
        ready = [r for r in pending if not any(p.source is not None and p.source.section in waiting
                                               and p.source.section != r.schema
                                               for p in module.section(str(r.schema)).section.params)]
        for report in ready or pending[:1]:  # a cycle is refused by `check`; never loop on one
            checked = module.section(str(report.schema))
            report.state = capture(checked, function, report.capability.offset,
                                   source_params(checked.section, envs))
            if report.instance is None:
                envs[checked.name] = report.state.env
            pending.remove(report)
    if len(function.config) == 64:
        problems.append("the dump holds only the 64-byte header (what an unprivileged read of sysfs config "
                        "gives); read it as root for the capabilities")
    elif len(function.config) == 256 and any(c.kind == "cap" and c.id == 0x10 for c in found):
        problems.append("a PCI Express function dumped without its extended space (lspci -xxxx, or a root "
                        "read of sysfs config, gives all 4096 bytes)")
    return FunctionReport(function, header_section.name if header_section else None, header, reports, problems)


def render_json(reports: list[FunctionReport]) -> dict[str, Any]:
    return {"devices": [r.to_json() for r in reports]}


def render_text(reports: list[FunctionReport]) -> str:
    """Like `lspci -vv`: a line per function, a line per capability, the captured registers under it."""
    lines: list[str] = []
    for report in reports:
        function = report.function
        vendor, device = function.read(0, 2), function.read(2, 2)
        ids = f"{vendor:04x}:{device:04x}" if vendor is not None and device is not None else "????:????"
        lines.append(f"{function.address} [{ids}] {function.title}".rstrip())
        if report.header is not None:
            lines.append(f"\theader ({report.header_schema}):")
            lines.extend(_state_lines(report.header, "\t\t"))
        for cap in report.capabilities:
            c = cap.capability
            place = f"{c.offset:02x}" if c.version is None else f"{c.offset:03x} v{c.version}"
            width = 2 if c.kind == "cap" else 4
            schema = f" ({cap.label})" if cap.schema else " (no schema)"
            lines.append(f"\tCapabilities: [{place}] {cap.name} [{c.kind} 0x{c.id:0{width}x}]{schema}")
            if cap.state is not None and cap.state.params:
                # The params read from the function's other sections (`from:`), which decide what is captured.
                lines.append("\t\tparams: " + " ".join(f"{k}={v}" for k, v in cap.state.params.items()))
            if cap.state is not None:
                lines.extend(_state_lines(cap.state, "\t\t"))
        lines.extend(f"\tnote: {problem}" for problem in report.problems)
        lines.append("")
    return "\n".join(lines)


def _state_lines(state: Captured, pad: str) -> list[str]:
    lines = []
    absent: list[str] = []  # a run of absent registers, printed as one line

    def fold() -> None:
        if len(absent) > 2:
            lines.append(f"{pad}{absent[0]}..{absent[-1]}: absent ({len(absent)} registers)")
        else:
            lines.extend(f"{pad}{name}: absent" for name in absent)
        absent.clear()

    for name, value in state.registers.items():
        if value is None:
            absent.append(name)
            continue
        fold()
        if name in state.fields:
            flags = " ".join(_flag(k, v) for k, v in state.fields[name].items())
            lines.append(f"{pad}{name}: {flags}")
        else:
            lines.append(f"{pad}{name}: 0x{value:x}")
    fold()
    # a byte-string register as lspci -xxx shows bytes: hex pairs, in config-space order
    lines.extend(f"{pad}{name}: {value.hex(' ') or '(none)'} ({len(value)} bytes)"
                 for name, value in state.strings.items())
    lines.extend(f"{pad}problem: {p}" for p in state.problems)
    return lines


def _flag(name: str, value: Any) -> str:
    """`Name+`/`Name-` for a one-bit flag, `Name=value` otherwise: the vocabulary lspci uses."""
    if isinstance(value, bool):
        return f"{name}{'+' if value else '-'}"
    if isinstance(value, int):
        return f"{name}={value:#x}" if value > 9 else f"{name}={value}"
    return f"{name}={value}"
