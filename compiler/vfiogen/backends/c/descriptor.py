"""The bodies of a section's descriptor functions in C: derive, pack and unpack the record, negotiate the
version, and check the compat rules (every one the two descriptors break goes into the report).

They print what the plan decided (`ir.plan.SectionCompat`, the descriptor items); `functions.SectionFunctions`
holds the section and the helpers they share with the load and save functions.
"""

from __future__ import annotations

import functools

from vfiogen.backends.c import naming
from vfiogen.backends.c.functions import SectionFunctions, c_function
from vfiogen.backends.c.views import Function
from vfiogen.backends.c.wire import GET, PUT, Writer, evaluate
from vfiogen.ir.nodes import ArrayType
from vfiogen.ir.plan import LeafKind
from vfiogen.ir.types import CompatKind


def descriptor_functions(f: SectionFunctions) -> tuple[Function, Function, Function]:
    """derive_descriptor, pack_descriptor and unpack_descriptor of the section."""
    derive, pack, unpack = Writer(), Writer(), Writer()
    for what in ("d", "s"):
        with derive.block(f"if ({what} == NULL)"):
            f.fail(derive, "", "0u", "VFG_ERR_ARGUMENT",
                             "the descriptor pointer is NULL" if what == "d" else "the state pointer is NULL")
    # pack and unpack cannot report an error: with a NULL pointer they do nothing (the header says so).
    for writer in (pack, unpack):
        with writer.block("if (d == NULL || buf == NULL)"):
            writer("return;")
    for item in f.plan.descriptor:
        target = f"d->{naming.ident(item.name)}"
        if item.constant is not None:
            value = naming.literal(item.constant, item.size * 8)
            if item.present is not None and item.constant:
                text = evaluate(derive, f.state, item.present, functools.partial(
                    f.fail, derive, item.name, "0u", "VFG_ERR_EXPRESSION",
                    f"the presence of register {item.mask_of} cannot be evaluated"))
                value = f"({text}) ? {value} : 0u"
            derive(f"{target} = {value};")
        elif item.byte_string is not None:
            # The bytes as many as the length says, 0 past it: the record stays `max` bytes long.
            length = f.checked.state_field(item.byte_string).type
            assert isinstance(length, ArrayType)
            text = evaluate(derive, f.state, length.length, functools.partial(
                f.fail, derive, item.name, "0u", "VFG_ERR_EXPRESSION",
                f"the length of {item.byte_string} cannot be evaluated"))
            derive.use("n0")
            derive(f"n0 = {text};")
            with derive.block(f"if (n0 < 0 || n0 > {item.size})"):
                f.fail(derive, item.name, "0u", "VFG_ERR_COUNT", f"the length of {item.byte_string} is outside "
                       f"0..{item.size}")
            derive(f"memset({target}, 0, {item.size}u);")
            derive(f"memcpy({target}, s->{naming.ident(item.byte_string)}, (size_t)n0);")
        elif item.register is not None:
            width = item.size * 8
            value = f"({naming.register_type(width)})(s->{naming.ident(item.register)} & " \
                    f"{naming.literal(item.mask, width)})"
            if item.present is not None:
                text = evaluate(derive, f.state, item.present, functools.partial(
                    f.fail, derive, item.name, "0u", "VFG_ERR_EXPRESSION",
                    f"the presence of register {item.register} cannot be evaluated"))
                value = f"({text}) ? {value} : 0u"
            derive(f"{target} = {value};")
        at = f"buf + {item.offset}" if item.offset else "buf"
        if item.kind is LeafKind.BYTES:
            pack(f"memcpy({at}, {target}, {item.size}u);")
            unpack(f"memcpy({target}, {at}, {item.size}u);")
            continue
        size = item.size
        put, get = PUT[size], GET[size]
        if item.kind is LeafKind.BOOL:
            pack(f"{put}({at}, (uint8_t)({target} ? 1u : 0u));")
            unpack(f"{target} = {get}({at}) != 0u;")
        elif item.kind is LeafKind.SINT:
            pack(f"{put}({at}, (uint{size * 8}_t){target});")
            unpack(f"{target} = vfg_s{size * 8}({get}({at}));")
        else:
            pack(f"{put}({at}, {target});")
            unpack(f"{target} = {get}({at});")
    derive("return VFG_OK;")
    desc = f"struct {f.sym('descriptor')}"
    return (
        c_function(f"int {f.sym('derive_descriptor')}({desc} *d, const {f.state_type} *s, {f.params}, "
                  "struct vfg_error *err)", derive, unused=("d", "s", "p", "err")),
        c_function(f"void {f.sym('pack_descriptor')}(const {desc} *d, uint8_t *buf)", pack,
                  unused=("d", "buf")),
        c_function(f"void {f.sym('unpack_descriptor')}({desc} *d, const uint8_t *buf)", unpack,
                  unused=("d", "buf")),
    )

