"""Build the C view models and render `generated/c/`.

Per section, `vfg_<section>.h` holds the identity constants, every
register's masks and bit-field accessors, the enums, the state, params,
descriptor and hooks structs and the prototypes; `vfg_<section>.c` holds
load (check, then store), save, validate, capture, restore and the
descriptor codec. Per device, `vfg_<device>.{h,c}` frame the sections into a
blob. `vfg_runtime.{h,c}` hold what every file shares, `vfg_qemu.h` is the
optional shim for builds inside QEMU, and `meson.build` and `vfiogen.mk`
let a hypervisor build the sources as they are.
"""

from __future__ import annotations

import struct

from vfiogen.backends.c import config_space, naming, wrap
from vfiogen.backends.c.device import device_view
from vfiogen.backends.c import descriptor as descriptor_code
from vfiogen.backends.c.functions import SectionFunctions
from vfiogen.backends.c.resize import resize_functions
from vfiogen.backends.c.views import (EnumView, FieldView, LayoutView, MemberView, RegisterView, SectionView,
                                      StructView)
from vfiogen.backends.jinja_env import cache_directory, environment
from vfiogen.context import Context
from vfiogen.ir.checked import CheckedModule, CheckedSection
from vfiogen.ir.expr import to_text
from vfiogen.ir.fingerprint import section_fingerprint
from vfiogen.ir.plan import MASK_ARRAYS, MASK_REGISTERS, MAX_VERSION, MIN_VERSION
from vfiogen.ir.nodes import WAIT_HOOK, ArrayType, BytesType, FieldType, ScalarType, StructType
from vfiogen.ir.types import ScalarKind
from vfiogen.wire import format as wire_format
from vfiogen.wire.format import crc32c_clmul_pair, crc32c_shift_tables, crc32c_slice_tables


CRC_BLOCK = 512
"""Bytes per stream in the runtime's three-stream SSE4.2 CRC-32C (its shift tables advance this many)."""
CRC_FOLD_BITS = (128, 256, 512, 1024, 2048)
"""Distances the C runtime's folding CRC moves a lane by: one lane, a 256- and a 512-bit register, and a step
of four registers of 128, 256 and 512 bits."""
CRC_CLMUL_MIN = 128
"""From this many bytes the C runtime's CRC folds by carry-less multiplication; below, the crc32 instruction is
as fast or faster (tests/bench/README.md, "The integrity check")."""


def _crc_rows(tables: tuple[tuple[int, ...], ...]) -> list[list[str]]:
    """CRC tables as C initialiser lines, five words a line (72 columns)."""
    return [[" ".join(f"0x{value:08x}u," for value in table[i:i + 5]) for i in range(0, len(table), 5)]
            for table in tables]

