"""Print the C `resize_<field>` helpers of a section (one per `ir.plan.Resize`), as the Python ones do.

The C state holds every array at its max; a length is its expression over
the state. So resizing sets the field and gives the elements between the old
length and the new one their defaults (zero, as `init` gives them), so that
growing a table never exposes what an earlier, longer state left there.
"""

from __future__ import annotations

from vfiogen.backends.c import naming
from vfiogen.backends.c.functions import SectionFunctions, c_function
from vfiogen.backends.c.views import Function
from vfiogen.backends.c.wire import Writer
from vfiogen.ir.nodes import ScalarType
from vfiogen.ir.plan import Resize


def resize_functions(functions: SectionFunctions) -> tuple[tuple[str, Function], ...]:
    """(the header comment, the function) of each helper."""
    return tuple(_resize(functions, resize) for resize in functions.plan.resizes)


def _resize(functions: SectionFunctions, resize: Resize) -> tuple[str, Function]:
    section = functions.section
    limit = (1 << resize.width) - 1
    w = Writer()
    with w.block("if (s == NULL)"):
        functions.fail(w, "", "0", "VFG_ERR_ARGUMENT", "the state pointer is NULL")
    with w.block(f"if (value > 0x{limit:x}u)"):
        functions.fail(w, resize.field, "0", "VFG_ERR_ARGUMENT", f"the value does not fit its {resize.width} bits")
    count = len(resize.arrays)
    render = functions.state
    for index, array in enumerate(resize.arrays):
        text = w.expr(render, array.length)
        w.use(f"n{index}")
        w(f"n{index} = {text};")
        bad = "bad || " if render.checked else ""
        with w.block(f"if ({bad}n{index} < 0)"):  # an invalid old state: give every element up to the new length
            w(f"n{index} = 0;")
        if render.checked:
            w("bad = false;")
    if resize.register is not None:
        register = next(r for r in section.registers if r.name == resize.register)
        target = f"s->{naming.ident(register.name)}"
        c_type = naming.register_type(register.width)
        keep = ((1 << register.width) - 1) & ~(limit << resize.lo)
        shifted = f"((uint32_t)value << {resize.lo})" if resize.lo else "(uint32_t)value"
        suffix = "ull" if register.width == 64 else "u"
        assign = f"{target} = ({c_type})(({target} & 0x{keep:x}{suffix}) | {shifted});"
        if register.width == 64:
            assign = f"{target} = ({target} & 0x{keep:x}ull) | ((uint64_t)value << {resize.lo});"
    else:
        state = next(s for s in section.state if s.name == resize.field)
        assert isinstance(state.type, ScalarType)
        target = f"s->{naming.ident(state.name)}"
        c_type = naming.C_TYPES[state.type.kind.value]
        assign = f"{target} = ({c_type})value;"
    w(f"saved = {target};")
    w(assign)
    for index, array in enumerate(resize.arrays):
        new = f"n{index + count}"
        text = w.expr(render, array.length)
        w.use(new)
        w(f"{new} = {text};")
        bad = "bad || " if render.checked else ""
        with w.block(f"if ({bad}{new} < 0 || {new} > {array.max})"):
            w(f"{target} = saved;")
            functions.fail(w, array.name, "0", "VFG_ERR_COUNT", "its length would be outside 0..max")
    for index, array in enumerate(resize.arrays):
        member = f"s->{naming.ident(array.name)}"
        new = f"n{index + count}"
        with w.block(f"if ({new} > n{index})"):
            w(f"memset(&{member}[n{index}], 0, (size_t)({new} - n{index}) * sizeof {member}[0]);")
    w("return VFG_OK;")
    name = functions.sym("resize", *resize.field.split("."))
    signature = (f"int {name}({functions.state_type} *s, {functions.params}, uint64_t value, "
                 "struct vfg_error *err)")
    names = " and ".join(f"`{a.name}`" for a in resize.arrays)
    comment = (f"Set `{resize.field}` to `value` and resize {names} to the lengths it gives: the elements "
               "past an old length get their defaults (as `init` gives them). A value the field cannot hold "
               "(VFG_ERR_ARGUMENT) or one that takes a length past its max (VFG_ERR_COUNT) is refused with *s "
               "unchanged.")
    return comment, c_function(signature, w, extra=(f"{c_type} saved;",), unused=("p",))
