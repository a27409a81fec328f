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
from vfiogen.ir.plan import MASK_ARRAYS, MASK_ENTRY_HEAD, LeafKind, MaskedRegister
from vfiogen.ir.types import CompatKind


def mask_tables(f: SectionFunctions) -> str:
    """The static tables the mask-list code reads, by register index: each register's width in bytes, and
    the field name and reason a difference in its emulated bits (row 0) or write mask (row 1) gives."""
    registers = f.plan.masks.registers
    lines = ["/* Each register's width in bytes, by mask-list index (first-version order). */",
             f"static const uint8_t mask_widths[{f.macro('MASK_REGISTERS')}] = {{"]
    widths = [f"{r.width // 8}u," for r in registers]
    for at in range(0, len(widths), 12):
        lines.append("    " + " ".join(widths[at:at + 12]))
    lines.append("};")
    for table, what in (("mask_fields", "name"), ("mask_reasons", "reason")):
        lines += ["", f"/* The {what} a difference in a register's emulated bits, then write mask, gives. */",
                  f"static const char *const {table}[2][{f.macro('MASK_REGISTERS')}] = {{"]
        for writable in (False, True):
            lines.append("    {")
            for register in registers:
                if table == "mask_fields":
                    text = register.writable_field if writable else register.emulated_field
                else:
                    text = register.writable_reason if writable else register.emulated_reason
                pieces = naming.string_pieces(text)
                lines += [f"        {piece}" for piece in pieces[:-1]] + [f"        {pieces[-1]},"]
            lines.append("    },")
        lines.append("};")
    return "\n".join(lines)


