"""View models for capture (config space -> state) and restore (state -> ordered config writes).

Config space is accessed as a hypervisor does, at most a dword at a time and
with the width in bytes: `read_config(offset, size)`, `write_config(offset,
value, size)`, size 1, 2 or 4. A 64-bit register is two 4-byte accesses, the
low dword (at the register's offset) first, as the C does.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfiogen.backends.shared import capture_order
from vfiogen.backends.python import naming
from vfiogen.backends.python.translate import PythonExpr
from vfiogen.ir.nodes import Section
from vfiogen.ir.symbols import SectionSymbols
from vfiogen.passes.normalize import register_masks


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


@dataclass(frozen=True)
class RestoreStep:
    hook: str
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


def capture_steps(section: Section, table: SectionSymbols, default_of: dict[str, str]) -> tuple[CaptureStep, ...]:
    local = PythonExpr(table, lambda name: f"f_{name}")
    steps = []
    for register in capture_order(section, table):
        masks = register_masks(register)
        enum_checks = tuple((f"(r_f_{register.name} >> {f.lo}) & 0x{(1 << f.width) - 1:x}",
                             naming.enum_class(f.enum), f.name)
                            for f in register.fields if f.enum and not f.access.reserved)
        offset = local(register.offset)
        if register.width == 64:
            read = f"((read_config(base + {offset}, 4) & 0xffffffff) | " \
                   f"(read_config(base + {offset} + 4, 4) & 0xffffffff) << 32)"
        else:
            read = f"read_config(base + {offset}, {register.width // 8})"
        steps.append(CaptureStep(
            var=f"f_{register.name}", attr=naming.attr(register.name), name=register.name,
            offset=offset, width=register.width, read=read,
            present=local(register.present) if register.present is not None else "",
            cls=naming.register_class_of(register) if register.fields else "",
            enum=naming.enum_class(register.enum) if register.enum and not register.fields else "",
            reserved=masks.reserved, enum_checks=enum_checks, default=default_of[register.name]))
    return tuple(steps)


def restore_steps(section: Section, table: SectionSymbols) -> tuple[RestoreStep, ...]:
    state = PythonExpr(table, lambda name: f"s.{naming.attr(name)}")
    registers = {r.name: r for r in section.registers}
    steps = []
    for step in section.restore:
        if step.hook is not None:
            steps.append(RestoreStep(hook=step.hook))
            continue
        register = registers[step.register]
        value = f"s.{naming.attr(register.name)}" + (".value()" if register.fields else "")
        fields = {f.name: f for f in register.fields}
        for n, override in enumerate(step.overrides):
            bit_field = fields[override.bit_field]
            mask = bit_field.mask
            # After the first override `value` is `(a & m) | (b)`: parenthesised whole, or `&` (which binds
            # tighter than `|`) would clear the next field in the previous override's bits only.
            previous = f"({value})" if n else value
            value = f"({previous} & 0x{~mask & ((1 << register.width) - 1):x}) | " \
                    f"((int({state(override.value)}) << {bit_field.lo}) & 0x{mask:x})"
        steps.append(RestoreStep(hook="", name=register.name, offset=state(register.offset), width=register.width,
                                 size=min(register.width // 8, 4),
                                 present=state(register.present) if register.present is not None else "",
                                 value=value))
    return tuple(steps)
