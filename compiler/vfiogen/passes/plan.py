"""Work out each section's wire plan (`ir.plan`): the walk of every version, the descriptor record, the
capture order and the lowered restore sequence.

Expects: a section that passed every check, with its registers' masks and enum checks (`normalize` calls
this while it freezes the section, since a checked section does not exist without its plan). Guarantees:
everything a back end needs to print a loader, a saver, a capture or a restore is decided here, so that no
two back ends can disagree on which bytes are checked together or which field an error names.
"""

from __future__ import annotations

import dataclasses

from vfiogen.ir.checked import CheckedModule, CheckedRegister
from vfiogen.ir.evaluate import EvaluationError, evaluate, value_range
from vfiogen.ir.expr import Binary, BinaryOp, Expr, IntLit, Ref, Unary, UnaryOp, refs, to_text
from vfiogen.ir.nodes import (ArrayType, BitField, BytesType, Device, FieldType, Register, ScalarType, Section,
                              StateField,
                              StructType)
from vfiogen.ir.plan import (
    Array,
    CaptureBytes,
    CaptureRead,
    CompatCheck,
    Cond,
    DescriptorItem,
    DerivedParam,
    DevicePlan,
    DeviceSectionPlan,
    ElementShape,
    Guarded,
    Leaf,
    MASK_ARRAYS,
    MASK_FIELD_PREFIXES,
    MASK_REGISTERS,
    MAX_VERSION,
    MIN_VERSION,
    LeafKind,
    MaskedRegister,
    MaskList,
    Missing,
    Override,
    ReservedWhen,
    Resize,
    Resized,
    RestoreWrite,
    Run,
    SectionCompat,
    SectionPlan,
    StateCheck,
    Step,
    Struct,
    VersionPlan,
)
from vfiogen.ir.symbols import SectionSymbols, SymbolKind
from vfiogen.ir.types import Access, CompatKind, ScalarKind


def plan_section(section: Section, table: SectionSymbols, registers: dict[str, CheckedRegister]) -> SectionPlan:
    reserved = reserved_when(section)
    checks = _checks(section, reserved)
    walker = _Walker(section, table, registers, checks)
    versions = tuple(walker.version(v) for v in range(section.min_version, section.version + 1))
    masks = _masks(section, registers, reserved)
    descriptor = _descriptor(section, registers, masks)
    size = sum(item.size for item in descriptor)
    return SectionPlan(versions=versions, descriptor=descriptor, descriptor_size=size, masks=masks,
                       compat=_compat(section, descriptor),
                       capture=_capture(section, table, registers, reserved), restore=_restore(section, registers),
                       read=tuple(name for name in [r.name for r in section.registers] + [s.name for s in section.state]
                                  if name in walker.read),
                       checks=checks,
                       resizes=_resizes(section, table),
                       capture_bytes=tuple(CaptureBytes(field=s.name, offset=s.config_offset, length=s.type.length,
                                                        max=s.type.max) for s in section.state
                                           if s.config_offset is not None and isinstance(s.type, ArrayType)
                                           and s.versioning.carried_by(section.version)))


def reserved_when(section: Section) -> tuple[ReservedWhen, ...]:
    """The section's conditionally reserved bit fields, in declaration order (the newest version's registers);
    the fields of one register under one condition (the same text) together, so a back end tests it once."""
    groups: dict[tuple[str, str], ReservedWhen] = {}
    for register in section.registers:
        if not register.versioning.carried_by(section.version):
            continue
        for bit_field in register.fields:
            if bit_field.reserved_when is None:
                continue
            key = register.name, to_text(bit_field.reserved_when)
            found = groups.get(key)
            groups[key] = ReservedWhen(register=register.name, fields=(bit_field.name,), bits=bit_field.mask,
                                       condition=bit_field.reserved_when) if found is None else \
                dataclasses.replace(found, fields=found.fields + (bit_field.name,), bits=found.bits | bit_field.mask)
    return tuple(groups.values())