def descriptor_functions(f: SectionFunctions) -> tuple[Function, ...]:
    """derive_descriptor, descriptor_size, pack_descriptor and unpack_descriptor of the section."""
    derive, size, pack, unpack = Writer(), Writer(), Writer(), Writer()
    masks = f.plan.masks
    for what in ("d", "s"):
        with derive.block(f"if ({what} == NULL)"):
            f.fail(derive, "", "0u", "VFG_ERR_ARGUMENT",
                   "the descriptor pointer is NULL" if what == "d" else "the state pointer is NULL")
    # pack cannot report an error: with a NULL pointer it writes nothing (the header says so).
    with pack.block("if (d == NULL || buf == NULL)"):
        pack("return 0u;")
    for what in ("d", "buf"):
        with unpack.block(f"if ({what} == NULL)"):
            f.fail(unpack, "", "start", "VFG_ERR_ARGUMENT", f"the {'descriptor' if what == 'd' else 'buffer'} "
                   "pointer is NULL")
    with unpack.block(f"if (start > end || end - start < {f.macro('DESCRIPTOR_FIXED')})"):
        f.fail(unpack, "descriptor", "start", "VFG_ERR_TRUNCATED",
               "truncated: the record is shorter than its fixed fields")
    unpack("memset(&out, 0, sizeof out);")
    for item in f.plan.descriptor:
        target = f"d->{naming.ident(item.name)}"
        if item.constant is not None:
            derive(f"{target} = {naming.literal(item.constant, item.size * 8)};")
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
        source = f"buf + start + {item.offset}" if item.offset else "buf + start"
        stored = f"out.{naming.ident(item.name)}"
        if item.kind is LeafKind.BYTES:
            pack(f"memcpy({at}, {target}, {item.size}u);")
            unpack(f"memcpy({stored}, {source}, {item.size}u);")
            continue
        put, get = PUT[item.size], GET[item.size]
        if item.kind is LeafKind.BOOL:
            pack(f"{put}({at}, (uint8_t)({target} ? 1u : 0u));")
            unpack(f"{stored} = {get}({source}) != 0u;")
        elif item.kind is LeafKind.SINT:
            pack(f"{put}({at}, (uint{item.size * 8}_t){target});")
            unpack(f"{stored} = vfg_s{item.size * 8}({get}({source}));")
        else:
            pack(f"{put}({at}, {target});")
            unpack(f"{stored} = {get}({source});")
    word = naming.register_type(masks.word)
    if masks.registers:
        derive("memset(d->emulated_masks, 0, sizeof d->emulated_masks);")
        derive("memset(d->write_masks, 0, sizeof d->write_masks);")
        for register in masks.negotiated:
            sets = [f"d->emulated_masks[{register.index}] = {naming.literal(register.emulated, masks.word)};",
                    f"d->write_masks[{register.index}] = {naming.literal(register.writable, masks.word)};"]
            if register.present is None:
                for line in sets:
                    derive(line)
                _drop_reserved(f, derive, register, masks.word)
                continue
            text = evaluate(derive, f.state, register.present, functools.partial(
                f.fail, derive, register.emulated_field, "0u", "VFG_ERR_EXPRESSION",
                f"the presence of register {register.name} cannot be evaluated"))
            with derive.block(f"if ({text})"):
                for line in sets:
                    derive(line)
                _drop_reserved(f, derive, register, masks.word)
        with size.block("if (d == NULL)"):
            size("return 0u;")
        # Entries below the record's own count only: unpack refuses one past it.
        with size.block(f"for (i = 0; i < {f.macro('MASK_REGISTERS')} && i < d->mask_registers; i++)"):
            with size.block("if (d->emulated_masks[i] != 0u || d->write_masks[i] != 0u)"):
                size(f"n += {MASK_ENTRY_HEAD}u + 2u * (size_t)mask_widths[i];")
        # The bound taken once and each register's masks and width read once: a save packs this per blob.
        registers = f.macro("MASK_REGISTERS")
        pack(f"n = d->mask_registers < {registers} ? d->mask_registers : {registers};")
        with pack.block("for (i = 0; i < n; i++)"):
            pack(f"const {word} emulated = d->emulated_masks[i];")
            pack(f"const {word} wmask = d->write_masks[i];")
            pack("const unsigned width = mask_widths[i];")
            with pack.block("if ((emulated | wmask) == 0u)"):
                pack("continue; /* no entry: both masks are 0 */")
            pack("vfg_put_be16(buf + o, (uint16_t)i);")
            pack("vfg_put8(buf + o + 2u, (uint8_t)width);")
            pack(f"vfg_put_be_n(buf + o + {MASK_ENTRY_HEAD}u, emulated, width);")
            pack(f"vfg_put_be_n(buf + o + {MASK_ENTRY_HEAD}u + width, wmask, width);")
            pack(f"o += {MASK_ENTRY_HEAD}u + 2u * (size_t)width;")
    else:
        with size.block("if (d == NULL)"):
            size("return 0u;")
    size("return n;")
    pack("return o;")
    # The entries: each well formed, in register order, no pair of zeros (a register without an entry has
    # none), none past the record's own mask_registers; an entry of a register this build does not index
    # (only a newer build has it) is read over and dropped.
    with unpack.block("while (o < end)"):
        with unpack.block(f"if (end - o < {MASK_ENTRY_HEAD}u)"):
            f.fail(unpack, "descriptor.masks", "o", "VFG_ERR_TRUNCATED", "truncated: a mask entry is cut short")
        unpack("index = vfg_get_be16(buf + o);")
        unpack("width = vfg_get8(buf + o + 2u);")
        with unpack.block("if (width != 1u && width != 2u && width != 4u && width != 8u)"):
            f.fail(unpack, "descriptor.masks", "o", "VFG_ERR_DESCRIPTOR",
                   "a mask entry's width is not 1, 2, 4 or 8 bytes")
        with unpack.block("if (index < next || index >= out.mask_registers)"):
            f.fail(unpack, "descriptor.masks", "o", "VFG_ERR_DESCRIPTOR",
                   "a mask entry out of register order, repeated, or past the record's mask_registers")
        with unpack.block(f"if (end - o - {MASK_ENTRY_HEAD}u < 2u * (size_t)width)"):
            f.fail(unpack, "descriptor.masks", "o", "VFG_ERR_TRUNCATED", "truncated: a mask entry is cut short")
        unpack(f"emulated = vfg_get_be_n(buf + o + {MASK_ENTRY_HEAD}u, width);")
        unpack(f"wmask = vfg_get_be_n(buf + o + {MASK_ENTRY_HEAD}u + width, width);")
        with unpack.block("if (emulated == 0u && wmask == 0u)"):
            f.fail(unpack, "descriptor.masks", "o", "VFG_ERR_DESCRIPTOR",
                   "a mask entry whose masks are both 0 (such a register has no entry)")
        if masks.registers:
            with unpack.block(f"if (index < {f.macro('MASK_REGISTERS')})"):
                with unpack.block("if (width != mask_widths[index])"):
                    f.fail(unpack, "descriptor.masks", "o", "VFG_ERR_DESCRIPTOR",
                           "a mask entry of another width than its register has in this build")
                unpack(f"out.emulated_masks[index] = ({word})emulated;")
                unpack(f"out.write_masks[index] = ({word})wmask;")
        unpack("next = (uint32_t)index + 1u;")
        unpack(f"o += {MASK_ENTRY_HEAD}u + 2u * (size_t)width;")
    unpack("*d = out;")
    unpack("return VFG_OK;")
    derive("return VFG_OK;")
    desc = f"struct {f.sym('descriptor')}"
    loop = ("size_t i;",) if masks.registers else ()
    return (
        c_function(f"int {f.sym('derive_descriptor')}({desc} *d, const {f.state_type} *s, {f.params}, "
                   "struct vfg_error *err)", derive, unused=("d", "s", "p", "err")),
        c_function(f"size_t {f.sym('descriptor_size')}(const {desc} *d)", size,
                   extra=(f"size_t n = {f.macro('DESCRIPTOR_FIXED')};", *loop)),
        c_function(f"size_t {f.sym('pack_descriptor')}(const {desc} *d, uint8_t *buf)", pack,
                   extra=(f"size_t o = {f.macro('DESCRIPTOR_FIXED')};", *loop, *(("size_t n;",) if loop else ())),
                   unused=("d", "buf")),
        c_function(f"int {f.sym('unpack_descriptor')}({desc} *d, const uint8_t *buf, size_t start, "
                   "size_t end, struct vfg_error *err)", unpack,
                   extra=(f"{desc} out;", f"size_t o = start + {f.macro('DESCRIPTOR_FIXED')};",
                          "uint32_t next = 0u;", "uint16_t index;", "uint8_t width;", "uint64_t emulated;",
                          "uint64_t wmask;")),
    )

