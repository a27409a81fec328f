"""Print the Python `resize_<field>` helpers of a section (one per `ir.plan.Resize`).

A helper sets a field array lengths read (MSI-X's `control.table_size`) and
resizes those arrays with it, so that a state changed by hand still saves.
"""

from __future__ import annotations

from collections.abc import Callable

from vfiogen.backends.python import naming
from vfiogen.backends.python.translate import PythonExpr
from vfiogen.ir.checked import CheckedSection
from vfiogen.ir.nodes import ArrayType, FieldType, Register
from vfiogen.ir.plan import Resize


def resize_functions(checked: CheckedSection, render: PythonExpr,
                     element_default: Callable[[str, ArrayType], str]) -> tuple[str, ...]:
    """The text of each helper; `render` reads the state as `s.<attr>`, `element_default(path, array)` is the
    Python expression of one new element."""
    types = {state.name: state.type for state in checked.section.state}
    registers = {register.name: register for register in checked.section.registers}
    functions = []
    for resize in checked.plan.resizes:
        functions.append(_function(checked, resize, render, element_default, types, registers))
    return tuple(functions)


def helper_name(resize: Resize) -> str:
    return "resize_" + resize.field.replace(".", "_")


def capture_resizes(checked: CheckedSection) -> tuple[tuple[str, str], ...]:
    """(helper, the field read from a captured state `s`) for each register field: capture sizes its arrays."""
    return tuple((helper_name(r), "s." + ".".join(naming.attr(part) for part in r.field.split(".")))
                 for r in checked.plan.resizes if r.register is not None)


def _function(checked: CheckedSection, resize: Resize, render: PythonExpr,
              element_default: Callable[[str, ArrayType], str], types: dict[str, FieldType],
              registers: dict[str, Register]) -> str:
    state_class = naming.state_class(checked.section.name)
    name = helper_name(resize)
    top = naming.attr(resize.register or resize.field)
    names = " and ".join(f"`{a.name}`" for a in resize.arrays)
    limit = (1 << resize.width) - 1
    lines = [
        f'def {name}(s: "{state_class}", value: int, p: "Params" = PARAMS) -> None:',
        f'    """Set `{resize.field}` to `value` and resize {names} to the lengths it gives.',
        "",
        "    Added elements take their defaults and surplus ones are dropped, so the state still saves.",
        f"    ValueError, with `s` unchanged, when `value` is not an integer in 0..0x{limit:x} ({resize.width} bits)",
        "    or takes a length past its max.",
        '    """',
        f"    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0x{limit:x}:",
        f'        raise ValueError(f"{{SECTION}}: {resize.field} holds {resize.width} bits (0..0x{limit:x}), '
        f'not {{value!r}}")',
        f"    saved = s.{top}",
    ]
    if resize.register is not None:
        register = registers[resize.register]
        cls = naming.register_class_of(register)
        keep = ((1 << register.width) - 1) & ~(limit << resize.lo)
        shifted = f"value << {resize.lo}" if resize.lo else "value"
        lines.append(f"    s.{top} = {cls}.from_value(({naming.raw('saved')} & 0x{keep:x}) | {shifted})")
    else:
        lines.append(f"    s.{top} = value")
    lines.append("    try:")
    for index, array in enumerate(resize.arrays, start=1):
        lines.append(f"        n{index} = int({render(array.length)})")
    lines.append("    except (ArithmeticError, ValueError) as exc:")
    lines.append(f"        s.{top} = saved")
    lines.append(f'        raise ValueError(f"{{SECTION}}: a length cannot be evaluated with {resize.field} = '
                 f'{{value}}: {{exc}}") from None')
    for index, array in enumerate(resize.arrays, start=1):
        lines.append(f"    if not 0 <= n{index} <= {array.max}:")
        lines.append(f"        s.{top} = saved")
        lines.append(f'        raise ValueError(f"{{SECTION}}: {resize.field} = {{value}} gives {array.name} '
                     f'{{n{index}}} entries, outside 0..{array.max}")')
    for index, array in enumerate(resize.arrays, start=1):
        target = f"s.{naming.attr(array.name)}"
        array_type = types[array.name]
        assert isinstance(array_type, ArrayType)
        element = element_default(array.name, array_type)
        lines.append(f"    del {target}[n{index}:]")
        if element.endswith(")") and "(" in element:
            lines.append(f"    {target}.extend({element} for _ in range(n{index} - len({target})))")
        else:
            lines.append(f"    {target}.extend([{element}] * (n{index} - len({target})))")
    return "\n".join(lines)
