"""A device's migration descriptor in its JSON form: what `vfiogen inspect --descriptor` prints and `vfiogen
compat` reads (docs/wire-format.md, "Descriptor JSON").

    {"format": "vfiogen-descriptor", "version": 2, "address": "0000:00:19.0", "device": null,
     "sections": [{"section": "header", "id": 1, "fields": {"vendor": 32902, ...},
                   "masks": {"command": [0, 1351], ...}}, ...]}

`sections` lists the sections the device has, in device order; `fields` holds every fixed item of the
section's descriptor (the plan's descriptor items, whatever they are), an integer, or a hex string for a
bytes field; `masks` the record's mask list by register name, [emulated bits, write mask], for each
register whose masks are not both 0. The fields are derived as the generated `derive_descriptor` derives
them: a field taken from a register is the register's value (0 when absent) under the field's mask, in place;
a field the host supplies is the capability's offset for `cap_offset`, and otherwise 0 (all zero bytes),
since a dump cannot say what the host would measure (BAR sizes, say).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vfiogen.ir.checked import CheckedModule, CheckedSection
from vfiogen.ir.evaluate import EvaluationError, evaluate
from vfiogen.ir.expr import Expr
from vfiogen.ir.plan import DescriptorItem, LeafKind
from vfiogen.migration.sections import DeviceSections, FoundSection
from vfiogen.passes.plan import instance_name

FORMAT = "vfiogen-descriptor"
VERSION = 2
"""2: the masks moved from `fields` (emulated_<register>, wmask_<register>) to `masks`."""
HOST_OFFSET_FIELD = "cap_offset"
"""The host-supplied item that is the capability's configuration-space offset."""

Value = int | bytes


class DescriptorError(ValueError):
    """A descriptor document that is not the JSON form, or names what the schemas do not have."""


@dataclass
class SectionDescriptor:
    checked: CheckedSection
    values: dict[str, Value]
    required: bool = True
    instance: int | None = None
    """Which instance of a repeated section; None for any other."""
    masks: dict[int, tuple[int, int]] = field(default_factory=dict)
    """The mask list: by register index, (emulated bits, write mask) where not both are 0."""

    @property
    def name(self) -> str:
        name = self.checked.name
        return name if self.instance is None else instance_name(name, self.instance)


@dataclass
class Descriptor:
    address: str | None
    device: str | None
    sections: list[SectionDescriptor] = field(default_factory=list)

    def section(self, name: str) -> SectionDescriptor | None:
        """The section `name` (a repeated section's instance as `name[i]`)."""
        return next((s for s in self.sections if s.name == name), None)

    def instances(self, name: str) -> int:
        """How many instances of the repeated section `name` the descriptor has."""
        return sum(s.checked.name == name for s in self.sections)


def item_value(item: DescriptorItem, found: FoundSection) -> Value:
    """One descriptor item of a captured section, as the generated derive_descriptor computes it."""
    if item.register is not None:
        return (found.captured.registers.get(item.register) or 0) & item.mask
    if item.constant is not None:
        return item.constant
    if item.byte_string is not None:
        return found.captured.strings.get(item.byte_string, b"")[:item.size].ljust(item.size, b"\0")
    if item.kind is LeafKind.BYTES:
        return bytes(item.size)
    return found.base if item.name == HOST_OFFSET_FIELD else 0


def derive(sections: DeviceSections) -> Descriptor:
    """The descriptor of the sections found on a function."""
    device = sections.device.name if sections.device is not None else None
    result = Descriptor(sections.function.address, device)
    for found in sections.sections:
        values = {item.name: item_value(item, found) for item in found.checked.plan.descriptor}
        # The build's masks, 0 for a register absent on the function.
        holds = functools.partial(_holds, env=found.captured.env)
        masks = {r.index: pair for r in found.checked.plan.masks.negotiated
                 if found.captured.registers.get(r.name) is not None
                 for pair in [r.masks_on(holds)] if pair != (0, 0)}
        result.sections.append(SectionDescriptor(found.checked, values, found.required, found.instance, masks))
    return result


def _holds(condition: Expr, env: Mapping[str, int | bool]) -> bool:
    try:
        return bool(evaluate(condition, env))
    except EvaluationError:
        return False  # capture has reported it as a problem already


def to_json(descriptor: Descriptor) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "address": descriptor.address, "device": descriptor.device,
            "sections": [{"section": s.checked.name, "id": s.checked.section.wire_id,
                          **({} if s.instance is None else {"instance": s.instance}),
                          "fields": {name: (value.hex() if isinstance(value, bytes) else value)
                                     for name, value in s.values.items()},
                          "masks": {s.checked.plan.masks.registers[index].name: list(pair)
                                    for index, pair in sorted(s.masks.items())}}
                         for s in descriptor.sections]}


