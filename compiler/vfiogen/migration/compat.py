"""`vfiogen compat`: would the target accept a migration from the source, and if not, every reason.

The rules are the plan's (`SectionPlan.compat`: each check's `breaks`, the section's absent reason and
`require: present`), applied as the generated device `check_compat` applies them, in device order:

* a section the source has and the target lacks refuses when the schema says `require: present` or the
  device requires the section (without a device, every section is required, as in the generic device);
* a section the target's device requires and the source lacks refuses;
* a section both have is held to every compat check of its schema; a failing check does not stop the others.

Reasons carry the section, the rule (`present` for a missing section), the descriptor field and both values,
and read as the generated `CompatFailure` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vfiogen.passes.plan import instance_name, missing_instance_reason, missing_section_reason
from vfiogen.ir.checked import CheckedModule, CheckedSection
from vfiogen.ir.nodes import Device
from vfiogen.ir.plan import MASK_REGISTERS
from vfiogen.migration.descriptor import Descriptor, Value


@dataclass(frozen=True)
class Failure:
    section: str
    rule: str
    field: str
    source: Value | None
    target: Value | None
    reason: str
    offset: int | None = None
    """For a byte-string field: the config-space offset of the first byte that breaks the rule (the values
    are that byte on each side), as the generated code reports it."""

    def __str__(self) -> str:
        if self.rule == "present":
            return f"{self.section}: {self.reason}"
        at = "" if self.offset is None else f" at offset {self.offset}"
        return (f"{self.section}: {self.reason} ({self.rule} {self.field}{at}: source {shown(self.source)}, "
                f"target {shown(self.target)})")

    def to_json(self) -> dict[str, Any]:
        def plain(value: Value | None) -> int | str | None:
            return value.hex() if isinstance(value, bytes) else value
        return {"section": self.section, "rule": self.rule, "field": self.field, "source": plain(self.source),
                "target": plain(self.target), "reason": self.reason,
                **({} if self.offset is None else {"offset": self.offset})}


def shown(value: Value | None) -> str:
    """A value as a refusal shows it (as the generated `_shown` and C `vfg_compat_format` do)."""
    if isinstance(value, bytes):
        return value.hex() if value else "(empty)"
    if value is None:
        return "none"
    return f"-0x{-value:x}" if value < 0 else f"0x{value:x}"


def _order(module: CheckedModule, device: Device | None, source: Descriptor,
           target: Descriptor) -> list[tuple[CheckedSection, bool]]:
    """(section, required) in device order; without a device, the schemas' order, every section required."""
    if device is not None:
        return [(module.section(use.section), use.required) for use in device.sections]
    named = {s.checked.name for s in source.sections} | {s.checked.name for s in target.sections}
    return [(checked, True) for checked in module.sections if checked.name in named]


def _names(module: CheckedModule, device: Device | None, source: Descriptor,
           target: Descriptor) -> list[tuple[CheckedSection, bool, str, int | None]]:
    """(section, required, name, instance) in device order, a repeated section once per instance either side
    has, as the generated check compares them: instance by instance, in capability-list order."""
    out: list[tuple[CheckedSection, bool, str, int | None]] = []
    for checked, required in _order(module, device, source, target):
        if checked.section.location.instances is None:
            out.append((checked, required, checked.name, None))
            continue
        count = max(source.instances(checked.name), target.instances(checked.name))
        out += [(checked, required, instance_name(checked.name, i), i) for i in range(count)]
    return out


def check(module: CheckedModule, source: Descriptor, target: Descriptor,
          device: Device | None = None) -> list[Failure]:
    """Every reason the target refuses the source, in device order; [] when the migration may proceed."""
    failures: list[Failure] = []
    for checked, required, name, instance in _names(module, device, source, target):
        here, there = source.section(name), target.section(name)
        compat = checked.plan.compat
        if instance is not None and (here is None) != (there is None):
            # an instance only one side has refuses, whatever the device requires: instances pair by order
            reason = compat.absent_reason if there is None else missing_instance_reason(checked.name, instance)
            failures.append(Failure(name, "present", "", None, None, reason))
        elif here is not None and there is None:
            if required or compat.require_present:
                failures.append(Failure(name, "present", "", None, None, compat.absent_reason))
        elif there is not None and here is None:
            if required:
                failures.append(Failure(name, "present", "", None, None, missing_section_reason(name)))
        elif here is not None and there is not None:
            for rule in compat.checks:
                a, b = here.values[rule.item.name], there.values[rule.item.name]
                if rule.item.byte_string is not None and isinstance(a, bytes) and isinstance(b, bytes):
                    at = rule.first_break(a, b)
                    if at is not None:
                        failures.append(Failure(name, rule.kind.value, rule.item.name, a[at], b[at], rule.reason,
                                                (rule.item.config_offset or 0) + at))
                elif rule.breaks(a, b):
                    failures.append(Failure(name, rule.kind.value, rule.item.name, a, b, rule.reason))
            counts = [int(side.values[MASK_REGISTERS]) for side in (here, there)]
            for register, writable, a, b in checked.plan.masks.differences(counts[0], here.masks, counts[1],
                                                                           there.masks):
                failures.append(Failure(name, "equal", register.writable_field if writable else register.emulated_field,
                                        a, b, register.writable_reason if writable else register.emulated_reason))
    return failures


def outside(device: Device, descriptor: Descriptor) -> list[str]:
    """Sections of `descriptor` that `device` does not have."""
    names = {use.section for use in device.sections}
    return [s.checked.name for s in descriptor.sections if s.checked.name not in names]


def render_text(failures: list[Failure]) -> str:
    if not failures:
        return "migration allowed\n"
    lines = [f"migration refused: {len(failures)} reason(s)"] + [f"  {f}" for f in failures]
    return "\n".join(lines) + "\n"


def render_json(failures: list[Failure]) -> dict[str, Any]:
    return {"allowed": not failures, "reasons": [f.to_json() for f in failures]}


def render_markdown(failures: list[Failure]) -> str:
    """A table, reason by reason, to paste into a ticket."""
    if not failures:
        return "**Migration allowed**: no compat rule refuses it.\n"
    lines = [f"**Migration refused**: {len(failures)} reason(s).", "",
             "| # | section | rule | field | source | target | reason |",
             "|---|---|---|---|---|---|---|"]
    for number, f in enumerate(failures, 1):
        cells = [str(number), f.section, f.rule, f.field or "", "" if f.rule == "present" else shown(f.source),
                 "" if f.rule == "present" else shown(f.target), f.reason]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
