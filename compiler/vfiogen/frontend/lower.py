"""Lower meta-schema-valid located trees into `ir.nodes` (third pass).

Shape only: this pass relies on the meta-schema having accepted every file,
parses expression text (reporting syntax errors), and fills in the defaults of
the surface syntax (`since: 1`, `min_version: version`, `required: true`,
`reset: 0`). Names are not resolved here.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from vfiogen.diagnostics import Note, Reporter
from vfiogen.frontend.expr_parser import ExprSyntaxError, parse_expr
from vfiogen.frontend.yaml_loader import Node
from vfiogen.ir.evaluate import EvaluationError, evaluate
from vfiogen.ir.expr import Binary, BoolLit, Conditional, Expr, IntLit, Ref, Unary, map_refs, refs
from vfiogen.ir.nodes import (
    ArrayType,
    BitField,
    BytesType,
    CompatRule,
    Constraint,
    DescriptorField,
    Device,
    DeviceSection,
    EnumType,
    EnumValue,
    FieldType,
    Hook,
    Location,
    Module,
    Options,
    Override,
    Param,
    ParamBinding,
    ParamSource,
    Register,
    RestoreStep,
    ScalarType,
    Section,
    StateField,
    StructType,
    Versioning,
    WAIT_HOOK,
)
from vfiogen.ir.types import Access, CompatKind, LocationKind, ScalarKind
from vfiogen.source import Span


_COUNTER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


class _Lowerer:
    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.version_read: Span | None = None
        """Where the section being lowered first reads `capability.version`, if it does."""
        self.field_sets: Node | None = None
        """The `field_sets` of the section being lowered."""
        self.counter: tuple[str, int] | None = None
        """Inside a `repeat`: its counter's name and the value being expanded."""

    def expr(self, node: Node) -> Expr:
        value = node.value
        if isinstance(value, bool):
            return BoolLit(value=value, span=node.span)
        if isinstance(value, int):
            return IntLit(value=value, span=node.span)
        assert isinstance(value, str)
        offset = 1 if node.quoted else 0
        try:
            parsed = parse_expr(value, node.span, offset)
        except ExprSyntaxError as exc:
            self.reporter.report("VG0601", node.span.sub(exc.start + offset, exc.end + offset),
                                 f"in expression '{value}': {exc.message}")
            return IntLit(value=0, span=node.span.as_synthetic())
        if self.version_read is None and "capability.version" in value:
            self.version_read = next((r.span for r in refs(parsed) if r.path == CAPABILITY_VERSION), None)
        if self.counter is None:
            for ref in refs(parsed):
                if "{" in ref.dotted:
                    self.reporter.report("VG0601", ref.span, f"'{ref.dotted}': a '{{counter}}' part names an "
                                         "entry of a 'repeat', and this expression is not inside one")
            return parsed
        return _fold(self.fill(parsed))

    def name(self, text: str) -> str:
        """A name, reference or description with the repeat's `{counter}` filled in."""
        if self.counter is None:
            return text
        counter, value = self.counter
        return _COUNTER.sub(lambda m: str(value) if m.group(1) == counter else m.group(0), text)

    def fill(self, expr: Expr) -> Expr:
        """`expr` with the counter's value for the counter and for `{counter}` in names (spans kept)."""
        assert self.counter is not None
        if isinstance(expr, Ref):
            if expr.path == (self.counter[0],):
                return IntLit(value=self.counter[1], span=expr.span)
            return dataclasses.replace(expr, path=tuple(self.name(part) for part in expr.path))
        if isinstance(expr, Unary):
            return dataclasses.replace(expr, operand=self.fill(expr.operand))
        if isinstance(expr, Binary):
            return dataclasses.replace(expr, left=self.fill(expr.left), right=self.fill(expr.right))
        if isinstance(expr, Conditional):
            return dataclasses.replace(expr, test=self.fill(expr.test), if_true=self.fill(expr.if_true),
                                       if_false=self.fill(expr.if_false))
        return expr

    @staticmethod
    def items(node: Node | None) -> list[tuple[str, Node, Span]]:
        if node is None or not isinstance(node.value, dict):
            return []
        return [(key, child, node.key_spans[key]) for key, child in node.value.items()]

    def text(self, node: Node | None) -> str:
        return self.name(str(node.value)) if node is not None else ""

    @staticmethod
    def flag(node: Node | None) -> bool:
        """A boolean key the meta-schema has checked; absent is false."""
        return node is not None and node.value is True

    @staticmethod
    def integer(node: Node | None, default: int) -> int:
        if node is None:
            return default
        assert isinstance(node.value, int)
        return int(node.value)

    def versioning(self, node: Node, span: Span) -> Versioning:
        default = node.get("default")
        return Versioning(
            since=self.integer(node.get("since"), 1),
            until=self.integer(node.get("until"), 0) or None,
            default=int(default.value) if default is not None and isinstance(default.value, int) else None,
            span=default.span if default is not None else span)

    def optional_expr(self, node: Node | None) -> Expr | None:
        return self.expr(node) if node is not None else None

    def location(self, node: Node) -> Location:
        (kind_name, body, _), = self.items(node)
        kind = LocationKind(kind_name)
        if kind is LocationKind.EMULATION:
            return Location(kind=kind, size=0, span=node.span)
        if kind is LocationKind.DEVICE_SPECIFIC:
            return Location(kind=kind, offset=self.integer(body.get("offset"), 0x40),
                            size=self.integer(body.get("size"), 0), span=node.span)
        if kind is LocationKind.HEADER:
            return Location(kind=kind, cap_id=self.integer(body.get("type"), 0), size=64, span=node.span)
        version = body.get("version")
        last = body.get("last_version")
        also = body.get("also_id")
        return Location(kind=kind, cap_id=self.integer(body.get("id"), 0),
                        cap_version=self.integer(version, 0) if version is not None else None,
                        cap_last_version=self.integer(last, 0) if last is not None else None,
                        cap_also_id=self.integer(also, 0) if also is not None else None,
                        size=self.integer(body.get("size"), 0),
                        instances=self.integer(body.get("instances"), 0) or None, span=node.span)

    def bit_field(self, name: str, node: Node, key_span: Span, access: Access | None = None) -> BitField:
        """`access`: the register's, for a field of a shared set that gives none of its own."""
        bits = node.get("bits")
        assert bits is not None
        if isinstance(bits.value, int):
            hi = lo = int(bits.value)
        else:
            hi_text, lo_text = str(bits.value).split(":")
            hi, lo = int(hi_text), int(lo_text)
        enum = node.get("enum")
        own = node.get("access")
        return BitField(name=name, hi=hi, lo=lo, access=Access(own.value) if own is not None else access or Access.RO,
                        enum=self.text(enum) or None, enum_span=enum.span if enum is not None else None,
                        emulated=self.flag(node.get("emulated")),
                        reserved_when=self.optional_expr(node.get("reserved_when")),
                        description=self.text(node.get("description")),
                        span=key_span)

    def fields_of(self, register: str, node: Node) -> Node | None:
        fields = node.get("fields")
        if fields is None or not isinstance(fields.value, str):
            return fields
        shared = self.field_sets.get(fields.value) if self.field_sets is not None else None
        if shared is None:
            self.reporter.report("VG0302", fields.span, f"register '{register}' uses field set "
                                 f"'{fields.value}', which 'field_sets' does not define")
        return shared

    def register(self, name: str, node: Node, key_span: Span) -> Register:
        offset = node.get("offset")
        assert offset is not None
        access = node.get("access")
        restore = node.get("restore")
        skip = restore.get("skip") if restore is not None else None
        enum = node.get("enum")
        shared = _field_set_name(node)
        # With a field set, a register-wide access is each set field's that gives none: one layout of
        # status, mask and severity bits, rw1c in one register and rw in the others.
        given = Access(access.value) if access is not None else None
        fields = self.fields_of(name, node)
        if shared is not None and given is None and fields is not None:
            for field_name, child, field_span in self.items(fields):
                if child.get("access") is None:
                    set_span = node.get("fields")
                    assert set_span is not None
                    self.reporter.report("VG0527", set_span.span, f"field '{field_name}' of field set '{shared}' "
                                         f"gives no access, and register '{name}' gives none",
                                         Note(field_span, "the field, without an access"))
                    break
        return Register(
            name=name, offset=self.expr(offset), width=self.integer(node.get("width"), 0),
            access=given if shared is None else None,
            fields=tuple(self.bit_field(n, c, s, given) for n, c, s in self.items(fields)),
            field_set=shared,
            reset=self.integer(node.get("reset"), 0),
            present=self.optional_expr(node.get("present")),
            versioning=self.versioning(node, key_span),
            restore_skip=self.text(skip) or None, enum=self.text(enum) or None,
            enum_span=enum.span if enum is not None else None, emulated=self.flag(node.get("emulated")),
            description=self.text(node.get("description")), span=key_span)

    def byte_string(self, name: str, node: Node, key_span: Span) -> StateField:
        """A byte-string register as the array of u8 it is on the wire, with its place in config space."""
        length, maximum, access = node.get("bytes"), node.get("max"), node.get("access")
        assert length is not None and maximum is not None and access is not None
        return StateField(name=name, type=ArrayType(element=ScalarType(kind=ScalarKind.U8, span=length.span),
                                                     length=self.expr(length), max=self.integer(maximum, 0),
                                                     max_span=maximum.span, span=length.span),
                          versioning=self.versioning(node, key_span),
                          config_offset=self.integer(node.get("offset"), 0), access=Access(access.value),
                          access_span=access.span, description=self.text(node.get("description")), span=key_span)

    def registers(self, node: Node | None, rename: bool = False) -> tuple[tuple[Register, ...],
                                                                        tuple[StateField, ...]]:
        """The registers under `node`, and apart from them its byte-string registers (which go on the wire
        after the section's other registers, before its state fields)."""
        registers: list[Register] = []
        strings: list[StateField] = []
        for n, c, s in self.items(node):
            name = self.name(n) if rename else n
            if c.get("bytes") is not None:
                strings.append(self.byte_string(name, c, s))
            else:
                registers.append(self.register(name, c, s))
        return tuple(registers), tuple(strings)

    def field_type(self, node: Node) -> FieldType:
        type_node = node.get("type")
        assert type_node is not None
        name = str(type_node.value)
        if name.startswith("bytes["):
            return BytesType(size=int(name[6:-1]), span=type_node.span)
        if name == "array":
            element = node.get("element")
            length = node.get("length")
            maximum = node.get("max")
            assert element is not None and length is not None and maximum is not None
            return ArrayType(element=self.field_type(element), length=self.expr(length),
                             max=self.integer(maximum, 0), max_span=maximum.span, span=type_node.span)
        if name == "struct":
            return StructType(members=tuple(self.state_field(n, c, s)
                                            for n, c, s in self.items(node.get("members"))),
                              span=type_node.span)
        return ScalarType(kind=ScalarKind(name), span=type_node.span)

    def state_field(self, name: str, node: Node, key_span: Span) -> StateField:
        enum = node.get("enum")
        return StateField(name=name, type=self.field_type(node), enum=self.text(enum) or None,
                          enum_span=enum.span if enum is not None else None,
                          present=self.optional_expr(node.get("present")),
                          versioning=self.versioning(node, key_span),
                          description=self.text(node.get("description")), span=key_span)

    def descriptor_field(self, name: str, node: Node, key_span: Span) -> DescriptorField:
        source = node.get("from")
        fields = node.get("fields")
        field_type: ScalarType | BytesType | None = None
        if node.get("type") is not None:
            lowered = self.field_type(node)
            assert isinstance(lowered, (ScalarType, BytesType))
            field_type = lowered
        return DescriptorField(
            name=name, type=field_type, source_register=self.text(source) or None,
            source_fields=tuple(str(f.value) for f in fields.value) if fields is not None
            and isinstance(fields.value, list) else (),
            description=self.text(node.get("description")), span=key_span)

    def constraint(self, node: Node) -> Constraint:
        check = node.get("check")
        assert check is not None
        return Constraint(check=self.expr(check), reason=self.text(node.get("reason")), span=check.span)

    def compat_rule(self, node: Node) -> CompatRule:
        reason = self.text(node.get("reason"))
        for key, child, _ in self.items(node):
            if key == "reason":
                continue
            kind = CompatKind(key)
            if kind is CompatKind.REQUIRE_PRESENT:
                return CompatRule(kind=kind, reason=reason, span=node.span)
            if kind is CompatKind.MASKED_EQUAL:
                return CompatRule(kind=kind, descriptor=self.text(child.get("field")),
                                  mask=self.integer(child.get("mask"), 0), reason=reason, span=node.span)
            return CompatRule(kind=kind, descriptor=self.name(str(child.value)), reason=reason, span=node.span)
        raise AssertionError("meta-schema guarantees one check per compat rule")

    def restore_step(self, node: Node) -> RestoreStep:
        if isinstance(node.value, str):
            return RestoreStep(register=self.name(node.value), span=node.span)
        hook = node.get("hook")
        if hook is not None:
            return RestoreStep(hook=str(hook.value), span=hook.span)
        wait = node.get("wait")
        if wait is not None:
            amount = str(wait.value)
            unit = amount.lstrip("0123456789")
            return RestoreStep(hook=WAIT_HOOK, wait_us=int(amount[:-len(unit)]) * _MICROSECONDS[unit],
                               when=self.optional_expr(node.get("when")), reason=self.text(node.get("reason")),
                               span=wait.span)
        write = node.get("write")
        assert write is not None
        overrides = tuple(Override(bit_field=n, value=self.expr(c), span=s)
                          for n, c, s in self.items(node.get("with")))
        return RestoreStep(register=self.name(str(write.value)), overrides=overrides, span=write.span)

    def param_source(self, node: Node | None) -> ParamSource | None:
        """A param's `from:`: the expression, its references' first name taken as the section they read.

        Which section, and whether every reference names the same one, `resolve` checks; here a reference
        with no second name keeps its one name as the section and an empty path for `resolve` to report.
        """
        if node is None:
            return None
        expr = self.expr(node)
        names = [ref.path[0] for ref in refs(expr)]
        section = names[0] if names else ""

        def strip(found: Ref) -> Expr:
            return dataclasses.replace(found, path=found.path[1:])

        return ParamSource(section=section, expr=map_refs(expr, strip), text=str(node.value),
                           written=tuple(names), span=node.span)

    def section(self, root: Node, path: str) -> Section:
        version = self.integer(root.get("version"), 1)
        hooks = root.get("hooks")

        def hook_list(key: str) -> tuple[Hook, ...]:
            node = hooks.get(key) if hooks is not None else None
            if node is None or not isinstance(node.value, list):
                return ()
            return tuple(Hook(name=str(item.value), span=item.span) for item in node.value)

        def seq(key: str) -> list[Node]:
            node = root.get(key)
            return list(node.value) if node is not None and isinstance(node.value, list) else []

        name_node = root.get("section")
        assert name_node is not None
        self.version_read = None
        self.field_sets = root.get("field_sets")
        location = root.get("location")
        assert location is not None
        repeated = self.repeats(seq("repeat"))
        registers, strings = self.registers(root.get("registers"))
        return with_capability_header(Section(
            name=str(name_node.value), title=self.text(root.get("title")),
            description=self.text(root.get("description")),
            wire_id=self.integer(root.get("id"), 0), location=self.location(location),
            version=version, min_version=self.integer(root.get("min_version"), version),
            params=tuple(Param(name=n, kind=ScalarKind(self.text(c.get("type"))),
                               default=int(self.integer(c.get("default"), 0)),
                               description=self.text(c.get("description")),
                               source=self.param_source(c.get("from")), span=s)
                         for n, c, s in self.items(root.get("params"))),
            enums=tuple(EnumType(name=n, values=tuple(EnumValue(name=vn, value=self.integer(vc, 0), span=vs)
                                                      for vn, vc, vs in self.items(c.get("values"))),
                                 description=self.text(c.get("description")), span=s)
                        for n, c, s in self.items(root.get("enums"))),
            registers=registers + repeated.registers,
            state=strings
            + tuple(self.state_field(n, c, s) for n, c, s in self.items(root.get("state"))),
            descriptor=tuple(self.descriptor_field(n, c, s) for n, c, s in self.items(root.get("descriptor")))
            + repeated.descriptor,
            constraints=tuple(self.constraint(c) for c in seq("constraints")) + repeated.constraints,
            compat=tuple(self.compat_rule(c) for c in seq("compat")) + repeated.compat,
            restore=tuple(self.restore_step(c) for c in seq("restore")) + repeated.restore,
            pre_save=hook_list("pre_save"), post_load=hook_list("post_load"),
            source_path=path, span=name_node.span), self.version_read)

    def repeats(self, blocks: list[Node]) -> _Repeated:
        """Expand every `repeat` block: its items once per value of its counter, in order."""
        out = _Repeated()
        for block in blocks:
            for_node = block.get("for")
            assert for_node is not None
            (counter, bounds, counter_span), = self.items(for_node)
            start, stop = self.integer(bounds.get("from"), 0), self.integer(bounds.get("to"), 0)
            if stop < start or stop - start >= MAX_REPEAT:
                self.reporter.report("VG0208", bounds.span, f"repeat counter '{counter}' runs from {start} to "
                                     f"{stop}; it must count up, at most {MAX_REPEAT} entries")
                continue
            for value in range(start, stop + 1):
                self.counter = (counter, value)
                out.registers += tuple(self.register(self.name(n), c, s)
                                       for n, c, s in self.items(block.get("registers")))
                out.descriptor += tuple(self.descriptor_field(self.name(n), c, s)
                                        for n, c, s in self.items(block.get("descriptor")))
                out.constraints += tuple(self.constraint(c) for c in _list(block.get("constraints")))
                out.compat += tuple(self.compat_rule(c) for c in _list(block.get("compat")))
                out.restore += tuple(self.restore_step(c) for c in _list(block.get("restore")))
            self.counter = None
        return out

    def options(self, root: Node, path: str) -> Options:
        options = root.get("options")
        assert options is not None
        license = options.get("license")
        return Options(license=str(license.value) if license is not None else None, source_path=path,
                       span=root.key_spans["options"])

    def device(self, root: Node, path: str) -> Device:
        name_node = root.get("device")
        assert name_node is not None
        uses: list[DeviceSection] = []
        generic = root.get("generic")
        sections = root.get("sections")
        for item in sections.value if sections is not None and isinstance(sections.value, list) else []:
            use = item.get("use")
            required = item.get("required")
            instances = item.get("instances")
            assert use is not None
            uses.append(DeviceSection(
                section=str(use.value),
                required=bool(required.value) if required is not None else True,
                params=tuple(ParamBinding(name=n, value=int(c.value) if isinstance(c.value, int) else 0,
                                          written_as_bool=isinstance(c.value, bool), span=s)
                             for n, c, s in self.items(item.get("params"))),
                defaults=tuple(ParamBinding(name=n, value=int(c.value) if isinstance(c.value, int) else 0, span=s)
                               for n, c, s in self.items(item.get("defaults"))),
                instances=self.integer(instances, 0) or None,
                instances_span=instances.span if instances is not None else None,
                span=use.span))
        return Device(name=str(name_node.value), title=self.text(root.get("title")),
                      description=self.text(root.get("description")), sections=tuple(uses),
                      generic=bool(generic.value) if generic is not None else False,
                      source_path=path, span=name_node.span)