def negotiate_function(f: SectionFunctions) -> Function:
    """The highest version both descriptors' builds handle, or 0 when there is none."""
    w = Writer()
    with w.block("if (source == NULL || target == NULL)"):
        w("return 0u;")
    w("version = source->max_version;")
    with w.block("if (target->max_version < version)"):
        w("version = target->max_version;")
    with w.block("if (version < source->min_version || version < target->min_version)"):
        w("return 0u;")
    w("return version;")
    desc = f"const struct {f.sym('descriptor')}"
    return c_function(f"uint16_t {f.sym('negotiate_version')}({desc} *source, {desc} *target)", w,
                     extra=("uint16_t version;",))

def compat_function(f: SectionFunctions) -> Function:
    """Every compat rule the two descriptors break, each added to the report; VFG_ERR_INCOMPATIBLE if any."""
    w = Writer()
    with w.block("if (source == NULL || target == NULL)"):
        w("return VFG_ERR_ARGUMENT;")
    with w.block(f"if ({f.sym('negotiate_version')}(source, target) == 0u)"):
        w(f"vfg_compat_fail(report, {f.name_macro}, \"versions\", \"version\",")
        pieces = naming.string_pieces(f.plan.compat.versions_reason)
        for piece in pieces[:-1]:
            w(f"    {piece}")
        w(f"    {pieces[-1]},")
        w("    ((uint64_t)source->min_version << 16) | source->max_version,")
        w("    ((uint64_t)target->min_version << 16) | target->max_version, false);")
        w("refused = true;")
    checks = f.plan.compat.checks
    for check in checks:
        member = naming.ident(check.item.name)
        source, target = f"source->{member}", f"target->{member}"
        where = (f.name_macro, f'"{check.kind.value}"', f'"{check.item.name}"', "REASON")
        pieces = naming.string_pieces(check.reason)
        if check.item.byte_string is not None:
            # The first byte that breaks the rule, named by its config-space offset, as the Python does.
            size = f"{check.item.size}u"
            first, second = (target, source) if check.kind is CompatKind.SUPERSET else (source, target)
            within = "false" if check.kind is CompatKind.EQUAL else "true"
            w(f"at = vfg_bytes_first_break({first}, {second}, {size}, {within});")
            w.use("at")
            breaks = f"at < {size}"
            add = (f"vfg_compat_fail_byte(report, {', '.join(where)}, {source}[at], {target}[at], "
                   f"{check.item.config_offset}u + (uint32_t)at);")
        elif check.item.kind is LeafKind.BYTES:
            size = f"{check.item.size}u"
            if check.kind is CompatKind.EQUAL:
                breaks = f"memcmp({source}, {target}, {size}) != 0"
            else:
                first, second = (source, target) if check.kind is CompatKind.SUBSET else (target, source)
                breaks = f"vfg_bytes_not_within({first}, {second}, {size})"
            add = f"vfg_compat_fail_bytes(report, {', '.join(where)}, {source}, {target}, {size});"
        else:
            width = check.item.size * 8
            if check.kind is CompatKind.EQUAL:
                breaks = f"{source} != {target}"
            elif check.kind is CompatKind.SUBSET:
                breaks = f"({source} & ~{target}) != 0"
            elif check.kind is CompatKind.SUPERSET:
                breaks = f"({target} & ~{source}) != 0"
            elif check.kind is CompatKind.TARGET_GE:
                breaks = f"{target} < {source}"
            else:
                breaks = f"(({source} ^ {target}) & {naming.literal(check.mask, width)}) != 0u"
            signed = "true" if check.item.kind is LeafKind.SINT else "false"
            add = (f"vfg_compat_fail(report, {', '.join(where)}, (uint64_t){source}, (uint64_t){target}, "
                   f"{signed});")
        with w.block(f"if ({breaks})"):
            # The reason on lines of its own: a long literal is not broken by the wrapper.
            head, tail = add.split("REASON")
            w(head.rstrip())
            for piece in pieces[:-1]:
                w(f"    {piece}")
            w(f"    {pieces[-1]}{tail}")
            w("refused = true;")
    w("return refused ? VFG_ERR_INCOMPATIBLE : VFG_OK;")
    desc = f"const struct {f.sym('descriptor')}"
    extra = ("bool refused = false;",) + (("size_t at;",) if "at" in w.uses else ())
    w.uses.discard("at")
    return c_function(f"int {f.sym('check_compat')}({desc} *source, {desc} *target, "
                     "struct vfg_compat_report *report)", w, extra=extra)
