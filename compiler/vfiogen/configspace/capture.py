"""What a section's schema captures from configuration space, worked out from the checked IR's capture plan.

It reads what the generated `capture` reads, in the same order and with the
same masks (reserved bits dropped, a register absent on the device as 0), so
`inspect` shows what a hypervisor would save, without generating code first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vfiogen.configspace.dump import Function
from vfiogen.ir.checked import CheckedSection
from vfiogen.ir.evaluate import EvaluationError, Value, evaluate, register_values, section_constants


@dataclass
class Captured:
    """A section's registers as read from one function at one base offset."""

    registers: dict[str, int | None] = field(default_factory=dict)
    """Each register's value with its reserved bits dropped; None when absent on this device."""
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per register with bit fields: each declared field's value (an enum value by its name)."""
    problems: list[str] = field(default_factory=list)
    """What the generated capture would refuse (a value outside its enum, a register past the dump)."""
    strings: dict[str, bytes] = field(default_factory=dict)
    """Each byte-string register's bytes, as many as its length says (as far as the dump goes, at most its
    max: the generated capture refuses a length outside 0..max, a problem here)."""
    env: dict[str, Value] = field(default_factory=dict, repr=False)
    """Every name the section's expressions read, as captured: what params of other sections are read from."""
    params: dict[str, int] = field(default_factory=dict)
    """The params the capture was made with (bound, or read from another section)."""

    def to_json(self) -> dict[str, Any]:
        return {**{name: (self.fields[name] if name in self.fields and value is not None else value)
                   for name, value in self.registers.items()},
                **{name: value.hex() for name, value in self.strings.items()}}


def capture(checked: CheckedSection, function: Function, base: int,
            params: dict[str, int] | None = None) -> Captured:
    """Read `checked`'s registers from `function` with the capability at `base` (0 for the header)."""
    section = checked.section
    env: dict[str, Value] = section_constants(section, params or {})
    enums = {e.name: {v.value: v.name for v in e.values} for e in section.enums}
    result = Captured(env=env, params=dict(params or {}))
    for read in checked.plan.capture:
        register = checked.register(read.register).register
        try:
            present = read.present is None or bool(evaluate(read.present, env))
            offset = int(evaluate(read.offset, env))
        except EvaluationError as exc:
            result.problems.append(f"{read.register}: {exc}")
            present, offset = False, 0
        raw = function.read(base + offset, read.width // 8) if present else 0
        if raw is None:
            result.problems.append(f"{read.register}: 0x{base + offset:x} is past the dump's "
                                   f"{len(function.config)} bytes")
            present, raw = False, 0
        value = raw & read.keep
        # Fields reserved on this function are dropped, and not decoded (lspci shows no BrConfRtry on an
        # endpoint either).
        dropped: set[str] = set()
        for reserved in read.reserved_when:
            try:
                if evaluate(reserved.condition, env):
                    value &= ~reserved.bits
                    dropped.update(reserved.fields)
            except EvaluationError as exc:
                result.problems.append(f"{read.register}.{reserved.fields[0]}: {exc}")
        env.update(register_values(register, value))
        result.registers[read.register] = value if present else None
        for check in read.enum_checks:
            part = (value >> check.lo) & check.mask
            if present and part not in enums[check.enum]:
                result.problems.append(f"{read.register}.{check.field} = {part} is not a value of {check.enum}")
        if read.enum is not None and present and value not in enums[read.enum]:
            result.problems.append(f"{read.register} = {value} is not a value of {read.enum}")
        if register.fields and present:
            result.fields[read.register] = {
                f.name: (enums[f.enum].get(part, part) if f.enum else env[f"{read.register}.{f.name}"])
                for f in register.fields if not f.access.reserved and f.name not in dropped
                for part in [(value >> f.lo) & ((1 << f.width) - 1)]}
    for string in checked.plan.capture_bytes:
        try:
            count = int(evaluate(string.length, env))
        except EvaluationError as exc:
            result.problems.append(f"{string.field}: {exc}")
            count = 0
        if not 0 <= count <= string.max:
            result.problems.append(f"{string.field}: its length {count} is outside 0..{string.max}")
            count = min(max(count, 0), string.max)
        start = base + string.offset
        found = bytes(function.config[start:start + count])
        if len(found) < count:
            result.problems.append(f"{string.field}: 0x{start + len(found):x} is past the dump's "
                                   f"{len(function.config)} bytes")
        result.strings[string.field] = found
    return result
