"""Build the view models of the Python package and render its templates.

Layout of the output (`python/vfiogen_state/`): `_runtime.py` (errors,
CRC-32C, framing), one module per section and one per device. Every
function body is straight-line code per section version: the templates loop
over the `Op` trees built here, which already hold the Python text of each
expression, offset and error path.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable

from vfiogen.backends.jinja_env import environment
from vfiogen.ir.defaults import array_lengths
from vfiogen.backends.python import naming, split
from vfiogen.backends.python.config_space import capture_steps, capture_strings, restore_steps
from vfiogen.backends.python.views import (
    AttrView, BitFieldView, Check, CompatView, DescriptorView, EnumView, Op,
    RegisterClassView, RunItem, SectionView, StructClassView, VersionView)
from vfiogen.backends.python.resize import capture_resizes, resize_functions
from vfiogen.backends.python.translate import PythonExpr
from vfiogen.context import Context
from vfiogen.backends.python.device import device_view
from vfiogen.wire import format as wire_format
from vfiogen.wire.format import CRC32C_FOLDS, crc32c_table
from vfiogen.ir.checked import CheckedModule, CheckedSection
from vfiogen.ir.expr import to_text
from vfiogen.ir.nodes import (ArrayType, BytesType, FieldType, Register,
                              ScalarType, Section, StateField, StructType)
from vfiogen.ir.plan import MASK_ARRAYS, Array, Cond, ElementShape, Leaf, LeafKind, Run, Step, Struct
from vfiogen.ir.types import CompatKind, ScalarKind

_FORMAT = {ScalarKind.U8: "B", ScalarKind.U16: "H", ScalarKind.U32: "I", ScalarKind.U64: "Q",
           ScalarKind.S8: "b", ScalarKind.S16: "h", ScalarKind.S32: "i", ScalarKind.S64: "q", ScalarKind.BOOL: "B"}


class _SectionBuilder:
    def __init__(self, checked: CheckedSection) -> None:
        self.checked = checked
        self.section: Section = checked.section
        self.new_lengths = array_lengths(self.section)
        table = checked.symbols
        self.table = table
        self.structs: list[StructClassView] = []
        self.run_structs: dict[str, str] = {}
        self.checks: list[Check] = []
        self.load_expr = PythonExpr(table, lambda name: f"f_{name}")
        self.save_expr = PythonExpr(table, lambda name: f"s.{naming.attr(name)}")
        self.counter = 0

    # --- types ---------------------------------------------------------------------------------

    def scalar_annotation(self, kind: ScalarKind, enum: str | None) -> str:
        if enum is not None:
            return naming.enum_ref(enum)
        return "bool" if kind is ScalarKind.BOOL else "int"

    def scalar_default(self, kind: ScalarKind, enum: str | None, default: int | None) -> str:
        value = default or 0
        if enum is not None:
            member = next((v.name for v in self.table.enums[enum].values if v.value == value), None)
            if member is not None:
                return f"{naming.enum_ref(enum)}.{naming.enum_member(member)}"
            return f"{naming.enum_ref(enum)}({value})"
        return str(bool(value)) if kind is ScalarKind.BOOL else str(value)

    def annotation(self, path: str, field_type: FieldType, enum: str | None) -> str:
        if isinstance(field_type, ScalarType):
            return self.scalar_annotation(field_type.kind, enum)
        if isinstance(field_type, BytesType):
            return "bytes"
        if isinstance(field_type, ArrayType):
            return f"list[{self.annotation(path, field_type.element, None)}]"
        return naming.struct_class(path)

    def default(self, path: str, field_type: FieldType, enum: str | None, default: int | None) -> str:
        if isinstance(field_type, ScalarType):
            return self.scalar_default(field_type.kind, enum, default)
        if isinstance(field_type, BytesType):
            return f"bytes({field_type.size})"
        if isinstance(field_type, ArrayType):
            return "[]"
        return f"{naming.struct_class(path)}()"

    def json_how(self, field_type: FieldType, enum: str | None) -> str:
        """Python text of how `Record.to_dict` writes a value of `field_type` (see `_runtime._json`)."""
        return f'"{self._json_how(field_type)}"' if enum is None else f"_NAMES_{naming.enum_class(enum)}"

    def _json_how(self, field_type: FieldType) -> str:
        if isinstance(field_type, ScalarType):
            return ""
        if isinstance(field_type, BytesType):
            return "hex"
        if isinstance(field_type, ArrayType):
            return f"[{self._json_how(field_type.element)}]"
        return "obj"

    def declare_structs(self, path: str, field_type: FieldType) -> None:
        if isinstance(field_type, ArrayType):
            self.declare_structs(path, field_type.element)
        elif isinstance(field_type, StructType):
            for member in field_type.members:
                self.declare_structs(f"{path}.{member.name}", member.type)
            self.structs.append(StructClassView(naming.struct_class(path), tuple(
                self.state_attr(f"{path}.{m.name}", m) for m in field_type.members)))

    def state_attr(self, path: str, state: StateField) -> AttrView:
        attr = naming.attr(state.name)
        default = self.default(path, state.type, state.enum, state.versioning.default)
        count = self.new_lengths.get(state.name, 0) if path == state.name else 0
        if isinstance(state.type, ArrayType) and count:
            # A new state's array is as long as its length says at the defaults (ir.defaults), so it saves.
            element = self.default(path, state.type.element, None, None)
            default = (f"[{element} for _ in range({count})]" if element.endswith(")") and "(" in element
                       else f"[{element}] * {count}")
        return AttrView(attr, state.name, self.annotation(path, state.type, state.enum), default,
                        self.json_how(state.type, state.enum))

    def register_attr(self, register: Register) -> AttrView:
        if register.fields:
            cls = naming.register_class_of(register)
            default = register.versioning.default
            return AttrView(naming.attr(register.name), register.name, cls,
                            f"{cls}.from_value(0x{default:x})" if default else f"{cls}()", '"obj"')
        kind = ScalarKind(f"u{register.width}")
        return AttrView(naming.attr(register.name), register.name,
                        self.scalar_annotation(kind, register.enum),
                        self.scalar_default(kind, register.enum, register.versioning.default),
                        self.json_how(ScalarType(kind=kind, span=register.span), register.enum))

    def absent_register(self, register: Register) -> str:
        """What a register absent on the device holds: 0, as an absent field reads in every expression
        (its `default` is what an older version that does not carry it stands for)."""
        if register.fields:
            return f"{naming.register_class_of(register)}()"
        return self.scalar_default(ScalarKind(f"u{register.width}"), register.enum, None)

    def register_class(self, register: Register) -> RegisterClassView:
        masks = self.checked.register(register.name).masks
        fields = []
        for bit_field in register.fields:
            if bit_field.access.reserved:
                continue
            is_bool = bit_field.width == 1 and bit_field.enum is None
            annotation = naming.enum_ref(bit_field.enum) if bit_field.enum else ("bool" if is_bool else "int")
            default = (self.scalar_default(ScalarKind.U8, bit_field.enum, 0) if bit_field.enum
                       else ("False" if is_bool else "0"))
            fields.append(BitFieldView(naming.bit_field_attr(bit_field.name), bit_field.name, bit_field.lo,
                                       bit_field.width, (1 << bit_field.width) - 1, annotation, default,
                                       bit_field.enum and naming.enum_class(bit_field.enum), is_bool,
                                       register.width))
        return RegisterClassView(naming.register_class_of(register), register.field_set or register.name,
                                 register.width, masks.reserved, tuple(fields))

    # --- wire ops ------------------------------------------------------------------------------

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def run_struct(self, fmt: str) -> str:
        if fmt not in self.run_structs:
            self.run_structs[fmt] = f"_S{len(self.run_structs)}"
        return self.run_structs[fmt]

    def scalar_item(self, var: str, value: str, path: str, kind: ScalarKind, enum: str | None,
                    rel: int) -> RunItem:
        post = "enum" if enum is not None else ("bool" if kind is ScalarKind.BOOL else "")
        return RunItem(var, f"r_{var}" if post else var, value, path, rel, post,
                       naming.enum_class(enum) if enum else "", 0, (),
                       size=kind.size)

    def leaf_item(self, leaf: Leaf, var: str, value: str, path: str) -> RunItem:
        """The run item of a plan leaf, held in local `var` on load and packed from `value` on save."""
        if leaf.kind is LeafKind.BYTES:
            return RunItem(var, var, value, path, leaf.rel, "", "", 0, (), leaf.size, leaf.size)
        assert leaf.scalar is not None
        if leaf.register is None or not self.checked.register(leaf.register).register.fields:
            return self.scalar_item(var, value, path, leaf.scalar, leaf.enum, leaf.rel)
        register = self.checked.register(leaf.register).register
        enum_checks = tuple((f"(r_{var} >> {check.lo}) & 0x{check.mask:x}", naming.enum_class(check.enum),
                             check.field) for check in leaf.enum_checks)
        # A removed register is saved as its default integer.
        saved = naming.raw(value) if leaf.carried else value
        return RunItem(var, f"r_{var}", saved, path, leaf.rel, "reg", naming.register_class_of(register),
                       leaf.reserved, enum_checks, size=leaf.size)

    def path_code(self, path: str, indices: tuple[str, ...]) -> str:
        """Python text of a plan path: a string, or an f-string with each `[]` as its index variable."""
        for index in indices:
            path = path.replace("[]", f"[{{{index}}}]", 1)
        return f'f"{path}"' if "{" in path else f'"{path}"'

    def run_op(self, run: Run, var_of: Callable[[Leaf], tuple[str, str]], indices: tuple[str, ...]) -> Op:
        items = []
        for leaf in run.leaves:
            var, value = var_of(leaf)
            items.append(self.leaf_item(leaf, var, value, self.path_code(leaf.path, indices)))
        fmt = "".join(_format(leaf) for leaf in run.leaves)
        return Op("run", items=tuple(items), size=run.size, fmt=fmt, path=items[0].path)

    def steps_ops(self, steps: tuple[Step, ...], var_of: Callable[[str], tuple[str, str]],
                  indices: tuple[str, ...]) -> list[Op]:
        """Ops for a plan walk; `var_of(name)` gives the local and the saved value of the field `name` of the
        enclosing scope (the state, a struct, an array element)."""
        ops: list[Op] = []
        for step in steps:
            if isinstance(step, Run):
                ops.append(self.run_op(step, lambda leaf: var_of(_name(leaf.member)), indices))
            elif isinstance(step, Cond):
                defaults, absent = [], []
                for guard in step.guards:
                    var, value = var_of(_name(guard.member))
                    path = self.path_code(guard.path, indices)
                    register = self.checked.register(guard.field).register if guard.register else None
                    if register is not None and register.fields:
                        # absent_register's value, built as a loader builds the registers it reads
                        cls = naming.register_class_of(register)
                        defaults.append((var, f"{cls}.__new__({cls})", "0"))
                        if guard.carried:
                            absent.append((f"{naming.raw(value)} != 0", path))
                        continue
                    if register is not None:
                        default = self.absent_register(register)
                    else:
                        field = self.checked.state_field(guard.field)
                        default = self.default(guard.field, field.type, field.enum, None)
                    defaults.append((var, default, ""))
                    if guard.carried:
                        absent.append((f"{value} != {default}", path))
                ops.append(Op("cond", condition_load=self.load_expr(step.present),
                              condition_save=self.save_expr(step.present),
                              body=tuple(self.steps_ops(step.body, var_of, indices)), defaults=tuple(defaults),
                              absent=tuple(absent), path=self.path_code(step.guards[0].path, indices)))
            elif isinstance(step, Struct):
                var, value = var_of(_name(step.member))
                body = self.steps_ops(step.body, _member_of(var, value), indices)
                ops.append(Op("struct", path=self.path_code(step.path, indices), var=var, value=value,
                              cls=naming.struct_class(step.field), body=tuple(body),
                              members=tuple(f"{var}_{m}" for m in step.members)))
            else:
                ops.append(self.array_op(step, *var_of(_name(step.member)), indices))
        return ops

    def versioned_default(self, state: StateField, render: PythonExpr) -> str:
        """What a version that does not carry `state` stands for: its default; for an array, as many
        default elements as its length says (so a v1 stream loads with the v2 array zero-filled)."""
        field_type = state.type
        if isinstance(field_type, ScalarType):
            return self.scalar_default(field_type.kind, state.enum, state.versioning.default)
        if isinstance(field_type, ArrayType):
            element = self.default(state.name, field_type.element, None, None)
            return f"default_array({render(field_type.length)}, {field_type.max}, lambda: {element})"
        return self.default(state.name, field_type, state.enum, None)

    def array_op(self, array: Array, var: str, value: str, indices: tuple[str, ...]) -> Op:
        count = self.fresh("n")
        path_code = self.path_code(array.path, indices)
        base = Op("array", path=path_code, var=var, value=value, count=count, maximum=array.max,
                  count_low=array.count_can_be_negative, count_high=array.count_can_exceed_max,
                  length_load=self.load_expr(array.length), length_save=self.save_expr(array.length))
        if array.shape is not ElementShape.OTHER:
            assert array.element_size is not None
            prefix = f"{array.path}[]"
            layout = tuple((leaf.path.removeprefix(prefix), leaf.rel, leaf.size) for leaf in array.element_leaves)
            if array.shape is ElementShape.SCALAR:
                return dataclasses.replace(base, element_mode="ints", fmt=_format(array.element_leaves[0]),
                                           size=array.element_size, layout=layout)
            struct = next(step for step in array.body if isinstance(step, Struct))
            return dataclasses.replace(base, element_mode="structs",
                                       fmt=">" + "".join(_format(leaf) for leaf in array.element_leaves),
                                       size=array.element_size, cls=naming.struct_class(array.field),
                                       members=tuple(naming.attr(m) for m in struct.members), layout=layout)
        index = self.fresh("i")
        element_var = self.fresh("e")
        body = self.steps_ops(array.body, lambda name: (element_var, element_var), indices + (index,))
        return dataclasses.replace(base, element_mode="generic", index=index, element_var=element_var,
                                   body=tuple(body))

    def version_view(self, version: int) -> VersionView:
        plan = self.checked.plan.version(version)
        args: list[tuple[str, str]] = []
        not_carried: list[tuple[str, str, str]] = []
        missing = {item.name for item in plan.missing}
        for register in self.section.registers:
            attr = naming.attr(register.name)
            if register.name in missing:
                default = self.register_attr(register).default
                args.append((attr, default))
                not_carried.append((attr, default, register.name))
            elif register.versioning.carried_by(self.section.version):
                args.append((attr, f"f_{register.name}"))
        for state in self.section.state:
            attr = naming.attr(state.name)
            if state.name in missing:
                args.append((attr, self.versioned_default(state, self.load_expr)))
                not_carried.append((attr, self.versioned_default(state, self.save_expr), state.name))
            elif state.versioning.carried_by(self.section.version):
                args.append((attr, f"f_{state.name}"))
        ops = self.steps_ops(plan.walk, self.top_var, ())
        return VersionView(version, self.name_structs(tuple(ops)), tuple(args), tuple(not_carried))

    def top_var(self, name: str) -> tuple[str, str]:
        """The local and the saved value of a top-level register or state field."""
        register = next((r for r in self.section.registers if r.name == name), None)
        if register is not None:
            if register.versioning.carried_by(self.section.version):
                return f"f_{name}", f"s.{naming.attr(name)}"
            return f"_gone_{name}", str(register.versioning.default or 0)
        state = self.checked.state_field(name)
        if state.versioning.carried_by(self.section.version):
            return f"f_{name}", f"s.{naming.attr(name)}"
        return f"_gone_{name}", self.versioned_default(state, self.save_expr)

    def runtime_imports(self, versions: tuple[VersionView, ...], registers: tuple[RegisterClassView, ...],
                        descriptor: DescriptorView) -> tuple[str, ...]:
        """The `_runtime` names the module uses, so it imports nothing it does not use."""
        names = {"CompatFailure", "LoadError", "Problem", "Record", "SaveError", "StructError", "truncated",
                 "unpack_masks"}
        if descriptor.checked:
            names.add("check_derived")
        if self.checked.plan.masks.registers:
            names.update(("mask_failures", "pack_masks"))
        for register in registers:
            names.add("Register")
            names.update("BoolBits" if f.is_bool else "EnumBits" if f.enum else "IntBits" for f in register.fields)

        def visit(ops: tuple[Op, ...]) -> None:
            for op in ops:
                if op.kind == "run":
                    names.add("truncated" if len(op.items) == 1 else "cut_run")
                elif op.kind == "array" and op.element_mode in ("ints", "structs"):
                    names.add("cut_array")
                visit(op.body)

        for version in versions:
            visit(version.ops)
            if "default_array(" in repr(version):
                names.add("default_array")
        if self.load_expr.truncates or self.save_expr.truncates:
            names.update(("_tdiv", "_tmod"))
        names.update(self.load_expr.shifts | self.save_expr.shifts)
        names.add("lazy_module")  # the sidecar (split.py), and the enums module if any
        return tuple(sorted(names, key=lambda name: (name.startswith("_"), name.lower())))

    def name_structs(self, ops: tuple[Op, ...]) -> tuple[Op, ...]:
        """Give each final run (and fast array element) its module-level `struct.Struct`, once per format."""
        named = []
        for op in ops:
            if op.kind == "run":
                op = dataclasses.replace(op, struct_name=self.run_struct(">" + op.fmt))
            elif op.kind == "array" and op.element_mode == "structs":
                op = dataclasses.replace(op, struct_name=self.run_struct(op.fmt))
            named.append(dataclasses.replace(op, body=self.name_structs(op.body)))
        return tuple(named)

    # --- validation ----------------------------------------------------------------------------

    def validation(self) -> tuple[list[Check], list[Check], list[Check]]:
        """(register checks, state-field checks, constraints)."""
        checks: list[Check] = []
        for register in self.section.registers:
            if not register.versioning.carried_by(self.section.version):
                continue
            attr = f"s.{naming.attr(register.name)}"
            if register.fields:
                cls = naming.register_class_of(register)
                checks.append(Check(f"not isinstance({attr}, {cls})", f'"{register.name}"', f"must be a {cls}"))
                masks = self.checked.register(register.name).masks
                if masks.reserved:
                    checks.append(Check(f"isinstance({attr}, {cls}) and {naming.raw(attr)} & 0x{masks.reserved:x}",
                                        f'"{register.name}"',
                                        f"reserved bits 0x{{{naming.raw(attr)} & 0x{masks.reserved:x}:x}} set"))
                for bit_field in register.fields:
                    if bit_field.enum and not bit_field.access.reserved:
                        enum_cls = naming.enum_class(bit_field.enum)
                        raw = f"({naming.raw(attr)} >> {bit_field.lo}) & 0x{(1 << bit_field.width) - 1:x}"
                        checks.append(Check(f"isinstance({attr}, {cls}) and {raw} not in _VALUES_{enum_cls}",
                                            f'"{register.name}.{bit_field.name}"',
                                            f"{{{raw}}} is not a value of {bit_field.enum}"))
            if not register.fields:
                checks.extend(self.value_checks(attr, f'"{register.name}"', register.width, register.enum, False))
            if register.present is not None:
                default = self.absent_register(register)
                checks.append(Check(f"not ({self.save_expr(register.present)}) and {attr} != {default}",
                                    f'"{register.name}"',
                                    "is absent on this device (its presence is false) but holds a value"))
        state_checks: list[Check] = []
        for state in self.section.state:
            if state.versioning.carried_by(self.section.version):
                self.state_checks(f"s.{naming.attr(state.name)}", state.name, state, state_checks)
        constraints = []
        for check in self.checked.plan.checks:
            holds = self.save_expr(check.holds)
            constraints.append(Check(f"not ({holds})", f'"{check.path}"',
                                     check.reason.replace("{", "{{").replace("}", "}}"), holds=holds))
        return checks, state_checks, constraints

    def value_checks(self, value: str, where: str, bits: int, enum: str | None, is_bool: bool,
                     signed: bool = False) -> list[Check]:
        if is_bool:
            return [Check(f"not isinstance({value}, bool)", where, "must be a bool")]
        if enum is not None:
            cls = naming.enum_class(enum)
            return [Check(f"{value} not in _VALUES_{cls}", where,
                          f"{{{value}!r}} is not a value of {enum}")]
        # Say what the field holds in the schema's terms (issue 15: "PbaRegister(...) does not fit 64 bits" for
        # a register object put in a list of u64 said neither that an integer was wanted nor which kind).
        if signed:
            low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            return [Check(f"not isinstance({value}, int) or not {low} <= {value} <= {high}", where,
                          f"holds {{{value}!r}}, but it is an s{bits}: an integer {low}..{high}")]
        return [Check(f"not isinstance({value}, int) or {value} >> {bits} or {value} < 0", where,
                      f"holds {{{value}!r}}, but it is a u{bits}: an integer 0..0x{(1 << bits) - 1:x}")]

    def state_checks(self, value: str, name: str, state: StateField, checks: list[Check]) -> None:
        field_type = state.type
        if state.present is not None:
            default = self.default(name, field_type, state.enum, None)
            checks.append(Check(f"not ({self.save_expr(state.present)}) and {value} != {default}", f'"{name}"',
                                "is absent on this device (its presence is false) but holds a value"))
        self.type_checks(value, name, field_type, state.enum, checks)

    def type_checks(self, value: str, where: str, field_type: FieldType, enum: str | None,
                    checks: list[Check]) -> None:
        """Checks of `value` (Python text) of `field_type`; `where` is its path as f-string body text."""
        path = f'f"{where}"' if "{" in where else f'"{where}"'
        if isinstance(field_type, ScalarType):
            kind = field_type.kind
            checks.extend(self.value_checks(value, path, kind.bits, enum, kind is ScalarKind.BOOL, kind.signed))
        elif isinstance(field_type, BytesType):
            checks.append(Check(f"not isinstance({value}, bytes) or len({value}) != {field_type.size}", path,
                                f"must be {field_type.size} bytes"))
        elif isinstance(field_type, ArrayType):
            length = self.save_expr(field_type.length)
            checks.append(Check(f"len({value}) != {length}", path,
                                f"holds {{len({value})}} entries, but its length "
                                f"'{to_text(field_type.length)}' is {{{length}}}"))
            checks.append(Check(f"len({value}) > {field_type.max}", path,
                                f"holds {{len({value})}} entries, more than its max {field_type.max}"))
            index, element = self.fresh("i"), self.fresh("x")
            body: list[Check] = []
            self.type_checks(element, f"{where}[{{{index}}}]", field_type.element, None, body)
            if body:
                checks.append(Check("", path, "", (index, element, value), tuple(body)))
        else:
            for member in field_type.members:
                member_value, member_where = f"{value}.{naming.attr(member.name)}", f"{where}.{member.name}"
                if member.present is not None:
                    # A struct's class is named by its schema path: `where` without the index placeholders.
                    default = self.default(re.sub(r"\[\{\w+\}\]", "", member_where), member.type, member.enum, None)
                    member_path = f'f"{member_where}"' if "{" in member_where else f'"{member_where}"'
                    checks.append(Check(f"not ({self.save_expr(member.present)}) and {member_value} != {default}",
                                        member_path,
                                        "is absent on this device (its presence is false) but holds a value"))
                self.type_checks(member_value, member_where, member.type, member.enum, checks)

    def descriptor(self) -> DescriptorView:
        attrs = []
        derived = []
        host = []
        checked = []
        plan = self.checked.plan
        every = range(self.section.min_version, self.section.version + 1)
        for item in plan.descriptor:
            attr = naming.attr(item.name)
            if item.host:
                host.append(attr)
            elif item.constant is not None:
                # A zero mask is zero whether or not the register is there: no presence test.
                derived.append((attr, f"0x{item.constant:x}" if item.constant > 9 else str(item.constant),
                                self.save_expr(item.present) if item.present is not None and item.constant else ""))
            elif item.byte_string is not None:
                string = self.checked.state_field(item.byte_string)
                value = f"bytes(s.{naming.attr(string.name)}[:{item.size}]).ljust({item.size}, bytes(1))"
                derived.append((attr, value, ""))
                versions = tuple(v for v in every if string.versioning.carried_by(v))
                checked.append((attr, item.name, "None" if len(versions) == len(every) else repr(versions), value))
            else:
                assert item.register is not None
                register = self.checked.register(item.register).register
                value = f"s.{naming.attr(register.name)}"
                value = naming.raw(value) if register.fields else value
                present = self.save_expr(item.present) if item.present is not None else ""
                derived.append((attr, f"{value} & 0x{item.mask:x}", present))
                versions = tuple(v for v in every if register.versioning.carried_by(v))
                checked.append((attr, item.name, "None" if len(versions) == len(every) else repr(versions),
                                f"({value} & 0x{item.mask:x} if {present} else 0)" if present
                                else f"{value} & 0x{item.mask:x}"))
            if item.kind is LeafKind.BYTES:
                attrs.append(AttrView(attr, item.name, "bytes", f"bytes({item.size})", '"hex"'))
            else:
                annotation = "bool" if item.kind is LeafKind.BOOL else "int"
                attrs.append(AttrView(attr, item.name, annotation, "False" if annotation == "bool" else "0", '""'))
        fmt = ">" + "".join(f"{item.size}s" if item.scalar is None else _FORMAT[item.scalar]
                            for item in plan.descriptor)
        masks = plan.masks.registers
        if masks:
            for array, writable in zip(MASK_ARRAYS, (False, True), strict=True):
                attrs.append(AttrView(array, array, "tuple[int, ...]", f"(0,) * {len(masks)}", '"[]"'))
                derived.append((array, self.mask_array(writable), ""))
        widths = tuple(r.width // 8 for r in masks)
        reasons = tuple((r.name, r.emulated_field, json.dumps(r.emulated_reason), r.writable_field,
                         json.dumps(r.writable_reason)) for r in masks)
        return DescriptorView(naming.descriptor_class(self.section.name), tuple(attrs), fmt, plan.descriptor_size,
                              tuple(derived), tuple(host), tuple(checked), widths, reasons)

    def mask_array(self, writable: bool) -> str:
        """This build's emulated bits (or write masks) by register index, as a tuple display: a run of zeros as
        `*(0,) * n`, a register with a presence as a conditional."""
        items: list[str] = []
        zeros = 0
        for register in self.checked.plan.masks.registers:
            value = register.writable if writable else register.emulated
            if not value:
                zeros += 1
                continue
            if zeros:
                items.append("0" if zeros == 1 else f"*(0,) * {zeros}")
                zeros = 0
            text = f"0x{value:x}"
            dropped = [f"(0x{r.bits & value:x} if {self.save_expr(r.condition)} else 0)"
                       for r in register.reserved_when if r.bits & value]
            if dropped:
                text += f" & ~{dropped[0]}" if len(dropped) == 1 else f" & ~({' | '.join(dropped)})"
            items.append(f"({text} if {self.save_expr(register.present)} else 0)" if register.present is not None
                         else text)
        if not items:
            return f"(0,) * {zeros}"
        if zeros:
            items.append("0" if zeros == 1 else f"*(0,) * {zeros}")
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    def compat(self) -> tuple[CompatView, ...]:
        views = []
        for check in self.checked.plan.compat.checks:
            attr = naming.attr(check.item.name)
            source, target = f"source.{attr}", f"target.{attr}"
            is_bytes = check.item.kind is LeafKind.BYTES
            if check.kind is CompatKind.EQUAL:
                breaks = f"{source} != {target}"
            elif check.kind in (CompatKind.SUBSET, CompatKind.SUPERSET):
                if check.kind is CompatKind.SUPERSET:
                    source, target = target, source
                breaks = (f"any(a & ~b for a, b in zip({source}, {target}))" if is_bytes
                          else f"{source} & ~{target}")
            elif check.kind is CompatKind.TARGET_GE:
                breaks = f"{target} < {source}"
            else:
                breaks = f"({source} ^ {target}) & 0x{check.mask:x}"
            first = ""
            if check.item.byte_string is not None:
                first = {CompatKind.EQUAL: "a != b", CompatKind.SUBSET: "a & ~b",
                         CompatKind.SUPERSET: "b & ~a"}[check.kind]
            views.append(CompatView(breaks, check.kind.value, check.item.name, attr, json.dumps(check.reason), first,
                                    check.item.config_offset or 0))
        return tuple(views)

    def build(self) -> SectionView:
        section = self.section
        for state in section.state:
            self.declare_structs(state.name, state.type)
        attrs = tuple([self.register_attr(r) for r in section.registers if r.versioning.carried_by(section.version)]
                      + [self.state_attr(s.name, s) for s in section.state if s.versioning.carried_by(section.version)])
        versions = tuple(self.version_view(v) for v in range(section.min_version, section.version + 1))
        register_checks, state_checks, constraints = self.validation()
        descriptor = self.descriptor()
        registers = tuple({view.name: view for view in (self.register_class(r) for r in section.registers
                                                        if r.fields)}.values())
        resizes = resize_functions(self.checked, self.save_expr,
                                   lambda path, array: self.default(path, array.element, None, None))
        return SectionView(
            name=section.name, source=section.source_path, title=section.title, wire_id=section.wire_id,
            version=section.version, min_version=section.min_version, state_class=naming.state_class(section.name),
            enums=tuple(EnumView(naming.enum_class(e.name), tuple((naming.enum_member(v.name), v.value)
                                                                  for v in e.values),
                                 e.name, tuple((v.value, v.name) for v in e.values)) for e in section.enums),
            enum_names={naming.enum_class(e.name): e.name for e in section.enums},
            param_attrs=tuple(AttrView(naming.attr(p.name), p.name, self.scalar_annotation(p.kind, None),
                                       self.scalar_default(p.kind, None, p.default), '""')
                              for p in section.params),
            registers=registers,
            structs=tuple(self.structs), attrs=attrs, versions=versions,
            run_structs=tuple((name, fmt) for fmt, name in self.run_structs.items()),
            register_checks=tuple(register_checks), checks=tuple(state_checks), constraints=tuple(constraints),
            descriptor=descriptor,
            compat=self.compat(), absent_reason=json.dumps(self.checked.plan.compat.absent_reason),
            versions_reason=json.dumps(self.checked.plan.compat.versions_reason),
            runtime_imports=self.runtime_imports(versions, registers, descriptor),
            capture=capture_steps(self.checked, {r.name: (self.register_attr(r).default) for r in section.registers}),
            capture_strings=capture_strings(self.checked),
            restore=restore_steps(self.checked),
            restore_hooks=tuple(dict.fromkeys(step.hook for step in section.restore
                                              if step.hook is not None and step.wait_us is None)),
            waits=any(step.wait_us is not None for step in section.restore),
            pre_save=tuple(h.name for h in section.pre_save), post_load=tuple(h.name for h in section.post_load),
            resizes=resizes, capture_resizes=capture_resizes(self.checked))


def _member_of(var: str, value: str) -> Callable[[str], tuple[str, str]]:
    """The `var_of` of a struct's members: locals `<struct local>_<member>`, values `<struct>.<member>`."""
    return lambda name: (f"{var}_{name}", f"{value}.{naming.attr(name)}")