def from_json(data: Any, module: CheckedModule, where: str) -> Descriptor:
    """Read the JSON form back, checking it against `module`'s sections.

    Raises:
        DescriptorError: naming `where` and the first thing wrong.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DescriptorError(f"{where}: not a vfiogen descriptor (expected an object with \"format\": "
                              f"\"{FORMAT}\", as `vfiogen inspect --descriptor` prints)")
    if data.get("version") != VERSION:
        raise DescriptorError(f"{where}: descriptor version {data.get('version')!r}, this build reads {VERSION}")
    sections = data.get("sections")
    if not isinstance(sections, list):
        raise DescriptorError(f"{where}: \"sections\" is not a list")
    names = {s.name: s for s in module.sections}
    device = data.get("device")
    result = Descriptor(data.get("address") if isinstance(data.get("address"), str) else None,
                        device if isinstance(device, str) else None)
    for index, entry in enumerate(sections):
        place = f"{where}: sections[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("section"), str):
            raise DescriptorError(f"{place}: expected an object with a \"section\" name")
        checked = names.get(entry["section"])
        if checked is None:
            raise DescriptorError(f"{place}: no section '{entry['section']}' in the schemas")
        instance = None
        if checked.section.location.instances is not None:  # instances in order, from 0
            instance = result.instances(checked.name)
            if entry.get("instance", instance) != instance or instance >= checked.section.location.instances:
                raise DescriptorError(f"{place}: instance {entry.get('instance')!r} of '{checked.name}' where "
                                      f"instance {instance} comes next (at most "
                                      f"{checked.section.location.instances})")
        elif "instance" in entry:
            raise DescriptorError(f"{place}: an instance of '{checked.name}', which is not a repeated section")
        elif result.section(checked.name) is not None:
            raise DescriptorError(f"{place}: section '{checked.name}' twice")
        if entry.get("id", checked.section.wire_id) != checked.section.wire_id:
            raise DescriptorError(f"{place}: section '{checked.name}' has id 0x{checked.section.wire_id:04x}, "
                                  f"not {entry.get('id')!r}")
        fields = entry.get("fields")
        if not isinstance(fields, dict):
            raise DescriptorError(f"{place}: \"fields\" is not an object")
        items = {item.name: item for item in checked.plan.descriptor}
        unknown = sorted(set(fields) - set(items))
        if unknown:
            raise DescriptorError(f"{place}: section '{checked.name}' has no descriptor field "
                                  f"{', '.join(repr(u) for u in unknown)}")
        values = {name: _value(item, fields.get(name), f"{place}.{name}") for name, item in items.items()}
        masks = _masks(checked, entry.get("masks", {}), f"{place}.masks")
        result.sections.append(SectionDescriptor(checked, values, instance=instance, masks=masks))
    return result


def _masks(checked: CheckedSection, raw: Any, where: str) -> dict[int, tuple[int, int]]:
    """The `masks` object: register name -> [emulated bits, write mask], each fitting the register."""
    if not isinstance(raw, dict):
        raise DescriptorError(f"{where}: expected an object of register names")
    registers = {r.name: r for r in checked.plan.masks.registers}
    masks = {}
    for name, pair in raw.items():
        register = registers.get(name)
        if register is None:
            raise DescriptorError(f"{where}: section '{checked.name}' has no register '{name}'")
        top = (1 << register.width) - 1
        if (not isinstance(pair, list) or len(pair) != 2
                or any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= top for v in pair)):
            raise DescriptorError(f"{where}.{name}: expected [emulated bits, write mask], integers in 0..{top}")
        if pair[0] or pair[1]:
            masks[register.index] = (pair[0], pair[1])
    return masks


def _value(item: DescriptorItem, raw: Any, where: str) -> Value:
    if raw is None:
        raise DescriptorError(f"{where}: missing")
    if item.kind is LeafKind.BYTES:
        try:
            value = bytes.fromhex(raw) if isinstance(raw, str) else None
        except ValueError:
            value = None
        if value is None or len(value) != item.size:
            raise DescriptorError(f"{where}: expected {item.size} bytes as a hex string")
        return value
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise DescriptorError(f"{where}: expected an integer, not {raw!r}")
    bits = item.size * 8
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if item.kind is LeafKind.SINT else (0, (1 << bits) - 1)
    if not low <= raw <= high or (item.kind is LeafKind.BOOL and raw not in (0, 1)):
        raise DescriptorError(f"{where}: {raw} does not fit the field ({low}..{high})")
    return raw


def pack_record(section: SectionDescriptor) -> bytes:
    """The section's descriptor record payload: each fixed item big-endian at its size, in plan order, then a
    mask-list entry (index, width, emulated bits, write mask) per register whose masks are not both 0."""
    out = bytearray()
    for item in section.checked.plan.descriptor:
        value = section.values[item.name]
        if isinstance(value, bytes):
            out += value
        else:
            out += value.to_bytes(item.size, "big", signed=item.kind is LeafKind.SINT)
    registers = section.checked.plan.masks.registers
    for index, (emulated, writable) in sorted(section.masks.items()):
        width = registers[index].width // 8
        out += index.to_bytes(2, "big") + bytes([width])
        out += emulated.to_bytes(width, "big") + writable.to_bytes(width, "big")
    return bytes(out)
