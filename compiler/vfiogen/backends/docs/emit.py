"""Markdown documentation: one page per section and per device, plus an index.

`emit` turns the checked IR into small frozen view models of ready-made
strings; the templates only loop and print.
"""

from __future__ import annotations

from dataclasses import dataclass

from vfiogen.backends.jinja_env import environment
from vfiogen.context import Context
from vfiogen.ir.checked import CheckedModule, CheckedRegister, CheckedSection, WireItem, type_text
from vfiogen.ir.expr import to_text
from vfiogen.passes.plan import plan_device
from vfiogen.ir.nodes import ArrayType, BitField, Device, Versioning
from vfiogen.ir.plan import MASK_REGISTERS, MAX_VERSION, MIN_VERSION
from vfiogen.ir.types import LocationKind


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]


@dataclass(frozen=True)
class RegisterView:
    name: str
    heading: str
    description: str
    fields: tuple[Row, ...]


@dataclass(frozen=True)
class LayoutView:
    version: int
    size: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class SectionView:
    name: str
    title: str
    source: str
    description: str
    offset_base: str
    identity: tuple[Row, ...]
    registers: tuple[Row, ...]
    register_details: tuple[RegisterView, ...]
    state: tuple[Row, ...]
    strings: tuple[Row, ...]
    enums: tuple[Row, ...]
    params: tuple[Row, ...]
    descriptor: tuple[Row, ...]
    compat: tuple[Row, ...]
    constraints: tuple[Row, ...]
    restore: tuple[str, ...]
    hooks: tuple[Row, ...]
    layouts: tuple[LayoutView, ...]


def _versions(versioning: Versioning) -> str:
    if versioning.until is not None:
        return f"{versioning.since} to {versioning.until - 1}"
    return f"{versioning.since}+" if versioning.since > 1 else "all"


def _location(checked: CheckedSection) -> str:
    location = checked.section.location
    repeated = (f"; repeated: up to {location.instances} instances per function, one frame each, numbered in "
                "capability-list order" if location.instances is not None else "")
    if location.kind is LocationKind.HEADER:
        return f"type-{location.cap_id} configuration header (64 bytes)"
    if location.kind is LocationKind.CAPABILITY:
        return f"PCI capability 0x{location.cap_id:02x}, up to {location.size} bytes{repeated}"
    if location.kind is LocationKind.EXTENDED_CAPABILITY:
        versions = location.cap_versions
        version = (f"versions {versions[0]} to {versions[-1]}" if len(versions) > 1
                   else f"version {location.cap_version}")
        also = f" (or 0x{location.cap_also_id:04x})" if location.cap_also_id is not None else ""
        return (f"PCIe extended capability 0x{location.cap_id:04x}{also} {version}, "
                f"up to {location.size} bytes{repeated}")
    if location.kind is LocationKind.DEVICE_SPECIFIC:
        assert location.offset is not None
        last = location.offset + location.size - 1
        return (f"device-specific configuration space 0x{location.offset:02x}..0x{last:02x}, at a fixed offset "
                "outside any capability")
    return "hypervisor emulation state (no configuration space)"


def _access(bit_field: BitField) -> str:
    """The field's access, and where it is reserved instead (`reserved_when`)."""
    if bit_field.reserved_when is None:
        return bit_field.access.value
    return f"{bit_field.access.value}; rsvdp where `{to_text(bit_field.reserved_when)}`"


def _bits(hi: int, lo: int) -> str:
    return str(lo) if hi == lo else f"{hi}:{lo}"


def _offset(item: WireItem) -> str:
    if item.offset is not None:
        return f"+0x{item.offset:02x}" if item.in_element else f"0x{item.offset:02x}"
    return f"end of {item.after} + {item.relative}"


def _size(item: WireItem) -> str:
    return str(item.size) if item.size is not None else f"0 to {item.max_size}"


def _restore_note(entry: CheckedRegister, restored: set[str]) -> str:
    if entry.register.name in restored:
        return "restored"
    if entry.register.restore_skip is not None:
        return f"skipped: {entry.register.restore_skip}"
    return "read-only"


