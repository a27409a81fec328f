"""The schema lock: one canonical JSON file of the checked IR.

It is the contract reviewers read and `vfiogen diff` compares. Keys are
sorted; lists keep declaration order because order is meaning here (wire
order, restore order). Expressions appear as canonical text; ids (section
ids, capability ids) as lower-case hex padded to their width, the way the
schemas write them: `0x0005` for a 16-bit section or extended capability id,
`0x05` for an 8-bit capability id or header type. Each section and device has a
`fingerprint`, the sha256 of its checked IR (`ir.fingerprint`), which the C
banners repeat; the schema file's bytes are not hashed, so a comment changes
nothing here. This back end
serialises data with `json.dumps` rather than a template: JSON is data, and
`json.dumps(sort_keys=True)` is its canonical writer.
"""

from __future__ import annotations

import json
from typing import Any

from vfiogen.context import Context
from vfiogen.ir.checked import (
    CheckedModule,
    CheckedRegister,
    CheckedSection,
    VersionLayout,
    WireItem,
)
from vfiogen.ir.expr import Expr, to_text
from vfiogen.ir.fingerprint import device_fingerprint, section_fingerprint
from vfiogen.ir.nodes import (
    ArrayType,
    BytesType,
    DescriptorField,
    Device,
    FieldType,
    Location,
    ScalarType,
    StateField,
    Versioning,
)
from vfiogen.ir.types import LocationKind
from vfiogen.outputs import LOCK_PATH

LOCK_FORMAT = 2
"""2: ids are hex strings and `sha256` (of the file) became `fingerprint` (of the checked IR)."""


def hex_id(value: int, bits: int) -> str:
    """An id as the lock writes it: '0x' and lower-case hex digits, zero-padded to `bits`."""
    return f"0x{value:0{bits // 4}x}"


def _location_id(location: Location) -> str | None:
    """A capability id (8 bits), an extended capability id (16 bits) or a header type (8 bits)."""
    if location.offset is not None:
        return hex_id(location.offset, 8)
    if location.cap_id is None:
        return None
    return hex_id(location.cap_id, 16 if location.kind is LocationKind.EXTENDED_CAPABILITY else 8)


def _expr(expr: Expr | None) -> str | None:
    return to_text(expr) if expr is not None else None


def _versioning(versioning: Versioning) -> dict[str, Any]:
    return {"since": versioning.since, "until": versioning.until, "default": versioning.default}


def _type(field_type: FieldType) -> dict[str, Any]:
    if isinstance(field_type, ScalarType):
        return {"kind": field_type.kind.value}
    if isinstance(field_type, BytesType):
        return {"kind": "bytes", "size": field_type.size}
    if isinstance(field_type, ArrayType):
        return {"kind": "array", "element": _type(field_type.element), "length": to_text(field_type.length),
                "max": field_type.max}
    return {"kind": "struct", "members": [_state(m) for m in field_type.members]}


def _state(state: StateField) -> dict[str, Any]:
    # A byte-string register also records where it is read from and its access (other fields: no such keys,
    # so their entries are as before).
    where = {} if state.config_offset is None else {
        "byte_string": {"offset": state.config_offset, "access": state.access.value if state.access else None}}
    return {"name": state.name, "type": _type(state.type), "enum": state.enum, "present": _expr(state.present),
            **_versioning(state.versioning), **where}


def _register(checked: CheckedRegister) -> dict[str, Any]:
    register, masks = checked.register, checked.masks
    return {
        "name": register.name, "offset": to_text(register.offset), "offsets": list(checked.offsets),
        "width": register.width, "access": register.access.value if register.access else None,
        "field_set": register.field_set,
        "fields": [{"name": f.name, "hi": f.hi, "lo": f.lo, "access": f.access.value, "enum": f.enum,
                    "mask": f"0x{f.mask:x}",
                    **({"reserved_when": _expr(f.reserved_when)} if f.reserved_when is not None else {})}
                   for f in register.fields],
        "masks": {name: f"0x{getattr(masks, name):x}"
                  for name in ("rw", "ro", "rw1c", "hwinit", "rsvdp", "rsvdz", "writable", "reserved", "emulated")},
        "reset": f"0x{register.reset:x}", "present": _expr(register.present),
        "restore_skip": register.restore_skip, "enum": register.enum, **_versioning(register.versioning),
    }


def _descriptor(descriptor: DescriptorField) -> dict[str, Any]:
    return {"name": descriptor.name, "type": _type(descriptor.type) if descriptor.type else None,
            "from": descriptor.source_register, "fields": list(descriptor.source_fields)}


