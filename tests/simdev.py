"""A simulated VFIO-assigned function for restore tests, in Python; tests/simdev/simdev.c is its C twin.

The model, the same in both languages:

- configuration space is 4096 bytes in two copies, the device's and the hypervisor's; per byte, `emulated` says
  which bits a read takes from the hypervisor's copy (the rest come from the device's);
- a write changes only the bits `wmask` allows, and clears the `w1c` bits it writes as 1: emulated bits in the
  hypervisor's copy only (it traps them), the others in the device's; every write is logged as (offset, value,
  size);
- interrupt setup is counted as a host would pay for it (each is a VFIO_DEVICE_SET_IRQS-like call): MSI-X going
  active (enabled and not function-masked) sets up the whole table in one call; each vector table entry written
  while MSI-X is active is one call of its own; MSI going enabled is one call, and each write to its address or
  data while it is enabled is one more.

The masks come from the compiled schemas (`masks`): the same emulated bits and write masks that each side's
descriptor carries, and the rw1c bits, laid out at each register's offset for the state's presence and offsets.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from conftest import SCHEMAS

from vfiogen import driver
from vfiogen.context import Context
from vfiogen.diagnostics import Reporter
from vfiogen.ir.checked import CheckedModule
from vfiogen.ir.evaluate import evaluate, section_constants

SIZE = 4096


@dataclass
class SimDevice:
    config: bytearray
    """The device's configuration space (what reads of non-emulated bits return)."""
    emulated: bytes
    wmask: bytes
    w1c: bytes
    msi_cap: int = 0
    """Offset of the MSI capability (0: none), for counting its setups."""
    msix_cap: int = 0
    table_size: int = 0
    """MSI-X vectors in the table."""
    shadow: bytearray = field(default_factory=lambda: bytearray(SIZE))
    """The hypervisor's copy (what reads of emulated bits return)."""
    log: list[tuple[int, int, int]] = field(default_factory=list)
    table: list[tuple[int, int, int, int]] = field(default_factory=list)
    msix_setups: int = 0
    msi_setups: int = 0
    events: list[str] = field(default_factory=list)
    """Named moments, in order with the writes: 'table' when the hook writes the vector table, 'vfs' when the
    VFs are re-created."""

    def __post_init__(self) -> None:
        self.shadow[:] = self.config
        self.table = [(0, 0, 0, 1)] * self.table_size  # every vector masked, as after reset
        self.msix_active = self._msix_active()
        self.msi_enabled = self._msi_enabled()

    def read_config(self, offset: int, size: int) -> int:
        value = 0
        for i in range(size):
            at = offset + i
            byte = (self.shadow[at] & self.emulated[at]) | (self.config[at] & ~self.emulated[at] & 0xFF)
            value |= byte << (8 * i)
        return value

    def write_config(self, offset: int, value: int, size: int) -> None:
        assert size in (1, 2, 4) and 0 <= offset and offset + size <= SIZE and 0 <= value < 1 << (8 * size)
        self.log.append((offset, value, size))
        msi_data = self._msi_message_bytes()
        touched_message = False
        for i in range(size):
            at = offset + i
            byte = (value >> (8 * i)) & 0xFF
            # Emulated bits land in the hypervisor's copy only (it traps them); the rest reach the device.
            for space, owned in ((self.config, ~self.emulated[at] & 0xFF), (self.shadow, self.emulated[at])):
                kept = space[at] & ~self.wmask[at] & 0xFF
                written = byte & self.wmask[at] & ~self.w1c[at]
                cleared = space[at] & self.w1c[at] & ~byte
                space[at] = ((kept | written | cleared) & owned) | (space[at] & ~owned & 0xFF)
            touched_message |= at in msi_data
        self._interrupts(touched_message)

    def write_vector(self, index: int, entry: tuple[int, int, int, int]) -> None:
        """The hypervisor's MSI-X table emulation takes one entry (address_lo, address_hi, data, control)."""
        self.table[index] = entry
        if self.msix_active:
            self.msix_setups += 1

    def restore_vector_table(self, state: Any) -> None:
        """The msix_restore_vector_table hook: the whole saved table, entry by entry."""
        self.events.append(f"table@{len(self.log)}")
        for index, vector in enumerate(state.vectors):
            self.write_vector(index, (vector.address_lo, vector.address_hi, vector.data, vector.vector_control))

    def recreate_vfs(self, state: Any) -> None:
        self.events.append(f"vfs@{len(self.log)}")

    def _msix_active(self) -> bool:
        if not self.msix_cap:
            return False
        control = self.read_config(self.msix_cap + 2, 2)
        return bool(control & 0x8000) and not control & 0x4000

    def _msi_enabled(self) -> bool:
        return bool(self.msi_cap) and bool(self.read_config(self.msi_cap + 2, 2) & 1)

    def _msi_message_bytes(self) -> range:
        """Address and data of MSI: the dwords after control, up to the data (the 64-bit form is 4 bytes longer)."""
        if not self.msi_cap:
            return range(0)
        wide = self.read_config(self.msi_cap + 2, 2) & 0x80
        return range(self.msi_cap + 4, self.msi_cap + (0x10 if wide else 0x0C))

    def _interrupts(self, touched_message: bool) -> None:
        active = self._msix_active()
        if active and not self.msix_active:
            self.msix_setups += 1
        self.msix_active = active
        enabled = self._msi_enabled()
        if enabled and (not self.msi_enabled or touched_message):
            self.msi_setups += 1
        self.msi_enabled = enabled


@functools.cache
def library() -> CheckedModule:
    ctx = Context(reporter=Reporter())
    result = driver.compile_schemas(driver.discover([str(SCHEMAS)], ctx.reporter), ctx)
    assert result.module is not None
    return result.module


def _env(checked: Any, state: Any, params: Any) -> dict[str, int]:
    """Every register and bit field of a section's state by dotted name, its params and its enum values, for
    `evaluate`."""
    env: dict[str, int] = {name: int(value) for name, value in section_constants(
        checked.section, {name: int(value) for name, value in params.to_dict().items()}).items()}
    for register in checked.section.registers:
        value = getattr(state, register.name, None)
        if value is None:
            continue
        raw = value.value() if callable(getattr(value, "value", None)) else int(value)
        env[register.name] = raw
        for bit_field in register.fields:
            env[f"{register.name}.{bit_field.name}"] = (raw & bit_field.mask) >> bit_field.lo
    return env


def masks(sections: dict[str, tuple[Any, Any, int]]) -> tuple[bytes, bytes, bytes]:
    """Per-byte emulated, writable and rw1c masks of configuration space for `sections`: name -> (state, params,
    base). Each register present on the device puts its masks at its offset, as the compiled schemas say."""
    emulated, wmask, w1c = bytearray(SIZE), bytearray(SIZE), bytearray(SIZE)
    module = library()
    for name, (state, params, base) in sections.items():
        checked = module.section(name)
        env = _env(checked, state, params)
        for reg in checked.registers:
            register = reg.register
            if not register.versioning.carried_by(checked.section.version):
                continue
            if register.present is not None and not evaluate(register.present, env):
                continue
            at = base + int(evaluate(register.offset, env))
            for i in range(register.width // 8):
                emulated[at + i] |= (reg.masks.emulated >> (8 * i)) & 0xFF
                wmask[at + i] |= (reg.masks.writable >> (8 * i)) & 0xFF
                w1c[at + i] |= (reg.masks.rw1c >> (8 * i)) & 0xFF
    return bytes(emulated), bytes(wmask), bytes(w1c)
