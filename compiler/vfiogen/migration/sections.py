"""The sections one function of a dump has, in a device's order: what `capture`, `inspect --descriptor` and
`compat` start from.

Without a device, every section the schemas match on the dump is taken, header first, then the
capabilities in list order (`vfiogen inspect`'s walk), as the generic device would be configured by a
hypervisor that found them. With a device, the device's sections in its order; a section the device lists
and the dump lacks is absent (refused later if the device requires it), and a capability the device does not
list is left out, as the device's generated code would leave it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vfiogen.configspace.capture import Captured
from vfiogen.configspace.dump import Function
from vfiogen.configspace.report import FunctionReport, inspect_function
from vfiogen.ir.checked import CheckedModule, CheckedSection
from vfiogen.ir.nodes import Device
from vfiogen.passes.plan import instance_name


class SelectionError(ValueError):
    """The dump and the device do not fit together (a required section missing, a section twice)."""


@dataclass
class FoundSection:
    """One section as captured from the function."""

    checked: CheckedSection
    base: int
    """Configuration-space offset of the capability (0 for a header)."""
    captured: Captured
    params: dict[str, int]
    required: bool = True
    instance: int | None = None
    """Which instance of a repeated section (by its order in the capability list); None for any other."""

    @property
    def name(self) -> str:
        """The section's name, with the instance for a repeated one (`vendor_specific[1]`)."""
        name = self.checked.name
        return name if self.instance is None else instance_name(name, self.instance)


@dataclass
class DeviceSections:
    function: Function
    device: Device | None
    sections: list[FoundSection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Capabilities left out, and why (a second instance, no place in the device)."""

    def section(self, name: str) -> FoundSection | None:
        """The section `name` (a repeated section's instance as `name[i]`)."""
        return next((s for s in self.sections if s.name == name), None)


def find_sections(function: Function, module: CheckedModule, device: Device | None = None,
                  report: FunctionReport | None = None) -> DeviceSections:
    """The sections of `function`, captured, in `device`'s order (or the dump's, without one)."""
    report = report or inspect_function(function, module)
    found: list[FoundSection] = []
    notes: list[str] = []
    if report.header_schema is not None and report.header is not None:
        checked = module.section(report.header_schema)
        found.append(FoundSection(checked, 0, report.header, dict(report.header.params)))
    for cap in report.capabilities:
        if cap.schema is None or cap.state is None:
            continue
        checked = module.section(cap.schema)
        earlier = sum(f.checked.name == cap.schema for f in found)
        most = checked.section.location.instances
        if earlier and most is None:
            notes.append(f"{cap.schema} at 0x{cap.capability.offset:x}: a second instance; only the first is "
                         "a section of the device")
            continue
        if most is not None and earlier >= most:
            notes.append(f"{cap.schema} at 0x{cap.capability.offset:x}: instance {earlier}, beyond the "
                         f"section's {most}")
            continue
        found.append(FoundSection(checked, cap.capability.offset, cap.state, dict(cap.state.params),
                                  instance=earlier if most is not None else None))
    result = DeviceSections(function, device, notes=notes)
    if device is None:
        result.sections = found
        return result
    by_name: dict[str, list[FoundSection]] = {}
    for f in found:
        by_name.setdefault(f.checked.name, []).append(f)
    for use in device.sections:
        for here in by_name.pop(use.section, []):  # a repeated section's instances stay together, in order
            here.params.update({b.name: b.value for b in use.params})
            here.required = use.required
            result.sections.append(here)
    notes.extend(f"{f.name} at 0x{f.base:x}: device '{device.name}' has no such section"
                 for group in by_name.values() for f in group)
    return result


def missing_required(sections: DeviceSections) -> list[str]:
    """The device's required sections the function lacks (a non-generic device must have them all)."""
    device = sections.device
    if device is None or device.generic:
        return []
    have = {s.checked.name for s in sections.sections}
    return [use.section for use in device.sections if use.required and use.section not in have]
