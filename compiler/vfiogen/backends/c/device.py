"""View model of a device's C files: the blob of all its sections, framed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vfiogen.backends.c import naming
from vfiogen.ir.checked import CheckedModule
from vfiogen.ir.fingerprint import device_fingerprint
from vfiogen.ir.nodes import Device
from vfiogen.ir.types import ScalarKind

if TYPE_CHECKING:
    from vfiogen.backends.c.emit import SectionView


@dataclass(frozen=True)
class DeviceSectionView:
    name: str
    prefix: str
    macro: str
    required: bool
    params: str
    """C initializer of the device's params for this section."""
    pre_save: tuple[str, ...]
    post_load: tuple[str, ...]
    restore_hooks: tuple[str, ...]
    max_payload: int
    descriptor_size: int

    @property
    def member(self) -> str:
        return naming.ident(self.name)


@dataclass(frozen=True)
class DeviceView:
    name: str
    title: str
    source: str
    sha256: str
    """The device's fingerprint (`ir.fingerprint`), as in the schema lock."""
    sections: tuple[DeviceSectionView, ...]
    descriptor_payload: int
    max_size: int

    @property
    def prefix(self) -> str:
        return f"{naming.PREFIX}_{self.name}"

    @property
    def macro_prefix(self) -> str:
        return self.prefix.upper()

    @property
    def guard(self) -> str:
        return f"{self.macro_prefix}_H"

    @property
    def optional(self) -> tuple[DeviceSectionView, ...]:
        return tuple(s for s in self.sections if not s.required)

    @property
    def has_post_load(self) -> bool:
        return any(s.post_load for s in self.sections)

    @property
    def has_pre_save(self) -> bool:
        return any(s.pre_save for s in self.sections)


def device_view(device: Device, module: CheckedModule, sections: dict[str, SectionView], header_size: int,
                frame_size: int, crc_size: int, record_size: int) -> DeviceView:
    views = []
    for use in device.sections:
        section = module.section(use.section).section
        view = sections[section.name]
        bound = {b.name: b.value for b in use.params}
        values = []
        for param in section.params:
            value = bound.get(param.name, param.default)
            text = ("true" if value else "false") if param.kind is ScalarKind.BOOL else naming.decimal(int(value))
            values.append(f".{naming.ident(param.name)} = {text}")
        views.append(DeviceSectionView(
            name=section.name, prefix=view.prefix, macro=view.macro_prefix, required=use.required,
            params="{ " + ", ".join(values) + " }" if values else "{ 0 }",
            pre_save=tuple(naming.ident(h.name) for h in section.pre_save),
            post_load=tuple(naming.ident(h.name) for h in section.post_load),
            restore_hooks=tuple(dict.fromkeys(naming.ident(step.hook) for step in section.restore
                                              if step.hook is not None)),
            max_payload=view.max_payload, descriptor_size=view.descriptor_size))
    descriptor_payload = sum(record_size + s.descriptor_size for s in views)
    max_size = header_size + frame_size + descriptor_payload + crc_size + sum(
        frame_size + s.max_payload + crc_size for s in views)
    return DeviceView(device.name, device.title, device.source_path, device_fingerprint(device, module),
                      tuple(views),
                      descriptor_payload, max_size)
