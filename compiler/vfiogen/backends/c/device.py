"""View model of a device's C files: the blob of the sections a device instance has, framed.

Bit i of a presence set (`VFG_<DEVICE>_HAS_<SECTION>`) is the device's i-th section; the meta-schema
keeps a device to 32 sections, so a set fits a uint32_t.
"""

from __future__ import annotations

from collections.abc import Callable

from vfiogen.backends.c import naming, wrap
from vfiogen.backends.c.cexpr import CExpr
from vfiogen.backends.c.views import DeviceSectionView, DeviceView, SectionView
from vfiogen.ir.checked import CheckedModule
from vfiogen.ir.fingerprint import device_fingerprint
from vfiogen.ir.nodes import Device
from vfiogen.ir.plan import DeviceSectionPlan, LeafKind
from vfiogen.ir.types import ScalarKind
from vfiogen.passes.plan import plan_device


def _initialiser(member: str, values: list[str]) -> str:
    """A section's params initialiser in the device's `_PARAMS_DEFAULT` macro (`    .<member> = ..., \\`): on
    one line if it fits, else one value a line, each continued with a backslash, as a section's own default is."""
    if not values:
        return "{ 0 }"
    line = "{ " + ", ".join(values) + " }"
    if len(f"    .{member} = {line}, \\") <= wrap.LIMIT:
        return line
    return "{ \\\n" + "".join(f"        {value}, \\\n" for value in values) + "    }"


def _reader(var: str, arrow: str) -> Callable[[str], str]:
    """How a derived param's expression reads a field of its source section's state, `var`."""
    return lambda name: f"{var}{arrow}{naming.ident(name)}"


def _derived(device: Device, planned: DeviceSectionPlan, module: CheckedModule
             ) -> tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]:
    """Per source section, the params computed from its state (`src_<member>`), cast to the param's type.

    `semantics` keeps `from` to bits, comparisons and logic, so no value needs a checked helper."""
    blocks = []
    for source in planned.sources:
        render = CExpr(module.section(source).symbols, _reader(f"src_{naming.ident(source)}", "->"))
        values = []
        for derived in planned.derived:
            if derived.source != source:
                continue
            value = render.render(derived.expr)
            assert not render.checked, derived.text
            ctype = "bool" if derived.kind is ScalarKind.BOOL else naming.C_TYPES[derived.kind.value]
            values.append((naming.ident(derived.param), f"({ctype})({value.text})"))
        blocks.append((naming.ident(source), naming.macro(device.name, "has", source), tuple(values)))
    return tuple(blocks)


def device_view(device: Device, module: CheckedModule, sections: dict[str, SectionView], header_size: int,
                frame_size: int, crc_size: int, record_size: int) -> DeviceView:
    views: list[DeviceSectionView] = []
    device_plan = plan_device(device, module)
    for use in device.sections:
        checked = module.section(use.section)
        section = checked.section
        view = sections[section.name]
        bound = {b.name: b.value for b in use.params}
        values = []
        for param in section.params:
            value = bound.get(param.name, param.default)
            text = ("true" if value else "false") if param.kind is ScalarKind.BOOL else naming.decimal(int(value))
            values.append(f".{naming.ident(param.name)} = {text}")
        views.append(DeviceSectionView(
            name=section.name, prefix=view.prefix, macro=view.macro_prefix, required=use.required,
            params=_initialiser(naming.ident(section.name), values),
            has=naming.macro(device.name, "has", section.name), bit=device_plan.section(section.name).bit,
            pre_save=tuple(naming.ident(h.name) for h in section.pre_save),
            post_load=tuple(naming.ident(h.name) for h in section.post_load),
            restore_hooks=tuple(dict.fromkeys(naming.ident(step.hook) for step in section.restore
                                              if step.hook is not None)),
            max_payload=view.max_payload, descriptor_max=view.descriptor_max, compat_rules=view.compat_rules,
            absent_refused=device_plan.section(section.name).absent_refused,
            descriptor_bytes=tuple((naming.ident(item.name), item.offset) for item in checked.plan.descriptor
                                   if item.kind is LeafKind.BYTES and item.byte_string is None),
            defaults=tuple((naming.ident(b.name), f"0x{b.value:x}u") for b in use.defaults),
            repeated=device_plan.section(section.name).repeated,
            max_instances=device_plan.section(section.name).max_instances,
            default_instances=device_plan.section(section.name).default_instances,
            names=device_plan.section(section.name).names,
            missing_reason=device_plan.section(section.name).missing_reason,
            missing_instances=tuple(device_plan.section(section.name).missing_instance(i)
                                    for i in range(device_plan.section(section.name).max_instances)
                                    if device_plan.section(section.name).repeated),
            count=naming.macro(device.name, section.name, "max"),
            sources=tuple((naming.ident(source), sections[source].prefix)
                          for source in device_plan.section(section.name).sources),
            derived=_derived(device, device_plan.section(section.name), module)))
    descriptor_payload = sum((record_size + s.descriptor_max) * s.instances for s in views)
    max_size = header_size + frame_size + descriptor_payload + crc_size + sum(
        (frame_size + s.max_payload + crc_size) * s.instances for s in views)
    return DeviceView(device.name, device.title, device.source_path, device_fingerprint(device, module),
                      tuple(views), descriptor_payload, max_size, device.generic)
