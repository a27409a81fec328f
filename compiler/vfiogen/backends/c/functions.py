"""The bodies of a section's C functions: load (check, then store), save, validate, capture, restore.

Each function is built as text by `wire.Printer` (for the wire walks) or
here, and the section template lays them out. Each local is recorded
(`Writer.use`) as the code that needs it is printed, and `_function`
declares exactly those, so no function carries an unused variable under
-Wall.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
import re
from typing import Protocol

from vfiogen.backends.c import naming, wrap
from vfiogen.backends.c.cexpr import CExpr
from vfiogen.backends.c.views import Function
from vfiogen.backends.c.wire import Printer, Writer, evaluate, report
from vfiogen.ir.checked import CheckedSection
from vfiogen.ir.expr import Expr, IntLit, refs
from vfiogen.ir.nodes import ArrayType, FieldType, ScalarType, StateField, StructType
from vfiogen.ir.plan import Step
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

    @property
    def mask_count(self) -> str:
        return self.macro("MASK_REGISTERS")

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
        """The registers the descriptor's derived fields read."""
        return frozenset(item.register for item in self.plan.descriptor if item.register is not None)

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
        return c_function(f"static int check_v{version}(const uint8_t *b, size_t start, size_t end, {self.params}, "
                         f"struct {self.sym('descriptor')} *derived, struct vfg_error *err)", w, extra=locals_,
                         unused=("p", "b", "derived"))

    def check_descriptor_function(self) -> Function:
        """check_payload with `derived`, then each register-derived field compared with the stream's *d."""
        w = Writer()
        desc = f"struct {self.sym('descriptor')}"
        items = [item for item in self.plan.descriptor if item.register is not None]
        with w.block("if (d == NULL)"):
            self.fail(w, "", "start", "VFG_ERR_ARGUMENT", "the descriptor pointer is NULL")
        if not items:
            w("return check_payload(buf, start, end, version, p, NULL, err);")
        else:
            w("derived = *d; /* what a version does not carry stays as the stream says */")
            w("status = check_payload(buf, start, end, version, p, &derived, err);")
            with w.block("if (status != VFG_OK)"):
                w("return status;")
            for item in items:
                member = naming.ident(item.name)
                with w.block(f"if (derived.{member} != d->{member})"):
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
        if not items:
            return
        with w.block("if (derived != NULL)"):
            for item in items:
                width = item.size * 8
                value = f"({naming.register_type(width)})(f_{item.register} & {naming.literal(item.mask, width)})"
                if item.present is not None:
                    text = evaluate(w, self.locals, item.present, functools.partial(
                        self.fail, w, "", "start", "VFG_ERR_EXPRESSION",
                        f"the presence of register {item.register} cannot be evaluated"))
                    value = f"({text}) ? {value} : 0u"
                w(f"derived->{naming.ident(item.name)} = {value};")

    def loaded_default(self, name: str, version: int, default: str) -> str:
        """A field the version does not carry reads as its default; one it carries starts at 0 (absent)."""
        node = next((r for r in self.section.registers if r.name == name), None) or \
            next(s for s in self.section.state if s.name == name)
        return "0" if node.versioning.carried_by(version) else default

    def constraint_checks(self, w: Writer, render: CExpr, fail: Report) -> None:
        for constraint in self.section.constraints:
            first = refs(constraint.check)
            where = first[0].dotted if first else ""
            reason = _c_string(constraint.reason)
            on_bad = functools.partial(fail, w, where, "VFG_ERR_EXPRESSION", "the constraint cannot be evaluated")
            text = evaluate(w, render, constraint.check, on_bad, into="result", reset=True)
            with w.block(f"if (!{text})" if text == "result" else f"if (!({text}))"):
                fail(w, where, "VFG_ERR_CONSTRAINT", reason)

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

    def save_function(self, version: int) -> Function:
        printer = self.printer()
        w = Writer()
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
        return c_function(f"static int save_v{version}(const {self.state_type} *s, {self.params}, uint8_t *buf, "
                         f"size_t cap, size_t *len, struct vfg_error *err)", w, extra=("size_t o = 0;",),
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

        def problem(w: Writer, path: str, status: str, message: str, indices: str = "NULL") -> None:
            if indices == "idx":
                w.use("idx")
            w(f'vfg_problem(problems, capacity, &count, "{path}", {indices}, {status}, "{message}");')

        for register in self.section.registers:
            if not register.versioning.carried_by(self.section.version):
                continue
            value = f"s->{naming.ident(register.name)}"
            masks = self.checked.register(register.name).masks
            if register.fields and masks.reserved:
                with w.block(f"if (({value} & {naming.literal(masks.reserved, register.width)}) != 0u)"):
                    problem(w, register.name, "VFG_ERR_RESERVED", "reserved bits set")
            for bit_field in register.fields:
                if bit_field.enum and not bit_field.access.reserved:
                    valid = self.sym(bit_field.enum, "valid")
                    shifted = f"({value} >> {bit_field.lo})" if bit_field.lo else value
                    mask = naming.literal((1 << bit_field.width) - 1, register.width)
                    with w.block(f"if (!{valid}((uint64_t)({shifted} & {mask})))"):
                        problem(w, f"{register.name}.{bit_field.name}", "VFG_ERR_ENUM", "not a value of its enum")
            if register.enum and not register.fields:
                with w.block(f"if (!{self.sym(register.enum, 'valid')}((uint64_t){value}))"):
                    problem(w, register.name, "VFG_ERR_ENUM", "not a value of its enum")
            if register.present is not None:
                # Absent reads as 0, as in every expression; `default` is for versions that do not carry it.
                self.absent_check(w, register.present, f"{value} != 0u", register.name, problem)
        for state in self.section.state:
            if not state.versioning.carried_by(self.section.version):
                continue
            target = f"s->{naming.ident(state.name)}"
            if state.present is not None:
                self.absent_check(w, state.present, _holds_a_value(target, state.type), state.name, problem)
            self.type_checks(w, target, state.name, state.type, state.enum, 0, problem)
        with w.block("if (count != 0u)"):
            w("return count;")
        self.constraint_checks(w, self.state, problem)
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
                    self.absent_check(w, member.present, _holds_a_value(member_target, member.type), member_path,
                                      problem, indices)
                self.type_checks(w, member_target, member_path, member.type, member.enum, depth, problem)

    # --- capture and restore -------------------------------------------------------------------

    def config_offset(self, w: Writer, name: str, offset: Expr, render: CExpr) -> str:
        """The register's configuration-space address as C text, computing (and checking) it first if it moves."""
        if isinstance(offset, IntLit):
            return f"base + 0x{offset.value:x}u"
        text = w.expr(render, offset)
        w.use("offset")
        w(f"offset = {text};")
        bound = render.range(offset)
        if render.checked or bound is None or bound[0] < 0 or bound[1] > MAX_MOVING_OFFSET:
            check_bad = "bad || " if render.checked else ""
            with w.block(f"if ({check_bad}offset < 0 || offset > 0x{MAX_MOVING_OFFSET:x})"):
                self.fail(w, name, "base", "VFG_ERR_EXPRESSION", "its offset cannot be evaluated")
        return "base + (uint32_t)offset"

    def config_guards(self, w: Writer, callback: str) -> None:
        """Refuse what would make an access meaningless: NULL pointers, and a `base` at which some register's
        address would wrap past 2^32 (the callback's `offset` is a uint32_t)."""
        with w.block("if (s == NULL)"):
            self.fail(w, "", "base", "VFG_ERR_ARGUMENT", "the state pointer is NULL")
        with w.block(f"if ({callback} == NULL)"):
            self.fail(w, "", "base", "VFG_ERR_ARGUMENT", f"{callback} is NULL")
        reach = max((_config_reach(r.offset, r.width) for r in self.section.registers), default=0)
        if reach:
            with w.block(f"if (base > 0x{0xFFFF_FFFF - reach:x}u)"):
                self.fail(w, "", "base", "VFG_ERR_ARGUMENT",
                            "base puts a register past the end of the 32-bit configuration-space offsets")

    def presence_test(self, w: Writer, render: CExpr, name: str) -> Callable[[Expr], str]:
        """Prints what testing a register's presence takes; the C text of the test is returned."""
        def test(present: Expr) -> str:
            return evaluate(w, render, present, functools.partial(
                self.fail, w, name, "base", "VFG_ERR_EXPRESSION", "its presence cannot be evaluated"))
        return test

    def capture_function(self) -> Function:
        w = Writer()
        commit = []
        self.config_guards(w, "read_config")
        guard = _Guard(w)
        for read in self.plan.capture:
            name = read.register
            local = f"f_{name}"
            guard.enter(read.present, self.presence_test(w, self.locals, name))
            at = self.config_offset(w, name, read.offset, self.locals)
            ctype = naming.register_type(read.width)
            # Config space is accessed at most a dword at a time: a 64-bit register is two 4-byte reads, the
            # low dword (at the register's offset) first.
            for raw, address in (("raw", at), ("raw_hi", f"{at} + 4u"))[:2 if read.width == 64 else 1]:
                with w.block(f"if (read_config(opaque, {address}, {_access_size(read.width)}u, &{raw}) != 0)"):
                    self.fail(w, name, address, "VFG_ERR_CONFIG_IO", "reading configuration space failed")
            if read.width == 64:
                w(f"{local} = (((uint64_t)raw_hi << 32) | raw) & {naming.literal(read.keep, 64)};")
            else:
                w(f"{local} = ({ctype})(raw & {naming.literal(read.keep, 32)});")
            for check in read.enum_checks:
                shifted = f"({local} >> {check.lo})" if check.lo else local
                mask = naming.literal(check.mask, read.width)
                with w.block(f"if (!{self.sym(check.enum, 'valid')}((uint64_t)({shifted} & {mask})))"):
                    self.fail(w, name, at, "VFG_ERR_ENUM", "a field read from the device is not a value of its enum")
            if read.enum:
                with w.block(f"if (!{self.sym(read.enum, 'valid')}((uint64_t){local}))"):
                    self.fail(w, name, at, "VFG_ERR_ENUM", "the value read from the device is not a value of its enum")
            commit.append(f"s->{naming.ident(name)} = {local};")
        guard.leave()
        for line in commit:
            w(line)
        w("return VFG_OK;")
        # A register absent on the device captures as 0, as the loader stores it.
        locals_ = (("uint32_t raw;",) if self.plan.capture else ()) + (
            ("uint32_t raw_hi;",) if any(r.width == 64 for r in self.plan.capture) else ()) + tuple(
            f"{naming.register_type(r.width)} f_{r.register} = 0;" for r in self.plan.capture)
        # A section of emulation state only reads nothing: every parameter is then unused.
        return c_function(f"int {self.sym('capture')}({self.state_type} *s, {self.params}, "
                         f"vfg_read_config_fn read_config, void *opaque, uint32_t base, struct vfg_error *err)",
                         w, extra=locals_, unused=("p", "s", "read_config", "opaque", "base", "err"))

    def restore_function(self) -> Function:
        w = Writer()
        self.config_guards(w, "write_config")
        hooks = [step.hook for step in self.plan.restore if step.hook is not None]
        for hook in dict.fromkeys(hooks):
            with w.block(f"if (hooks == NULL || hooks->{hook} == NULL)"):
                self.fail(w, "", "base", "VFG_ERR_HOOK", f"the restore sequence calls hook {hook}, which was not given")
        guard = _Guard(w)
        for step in self.plan.restore:
            if step.hook is not None:
                guard.leave()
            if step.wait_us is not None:
                # The caller's wait hook does the waiting (a hypervisor sleeps or schedules; the code never spins).
                outer = w.depth
                if step.when is not None:
                    text = evaluate(w, self.state, step.when, functools.partial(
                        self.fail, w, "", "base", "VFG_ERR_EXPRESSION", "a wait condition cannot be evaluated"))
                    w(f"if ({text}) {{")
                    w.depth += 1
                with w.block(f"if (hooks->{step.hook}(opaque, {step.wait_us}u) != 0)"):
                    self.fail(w, "", "base", "VFG_ERR_HOOK", "the restore wait failed")
                if step.when is not None:
                    w.depth = outer
                    w("}")
                continue
            if step.hook is not None:
                with w.block(f"if (hooks->{step.hook}(opaque, s) != 0)"):
                    self.fail(w, "", "base", "VFG_ERR_HOOK", f"restore hook {step.hook} failed")
                continue
            assert step.offset is not None
            guard.enter(step.present, self.presence_test(w, self.state, step.register))
            at = self.config_offset(w, step.register, step.offset, self.state)
            w(f"value = s->{naming.ident(step.register)};")
            if step.folded:
                full = (1 << step.width) - 1
                clear = f"value & {naming.literal(step.keep, 64)}"
                w(f"value = ({clear}) | {naming.literal(step.set, 64)};" if step.set else f"value = {clear};")
                assert step.keep | step.set <= full
            for override in step.overrides:
                path = f"{step.register}.{override.field}"
                on_bad = functools.partial(self.fail, w, path, "base", "VFG_ERR_EXPRESSION",
                                           "an override cannot be evaluated")
                text = evaluate(w, self.state, override.value, on_bad, into="result")
                mask = naming.literal(override.mask, 64)
                w(f"value = (value & ~{mask}) | (((uint64_t){text} << {override.lo}) & {mask});")
            # A 64-bit register is two 4-byte writes, the low dword first (see capture).
            writes: tuple[tuple[str, str], ...]
            if step.width == 64:
                writes = ((at, "(uint32_t)(value & 0xffffffffu)"), (f"{at} + 4u", "(uint32_t)(value >> 32)"))
            else:
                writes = ((at, "(uint32_t)value"),)
            for address, value in writes:
                with w.block(f"if (write_config(opaque, {address}, {value}, {_access_size(step.width)}u) != 0)"):
                    self.fail(w, step.register, address, "VFG_ERR_CONFIG_IO", "writing configuration space failed")
        guard.leave()
        w("return VFG_OK;")
        extra = ("uint64_t value;",) if any(step.hook is None for step in self.plan.restore) else ()
        return c_function(f"int {self.sym('restore')}(const {self.state_type} *s, {self.params}, "
                         f"vfg_write_config_fn write_config, void *opaque, uint32_t base, "
                         f"const struct {self.sym('hooks')} *hooks, struct vfg_error *err)", w, extra=extra,
                         unused=("p", "opaque", "write_config", "err", "base", "s", "hooks"))

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


class _Guard:
    """The `if (present) {` around neighbouring config accesses with one presence, opened once for all of them
    (a presence reads only registers before the first, so testing it again would give the same answer)."""

    def __init__(self, w: Writer) -> None:
        self.w = w
        self.present: Expr | None = None
        self.outer = w.depth

    def enter(self, present: Expr | None, test: Callable[[Expr], str]) -> None:
        if present is not None and present == self.present:
            return
        self.leave()
        if present is not None:
            text = test(present)
            self.w(f"if ({text}) {{")
            self.outer = self.w.depth
            self.w.depth += 1
            self.present = present

    def leave(self) -> None:
        if self.present is not None:
            self.w.depth = self.outer
            self.w("}")
            self.present = None


MAX_MOVING_OFFSET = 0xFFFF
"""The largest offset a register whose offset is an expression may have; larger ones are refused at run time."""


def _access_size(width: int) -> int:
    """Bytes per configuration-space access: the register's width, at most a dword."""
    return min(width // 8, 4)


def _config_reach(offset: Expr, width: int) -> int:
    """How far past `base` the register's last byte can lie, plus one."""
    return (offset.value if isinstance(offset, IntLit) else MAX_MOVING_OFFSET) + width // 8


def _holds_a_value(target: str, field_type: FieldType) -> str:
    """C text: the state field `target` is not all zero."""
    if isinstance(field_type, ScalarType):
        return f"{target} != 0"
    return f"!vfg_all_zero(&{target}, sizeof {target})"


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