def _checks(section: Section, reserved: tuple[ReservedWhen, ...]) -> tuple[StateCheck, ...]:
    checks = []
    for constraint in section.constraints:
        first = refs(constraint.check)
        checks.append(StateCheck(holds=constraint.check, path=first[0].dotted if first else "",
                                 reason=constraint.reason))
    for group in reserved:
        for name in group.fields:
            # !(condition) || register.field == 0, located at the condition as written.
            span = group.condition.span
            clear = Binary(op=BinaryOp.EQ, left=Ref(path=(group.register, name), span=span),
                           right=IntLit(value=0, span=span), span=span)
            holds = Binary(op=BinaryOp.LOG_OR, left=Unary(op=UnaryOp.LOG_NOT, operand=group.condition, span=span),
                           right=clear, span=span)
            checks.append(StateCheck(holds=holds, path=f"{group.register}.{name}", reserved=True,
                                     reason="reserved bits set: the field is reserved where "
                                            f"{to_text(group.condition)}"))
    return tuple(checks)


def _resizes(section: Section, table: SectionSymbols) -> tuple[Resize, ...]:
    """The fields top-level array lengths read that a helper can set: a register's bit field or an unsigned
    scalar state field, always present, sizing arrays that are always present in the newest version."""
    sized: dict[str, list[StateField]] = {}
    for state in section.state:
        if isinstance(state.type, ArrayType) and state.versioning.carried_by(section.version):
            for name in dict.fromkeys(ref.dotted for ref in refs(state.type.length)):
                sized.setdefault(name, []).append(state)
    resizes = []
    for name, arrays in sized.items():
        symbol = table.symbols.get(name)
        if symbol is None or any(array.present is not None for array in arrays):
            continue
        node = symbol.node
        register = next((r for r in section.registers if r.name == symbol.owner), None)
        if isinstance(node, BitField) and register is not None and register.present is None \
                and register.versioning.carried_by(section.version):
            owner, lo, width = register.name, node.lo, node.width
        elif isinstance(node, StateField) and isinstance(node.type, ScalarType) and node.present is None \
                and node.type.kind is not ScalarKind.BOOL and not node.type.kind.signed:
            owner, lo, width = None, 0, node.type.kind.bits
        else:
            continue
        resizes.append(Resize(field=name, register=owner, lo=lo, width=width, arrays=tuple(
            Resized(name=a.name, length=a.type.length, max=a.type.max) for a in arrays
            if isinstance(a.type, ArrayType))))
    return tuple(resizes)


def leaf_kind(kind: ScalarKind) -> LeafKind:
    if kind is ScalarKind.BOOL:
        return LeafKind.BOOL
    return LeafKind.SINT if kind.signed else LeafKind.UINT