def _drop_reserved(f: SectionFunctions, derive: Writer, register: MaskedRegister, word: int) -> None:
    """Clear from both masks the bits this function has reserved (a bit field's `reserved_when` holds)."""
    for reserved in register.reserved_when:
        text = evaluate(derive, f.state, reserved.condition, functools.partial(
            f.fail, derive, register.emulated_field, "0u", "VFG_ERR_EXPRESSION",
            f"whether {register.name}.{reserved.fields[0]} is reserved cannot be evaluated"), into="result")
        keep = naming.literal(((1 << word) - 1) & ~reserved.bits, word)
        with derive.block(f"if ({text})"):
            derive(f"d->emulated_masks[{register.index}] &= {keep};")
            derive(f"d->write_masks[{register.index}] &= {keep};")


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
    extra: tuple[str, ...] = ("bool refused = false;",)
    if f.plan.masks.registers:
        # The registers both builds index; past the fewer, one build does not know the register, and no
        # version the target loads carries it.
        w("n = source->mask_registers < target->mask_registers ? source->mask_registers : "
          "target->mask_registers;")
        with w.block(f"for (i = 0; i < n && i < {f.macro('MASK_REGISTERS')}; i++)"):
            for row, array in enumerate(MASK_ARRAYS):
                with w.block(f"if (source->{array}[i] != target->{array}[i])"):
                    w(f'vfg_compat_fail(report, {f.name_macro}, "equal", mask_fields[{row}][i], '
                      f"mask_reasons[{row}][i], (uint64_t)source->{array}[i], (uint64_t)target->{array}[i], "
                      "false);")
                    w("refused = true;")
        extra += ("size_t n;", "size_t i;")
    w("return refused ? VFG_ERR_INCOMPATIBLE : VFG_OK;")
    desc = f"const struct {f.sym('descriptor')}"
    extra += ("size_t at;",) if "at" in w.uses else ()
    w.uses.discard("at")
    return c_function(f"int {f.sym('check_compat')}({desc} *source, {desc} *target, "
                      "struct vfg_compat_report *report)", w, extra=extra)