def _name(member: tuple[str, ...]) -> str:
    """The field name a plan member path ends with (array index marks skipped)."""
    return next(name for name in reversed(member) if name != "[]")


def _format(leaf: Leaf) -> str:
    """The `struct` format of a plan leaf (without the byte-order mark)."""
    if leaf.kind is LeafKind.BYTES:
        return f"{leaf.size}s"
    assert leaf.scalar is not None
    return _FORMAT[leaf.scalar]


def _crc_folds() -> list[tuple[int, tuple[int, ...]]]:
    """CRC32C_FOLDS with each constant as its set bits, as the runtime's fold applies them."""
    return [(k, tuple(bit for bit in range(32) if constant >> bit & 1)) for k, constant in CRC32C_FOLDS]


class PythonBackend:
    name = "python"

    def check(self, module: CheckedModule, ctx: Context) -> None:
        """Everything checked is expressible in Python."""

    def render(self, module: CheckedModule) -> dict[str, str]:
        env = environment("vfiogen.backends.python")
        base = f"python/{naming.PACKAGE}"
        enums_template = env.get_template("enums.py.j2")
        outputs = {f"{base}/_runtime.py": env.get_template("_runtime.py.j2").render(wire=wire_format,
                                                                                     crc_table=crc32c_table(),
                                                                                     crc_folds=_crc_folds()),
                   f"{base}/py.typed": ""}
        section_template = env.get_template("section.py.j2")
        more_template = env.get_template("section_more.py.j2")
        for checked in module.sections:
            view = _SectionBuilder(checked).build()
            outputs[f"{base}/{checked.name}.py"], outputs[f"{base}/{split.more_module(checked.name)}.py"] = (
                split.finish(naming.PACKAGE, checked.name, section_template.render(s=view, package=naming.PACKAGE),
                             more_template.render(s=view, package=naming.PACKAGE)))
            if view.enums:
                outputs[f"{base}/{naming.enums_module(checked.name)}.py"] = enums_template.render(
                    s=view, package=naming.PACKAGE)
        device_template = env.get_template("device.py.j2")
        devices = [device_view(d, module) for d in module.devices]
        for device in devices:
            outputs[f"{base}/{device.name}.py"] = device_template.render(d=device, package=naming.PACKAGE)
        outputs[f"{base}/__init__.py"] = env.get_template("__init__.py.j2").render(
            sections=[(s.name, s.section.wire_id) for s in module.sections], devices=[d.name for d in devices])
        return outputs