class _Builder:
    def __init__(self, checked: CheckedSection, functions: SectionFunctions) -> None:
        self.checked = checked
        self.functions = functions
        self.section = checked.section
        self.structs: list[StructView] = []

    def member(self, path: str, name: str, field_type: FieldType, comment: str) -> MemberView:
        dims = ""
        while isinstance(field_type, ArrayType):
            dims += f"[{field_type.max}]"
            comment = f"{comment}; count: {to_text(field_type.length)}".lstrip("; ")
            field_type = field_type.element
        if isinstance(field_type, ScalarType):
            ctype = naming.C_TYPES[field_type.kind.value]
        elif isinstance(field_type, BytesType):
            ctype, dims = "uint8_t", f"{dims}[{field_type.size}]"
        else:
            ctype = f"struct {self.struct(path, field_type)}"
        return MemberView(f"{ctype} {naming.ident(name)}{dims};", comment)

    def struct(self, path: str, struct: StructType) -> str:
        name = naming.symbol(self.section.name, *path.split("."), "entry")
        members = tuple(self.member(f"{path}.{m.name}", m.name, m.type, m.description) for m in struct.members)
        self.structs.append(StructView(name, members))
        return name

    def layouts(self) -> tuple[tuple[LayoutView, ...], tuple[RegisterView, ...]]:
        layouts: dict[str, LayoutView] = {}
        registers = []
        for checked in self.checked.registers:
            register = checked.register
            layout_name = register.field_set or register.name
            width = register.width
            masks = checked.masks
            macros = [("WRITABLE", naming.literal(masks.writable, width)),
                      ("RESERVED", naming.literal(masks.reserved, width)),
                      ("READ_ONLY", naming.literal(masks.ro | masks.hwinit, width)),
                      ("RW1C", naming.literal(masks.rw1c, width))]
            # Where it sits at the params' defaults; a register absent there shows its offset expression.
            place = " or ".join(f"0x{o:02x}" for o in checked.offsets) or to_text(register.offset)
            if register.present is not None:
                place += f", when {to_text(register.present)}"
            registers.append(RegisterView(register.name, place,
                                          width, tuple((naming.macro(self.section.name, register.name, n), v)
                                                       for n, v in macros)))
            if not register.fields or layout_name in layouts:
                continue
            wide = "uint64_t" if width > 32 else "uint32_t"
            fields = []
            for bit_field in register.fields:
                if bit_field.access.reserved:
                    continue
                mask = (1 << bit_field.width) - 1
                clear = ((1 << width) - 1) & ~(mask << bit_field.lo)
                is_bool = bit_field.width == 1 and bit_field.enum is None
                fields.append(FieldView(
                    name=bit_field.name, member=naming.ident(bit_field.name),
                    place=f"bit {bit_field.lo}" if bit_field.width == 1 else f"bits {bit_field.hi}:{bit_field.lo}",
                    getter=naming.symbol(self.section.name, layout_name, bit_field.name),
                    setter=naming.symbol(self.section.name, layout_name, "set", bit_field.name),
                    shift=bit_field.lo, mask=naming.literal(mask, width), clear=naming.literal(clear, width),
                    is_bool=is_bool, value_type="bool" if is_bool else naming.register_type(width),
                    shift_macro=naming.macro(self.section.name, layout_name, bit_field.name, "SHIFT"),
                    mask_macro=naming.macro(self.section.name, layout_name, bit_field.name, "MASK")))
            layouts[layout_name] = LayoutView(
                layout_name, naming.register_type(width), wide, tuple(fields),
                fields_struct=f"struct {naming.symbol(self.section.name, layout_name, 'fields')}",
                unpack=naming.symbol(self.section.name, "unpack", layout_name),
                pack=naming.symbol(self.section.name, "pack", layout_name))
        return tuple(layouts.values()), tuple(registers)

    def build(self) -> SectionView:
        section = self.section
        layouts, registers = self.layouts()
        state_members = [self.member(r.name, r.name, ScalarType(kind=ScalarKind(f"u{r.width}"), span=r.span),
                                     f"register at {rv.offset}")
                         for r, rv in zip((c.register for c in self.checked.registers), registers, strict=True)
                         if r.versioning.carried_by(section.version)]
        state_members += [self.member(s.name, s.name, s.type, s.description) for s in section.state
                          if s.versioning.carried_by(section.version)]
        params = tuple(MemberView(f"{naming.C_TYPES[p.kind.value]} {naming.ident(p.name)};", p.description)
                       for p in section.params)
        initialisers = [f".{naming.ident(p.name)} = {naming.decimal(p.default)}" for p in section.params]
        params_default = "{ " + ", ".join(initialisers) + " }" if section.params else "{ 0 }"
        if len(f"#define {naming.symbol(section.name, 'params').upper()}_DEFAULT {params_default}") > wrap.LIMIT:
            # One initialiser a line, each continued with a backslash.
            params_default = "{ \\\n" + "".join(f"    {item}, \\\n" for item in initialisers) + "}"
        descriptor = []
        registers_by_name = {r.name: r for r in section.registers}
        for item in section.descriptor:
            if item.type is not None:
                descriptor.append(self.member(f"descriptor.{item.name}", item.name, item.type, item.description))
            elif item.source_register not in registers_by_name:
                size = self.checked.plan.descriptor[len(descriptor)].size
                descriptor.append(MemberView(f"uint8_t {naming.ident(item.name)}[{size}];",
                                             f"bytes of {item.source_register}, 0 past its length"))
            else:
                width = registers_by_name[item.source_register or ""].width
                descriptor.append(MemberView(f"{naming.register_type(width)} {naming.ident(item.name)};",
                                             f"read-only bits of {item.source_register}"))
        added_text = {MIN_VERSION: "version this build loads, oldest", MAX_VERSION: "version it loads, newest",
                      MASK_REGISTERS: "registers its mask list indexes"}
        for added in self.checked.plan.descriptor[len(section.descriptor):]:
            descriptor.append(MemberView(f"{naming.register_type(added.size * 8)} {naming.ident(added.name)};",
                                         f"{added_text[added.name]} (the side's build's)"))
        masks = self.checked.plan.masks
        if masks.registers:
            count = naming.macro(section.name, "MASK_REGISTERS")
            for array, what in zip(MASK_ARRAYS, ("the hypervisor emulates", "the guest may write"), strict=True):
                descriptor.append(MemberView(f"{naming.register_type(masks.word)} {array}[{count}];",
                                             f"per register (mask-list index), the bits {what}"))
        enums = tuple(EnumView(naming.symbol(section.name, e.name),
                               tuple((naming.macro(section.name, e.name, v.name), v.value) for v in e.values),
                               naming.symbol(section.name, e.name, "valid"), tuple(v.value for v in e.values))
                      for e in section.enums)
        if not params:
            params = (MemberView("uint8_t unused_;", "this section has no params; C99 needs a member"),)
        if not state_members:
            state_members = [MemberView("uint8_t unused_;", "this section has no state; C99 needs a member")]
        if not descriptor:
            descriptor = [MemberView("uint8_t unused_;", "this section has no descriptor; C99 needs a member")]
        state_type = f"struct {naming.symbol(section.name, 'state')}"
        hooks = [MemberView(f"int (*{naming.ident(h)})(void *opaque, uint32_t microseconds);",
                            "restore wait: wait this long (sleep or schedule), then return 0") if h == WAIT_HOOK
                 else MemberView(f"int (*{naming.ident(h)})(void *opaque, const {state_type} *s);", "restore step")
                 for h in dict.fromkeys(step.hook for step in section.restore if step.hook is not None)]
        hooks += [MemberView(f"int (*{naming.ident(h.name)})(void *opaque, {state_type} *s);", "pre-save")
                  for h in section.pre_save]
        hooks += [MemberView(f"int (*{naming.ident(h.name)})(void *opaque, {state_type} *s);", "post-load")
                  for h in section.post_load]
        if not hooks:
            hooks = [MemberView("uint8_t unused_;", "this section calls no hooks; C99 needs a member")]
        functions = self.functions
        versions = tuple(range(section.min_version, section.version + 1))
        validate = functions.validate_function()
        rules = [functions.rules_function()] if self.checked.plan.checks else []
        private = tuple([functions.check_function(v) for v in versions]
                        + [functions.store_function(v) for v in versions]
                        + rules + [functions.save_function(v) for v in versions] + [validate])
        if self.checked.plan.masks.registers:
            functions.items.append(descriptor_code.mask_tables(functions))
        public = (functions.check_descriptor_function(), functions.init_function(),
                  config_space.capture_function(functions), config_space.restore_function(functions),
                  *descriptor_code.descriptor_functions(functions),
                  descriptor_code.negotiate_function(functions), descriptor_code.compat_function(functions))
        plan = self.checked.plan
        return SectionView(
            name=section.name, source=section.source_path, sha256=section_fingerprint(self.checked),
            guard=naming.macro(section.name, "H"), title=section.title,
            constants=((naming.macro(section.name, "SECTION_ID"), f"0x{section.wire_id:04x}u"),
                       (naming.macro(section.name, "VERSION"), f"{section.version}u"),
                       (naming.macro(section.name, "MIN_VERSION"), f"{section.min_version}u"),
                       # each register's index in the descriptor's mask arrays
                       *((naming.macro(section.name, "MASK", r.name), f"{r.index}u")
                         for r in self.checked.plan.masks.registers)),
            registers=registers, layouts=layouts, enums=enums, structs=tuple(self.structs),
            state=StructView(naming.symbol(section.name, "state"), tuple(state_members)),
            params=StructView(naming.symbol(section.name, "params"), params), params_default=params_default,
            descriptor=StructView(naming.symbol(section.name, "descriptor"), tuple(descriptor)),
            hooks=StructView(naming.symbol(section.name, "hooks"), tuple(hooks)), versions=versions,
            max_payload=max(layout.max_size for layout in self.checked.layouts),
            descriptor_fixed=plan.descriptor_size, descriptor_max=plan.descriptor_size + plan.masks.max_size,
            mask_registers=len(plan.masks.registers),
            compat_rules=len(plan.compat.checks) + 1 + 2 * len(plan.masks.registers),
            absent_reason=naming.string_pieces(self.checked.plan.compat.absent_reason), items=tuple(functions.items),
            layout_checks=tuple(functions.layout_checks.values()),
            private=private, public=public, resizes=resize_functions(functions))


