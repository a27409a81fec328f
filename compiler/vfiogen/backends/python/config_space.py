"""View models for capture (config space -> state) and restore (state -> ordered config writes).

Config space is accessed as a hypervisor does, at most a dword at a time and
with the width in bytes: `read_config(offset, size)`, `write_config(offset,
value, size)`, size 1, 2 or 4. A 64-bit register is two 4-byte accesses, the
low dword (at the register's offset) first, as the C does.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfiogen.backends.python import naming
from vfiogen.backends.python.translate import PythonExpr
from vfiogen.ir.checked import CheckedSection


@dataclass(frozen=True)
class CaptureStep:
    var: str
    attr: str
    name: str
    offset: str
    """Python text of the register's offset within the capability."""
    width: int
    read: str
    """Python text of the register's value read from config space (one or two `read_config` calls)."""
    present: str
    """Python text of the presence condition, or '' when always there."""
    cls: str
    """Register class for a register with bit fields, else ''."""
    enum: str
    """Enum class of a whole-register enum, else ''."""
    reserved: int
    enum_checks: tuple[tuple[str, str, str], ...]
    default: str
    reserved_when: tuple[tuple[str, int], ...] = ()
    """(Python text of a condition, the bits kept where it holds) for each conditionally reserved field."""


@dataclass(frozen=True)
class CaptureString:
    """A byte-string register, read a byte at a time after the registers its length reads."""

    var: str
    attr: str
    name: str
    offset: int
    length: str
    """Python text of its length over the registers just read."""
    max: int


@dataclass(frozen=True)
class RestoreStep:
    hook: str
    wait_us: int = 0
    """For a wait step: the microseconds given to the wait hook (0 otherwise)."""
    when: str = ""
    """For a wait step: Python text of its condition, or '' when it always waits."""
    name: str = ""
    offset: str = ""
    width: int = 0
    size: int = 0
    """Bytes per access: the register's, or 4 for each half of a 64-bit one."""
    present: str = ""
    value: str = ""

    @property
    def halves(self) -> bool:
        """A 64-bit register, written as two dwords."""
        return self.width == 64


def capture_steps(checked: CheckedSection, default_of: dict[str, str]) -> tuple[CaptureStep, ...]:
    local = PythonExpr(checked.symbols, lambda name: f"f_{name}")
    steps = []
    for read in checked.plan.capture:
        register = checked.register(read.register).register
        enum_checks = tuple((f"(r_f_{register.name} >> {check.lo}) & 0x{check.mask:x}",
                             naming.enum_class(check.enum), check.field) for check in read.enum_checks)
        offset = local(read.offset)
        if read.width == 64:
            value = f"((read_config(base + {offset}, 4) & 0xffffffff) | " \
                    f"(read_config(base + {offset} + 4, 4) & 0xffffffff) << 32)"
        else:
            value = f"read_config(base + {offset}, {read.width // 8})"
        steps.append(CaptureStep(
            var=f"f_{register.name}", attr=naming.attr(register.name), name=register.name,
            offset=offset, width=read.width, read=value,
            present=local(read.present) if read.present is not None else "",
            cls=naming.register_class_of(register) if register.fields else "",
            enum=naming.enum_class(read.enum) if read.enum else "",
            reserved=((1 << read.width) - 1) & ~read.keep, enum_checks=enum_checks, default=default_of[register.name],
            reserved_when=tuple((local(r.condition), ((1 << read.width) - 1) & ~r.bits) for r in read.reserved_when)))
    return tuple(steps)


def capture_strings(checked: CheckedSection) -> tuple[CaptureString, ...]:
    local = PythonExpr(checked.symbols, lambda name: f"f_{name}")
    return tuple(CaptureString(var=f"f_{read.field}", attr=naming.attr(read.field), name=read.field,
                               offset=read.offset, length=local(read.length), max=read.max)
                 for read in checked.plan.capture_bytes)


def restore_steps(checked: CheckedSection) -> tuple[RestoreStep, ...]:
    state = PythonExpr(checked.symbols, lambda name: f"s.{naming.attr(name)}")
    steps = []
    for step in checked.plan.restore:
        if step.hook is not None:
            steps.append(RestoreStep(hook=step.hook, wait_us=step.wait_us or 0,
                                     when=state(step.when) if step.when is not None else ""))
            continue
        assert step.offset is not None
        register = checked.register(step.register).register
        value = f"s.{naming.attr(register.name)}"
        value = naming.raw(value) if register.fields else value
        if step.folded:
            value = f"({value} & 0x{step.keep:x}) | 0x{step.set:x}" if step.set else f"{value} & 0x{step.keep:x}"
        for n, override in enumerate(step.overrides):
            # After the first change `value` is `(a & m) | (b)`: parenthesised whole, or `&` (which binds
            # tighter than `|`) would clear the next field in the previous override's bits only.
            previous = f"({value})" if n or step.folded else value
            value = f"({previous} & 0x{~override.mask & ((1 << register.width) - 1):x}) | " \
                    f"((int({state(override.value)}) << {override.lo}) & 0x{override.mask:x})"
        steps.append(RestoreStep(hook="", name=register.name, offset=state(step.offset), width=step.width,
                                 size=min(step.width // 8, 4),
                                 present=state(step.present) if step.present is not None else "",
                                 value=value))
    return tuple(steps)