def _item(item: WireItem) -> dict[str, Any]:
    return {"path": item.path, "type": item.type_text, "offset": item.offset, "after": item.after,
            "relative": item.relative, "size": item.size, "max_size": item.max_size,
            "present": item.condition, "repeat": item.repeat, "in_element": item.in_element}


def _layout(layout: VersionLayout) -> dict[str, Any]:
    return {"version": layout.version, "min_size": layout.min_size, "max_size": layout.max_size,
            "items": [_item(i) for i in layout.items]}


def _section(checked: CheckedSection) -> dict[str, Any]:
    section = checked.section
    location = section.location
    return {
        "name": section.name, "title": section.title, "id": hex_id(section.wire_id, 16),
        "source": section.source_path, "fingerprint": section_fingerprint(checked),
        "location": {"kind": location.kind.value, "id": _location_id(location), "version": location.cap_version,
                     "size": location.size,
                     # only a repeated section names its instances, so that other sections' fingerprints stay
                     **({"instances": location.instances} if location.instances is not None else {}),
                     **({"last_version": location.cap_last_version}
                        if location.cap_last_version is not None else {}),
                     **({"also_id": hex_id(location.cap_also_id, 16)} if location.cap_also_id is not None else {})},
        "version": section.version, "min_version": section.min_version,
        "params": [{"name": p.name, "type": p.kind.value, "default": p.default,
                    **({"from": p.source.text} if p.source is not None else {})} for p in section.params],
        "enums": [{"name": e.name, "values": {v.name: v.value for v in e.values}} for e in section.enums],
        "registers": [_register(r) for r in checked.registers],
        "state": [_state(s) for s in checked.state],
        "descriptor": [_descriptor(d) for d in section.descriptor],
        "descriptor_layout": [_item(i) for i in checked.descriptor_layout],
        "mask_list": [r.name for r in checked.plan.masks.registers],
        "constraints": [{"check": to_text(c.check), "reason": c.reason} for c in section.constraints],
        "compat": [{"rule": r.kind.value, "field": r.descriptor, "mask": None if r.mask is None else f"0x{r.mask:x}",
                    "reason": r.reason} for r in section.compat],
        "restore": [{"wait_us": s.wait_us, "when": _expr(s.when), "reason": s.reason} if s.wait_us is not None
                    else {"hook": s.hook} if s.hook is not None else
                    {"write": s.register, "with": {o.bit_field: to_text(o.value) for o in s.overrides}}
                    for s in section.restore],
        "hooks": {"pre_save": [h.name for h in section.pre_save], "post_load": [h.name for h in section.post_load]},
        "layouts": [_layout(layout) for layout in checked.layouts],
    }


def _device(device: Device, module: CheckedModule) -> dict[str, Any]:
    sections = []
    for use in device.sections:
        section = module.section(use.section).section
        bound = {b.name: b.value for b in use.params}
        moved = {m.register: list(m.offsets) for m in module.bound_offsets
                 if m.device == device.name and m.section == use.section}
        sections.append({"section": use.section, "id": hex_id(section.wire_id, 16), "required": use.required,
                         "params": {p.name: bound.get(p.name, p.default) for p in section.params},
                         "offsets": moved, "defaults": {b.name: b.value for b in use.defaults},
                         **({"instances": use.instances} if use.instances is not None else {})})
    return {"name": device.name, "title": device.title, "source": device.source_path,
            "fingerprint": device_fingerprint(device, module), "generic": device.generic, "sections": sections}


def lock_data(module: CheckedModule) -> dict[str, Any]:
    """The lock of `module`, as JSON data; read-only, since the last module's is kept: a build into a directory
    with a lock asks twice (the lock check, then the lock back end), and building it is 15 ms of the standard
    library's build."""
    if _LAST and _LAST[0][0] is module:
        return _LAST[0][1]
    data = {"format": LOCK_FORMAT,
            "sections": {s.name: _section(s) for s in module.sections},
            "devices": {d.name: _device(d, module) for d in module.devices}}
    _LAST[:] = [(module, data)]
    return data


_LAST: list[tuple[CheckedModule, dict[str, Any]]] = []
"""The last module `lock_data` was asked for, and its lock (by identity: the module is kept)."""


class LockBackend:
    name = "lock"

    def check(self, module: CheckedModule, ctx: Context) -> None:
        """The lock can express every checked module."""

    def render(self, module: CheckedModule) -> dict[str, str]:
        return {LOCK_PATH: json.dumps(lock_data(module), indent=2, sort_keys=True, ensure_ascii=False) + "\n"}