class _Walker:
    def __init__(self, section: Section, table: SectionSymbols, registers: dict[str, CheckedRegister],
                 checks: tuple[StateCheck, ...]) -> None:
        self.section = section
        self.table = table
        self.registers = registers
        self.read = _read_names(section, table, checks)

    def version(self, version: int) -> VersionPlan:
        newest = self.section.version
        steps: list[Step] = []
        missing: list[Missing] = []
        for register in self.section.registers:
            carried = register.versioning.carried_by(newest)
            if not register.versioning.carried_by(version):
                if carried:
                    missing.append(Missing(name=register.name, register=True,
                                           default=register.versioning.default or 0))
                continue
            run = _run([self.register_leaf(register, carried)])
            if register.present is None:
                steps.append(run)
            else:
                steps.append(Cond(present=register.present, body=(run,), guards=(Guarded(
                    path=register.name, member=(register.name,), field=register.name, register=True, scalar=True,
                    carried=carried),)))
        for state in self.section.state:
            carried = state.versioning.carried_by(newest)
            if not state.versioning.carried_by(version):
                if carried:
                    missing.append(Missing(name=state.name, default=int(state.versioning.default or 0)))
                continue
            body = self.field_steps(state.name, (state.name,), state.name, state, 0, True, carried)
            if state.present is None:
                steps.extend(body)
            else:
                steps.append(Cond(present=state.present, body=_merge(body), guards=(Guarded(
                    path=state.name, member=(state.name,), field=state.name,
                    scalar=isinstance(state.type, ScalarType), carried=carried),)))
        return VersionPlan(version=version, walk=_merge(steps), missing=tuple(missing))

    def register_leaf(self, register: Register, carried: bool) -> Leaf:
        checked = self.registers[register.name]
        return Leaf(path=register.name, member=(register.name,), kind=LeafKind.UINT, size=register.width // 8,
                    rel=0, scalar=ScalarKind(f"u{register.width}"), register=register.name,
                    enum=register.enum if not register.fields else None, enum_checks=checked.enum_checks,
                    reserved=checked.masks.reserved if register.fields else 0, carried=carried,
                    gone=register.versioning.default or 0, read=register.name in self.read)

    def field_steps(self, path: str, member: tuple[str, ...], schema_path: str, state: StateField, depth: int,
                    top: bool, carried: bool) -> list[Step]:
        """The steps of one field, struct member or array element (`state` gives its type and enum)."""
        return self.type_steps(path, member, schema_path, state.type, state.enum, depth, top, carried,
                               int(state.versioning.default or 0) if top else 0)

    def type_steps(self, path: str, member: tuple[str, ...], schema_path: str, field_type: FieldType,
                   enum: str | None, depth: int, top: bool, carried: bool, gone: int) -> list[Step]:
        if isinstance(field_type, ScalarType):
            kind = field_type.kind
            return [_run([Leaf(path=path, member=member, kind=leaf_kind(kind), size=kind.size, rel=0, scalar=kind,
                               enum=enum, carried=carried, gone=gone,
                               read=top and member[0] in self.read)])]
        if isinstance(field_type, BytesType):
            return [_run([Leaf(path=path, member=member, kind=LeafKind.BYTES, size=field_type.size, rel=0,
                               carried=carried)])]
        if isinstance(field_type, ArrayType):
            return [self.array(path, member, schema_path, field_type, depth, carried)]
        body: list[Step] = []
        for item in field_type.members:
            item_path, item_member = f"{path}.{item.name}", member + (item.name,)
            item_steps = self.field_steps(item_path, item_member, f"{schema_path}.{item.name}", item, depth, False,
                                          carried)
            if item.present is None:
                body.extend(item_steps)
            else:
                body.append(Cond(present=item.present, body=_merge(item_steps), guards=(Guarded(
                    path=item_path, member=item_member, field=f"{schema_path}.{item.name}",
                    scalar=isinstance(item.type, ScalarType), carried=carried),)))
        return [Struct(path=path, member=member, field=schema_path,
                       members=tuple(m.name for m in field_type.members), body=_merge(body))]

    def array(self, path: str, member: tuple[str, ...], schema_path: str, array: ArrayType, depth: int,
              carried: bool) -> Array:
        body = _merge(self.type_steps(f"{path}[]", member + ("[]",), schema_path, array.element, None, depth + 1,
                                      False, carried, 0))
        element_size = _fixed_size(body)
        element_leaves: list[Leaf] = []
        if element_size is not None:
            rel = 0
            for leaf in _leaves(body):
                element_leaves.append(_at(leaf, rel))
                rel += leaf.size
        bound = value_range(array.length, self.table.ref_range)
        return Array(path=path, member=member, field=schema_path, length=array.length, max=array.max, depth=depth,
                     body=body, element_size=element_size, element_leaves=tuple(element_leaves),
                     shape=_shape(array.element), checked=element_size is None or any(_checked(s) for s in body),
                     word=_wire_word(array.element) if carried else 0, carried=carried,
                     count_can_be_negative=bound is None or bound[0] < 0,
                     count_can_exceed_max=bound is None or bound[1] > array.max)


def _read_names(section: Section, table: SectionSymbols, checks: tuple[StateCheck, ...]) -> frozenset[str]:
    """Top-level fields some presence, length or check reads (a loader keeps them while it checks)."""
    exprs: list[Expr] = [r.present for r in section.registers if r.present is not None]

    def visit(field_type: FieldType, present: Expr | None) -> None:
        if present is not None:
            exprs.append(present)
        if isinstance(field_type, ArrayType):
            exprs.append(field_type.length)
            visit(field_type.element, None)
        elif isinstance(field_type, StructType):
            for member in field_type.members:
                visit(member.type, member.present)

    for state in section.state:
        visit(state.type, state.present)
    exprs.extend(c.holds for c in checks)
    names = set()
    for expr in exprs:
        for ref in refs(expr):
            symbol = table.lookup(ref.path)
            if symbol is not None and symbol.kind in (SymbolKind.REGISTER, SymbolKind.BIT_FIELD, SymbolKind.STATE):
                names.add(symbol.owner)
    return frozenset(names)


def _run(leaves: list[Leaf]) -> Run:
    return Run(leaves=tuple(leaves), size=sum(leaf.size for leaf in leaves))


def _at(leaf: Leaf, rel: int) -> Leaf:
    return dataclasses.replace(leaf, rel=rel)


