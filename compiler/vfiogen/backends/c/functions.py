"""The bodies of a section's C functions: load (check, then store), save, validate (capture and restore:
`config_space`).

Each function is built as text by `wire.Printer` (for the wire walks) or
here, and the section template lays them out. Each local is recorded
(`Writer.use`) as the code that needs it is printed, and `_function`
declares exactly those, so no function carries an unused variable under
-Wall.
"""

from __future__ import annotations

import functools
import re
from typing import Protocol

from vfiogen.backends.c import naming, wrap
from vfiogen.backends.c.cexpr import CExpr
from vfiogen.backends.c.views import Function
from vfiogen.backends.c.wire import Printer, Writer, evaluate, holds_a_value, report
from vfiogen.ir.checked import CheckedSection
from vfiogen.ir.expr import Expr
from vfiogen.ir.nodes import ArrayType, FieldType, ScalarType, StateField, StructType
from vfiogen.ir.plan import DescriptorItem, Step
from vfiogen.ir.types import ScalarKind


class Report(Protocol):
    """Prints the C statement that reports a failure (a `return vfg_fail(...)` or a `vfg_problem(...)`)."""

    def __call__(self, w: Writer, path: str, status: str, message: str, indices: str = "NULL") -> None: ...


def _code(body: str) -> str:
    """`body` without what holds schema names, which may be any parameter's name: string literals (error paths)
    and member names (`s->p`, `.base`)."""
    body = re.sub(r'"(?:[^"\\]|\\.)*"', '""', body)
    return re.sub(r"(->|\.)\s*\w+", r"\1", body)


_SCALAR_LOCALS = (("bad", "bool bad = false;"), ("present", "int64_t present;"), ("result", "int64_t result;"),
                  ("offset", "int64_t offset;"))
"""The locals `wire.evaluate` and the printers here may use, with their declarations, in declaration order."""


def _declarations(uses: set[str], extra: tuple[str, ...] = ()) -> list[str]:
    """The declarations of the locals a body was printed with (`Writer.uses`), C99-style at the top.

    Expression temporaries first, then the counts `n<d>` and indices `i<d>` by depth, then `idx`.
    """
    lines = list(extra)
    lines += [declaration for name, declaration in _SCALAR_LOCALS if name in uses]
    counts = sorted(name for name in uses if re.fullmatch(r"n\d", name))
    if counts:
        lines.append("int64_t " + ", ".join(counts) + ";")
    indices = sorted(name for name in uses if re.fullmatch(r"i\d", name))
    if indices:
        lines.append("size_t " + ", ".join(indices) + ";")
    if "idx" in uses:
        lines.append("size_t idx[VFG_MAX_DEPTH];")
    return lines


def c_function(signature: str, w: Writer, extra: tuple[str, ...] = (), unused: tuple[str, ...] = (),
              null_params: bool | None = None) -> Function:
    """A function of `signature` whose body `w` printed, with the locals it recorded declared at the top.

    A parameter in `unused` that the body never names is marked `(void)x;` for -Wunused-parameter. That is still
    decided from the text: parameters are spelled in too many places (`s->` and `p->` in every target and
    expression, `err` in every report, `base` and `b` in every address) to record each one.
    """
    body = w.text()
    code = _code(body)
    head = ["    " + line for line in _declarations(w.uses, extra)]
    for name in unused:
        if not re.search(rf"\b{name}\b", code):
            head.append(f"    (void){name};")
    if null_params is None:
        null_params = "static" not in signature
    if "p->" in body and re.search(r"\bstruct vfg_\w+_params \*p\b", signature) and null_params:
        # Public functions (and validate_state, which the public validate calls with p as given) take NULL params
        # to mean the defaults; after the declarations, for C89-minded readers.
        head += ["    if (p == NULL) {", "        p = &default_params;", "    }"]
    return Function("\n".join(wrap.statement(signature, 0)), "\n".join(head + ([""] if head else []) + [body]))