STATUSES = (
    ("VFG_OK", "success"),
    ("VFG_ERR_TRUNCATED", "truncated"),
    ("VFG_ERR_TRAILING", "bytes left over"),
    ("VFG_ERR_CRC", "CRC-32C mismatch"),
    ("VFG_ERR_MAGIC", "bad magic"),
    ("VFG_ERR_FORMAT", "unsupported format version"),
    ("VFG_ERR_FLAGS", "unknown frame flags"),
    ("VFG_ERR_VERSION", "unsupported section version"),
    ("VFG_ERR_RESERVED", "reserved bits set"),
    ("VFG_ERR_ENUM", "not a value of its enum"),
    ("VFG_ERR_BOOL", "bool byte not 0 or 1"),
    ("VFG_ERR_COUNT", "array count outside 0..max"),
    ("VFG_ERR_CONSTRAINT", "constraint does not hold"),
    ("VFG_ERR_EXPRESSION", "expression cannot be evaluated"),
    ("VFG_ERR_UNKNOWN_SECTION", "unknown required section"),
    ("VFG_ERR_DUPLICATE_SECTION", "section appears twice"),
    ("VFG_ERR_MISSING_SECTION", "required section missing"),
    ("VFG_ERR_DESCRIPTOR", "descriptor record mismatch"),
    ("VFG_ERR_LOSSY", "the version cannot carry a value"),
    ("VFG_ERR_NO_SPACE", "output buffer too small"),
    ("VFG_ERR_ABSENT", "absent field holds a value"),
    ("VFG_ERR_CONFIG_IO", "configuration-space access failed"),
    ("VFG_ERR_HOOK", "hook missing or failed"),
    ("VFG_ERR_ARGUMENT", "invalid argument"),
    ("VFG_ERR_ABSENT_SECTION", "section the device does not have"),
    ("VFG_ERR_INCOMPATIBLE", "migration refused by a compat rule"),
    ("VFG_ERR_ORDER", "section out of device order"),
)