_MICROSECONDS = {"us": 1, "ms": 1000, "s": 1_000_000}

MAX_REPEAT = 256
"""The most entries one `repeat` may expand to (a PCI capability has far fewer; this bounds hostile schemas)."""


@dataclass
class _Repeated:
    registers: tuple[Register, ...] = ()
    descriptor: tuple[DescriptorField, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    compat: tuple[CompatRule, ...] = ()
    restore: tuple[RestoreStep, ...] = ()


def _list(node: Node | None) -> list[Node]:
    return list(node.value) if node is not None and isinstance(node.value, list) else []


def _fold(expr: Expr) -> Expr:
    """Every part of `expr` made of literals only as the literal it computes (a repeated `offset: "0x0c + 8 * n"`
    or `present: "count >= n + 1"` becomes what it would be written out by hand), spans kept."""
    if isinstance(expr, Unary):
        expr = dataclasses.replace(expr, operand=_fold(expr.operand))
    elif isinstance(expr, Binary):
        expr = dataclasses.replace(expr, left=_fold(expr.left), right=_fold(expr.right))
    elif isinstance(expr, Conditional):
        expr = dataclasses.replace(expr, test=_fold(expr.test), if_true=_fold(expr.if_true),
                                   if_false=_fold(expr.if_false))
    if isinstance(expr, (IntLit, BoolLit)) or refs(expr):
        return expr
    try:
        value = evaluate(expr, {})
    except EvaluationError:
        return expr  # typecheck reports what is wrong with it
    if isinstance(value, bool):
        return BoolLit(value=value, span=expr.span)
    return IntLit(value=value, span=expr.span) if value >= 0 else expr


CAPABILITY_VERSION = ("capability", "version")
"""The name an extended capability's expressions read its header's version by."""


def with_capability_header(section: Section, read_at: Span | None) -> Section:
    """`section` with the register `capability` first, when it is an extended capability whose expressions read
    `capability.version` (first at `read_at`) and that declares no register of that name: the header's byte 2,
    whose bits 3:0 are the Capability Version; its bits 7:4 (the next pointer's low bits) are undeclared, so
    reserved, captured as 0. The version is then saved as one byte ahead of the section's registers, where
    presence may read it; the capability id and the next pointer are not saved."""
    if read_at is None or section.location.kind is not LocationKind.EXTENDED_CAPABILITY or any(
            r.name == CAPABILITY_VERSION[0] for r in section.registers):
        return section
    span = read_at
    version = BitField(name=CAPABILITY_VERSION[1], hi=3, lo=0, access=Access.RO, span=span,
                       description="Capability Version: bits 19:16 of the extended capability header")
    header = Register(name=CAPABILITY_VERSION[0], offset=IntLit(value=2, span=span), width=8, fields=(version,),
                      versioning=Versioning(span=span), span=span,
                      description="byte 2 of the extended capability header, for its version (the compiler adds "
                                  "it because the section reads capability.version)")
    return dataclasses.replace(section, registers=(header,) + section.registers)


def _field_set_name(register: Node) -> str | None:
    """The `field_sets` entry a register names as its `fields`, if it names one."""
    fields = register.get("fields")
    return fields.value if fields is not None and isinstance(fields.value, str) else None


def lower(documents: list[tuple[str, Node]], reporter: Reporter) -> Module:
    """Lower every (path, root node) document into one Module.

    The file's bytes are not kept: nothing generated may change with a comment
    (fingerprints are taken over the checked IR, see `ir.fingerprint`).

    Sections and devices come out sorted by name, so nothing downstream
    depends on the order files were found in.
    """
    lowerer = _Lowerer(reporter)
    sections: list[Section] = []
    devices: list[Device] = []
    options: list[Options] = []
    for path, root in documents:
        if root.get("options") is not None:
            options.append(lowerer.options(root, path))
        elif root.get("device") is not None:
            devices.append(lowerer.device(root, path))
        else:
            sections.append(lowerer.section(root, path))
    sections.sort(key=lambda s: (s.name, s.source_path))
    devices.sort(key=lambda d: (d.name, d.source_path))
    options.sort(key=lambda o: o.source_path)
    return Module(sections=tuple(sections), devices=tuple(devices), options=tuple(options))