class SectionFunctions:
    def __init__(self, checked: CheckedSection) -> None:
        self.checked = checked
        self.section = checked.section
        self.plan = checked.plan
        table = checked.symbols
        self.table = table
        self.name_macro = naming.macro(self.section.name, "NAME")
        self.locals = CExpr(table, lambda name: f"f_{name}")
        self.state = CExpr(table, lambda name: f"s->{naming.ident(name)}")
        self.items: list[str] = []
        self.layout_checks: dict[str, str] = {}
        self.params = f"const struct {self.sym('params')} *p"
        self.state_type = f"struct {self.sym('state')}"

    # --- helpers -------------------------------------------------------------------------------

    def macro(self, *parts: str) -> str:
        """`VFG_<SECTION>_<PARTS>`: a constant of the section's header."""
        return naming.macro(self.section.name, *parts)

    def sym(self, *parts: str) -> str:
        return naming.symbol(self.section.name, *parts)

    def printer(self) -> Printer:
        printer = Printer(self.name_macro, self.locals, self.state, self.sym(),
                          lambda enum: naming.symbol(self.section.name, enum, "valid"))
        printer.items = self.items
        printer.layout_checks = self.layout_checks
        return printer

    def fail(self, w: Writer, path: str, offset: str, status: str, message: str, indices: str = "NULL") -> None:
        """Print the `return vfg_fail(...)` of an error; `indices` is `idx` for a path inside an array."""
        if indices == "idx":
            w.use("idx")
        w(report(self.name_macro, path, indices, offset, status, message))

    def top_scalars(self) -> list[tuple[str, str, str]]:
        """(name, C type, default) of every top-level register and scalar state field, in declaration order."""
        result = []
        for register in self.section.registers:
            result.append((register.name, naming.register_type(register.width),
                           str(register.versioning.default or 0)))
        for state in self.section.state:
            if isinstance(state.type, ScalarType):
                result.append((state.name, naming.C_TYPES[state.type.kind.value],
                               str(int(state.versioning.default or 0))))
        return result

    def nodes(self, version: int) -> tuple[Step, ...]:
        return self.plan.version(version).walk

    # --- load ----------------------------------------------------------------------------------

    def derived_sources(self) -> frozenset[str]:
        """The registers (and byte-string registers) the descriptor's derived fields read."""
        return frozenset(name for item in self.plan.descriptor
                         for name in (item.register, item.byte_string) if name is not None)

    def check_function(self, version: int) -> Function:
        printer = self.printer()
        printer.keep = self.derived_sources()
        w = Writer()
        printer.check(self.nodes(version), w)
        for missing in self.plan.version(version).missing:
            state = None if missing.register else self.checked.state_field(missing.name)
            if state is not None and isinstance(state.type, ArrayType):
                # The older stream lacks this array; load makes its elements defaults, as many as its length says.
                text = w.expr(self.locals, state.type.length)
                w.use("n0")
                w(f"n0 = {text};")
                condition = f"bad || n0 < 0 || n0 > {state.type.max}" if self.locals.checked \
                    else f"n0 < 0 || n0 > {state.type.max}"
                with w.block(f"if ({condition})"):
                    self.fail(w, "", "start", "VFG_ERR_EXPRESSION",
                                "an array this version does not carry has a length outside 0..max")
        with w.block("if (o != end)"):
            self.fail(w, "", "o", "VFG_ERR_TRAILING", "bytes left over after the last field")
        self.constraint_checks(w, self.locals, lambda w, path, status, message, indices="NULL":
                               self.fail(w, path, "start", status, message, indices))
        self.derive_from_locals(w, version)
        w("return VFG_OK;")
        names = set(self.plan.read) | self.derived_sources()
        locals_ = ("size_t o = start;",) + tuple(f"{ctype} f_{name} = {self.loaded_default(name, version, default)};"
                                                 for name, ctype, default in self.top_scalars() if name in names)
        locals_ += tuple(f"size_t at_{item.byte_string} = 0, n_{item.byte_string} = 0;"
                         for item in self.string_items(version))
        return c_function(f"static int check_v{version}(const uint8_t *b, size_t start, size_t end, {self.params}, "
                         f"struct {self.sym('descriptor')} *derived, struct vfg_error *err)", w, extra=locals_,
                         unused=("p", "b", "derived"))

    def check_descriptor_function(self) -> Function:
        """check_payload with `derived`, then each register-derived field compared with the stream's *d."""
        w = Writer()
        desc = f"struct {self.sym('descriptor')}"
        items = [item for item in self.plan.descriptor if item.register is not None or item.byte_string is not None]
        with w.block("if (d == NULL)"):
            self.fail(w, "", "start", "VFG_ERR_ARGUMENT", "the descriptor pointer is NULL")
        if not items:
            w("return check_payload(buf, start, end, version, p, NULL, err);")
        else:
            # What a version does not carry stays as the stream says. Only the compared fields are copied
            # (and read back): the rest of the descriptor (the mask list most of all) is no payload's.
            for item in items:
                member = naming.ident(item.name)
                if item.byte_string:
                    w(f"memcpy(derived.{member}, d->{member}, {item.size}u);")
                else:
                    w(f"derived.{member} = d->{member};")
            w("status = check_payload(buf, start, end, version, p, &derived, err);")
            with w.block("if (status != VFG_OK)"):
                w("return status;")
            for item in items:
                member = naming.ident(item.name)
                differs = f"memcmp(derived.{member}, d->{member}, {item.size}u) != 0" if item.byte_string \
                    else f"derived.{member} != d->{member}"
                with w.block(f"if ({differs})"):
                    self.fail(w, f"descriptor.{item.name}", "start", "VFG_ERR_DESCRIPTOR",
                              "the payload's registers disagree with the stream's descriptor")
            w("return VFG_OK;")
        extra = (f"{desc} derived;", "int status;") if items else ()
        return c_function(f"int {self.sym('check_descriptor')}(const uint8_t *buf, size_t start, size_t end, "
                         f"uint16_t version, {self.params}, const {desc} *d, struct vfg_error *err)", w,
                         extra=extra, null_params=False)

    def derive_from_locals(self, w: Writer, version: int) -> None:
        """The descriptor's register-derived fields from the values the check read, into *derived when asked
        for: what derive_descriptor gives on the state the payload stores (an absent register 0), so a device
        load can hold the stream's descriptor to it. A register this version does not carry is left as
        *derived holds it: a down-save for an older target is no disagreement."""
        items = [item for item in self.plan.descriptor if item.register is not None
                 and self.checked.register(item.register).register.versioning.carried_by(version)]
        strings = self.string_items(version)
        if not items and not strings:
            return
        with w.block("if (derived != NULL)"):
            for item in strings:
                target = f"derived->{naming.ident(item.name)}"
                w(f"memset({target}, 0, {item.size}u);")
                w(f"memcpy({target}, b + at_{item.byte_string}, n_{item.byte_string});")
            for item in items:
                width = item.size * 8
                value = f"({naming.register_type(width)})(f_{item.register} & {naming.literal(item.mask, width)})"
                if item.present is not None:
                    text = evaluate(w, self.locals, item.present, functools.partial(
                        self.fail, w, "", "start", "VFG_ERR_EXPRESSION",
                        f"the presence of register {item.register} cannot be evaluated"))
                    value = f"({text}) ? {value} : 0u"
                w(f"derived->{naming.ident(item.name)} = {value};")

    def string_items(self, version: int) -> list[DescriptorItem]:
        """The descriptor fields taken from a byte-string register that `version` carries."""
        return [item for item in self.plan.descriptor if item.byte_string is not None
                and self.checked.state_field(item.byte_string).versioning.carried_by(version)]

    def loaded_default(self, name: str, version: int, default: str) -> str:
        """A field the version does not carry reads as its default; one it carries starts at 0 (absent)."""
        node = next((r for r in self.section.registers if r.name == name), None) or \
            next(s for s in self.section.state if s.name == name)
        return "0" if node.versioning.carried_by(version) else default

    def constraint_checks(self, w: Writer, render: CExpr, fail: Report) -> None:
        for check in self.plan.checks:
            reason = _c_string(check.reason)
            on_bad = functools.partial(fail, w, check.path, "VFG_ERR_EXPRESSION",
                                       "the constraint cannot be evaluated")
            text = evaluate(w, render, check.holds, on_bad, into="result", reset=True)
            with w.block(f"if (!{text})" if text == "result" else f"if (!({text}))"):
                fail(w, check.path, "VFG_ERR_RESERVED" if check.reserved else "VFG_ERR_CONSTRAINT", reason)

    def store_function(self, version: int) -> Function:
        printer = self.printer()
        w = Writer()
        missing = self.plan.version(version).missing
        for item in missing:
            if item.register:
                w(f"s->{naming.ident(item.name)} = {item.default}u;")
        late: list[StateField] = []
        for item in missing:
            if item.register:
                continue
            state = self.checked.state_field(item.name)
            if isinstance(state.type, ArrayType):
                late.append(state)
            else:
                self.assign_default(w, state)
        printer.store(self.nodes(version), w)
        for state in late:
            assert isinstance(state.type, ArrayType)
            w.use("n0", "i0")
            w(f"n0 = {w.expr(self.state, state.type.length)};")
            with w.block("for (i0 = 0; i0 < (size_t)n0; i0++)"):
                self.assign_element_default(w, f"s->{naming.ident(state.name)}[i0]", state.type.element,
                                            state.versioning.default)
        return c_function(f"static void store_v{version}({self.state_type} *s, const uint8_t *b, size_t start, "
                         f"{self.params})", w, extra=("size_t o = start;",), unused=("p",))

    def assign_default(self, w: Writer, state: StateField) -> None:
        target = f"s->{naming.ident(state.name)}"
        if isinstance(state.type, ScalarType):
            w(f"{target} = {_scalar_literal(state.type.kind, state.versioning.default)};")
        else:
            w(f"memset(&{target}, 0, sizeof {target});")

    def assign_element_default(self, w: Writer, target: str, element: FieldType, default: int | None) -> None:
        if isinstance(element, ScalarType):
            w(f"{target} = {_scalar_literal(element.kind, default)};")
        else:
            w(f"memset(&{target}, 0, sizeof {target});")

    # --- save ----------------------------------------------------------------------------------

    def rules_function(self) -> Function:
        """`broken_rules`: the section's constraints and conditional reservations over a state, each that fails
        a problem. validate reports them all; save stops at the first, so that it refuses at the source what the
        target's load would refuse."""
        w = Writer()
        self.constraint_checks(w, self.state, problem_report)
        w("return count;")
        return c_function(f"static size_t broken_rules(const {self.state_type} *s, {self.params}, "
                         "struct vfg_problem *problems, size_t capacity)", w, extra=("size_t count = 0;",),
                         unused=("p", "s"), null_params=False)

    def save_function(self, version: int) -> Function:
        printer = self.printer()
        w = Writer()
        if self.plan.checks:
            with w.block("if (broken_rules(s, p, &broken, 1u) != 0u)"):
                w("return fail(err, broken.field, 0u, broken.status, broken.message);")
        missing = self.plan.version(version).missing
        for item in missing:
            if item.register:
                with w.block(f"if (s->{naming.ident(item.name)} != {item.default}u)"):
                    self.fail(w, item.name, "0u", "VFG_ERR_LOSSY",
                                "the version cannot carry it and it does not hold its default")
        for item in missing:
            if not item.register:
                self.lossy_check(w, self.checked.state_field(item.name))
        printer.save(self.nodes(version), w)
        w("*len = o;")
        w("return VFG_OK;")
        broken = ("struct vfg_problem broken;",) if self.plan.checks else ()
        return c_function(f"static int save_v{version}(const {self.state_type} *s, {self.params}, uint8_t *buf, "
                         f"size_t cap, size_t *len, struct vfg_error *err)", w, extra=("size_t o = 0;", *broken),
                         unused=("p",))

    def lossy_check(self, w: Writer, state: StateField) -> None:
        target = f"s->{naming.ident(state.name)}"
        message = "the version cannot carry it and it does not hold its default"
        field_type = state.type
        if isinstance(field_type, ScalarType):
            with w.block(f"if ({target} != {_scalar_literal(field_type.kind, state.versioning.default)})"):
                self.fail(w, state.name, "0u", "VFG_ERR_LOSSY", message)
        elif isinstance(field_type, ArrayType):
            text = w.expr(self.state, field_type.length)
            w.use("n0", "i0")
            w(f"n0 = {text};")
            check_bad = "bad || " if self.state.checked else ""
            with w.block(f"if ({check_bad}n0 < 0 || n0 > {field_type.max})"):
                self.fail(w, state.name, "0u", "VFG_ERR_COUNT", "count is outside 0..max")
            with w.block("for (i0 = 0; i0 < (size_t)n0; i0++)"):
                element = f"{target}[i0]"
                if isinstance(field_type.element, ScalarType):
                    condition = f"{element} != {_scalar_literal(field_type.element.kind, state.versioning.default)}"
                else:
                    condition = f"!vfg_all_zero(&{element}, sizeof {element})"
                with w.block(f"if ({condition})"):
                    self.fail(w, state.name, "0u", "VFG_ERR_LOSSY", message)
        else:
            with w.block(f"if (!vfg_all_zero(&{target}, sizeof {target}))"):
                self.fail(w, state.name, "0u", "VFG_ERR_LOSSY", message)

    # --- validate ------------------------------------------------------------------------------

    def validate_function(self) -> Function:
        w = Writer()
        for register in self.section.registers:
            if not register.versioning.carried_by(self.section.version):
                continue
            value = f"s->{naming.ident(register.name)}"
            masks = self.checked.register(register.name).masks
            if register.fields and masks.reserved:
                with w.block(f"if (({value} & {naming.literal(masks.reserved, register.width)}) != 0u)"):
                    problem_report(w, register.name, "VFG_ERR_RESERVED", "reserved bits set")
            for bit_field in register.fields:
                if bit_field.enum and not bit_field.access.reserved:
                    valid = self.sym(bit_field.enum, "valid")
                    shifted = f"({value} >> {bit_field.lo})" if bit_field.lo else value
                    mask = naming.literal((1 << bit_field.width) - 1, register.width)
                    with w.block(f"if (!{valid}((uint64_t)({shifted} & {mask})))"):
                        problem_report(w, f"{register.name}.{bit_field.name}", "VFG_ERR_ENUM",
                                       "not a value of its enum")
            if register.enum and not register.fields:
                with w.block(f"if (!{self.sym(register.enum, 'valid')}((uint64_t){value}))"):
                    problem_report(w, register.name, "VFG_ERR_ENUM", "not a value of its enum")
            if register.present is not None:
                # Absent reads as 0, as in every expression; `default` is for versions that do not carry it.
                self.absent_check(w, register.present, f"{value} != 0u", register.name, problem_report)
        for state in self.section.state:
            if not state.versioning.carried_by(self.section.version):
                continue
            target = f"s->{naming.ident(state.name)}"
            if state.present is not None:
                holds = holds_a_value(target, isinstance(state.type, ScalarType))
                self.absent_check(w, state.present, holds, state.name, problem_report)
            self.type_checks(w, target, state.name, state.type, state.enum, 0, problem_report)
        if self.plan.checks:
            with w.block("if (count != 0u)"):
                w("return count;")
            w("return broken_rules(s, p, problems, capacity);")
        else:
            w("return count;")
        # The static validate_state, behind the public wrapper (section.c.j2) that refuses a NULL state as the
        # other entry points do.
        return c_function(f"static size_t validate_state(const {self.state_type} *s, {self.params}, "
                         f"struct vfg_problem *problems, size_t capacity)", w, extra=("size_t count = 0;",),
                         unused=("p", "s", "problems", "capacity"), null_params=True)

    def absent_check(self, w: Writer, present: Expr, holds: str, path: str, problem: Report,
                     indices: str = "NULL") -> None:
        text = evaluate(w, self.state, present,
                        lambda: problem(w, path, "VFG_ERR_EXPRESSION", "its presence cannot be evaluated", indices),
                        reset=True)
        with w.block(f"if (!({text}) && {holds})"):
            problem(w, path, "VFG_ERR_ABSENT", "is absent on this device (its presence is false) but holds a value",
                      indices)

    def type_checks(self, w: Writer, target: str, path: str, field_type: FieldType, enum: str | None, depth: int,
                    problem: Report) -> None:
        indices = "idx" if "[]" in path else "NULL"
        if isinstance(field_type, ScalarType):
            if enum is not None:
                with w.block(f"if (!{self.sym(enum, 'valid')}((uint64_t){target}))"):
                    problem(w, path, "VFG_ERR_ENUM", "not a value of its enum", indices)
        elif isinstance(field_type, ArrayType):
            # An inner array's length reads only top-level fields, but is checked (and its elements walked)
            # in every element of the arrays around it, as the Python's validate does.
            text = w.expr(self.state, field_type.length)
            w.use(f"n{depth}")
            w(f"n{depth} = {text};")
            check_bad = "bad || " if self.state.checked else ""
            with w.block(f"if ({check_bad}n{depth} < 0 || n{depth} > {field_type.max})"):
                problem(w, path, "VFG_ERR_COUNT", "its length is outside 0..max", indices)
            inner = Writer()
            inner.depth = w.depth + 2  # inside the else and the for below
            self.type_checks(inner, f"{target}[idx[{depth}]]", f"{path}[]", field_type.element, None, depth + 1,
                             problem)
            if inner.lines:
                w.use("idx", *inner.uses)
                with w.block("else"):
                    with w.block(f"for (idx[{depth}] = 0; idx[{depth}] < (size_t)n{depth}; idx[{depth}]++)"):
                        w.lines.extend(line for line in inner.lines)
        elif isinstance(field_type, StructType):
            for member in field_type.members:
                member_target, member_path = f"{target}.{naming.ident(member.name)}", f"{path}.{member.name}"
                if member.present is not None:
                    holds = holds_a_value(member_target, isinstance(member.type, ScalarType))
                    self.absent_check(w, member.present, holds, member_path, problem, indices)
                self.type_checks(w, member_target, member_path, member.type, member.enum, depth, problem)


    def init_function(self) -> Function:
        w = Writer()
        with w.block("if (s == NULL)"):
            w("return;")
        w("memset(s, 0, sizeof *s);")
        for register in self.section.registers:
            if register.versioning.carried_by(self.section.version) and register.versioning.default:
                w(f"s->{naming.ident(register.name)} = {register.versioning.default}u;")
        for state in self.section.state:
            if state.versioning.carried_by(self.section.version) and isinstance(state.type, ScalarType) \
                    and state.versioning.default:
                w(f"s->{naming.ident(state.name)} = {_scalar_literal(state.type.kind, state.versioning.default)};")
        return c_function(f"void {self.sym('init')}({self.state_type} *s)", w)


def problem_report(w: Writer, path: str, status: str, message: str, indices: str = "NULL") -> None:
    """Report a failed check as one more problem of `problems` (validate's, and the rules' that save reads)."""
    if indices == "idx":
        w.use("idx")
    w(f'vfg_problem(problems, capacity, &count, "{path}", {indices}, {status}, "{message}");')


def _scalar_literal(kind: ScalarKind, value: int | None) -> str:
    number = int(value or 0)
    if kind is ScalarKind.BOOL:
        return "true" if number else "false"
    if kind.signed:
        return naming.decimal(number)
    return f"{number}u" if kind.bits <= 32 else f"UINT64_C({number})"


def _c_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


__all__ = ["Function", "SectionFunctions"]