def _array_depth(field_type: FieldType) -> int:
    if isinstance(field_type, ArrayType):
        return 1 + _array_depth(field_type.element)
    if isinstance(field_type, StructType):
        return max((_array_depth(m.type) for m in field_type.members), default=0)
    return 0


class CBackend:
    name = "c"

    def check(self, module: CheckedModule, ctx: Context) -> None:
        """Everything checked is expressible in C99."""

    def render(self, module: CheckedModule) -> dict[str, str]:
        store = cache_directory()
        wrap.load_store(store)
        try:
            return self._render(module)
        finally:
            wrap.save_store(store)

    def _render(self, module: CheckedModule) -> dict[str, str]:
        env = environment("vfiogen.backends.c")
        env.filters["c_wrap"] = wrap.c_wrap
        env.filters["c_comment_lines"] = wrap.c_comment_lines
        env.filters["c_comment"] = wrap.c_comment
        license = module.license  # every file's SPDX line
        outputs: dict[str, str] = {}
        depth = max((_array_depth(s.type) for c in module.sections for s in c.section.state), default=0)
        sizes = {name: struct.calcsize(fmt) for name, fmt in (
            ("header_size", wire_format.HEADER_FORMAT), ("frame_size", wire_format.FRAME_FORMAT),
            ("crc_size", wire_format.CRC_FORMAT), ("record_size", wire_format.RECORD_FORMAT))}
        shared = dict(wire=wire_format, statuses=tuple((name, i, meaning) for i, (name, meaning)
                                                        in enumerate(STATUSES)),
                      max_depth=max(depth, 1), crc_tables=_crc_rows(crc32c_slice_tables()),
                      crc_shift=_crc_rows(crc32c_shift_tables(CRC_BLOCK)), crc_block=CRC_BLOCK,
                      crc_folds=[(bits, *(f"0x{k:08x}u" for k in crc32c_clmul_pair(bits))) for bits in CRC_FOLD_BITS],
                      crc_clmul_min=CRC_CLMUL_MIN,
                      license=license, **sizes)
        outputs["c/vfg_runtime.h"] = env.get_template("vfg_runtime.h.j2").render(**shared)
        outputs["c/vfg_runtime.c"] = env.get_template("vfg_runtime.c.j2").render(**shared)
        views = {}
        for checked in module.sections:
            view = _Builder(checked, SectionFunctions(checked)).build()
            views[checked.name] = view
            outputs[f"c/{view.prefix}.h"] = env.get_template("section.h.j2").render(s=view, license=license)
            outputs[f"c/{view.prefix}.c"] = env.get_template("section.c.j2").render(s=view, license=license)
        for device in module.devices:
            device_files = device_view(device, module, views, sizes["header_size"], sizes["frame_size"],
                                       sizes["crc_size"], sizes["record_size"])
            outputs[f"c/{device_files.prefix}.h"] = env.get_template("device.h.j2").render(
                d=device_files, license=license)
            outputs[f"c/{device_files.prefix}.c"] = env.get_template("device.c.j2").render(
                d=device_files, license=license)
        outputs["c/vfg_qemu.h"] = env.get_template("vfg_qemu.h.j2").render(license=license)
        sources = sorted(path.removeprefix("c/") for path in outputs if path.endswith(".c"))
        headers = sorted(path.removeprefix("c/") for path in outputs if path.endswith(".h"))
        outputs["c/meson.build"] = env.get_template("meson.build.j2").render(sources=sources, headers=headers,
                                                                            license=license)
        outputs["c/vfiogen.mk"] = env.get_template("vfiogen.mk.j2").render(sources=sources, headers=headers,
                                                                            license=license)
        return outputs