def _merge(steps: list[Step] | tuple[Step, ...]) -> tuple[Step, ...]:
    """Neighbouring runs as one run (a struct's members merge inside it, never with its neighbours), and
    neighbouring conditions with one presence as one condition (its body merged in turn)."""
    merged: list[Step] = []
    pending: list[Leaf] = []  # the leaves of the run being gathered, at their offsets in it
    size = 0

    def flush() -> None:
        nonlocal size
        if pending:
            merged.append(Run(leaves=tuple(pending), size=size))
            pending.clear()
            size = 0

    for step in steps:
        if isinstance(step, Run):
            pending.extend(_at(leaf, size + leaf.rel) for leaf in step.leaves)
            size += step.size
            continue
        flush()
        last = merged[-1] if merged else None
        if isinstance(step, Cond) and isinstance(last, Cond) and step.present == last.present:
            merged[-1] = Cond(present=last.present, body=_merge(last.body + step.body),
                              guards=last.guards + step.guards)
        else:
            merged.append(step)
    flush()
    return tuple(merged)


def _leaves(steps: tuple[Step, ...]) -> list[Leaf]:
    found: list[Leaf] = []
    for step in steps:
        if isinstance(step, Run):
            found.extend(step.leaves)
        elif isinstance(step, (Cond, Struct)):
            found.extend(_leaves(step.body))
    return found


def _fixed_size(steps: tuple[Step, ...]) -> int | None:
    total = 0
    for step in steps:
        if isinstance(step, Run):
            total += step.size
        elif isinstance(step, Struct):
            inner = _fixed_size(step.body)
            if inner is None:
                return None
            total += inner
        else:
            return None
    return total


def _checked(step: Step) -> bool:
    if isinstance(step, Run):
        return any(leaf.checked for leaf in step.leaves)
    if isinstance(step, Struct):
        return any(_checked(s) for s in step.body)
    return True  # a nested array or condition: checked element by element


def _shape(element: FieldType) -> ElementShape:
    if isinstance(element, ScalarType) and element.kind is not ScalarKind.BOOL:
        return ElementShape.SCALAR
    if isinstance(element, StructType) and all(
            isinstance(m.type, ScalarType) and m.type.kind is not ScalarKind.BOOL and m.enum is None
            and m.present is None for m in element.members):
        return ElementShape.RECORD
    return ElementShape.OTHER


def _wire_word(element: FieldType) -> int:
    """`Array.word` of an array of `element`."""
    types = [member.type for member in element.members] if isinstance(element, StructType) else [element]
    sizes: set[int] = set()
    for member_type in types:
        if isinstance(member_type, ScalarType) and member_type.kind is not ScalarKind.BOOL:
            sizes.add(member_type.kind.size)
        elif isinstance(member_type, BytesType):
            sizes.add(1)
        else:
            return 0
    return sizes.pop() if len(sizes) == 1 else 0


# --- descriptor, capture, restore ------------------------------------------------------------------


def descriptor_mask(source_fields: tuple[str, ...], register: Register) -> int:
    """The bits of `register` a derived descriptor field takes: the named fields, or every read-only bit."""
    if source_fields:
        return sum(f.mask for f in register.fields if f.name in source_fields)
    if register.fields:
        return sum(f.mask for f in register.fields if f.access.base in (Access.RO, Access.HWINIT))
    read_only = register.access is not None and register.access.base in (Access.RO, Access.HWINIT)
    return (1 << register.width) - 1 if read_only else 0


def descriptor_name_taken(name: str) -> bool:
    """Whether a schema's descriptor field may not be called `name`: the compiler's own fields and arrays,
    and the names its compat reasons give a register's masks, which must not be mistaken for a field."""
    return name in (MIN_VERSION, MAX_VERSION, MASK_REGISTERS) + MASK_ARRAYS or name.startswith(MASK_FIELD_PREFIXES)


def first_version_order(section: Section) -> list[Register]:
    """The section's registers by the version that added each, then in declaration order: the mask list's
    indices, which a later version's registers extend without moving the others."""
    return sorted(section.registers, key=lambda r: r.versioning.since)


