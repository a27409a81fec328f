"""View model of a device's Python module: its sections, each with its presence bit and, when repeated, instances.

The device plan (`passes.plan.plan_device`) decides bits and instances; this only names them for the template.
"""

from __future__ import annotations

from collections.abc import Callable

from vfiogen.backends.python import naming
from vfiogen.backends.python.views import AttrView, DeviceSectionView, DeviceView
from vfiogen.ir.checked import CheckedModule
from vfiogen.backends.python.translate import PythonExpr
from vfiogen.ir.nodes import Device, Section
from vfiogen.ir.plan import DeviceSectionPlan
from vfiogen.ir.types import ScalarKind
from vfiogen.passes.plan import plan_device


def _reader(var: str) -> Callable[[str], str]:
    """How a derived param's expression reads a field of its source section's state, `var`."""
    return lambda name: f"{var}.{naming.attr(name)}"


def _derived(section: Section, planned: DeviceSectionPlan, module: CheckedModule
             ) -> tuple[tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...], tuple[str, ...], tuple[str, ...]]:
    """The device's `_params_<section>` helper, for a section some of whose params earlier sections give: per
    source, the Params keyword arguments computed from its state (the other params as the config has them)."""
    blocks = []
    for source in planned.sources:
        render = PythonExpr(module.section(source).symbols, _reader(f"src_{naming.attr(source)}"))
        given = {d.param: render(d.expr) for d in planned.derived if d.source == source}
        kwargs = tuple((naming.attr(p.name), given.get(p.name, f"p.{naming.attr(p.name)}")) for p in section.params)
        blocks.append((naming.attr(source), f"HAS_{source.upper()}", kwargs))
    return (tuple(blocks), tuple(naming.attr(source) for source in planned.sources),
            tuple(f"_{source}.{naming.state_class(source)}" for source in planned.sources))


def device_view(device: Device, module: CheckedModule) -> DeviceView:
    sections: list[DeviceSectionView] = []
    new_states: dict[str, str] = {}
    """Each section's new state: the section's defaults, with the device file's `defaults` registers."""
    device_plan = plan_device(device, module)
    for use in device.sections:
        checked = module.section(use.section)
        section = checked.section
        planned = device_plan.section(section.name)
        bound = {b.name: b.value for b in use.params}
        params = tuple((naming.attr(p.name), str(bool(bound[p.name])) if p.kind is ScalarKind.BOOL
                        else str(bound[p.name])) for p in section.params if p.name in bound)
        host = tuple(naming.attr(item.name) for item in checked.plan.descriptor if item.host)
        overrides = []
        for binding in use.defaults:
            register = checked.register(binding.name).register
            value = (f"_{section.name}.{naming.register_class_of(register)}.from_value(0x{binding.value:x})"
                     if register.fields else str(binding.value))
            overrides.append(f"{naming.attr(register.name)}={value}")
        new_states[section.name] = f"_{section.name}.{naming.state_class(section.name)}({', '.join(overrides)})"
        sections.append(DeviceSectionView(section.name, naming.attr(section.name),
                                          naming.state_class(section.name), naming.descriptor_class(section.name),
                                          use.required, params, f"HAS_{section.name.upper()}", planned.bit,
                                          planned.absent_refused, host,
                                          bool(section.pre_save), bool(section.post_load),
                                          any(step.hook is not None and step.wait_us is None
                                              for step in section.restore),
                                          any(step.wait_us is not None for step in section.restore),
                                          planned.repeated, planned.max_instances, planned.names,
                                          planned.missing_reason, planned.missing_instance_reason,
                                          *_derived(section, planned, module)))
    counts = {s.section: (0 if device.generic else s.default_instances) for s in device_plan.repeated}

    def listed(s: DeviceSectionView, one: str) -> str:
        """A repeated section's list default: one `one` per instance the built-in config has."""
        return f"[{one} for _ in range({counts[s.module]})]" if counts[s.module] else "[]"

    state_attrs = tuple(
        AttrView(s.attr, s.module, f"list[_{s.module}.{s.state_class}]", listed(s, new_states[s.module]),
                 '"[obj]"') if s.repeated else
        AttrView(s.attr, s.module, f"_{s.module}.{s.state_class}" if s.required else
                 f"_{s.module}.{s.state_class} | None", new_states[s.module] if s.required else "None",
                 '"obj"' if s.required else '"opt"', fresh=s.required)
        for s in sections)
    descriptor_attrs = (AttrView("present", "present", "int", "0" if device.generic else "ALL_SECTIONS", '""'),
                        *(AttrView(s.attr, s.module, f"list[_{s.module}.{s.descriptor_class}]",
                                   listed(s, f"_{s.module}.{s.descriptor_class}()"), '"[obj]"')
                          if s.repeated else
                          AttrView(s.attr, s.module, f"_{s.module}.{s.descriptor_class}",
                                   f"_{s.module}.{s.descriptor_class}()", '"obj"') for s in sections))
    params_attrs = tuple(AttrView(s.attr, s.module, f"_{s.module}.Params",
                                  f"_{s.module}.Params({', '.join(f'{k}={v}' for k, v in s.params)})",
                                  '"obj"', fresh=True)
                         for s in sections)
    class_name = naming.camel(device.name)
    repeated = tuple(s for s in sections if s.repeated)
    instances_attrs = tuple(AttrView(s.attr, s.module, "int", str(counts[s.module]), '""') for s in repeated)
    config_attrs = (AttrView("present", "present", "int", "0" if device.generic else "ALL_SECTIONS", '""'),
                    AttrView("params", "params", f"{class_name}Params", f"{class_name}Params()", '"obj"'),
                    *((AttrView("instances", "instances", f"{class_name}Instances", f"{class_name}Instances()",
                                '"obj"'),) if repeated else ()))
    return DeviceView(device.name, device.source_path, device.title, class_name, tuple(sections),
                      state_attrs, descriptor_attrs, params_attrs, config_attrs, device.generic,
                      f"0x{(1 << len(sections)) - 1:x}", repeated, instances_attrs)