def section_view(checked: CheckedSection) -> SectionView:
    section = checked.section
    hex_width = {8: 2, 16: 4, 32: 8, 64: 16}
    registers = []
    details = []
    restored = {step.register for step in section.restore}
    for entry in checked.registers:
        register, masks = entry.register, entry.masks
        digits = hex_width[register.width]
        offsets = " or ".join(f"0x{o:02x}" for o in entry.offsets) or to_text(register.offset)
        registers.append(Row((offsets, str(register.width), register.name, f"0x{register.reset:0{digits}x}",
                              f"0x{masks.writable:0{digits}x}", f"0x{masks.reserved:0{digits}x}",
                              to_text(register.present) if register.present is not None else "always",
                              _versions(register.versioning), _restore_note(entry, restored))))
        if register.fields:
            fields = tuple(Row((_bits(f.hi, f.lo), f.name, _access(f), f"0x{f.mask:0{digits}x}",
                                f.enum or "", f.description)) for f in register.fields)
        else:
            access = register.access.value if register.access is not None else ""
            fields = (Row((_bits(register.width - 1, 0), "(whole register)", access,
                           f"0x{(1 << register.width) - 1:0{digits}x}", register.enum or "", "")),)
        details.append(RegisterView(register.name, f"{register.name} ({offsets}, {register.width} bits)",
                                    register.description, fields))
    state = []
    strings = []
    for field in checked.state:
        if field.config_offset is not None and isinstance(field.type, ArrayType):
            strings.append(Row((f"0x{field.config_offset:02x}", field.name, f"`{to_text(field.type.length)}`",
                                str(field.type.max), field.access.value if field.access is not None else "",
                                _versions(field.versioning), field.description)))
            continue
        default = field.versioning.default
        state.append(Row((field.name, type_text(field.type), _versions(field.versioning),
                          "" if default is None else str(default),
                          to_text(field.present) if field.present is not None else "always",
                          field.enum or "", field.description)))
    byte_strings = {s.name for s in section.state if s.byte_string}
    descriptor = tuple(Row((d.name, type_text(d.type) if d.type is not None else
                            f"bytes of {d.source_register}, 0 past its length"
                            if d.source_register in byte_strings else
                            f"{d.source_register}" + (f" bits of {', '.join(d.source_fields)}" if d.source_fields
                                                      else " (read-only bits)"), d.description))
                       for d in section.descriptor)
    # Then the compiler's fields and its mask list, with this build's values (a reviewer sees a mask change in
    # the docs' diff).
    added = []
    fixed = {MIN_VERSION: "oldest version this build loads", MAX_VERSION: "newest version it saves",
             MASK_REGISTERS: "registers its mask list indexes"}
    for item in checked.plan.descriptor[len(section.descriptor):]:
        added.append(Row((item.name, f"u{item.size * 8} {item.constant:#x} (this build)", fixed[item.name])))
    for masked in checked.plan.masks.negotiated:
        absent = "; 0 where the register is absent" if masked.present is not None else ""
        for name, value, what in ((masked.emulated_field, masked.emulated, "the hypervisor emulates"),
                                  (masked.writable_field, masked.writable, "the guest may write")):
            added.append(Row((name, f"u{masked.width} {value:#x} (this build), mask list entry "
                                    f"{masked.index}", f"bits of {masked.name} {what}{absent}")))
    descriptor += tuple(added)
    compat = tuple(Row((r.kind.value, r.descriptor or "", "" if r.mask is None else f"0x{r.mask:x}", r.reason))
                   for r in section.compat)
    restore = tuple(
        f"call hook `{step.hook}`" if step.hook is not None else
        f"`{step.register}`" + (" with " + ", ".join(f"`{o.bit_field}` = `{to_text(o.value)}`" for o in step.overrides)
                                if step.overrides else " as saved")
        for step in section.restore)
    layouts = tuple(
        LayoutView(layout.version,
                   f"{layout.min_size}" if layout.min_size == layout.max_size
                   else f"{layout.min_size} to {layout.max_size}",
                   tuple(Row((_offset(i), _size(i), ("&nbsp;&nbsp;" * i.depth) + f"`{i.path}`", i.type_text,
                              i.condition or "", i.repeat or "")) for i in layout.items))
        for layout in checked.layouts)
    return SectionView(
        name=section.name, title=section.title, source=section.source_path, description=section.description,
        offset_base=("Offsets are from the start of configuration space."
                     if section.location.kind is LocationKind.HEADER
                     else "Offsets are from the start of the capability."),
        identity=(Row(("Section id", f"0x{section.wire_id:04x}")), Row(("Location", _location(checked))),
                  Row(("Version", str(section.version))),
                  Row(("Oldest version loaded", str(section.min_version)))),
        registers=tuple(registers), register_details=tuple(details), state=tuple(state),
        strings=tuple(strings),
        enums=tuple(Row((e.name, ", ".join(f"{v.name} = {v.value}" for v in e.values), e.description))
                    for e in section.enums),
        params=tuple(Row((p.name, p.kind.value, str(p.default), f"`{p.source.text}`" if p.source else "",
                          p.description)) for p in section.params),
        descriptor=descriptor, compat=compat,
        constraints=tuple(Row((f"`{to_text(c.check)}`", c.reason)) for c in section.constraints),
        restore=restore,
        hooks=tuple(Row((kind, h.name)) for kind, hooks in (("pre_save", section.pre_save),
                                                            ("post_load", section.post_load)) for h in hooks),
        layouts=layouts)