def _masks(section: Section, registers: dict[str, CheckedRegister], reserved: tuple[ReservedWhen, ...]) -> MaskList:
    title = f"{section.title} (section {section.name})"
    masked = []
    for index, register in enumerate(first_version_order(section)):
        masks = registers[register.name].masks
        carried = register.versioning.carried_by(section.version)
        emulated, writable = (masks.emulated, masks.writable) if carried else (0, 0)
        conditional = tuple(dataclasses.replace(r, bits=r.bits & (emulated | writable)) for r in reserved
                            if r.register == register.name and r.bits & (emulated | writable))
        masked.append(MaskedRegister(
            name=register.name, index=index, width=register.width, emulated=emulated, writable=writable,
            present=register.present, reserved_when=conditional,
            emulated_reason=f"the hypervisor emulates other bits of register {register.name} of {title} on the "
                            "target",
            writable_reason=f"the guest may write other bits of register {register.name} of {title} on the "
                            "target"))
    return MaskList(registers=tuple(masked), word=max((r.width for r in section.registers), default=8))


def _descriptor(section: Section, registers: dict[str, CheckedRegister],
                masks: MaskList) -> tuple[DescriptorItem, ...]:
    items = []
    offset = 0
    for field in section.descriptor:
        if field.type is not None:
            if isinstance(field.type, BytesType):
                item = DescriptorItem(name=field.name, kind=LeafKind.BYTES, size=field.type.size, offset=offset)
            else:
                kind = field.type.kind
                item = DescriptorItem(name=field.name, kind=leaf_kind(kind), size=kind.size, offset=offset,
                                      scalar=kind)
        elif field.source_register not in registers:
            # A byte-string register (semantics allows no other state field): its bytes, 0 past the length.
            string = next(s for s in section.state if s.name == field.source_register)
            assert isinstance(string.type, ArrayType) and string.config_offset is not None
            item = DescriptorItem(name=field.name, kind=LeafKind.BYTES, size=string.type.max, offset=offset,
                                  byte_string=string.name, config_offset=string.config_offset)
        else:
            register = registers[field.source_register or ""].register
            item = DescriptorItem(name=field.name, kind=LeafKind.UINT, size=register.width // 8, offset=offset,
                                  scalar=ScalarKind(f"u{register.width}"), register=register.name,
                                  mask=descriptor_mask(field.source_fields, register), present=register.present)
        items.append(item)
        offset += item.size
    # Constants of the side's build: both sides compute them, the target compares the versions.
    for name, value in ((MIN_VERSION, section.min_version), (MAX_VERSION, section.version),
                        (MASK_REGISTERS, len(masks.registers))):
        items.append(DescriptorItem(name=name, kind=LeafKind.UINT, size=2, offset=offset, scalar=ScalarKind.U16,
                                    constant=value))
        offset += 2
    return tuple(items)


def _compat(section: Section, descriptor: tuple[DescriptorItem, ...]) -> SectionCompat:
    items = {item.name: item for item in descriptor}
    required = next((rule for rule in section.compat if rule.kind is CompatKind.REQUIRE_PRESENT), None)
    checks = tuple(CompatCheck(kind=rule.kind, item=items[rule.descriptor or ""], mask=rule.mask or 0,
                               reason=rule.reason)
                   for rule in section.compat if rule.kind is not CompatKind.REQUIRE_PRESENT)
    title = f"{section.title} (section {section.name})"
    absent = required.reason if required is not None else f"the target has no {title}"
    return SectionCompat(checks=checks, absent_reason=absent, require_present=required is not None,
                         min_version=items[MIN_VERSION], max_version=items[MAX_VERSION],
                         versions_reason=f"no version of {title} is both saved by the source and loaded by the "
                         "target")


def capture_order(section: Section, table: SectionSymbols) -> list[Register]:
    """Registers in declaration order, except that one is read after those its offset, presence or
    reserved_when reads."""
    registers = [r for r in section.registers if r.versioning.carried_by(section.version)]
    names = {r.name for r in registers}
    depends: dict[str, set[str]] = {}
    for register in registers:
        exprs: list[Expr] = [register.offset] + ([register.present] if register.present is not None else [])
        exprs += [f.reserved_when for f in register.fields if f.reserved_when is not None]
        depends[register.name] = {table.symbols[ref.dotted].owner for expr in exprs for ref in refs(expr)
                                  if ref.dotted in table.symbols} & names - {register.name}
    ordered: list[Register] = []
    done: set[str] = set()
    while len(ordered) < len(registers):
        # typecheck rejects offset/presence cycles, so some register is always ready
        ready = next(r for r in registers if r.name not in done and depends[r.name] <= done)
        ordered.append(ready)
        done.add(ready.name)
    return ordered


