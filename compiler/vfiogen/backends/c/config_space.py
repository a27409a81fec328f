"""The C capture and restore functions of a section: configuration space to state, and the schema's restore
sequence back to configuration space.

They print what the plan decided (`ir.plan.CaptureRead`, `CaptureBytes`, `RestoreWrite`); `functions.
SectionFunctions` holds the section and the helpers they share with the load and save functions. Config
space is accessed at most a dword at a time, through the caller's callbacks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from vfiogen.backends.c import naming
from vfiogen.backends.c.cexpr import CExpr
from vfiogen.backends.c.functions import SectionFunctions, c_function
from vfiogen.backends.c.views import Function
from vfiogen.backends.c.wire import Writer, evaluate
from vfiogen.ir.expr import Expr, IntLit


def _config_offset(f: SectionFunctions, w: Writer, name: str, offset: Expr, render: CExpr) -> str:
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
            f.fail(w, name, "base", "VFG_ERR_EXPRESSION", "its offset cannot be evaluated")
    return "base + (uint32_t)offset"


def _config_guards(f: SectionFunctions, w: Writer, callback: str) -> None:
    """Refuse what would make an access meaningless: NULL pointers, and a `base` at which some register's
    address would wrap past 2^32 (the callback's `offset` is a uint32_t)."""
    with w.block("if (s == NULL)"):
        f.fail(w, "", "base", "VFG_ERR_ARGUMENT", "the state pointer is NULL")
    with w.block(f"if ({callback} == NULL)"):
        f.fail(w, "", "base", "VFG_ERR_ARGUMENT", f"{callback} is NULL")
    reach = max([_config_reach(r.offset, r.width) for r in f.section.registers]
                + [s.offset + s.max for s in f.plan.capture_bytes], default=0)
    if reach:
        with w.block(f"if (base > 0x{0xFFFF_FFFF - reach:x}u)"):
            f.fail(w, "", "base", "VFG_ERR_ARGUMENT",
                   "base puts a register past the end of the 32-bit configuration-space offsets")


def _presence_test(f: SectionFunctions, w: Writer, render: CExpr, name: str) -> Callable[[Expr], str]:
    """Prints what testing a register's presence takes; the C text of the test is returned."""
    def test(present: Expr) -> str:
        return evaluate(w, render, present, functools.partial(
            f.fail, w, name, "base", "VFG_ERR_EXPRESSION", "its presence cannot be evaluated"))
    return test


def capture_function(f: SectionFunctions) -> Function:
    """`vfg_<section>_capture`: every register in the plan's order, then the byte-string registers, into
    locals; the state is written only once every read has succeeded."""
    w = Writer()
    commit = []
    _config_guards(f, w, "read_config")
    guard = _Guard(w)
    for read in f.plan.capture:
        name = read.register
        local = f"f_{name}"
        guard.enter(read.present, _presence_test(f, w, f.locals, name))
        at = _config_offset(f, w, name, read.offset, f.locals)
        ctype = naming.register_type(read.width)
        # Config space is accessed at most a dword at a time: a 64-bit register is two 4-byte reads, the
        # low dword (at the register's offset) first.
        for raw, address in (("raw", at), ("raw_hi", f"{at} + 4u"))[:2 if read.width == 64 else 1]:
            with w.block(f"if (read_config(opaque, {address}, {_access_size(read.width)}u, &{raw}) != 0)"):
                f.fail(w, name, address, "VFG_ERR_CONFIG_IO", "reading configuration space failed")
        if read.width == 64:
            w(f"{local} = (((uint64_t)raw_hi << 32) | raw) & {naming.literal(read.keep, 64)};")
        else:
            w(f"{local} = ({ctype})(raw & {naming.literal(read.keep, 32)});")
        for reserved in read.reserved_when:
            # Bits this function has reserved read as 0, as the always-reserved ones do.
            text = evaluate(w, f.locals, reserved.condition, functools.partial(
                f.fail, w, f"{name}.{reserved.fields[0]}", at, "VFG_ERR_EXPRESSION",
                "whether the field is reserved cannot be evaluated"), into="result")
            with w.block(f"if ({text})"):
                w(f"{local} &= {naming.literal(((1 << read.width) - 1) & ~reserved.bits, read.width)};")
        for check in read.enum_checks:
            shifted = f"({local} >> {check.lo})" if check.lo else local
            mask = naming.literal(check.mask, read.width)
            with w.block(f"if (!{f.sym(check.enum, 'valid')}((uint64_t)({shifted} & {mask})))"):
                f.fail(w, name, at, "VFG_ERR_ENUM", "a field read from the device is not a value of its enum")
        if read.enum:
            with w.block(f"if (!{f.sym(read.enum, 'valid')}((uint64_t){local}))"):
                f.fail(w, name, at, "VFG_ERR_ENUM", "the value read from the device is not a value of its enum")
        commit.append(f"s->{naming.ident(name)} = {local};")
    guard.leave()
    strings = f.plan.capture_bytes
    for string in strings:
        # A byte-string register, a byte at a time into a local buffer, after the registers its length reads.
        name, local = string.field, f"b_{string.field}"
        text = evaluate(w, f.locals, string.length, functools.partial(
            f.fail, w, name, f"base + {string.offset}u", "VFG_ERR_EXPRESSION",
            "its length cannot be evaluated"))
        w.use("n0", "i0")
        w(f"n0 = {text};")
        with w.block(f"if (n0 < 0 || n0 > {string.max})"):
            f.fail(w, name, f"base + {string.offset}u", "VFG_ERR_COUNT",
                      f"its length read from the device is outside 0..{string.max}")
        w(f"n_{name} = (size_t)n0;")
        with w.block(f"for (i0 = 0; i0 < n_{name}; i0++)"):
            address = f"base + {string.offset}u + (uint32_t)i0"
            with w.block(f"if (read_config(opaque, {address}, 1u, &raw) != 0)"):
                f.fail(w, name, address, "VFG_ERR_CONFIG_IO", "reading configuration space failed")
            w(f"{local}[i0] = (uint8_t)(raw & 0xffu);")
        target = f"s->{naming.ident(name)}"
        commit += [f"memset({target}, 0, sizeof {target});", f"memcpy({target}, {local}, n_{name});"]
    for line in commit:
        w(line)
    w("return VFG_OK;")
    # A register absent on the device captures as 0, as the loader stores it.
    locals_ = (("uint32_t raw;",) if f.plan.capture or strings else ()) + (
        ("uint32_t raw_hi;",) if any(r.width == 64 for r in f.plan.capture) else ()) + tuple(
        f"{naming.register_type(r.width)} f_{r.register} = 0;" for r in f.plan.capture) + tuple(
        f"uint8_t b_{s.field}[{s.max}];" for s in strings) + tuple(f"size_t n_{s.field} = 0;" for s in strings)
    # A section of emulation state only reads nothing: every parameter is then unused.
    return c_function(f"int {f.sym('capture')}({f.state_type} *s, {f.params}, "
                     f"vfg_read_config_fn read_config, void *opaque, uint32_t base, struct vfg_error *err)",
                     w, extra=locals_, unused=("p", "s", "read_config", "opaque", "base", "err"))


def restore_function(f: SectionFunctions) -> Function:
    """`vfg_<section>_restore`: the plan's restore writes and hook calls, in the schema's order."""
    w = Writer()
    _config_guards(f, w, "write_config")
    hooks = [step.hook for step in f.plan.restore if step.hook is not None]
    for hook in dict.fromkeys(hooks):
        with w.block(f"if (hooks == NULL || hooks->{hook} == NULL)"):
            f.fail(w, "", "base", "VFG_ERR_HOOK", f"the restore sequence calls hook {hook}, which was not given")
    guard = _Guard(w)
    for step in f.plan.restore:
        if step.hook is not None:
            guard.leave()
        if step.wait_us is not None:
            # The caller's wait hook does the waiting (a hypervisor sleeps or schedules; the code never spins).
            outer = w.depth
            if step.when is not None:
                text = evaluate(w, f.state, step.when, functools.partial(
                    f.fail, w, "", "base", "VFG_ERR_EXPRESSION", "a wait condition cannot be evaluated"))
                w(f"if ({text}) {{")
                w.depth += 1
            with w.block(f"if (hooks->{step.hook}(opaque, {step.wait_us}u) != 0)"):
                f.fail(w, "", "base", "VFG_ERR_HOOK", "the restore wait failed")
            if step.when is not None:
                w.depth = outer
                w("}")
            continue
        if step.hook is not None:
            with w.block(f"if (hooks->{step.hook}(opaque, s) != 0)"):
                f.fail(w, "", "base", "VFG_ERR_HOOK", f"restore hook {step.hook} failed")
            continue
        assert step.offset is not None
        guard.enter(step.present, _presence_test(f, w, f.state, step.register))
        at = _config_offset(f, w, step.register, step.offset, f.state)
        w(f"value = s->{naming.ident(step.register)};")
        if step.folded:
            full = (1 << step.width) - 1
            clear = f"value & {naming.literal(step.keep, 64)}"
            w(f"value = ({clear}) | {naming.literal(step.set, 64)};" if step.set else f"value = {clear};")
            assert step.keep | step.set <= full
        for override in step.overrides:
            path = f"{step.register}.{override.field}"
            on_bad = functools.partial(f.fail, w, path, "base", "VFG_ERR_EXPRESSION",
                                       "an override cannot be evaluated")
            text = evaluate(w, f.state, override.value, on_bad, into="result")
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
                f.fail(w, step.register, address, "VFG_ERR_CONFIG_IO", "writing configuration space failed")
    guard.leave()
    w("return VFG_OK;")
    extra = ("uint64_t value;",) if any(step.hook is None for step in f.plan.restore) else ()
    return c_function(f"int {f.sym('restore')}(const {f.state_type} *s, {f.params}, "
                     f"vfg_write_config_fn write_config, void *opaque, uint32_t base, "
                     f"const struct {f.sym('hooks')} *hooks, struct vfg_error *err)", w, extra=extra,
                     unused=("p", "opaque", "write_config", "err", "base", "s", "hooks"))


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