@dataclass(frozen=True)
class DeviceView:
    name: str
    title: str
    source: str
    description: str
    sections: tuple[Row, ...]


def device_view(device: Device, module: CheckedModule) -> DeviceView:
    rows = []
    plan = plan_device(device, module)
    for use in device.sections:
        section = module.section(use.section).section
        bound = {b.name: b.value for b in use.params}
        derived = {d.param: d.source for d in plan.section(section.name).derived}
        params = ", ".join(f"{p.name} from {derived[p.name]}" if p.name in derived else
                           f"{p.name} = {bound.get(p.name, p.default)}" for p in section.params)
        moved = ", ".join(f"{m.register} at " + " or ".join(f"0x{o:02x}" for o in m.offsets) if m.offsets
                          else f"{m.register} absent"
                          for m in module.bound_offsets if m.device == device.name and m.section == use.section)
        planned = plan.section(section.name)
        presence = "required" if use.required else "optional"
        if planned.repeated:
            presence += (f", 0 to {planned.max_instances} instances (the config's count)" if device.generic else
                         f", {planned.default_instances} of at most {planned.max_instances} instances")
        rows.append(Row((f"[{section.name}](../sections/{section.name}.md)", f"0x{section.wire_id:04x}",
                         str(section.version), presence, params, moved)))
    return DeviceView(device.name, device.title, device.source_path, device.description, tuple(rows))


class DocsBackend:
    name = "docs"

    def check(self, module: CheckedModule, ctx: Context) -> None:
        """Every checked module can be documented."""

    def render(self, module: CheckedModule) -> dict[str, str]:
        env = environment("vfiogen.backends.docs")
        outputs = {}
        section_template = env.get_template("section.md.j2")
        for checked in module.sections:
            outputs[f"docs/sections/{checked.name}.md"] = section_template.render(s=section_view(checked))
        device_template = env.get_template("device.md.j2")
        devices = [device_view(d, module) for d in module.devices]
        for view in devices:
            outputs[f"docs/devices/{view.name}.md"] = device_template.render(d=view)
        outputs["docs/index.md"] = env.get_template("index.md.j2").render(
            sections=[Row((f"[{s.name}](sections/{s.name}.md)", f"0x{s.section.wire_id:04x}", s.section.title,
                           str(s.section.version), str(s.section.min_version))) for s in module.sections],
            devices=[Row((f"[{d.name}](devices/{d.name}.md)", d.title)) for d in devices])
        return outputs