def _capture(section: Section, table: SectionSymbols, registers: dict[str, CheckedRegister],
             reserved: tuple[ReservedWhen, ...]) -> tuple[CaptureRead, ...]:
    reads = []
    for register in capture_order(section, table):
        checked = registers[register.name]
        keep = ((1 << register.width) - 1) & ~checked.masks.reserved
        reads.append(CaptureRead(register=register.name, width=register.width, offset=register.offset,
                                 present=register.present, keep=keep,
                                 enum=register.enum if not register.fields else None,
                                 enum_checks=checked.enum_checks,
                                 reserved_when=tuple(r for r in reserved if r.register == register.name)))
    return tuple(reads)


def _constant(expr: Expr, enums: dict[str, int]) -> int | None:
    """The value of an expression that reads nothing but literals and enum values."""
    if any(ref.dotted not in enums for ref in refs(expr)):
        return None
    try:
        return int(evaluate(expr, enums))
    except EvaluationError:
        return None


def _restore(section: Section, registers: dict[str, CheckedRegister]) -> tuple[RestoreWrite, ...]:
    writes = []
    enums = {f"{e.name}.{v.name}": v.value for e in section.enums for v in e.values}
    for step in section.restore:
        if step.hook is not None:
            writes.append(RestoreWrite(hook=step.hook, wait_us=step.wait_us, when=step.when, reason=step.reason))
            continue
        checked = registers[step.register]
        register = checked.register
        fields = {f.name: f for f in register.fields}
        # A 1 written to an rw1c bit clears the target's status: restore writes those bits as 0 unless an
        # override says otherwise.
        keep, bits = ((1 << register.width) - 1) & ~checked.masks.rw1c, 0
        dynamic = []
        for override in step.overrides:
            bit_field = fields[override.bit_field]
            value = _constant(override.value, enums)
            if value is None:
                dynamic.append(Override(field=bit_field.name, lo=bit_field.lo, mask=bit_field.mask,
                                        value=override.value))
            else:
                keep &= ~bit_field.mask
                bits = (bits & ~bit_field.mask) | ((value << bit_field.lo) & bit_field.mask)
        writes.append(RestoreWrite(register=register.name, width=register.width, offset=register.offset,
                                   present=register.present, keep=keep, set=bits, overrides=tuple(dynamic)))
    return tuple(writes)


# --- devices ----------------------------------------------------------------------------------------------


def instance_name(section: str, index: int) -> str:
    """How errors, compat reasons and `inspect` name instance `index` of a repeated section."""
    return f"{section}[{index}]"


def missing_section_reason(section: str) -> str:
    """The compat reason when the target's device requires `section` and the source has none."""
    return f"the source has no section {section}, which the target requires"


def missing_instance_reason(section: str, index: int | str) -> str:
    """The compat reason when the target has instance `index` of the repeated `section` and the source not
    (`"{index}"` gives the template a back end fills in at run time)."""
    return f"the source has no instance {index} of section {section}, which the target has"


def plan_device(device: Device, module: CheckedModule) -> DevicePlan:
    """Each section's presence bit and instances, for the back ends to print (a checked device: `semantics`
    has held its `instances` to the sections' maxima)."""
    sections = []
    bits = {use.section: bit for bit, use in enumerate(device.sections)}
    for bit, use in enumerate(device.sections):
        checked = module.section(use.section)
        location = checked.section.location
        # A param whose source section the device lists is derived (`semantics` has checked that the
        # source comes first and is required); one whose source it does not list is a param as any other.
        derived = tuple(DerivedParam(param=p.name, kind=p.kind, source=p.source.section,
                                     source_bit=bits[p.source.section], expr=p.source.expr, text=p.source.text)
                        for p in checked.section.params if p.source is not None and p.source.section in bits)
        repeated = location.instances is not None
        most = location.max_instances
        sections.append(DeviceSectionPlan(
            section=use.section, bit=bit, required=use.required,
            absent_refused=use.required or checked.plan.compat.require_present, repeated=repeated,
            max_instances=most, default_instances=use.instances or 1,
            names=tuple(instance_name(use.section, i) for i in range(most)) if repeated else (),
            missing_reason=missing_section_reason(use.section),
            missing_instance_reason=missing_instance_reason(use.section, "{index}") if repeated else "",
            derived=derived))
    return DevicePlan(sections=tuple(sections))
