"""Prints the C of a section version's wire walk (`ir.plan`): check, store and save.

Load runs in two passes so that a failed load leaves the caller's state
untouched without a second copy of it: `check` reads every byte, decodes the
values expressions need into locals and checks everything the Python loader
checks, in the same order (so both name the same field at the same offset);
`store` then decodes the same bytes, which are known good, straight into the
caller's state. Arrays whose elements need no checks (plain integers and
bytes, as the MSI-X table) are only bounds-checked by `check`, so the
common case reads the payload about once.

The plan decides which items are checked together (a `Run`) and which one
a truncation names; this module only prints it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from vfiogen.backends.c import naming, wrap
from vfiogen.backends.c.cexpr import CExpr
from vfiogen.ir.expr import Expr
from vfiogen.ir.plan import Array, Cond, Guarded, Leaf, LeafKind, Run, Step, Struct


def holds_a_value(target: str, scalar: bool) -> str:
    """C text: the state field `target` (a scalar, or any other type) is not all zero."""
    return f"{target} != 0" if scalar else f"!vfg_all_zero(&{target}, sizeof {target})"


def lvalue(member: tuple[str, ...]) -> str:
    """Where a plan member path lives in the C state, relative to `s->` (`vectors[i0].data`)."""
    text, depth = "", 0
    for name in member:
        if name == "[]":
            text += f"[i{depth}]"
            depth += 1
        else:
            text += ("." if text else "") + naming.ident(name)
    return text


class Writer:
    """Collects a function body's lines, and the locals they use as they are printed."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1
        self.uses: set[str] = set()
        """Locals the printed code needs (`bad`, `n0`, `idx`...); the function declares exactly these."""

    def use(self, *names: str) -> None:
        """Record that the code being printed needs the locals `names`."""
        self.uses.update(names)

    def expr(self, render: CExpr, expr: Expr) -> str:
        """The C text of `expr`, recording `bad` when it uses a checked helper."""
        text = render(expr)
        if render.checked:
            self.use("bad")
        return text

    def __call__(self, text: str) -> None:
        """Print a statement (or a block's head ending in ` {`), broken to 80 columns if it is longer."""
        if not text:
            self.lines.append("")
            return
        tail = " {" if text.endswith(" {") else ""
        self.lines.extend(wrap.statement(text[:len(text) - len(tail)], 4 * self.depth, tail))

    @contextmanager
    def block(self, head: str) -> Iterator[None]:
        """A braced block; an `else` head continues the `}` just printed, as QEMU's style (and checkpatch) has it."""
        if head.startswith("else") and self.lines and self.lines[-1] == "    " * self.depth + "}":
            self.lines[-1] += f" {head} {{"
        else:
            self(head + " {")
        self.depth += 1
        yield
        self.depth -= 1
        self("}")

    def text(self) -> str:
        return "\n".join(self.lines)


def report(section_macro: str, path: str, indices: str, offset: str, status: str, message: str) -> str:
    """The `return` of an error: through the section file's `fail` (section.c.j2), which names the section and
    no indices, unless the path is inside an array."""
    if indices == "NULL":
        return f'return fail(err, "{path}", {offset}, {status}, "{message}");'
    return f'return vfg_fail(err, {section_macro}, "{path}", {indices}, {offset}, {status}, "{message}");'


GET = {1: "vfg_get8", 2: "vfg_get_be16", 4: "vfg_get_be32", 8: "vfg_get_be64"}
PUT = {1: "vfg_put8", 2: "vfg_put_be16", 4: "vfg_put_be32", 8: "vfg_put_be64"}


def evaluate(w: Writer, render: CExpr, expr: Expr, on_bad: Callable[[], None], into: str = "present",
             reset: bool = False) -> str:
    """Print what evaluating `expr` takes and return the C text of its value.

    An expression with checked arithmetic is evaluated into the local `into`, and `on_bad` (which prints a
    statement) runs when it overflowed, divided by zero or shifted out of range; `reset` clears `bad` first,
    for functions that go on after a failure (validate). An unchecked expression is returned as it is.
    """
    text = w.expr(render, expr)
    if not render.checked:
        return text
    w.use(into)
    if reset:
        w("bad = false;")
    w(f"{into} = {text};")
    with w.block("if (bad)"):
        on_bad()
    return into


def _times(count: str, factor: int) -> str:
    return count if factor == 1 else f"{count} * {factor}u"


def _at(offset: str, rel: int) -> str:
    return f"{offset} + {rel}" if rel else offset


@dataclass
class Printer:
    """Prints the check, store and save bodies of a plan's walk."""

    section_macro: str
    """The C expression naming the section in errors."""
    local_expr: CExpr
    state_expr: CExpr
    prefix: str
    """`vfg_<section>`, the start of the section's file-scope names."""
    valid_of: Callable[[str], str]
    """The name of an enum's `valid` function."""
    items: list[str] = field(default_factory=list)
    """Static item tables (`struct vfg_item`) the bodies refer to."""
    layout_checks: dict[str, str] = field(default_factory=dict)
    """File-scope compile-time checks that a bulk-copied array's element has its wire size, by array path."""
    keep: frozenset[str] = frozenset()
    """Top-level registers the check keeps besides those the plan reads: the descriptor's sources."""

    def idx(self, w: Writer, path: str) -> str:
        """The indices argument of an error about `path`: `idx` inside an array, else NULL."""
        if "[]" not in path:
            return "NULL"
        w.use("idx")
        return "idx"

    def fail(self, w: Writer, path: str, offset: str, status: str, message: str) -> None:
        w(report(self.section_macro, path, self.idx(w, path), offset, status, message))

    def item_table(self, leaves: tuple[Leaf, ...]) -> str:
        name = f"items{len(self.items)}"
        entries = "".join(f'    {{"{leaf.path}", {leaf.rel}u, {leaf.size}u}},\n' for leaf in leaves)
        self.items.append(f"static const struct vfg_item {name}[] = {{\n{entries}}};")
        return name

    def bulk_copy(self, array: Array, count: str, w: Writer, save: bool) -> None:
        """Print the one-call copy of an array whose element's C layout is its wire words (`Array.word`), after
        a file-scope compile-time check that the element is as big in C as on the wire."""
        assert array.element_size is not None and array.word
        name = f"{self.prefix}_{array.path.replace('[]', '').replace('.', '_')}_is_wire_sized"
        target = lvalue(array.member)
        element = re.sub(r"\[i\d+\]", "[0]", target)
        check = f"VFG_STATIC_ASSERT({name}, sizeof(((struct {self.prefix}_state *)0)->{element}[0]) == " \
                f"{array.element_size}u);"
        self.layout_checks.setdefault(array.path, "\n".join(wrap.statement(check, 0)))
        words, width = _times(count, array.element_size // array.word), f"{array.word}u"
        if save:
            w(f"vfg_put_be_array(buf + o, s->{target}, {words}, {width});")
        else:
            w(f"vfg_get_be_array(s->{target}, b + o, {words}, {width});")
        w(f"o += {count} * {array.element_size}u;")

    # --- check ---------------------------------------------------------------------------------

    def check(self, steps: tuple[Step, ...], w: Writer) -> None:
        for step in steps:
            if isinstance(step, Run):
                self.check_run(step, w)
            elif isinstance(step, Cond):
                # No else: an absent field's local keeps its initial 0, as the loader's default.
                with w.block(f"if ({self.condition(step.present, self.local_expr, w, 'start')})"):
                    self.check(step.body, w)
            elif isinstance(step, Struct):
                self.check(step.body, w)
            else:
                self.check_array(step, w)

    def condition(self, expr: Expr, render: CExpr, w: Writer, start: str) -> str:
        return evaluate(w, render, expr, lambda: self.fail(w, "", start, "VFG_ERR_EXPRESSION",
                                                           "a presence expression cannot be evaluated"))

    def check_run(self, run: Run, w: Writer) -> None:
        leaves = run.leaves
        with w.block(f"if (end - o < {run.size}u)"):
            if len(leaves) == 1:
                self.fail(w, leaves[0].path, "o", "VFG_ERR_TRUNCATED", "truncated: the payload ends inside this field")
            else:
                table = self.item_table(leaves)
                paths = "".join(leaf.path for leaf in leaves)
                w(f"return vfg_fail_cut(err, {self.section_macro}, {table}, {len(leaves)}u, "
                  f"{self.idx(w, paths)}, o, end);")
        for leaf in leaves:
            self.check_leaf(leaf, w)
        w(f"o += {run.size}u;")

    def check_leaf(self, leaf: Leaf, w: Writer) -> None:
        if leaf.kind is LeafKind.BYTES:
            return
        at = _at("o", leaf.rel)
        raw = f"{GET[leaf.size]}(b + {at})"
        if leaf.kind is LeafKind.BOOL:
            with w.block(f"if ({raw} > 1u)"):
                self.fail(w, leaf.path, at, "VFG_ERR_BOOL", "bool byte is not 0 or 1")
        if leaf.read or (len(leaf.member) == 1 and leaf.member[0] in self.keep):
            value = f"f_{leaf.member[0]}"
            converted = raw if leaf.kind is LeafKind.UINT else (
                f"{raw} == 1u" if leaf.kind is LeafKind.BOOL else f"vfg_s{leaf.size * 8}({raw})")
            w(f"{value} = {converted};")
        else:
            value = raw
        self.value_checks(leaf, value, w, lambda status, message: self.fail(w, leaf.path, at, status, message))

    def value_checks(self, leaf: Leaf, value: str, w: Writer, fail: Callable[[str, str], None]) -> None:
        """The checks of a leaf's value a loader makes and a save repeats (reserved bits, enum values)."""
        if leaf.reserved:
            with w.block(f"if (({value} & {naming.literal(leaf.reserved, leaf.size * 8)}) != 0u)"):
                fail("VFG_ERR_RESERVED", "reserved bits set")
        for check in leaf.enum_checks:
            shifted = f"({value} >> {check.lo})" if check.lo else value
            with w.block(f"if (!{self.valid_of(check.enum)}((uint64_t)({shifted} & "
                         f"{naming.literal(check.mask, leaf.size * 8)})))"):
                fail("VFG_ERR_ENUM", "a field is not a value of its enum")
        if leaf.enum:
            with w.block(f"if (!{self.valid_of(leaf.enum)}((uint64_t){value}))"):
                fail("VFG_ERR_ENUM", "not a value of its enum")

    def count(self, array: Array, render: CExpr, w: Writer, fail_status: str, on_bad: str) -> str:
        """Evaluate the array's length into `n<depth>` and check it against the maximum; returns the count."""
        n = f"n{array.depth}"
        w.use(n)
        text = w.expr(render, array.length)
        w(f"{n} = {text};")
        if render.checked:
            with w.block("if (bad)"):
                self.fail(w, array.path, "o", "VFG_ERR_EXPRESSION", on_bad)
        bounds = ([f"{n} < 0"] if array.count_can_be_negative else []) + (
            [f"{n} > {array.max}"] if array.count_can_exceed_max else [])
        if bounds:
            with w.block(f"if ({' || '.join(bounds)})"):
                self.fail(w, array.path, "o", fail_status, "count is outside 0..max")
        return f"(size_t){n}"

    def check_array(self, array: Array, w: Writer) -> None:
        count = self.count(array, self.local_expr, w, "VFG_ERR_COUNT", "length cannot be evaluated")
        if array.depth == 0 and array.member[0] in self.keep:
            # A byte string a descriptor field is taken from: where its bytes are, for the check against it.
            w(f"at_{array.member[0]} = o;")
            w(f"n_{array.member[0]} = {count};")
        if not array.checked:
            assert array.element_size is not None
            with w.block(f"if ((end - o) / {array.element_size}u < {count})"):
                table = self.item_table(array.element_leaves)
                outer = "NULL"
                if array.depth:
                    outer = "idx"
                    w.use(outer)
                w(f"return vfg_fail_cut_array(err, {self.section_macro}, {table}, {len(array.element_leaves)}u, "
                  f"{array.element_size}u, {outer}, {array.depth}u, o, end);")
            w(f"o += {count} * {array.element_size}u;")
            return
        index = f"idx[{array.depth}]"
        w.use("idx")
        with w.block(f"for ({index} = 0; {index} < {count}; {index}++)"):
            self.check(array.body, w)

    # --- store ---------------------------------------------------------------------------------

    def store(self, steps: tuple[Step, ...], w: Writer) -> None:
        for step in steps:
            if isinstance(step, Run):
                for leaf in step.leaves:
                    self.store_leaf(leaf, w)
                w(f"o += {step.size}u;")
            elif isinstance(step, Cond):
                with w.block(f"if ({w.expr(self.state_expr, step.present)})"):
                    self.store(step.body, w)
                with w.block("else"):
                    for guard in step.guards:
                        if not guard.carried:
                            continue
                        target = lvalue(guard.member)
                        if guard.scalar:
                            w(f"s->{target} = 0;")
                        else:
                            w(f"memset(&s->{target}, 0, sizeof s->{target});")
            elif isinstance(step, Struct):
                self.store(step.body, w)
            else:
                n = f"n{step.depth}"
                w.use(n)
                w(f"{n} = {w.expr(self.state_expr, step.length)};")
                index = f"i{step.depth}"
                if not step.carried and step.element_size is not None:
                    w(f"o += (size_t){n} * {step.element_size}u;")
                    continue
                if step.word:
                    self.bulk_copy(step, f"(size_t){n}", w, save=False)
                    continue
                w.use(index)
                with w.block(f"for ({index} = 0; {index} < (size_t){n}; {index}++)"):
                    self.store(step.body, w)

    def store_leaf(self, leaf: Leaf, w: Writer) -> None:
        if not leaf.carried:
            return
        at = f"b + {_at('o', leaf.rel)}"
        target = f"s->{lvalue(leaf.member)}"
        if leaf.kind is LeafKind.BYTES:
            w(f"memcpy({target}, {at}, {leaf.size}u);")
        elif leaf.kind is LeafKind.BOOL:
            w(f"{target} = {GET[1]}({at}) == 1u;")
        elif leaf.kind is LeafKind.SINT:
            w(f"{target} = vfg_s{leaf.size * 8}({GET[leaf.size]}({at}));")
        else:
            w(f"{target} = {GET[leaf.size]}({at});")

    # --- save ----------------------------------------------------------------------------------

    def save_check(self, leaf: Leaf, w: Writer) -> None:
        """Refuse at save what a loader would refuse of this leaf (reserved bits, a value outside its enum), so
        save never writes a payload its own load rejects."""
        if not leaf.carried or not leaf.value_checked:
            return
        self.value_checks(leaf, f"s->{lvalue(leaf.member)}", w,
                          lambda status, message: self.save_fail(w, leaf.path, status, message))

    def save_fail(self, w: Writer, path: str, status: str, message: str) -> None:
        """Report a save error about `path`; inside element loops (over i<depth>) its indices are idx."""
        for depth in range(path.count("[]")):
            w.use("idx")
            w(f"idx[{depth}] = i{depth};")
        self.fail(w, path, "0u", status, message)

    def absent_check(self, guard: Guarded, w: Writer) -> None:
        """Refuse at save a field absent on the device that holds a value (what load would not give back)."""
        with w.block(f"if ({holds_a_value(f's->{lvalue(guard.member)}', guard.scalar)})"):
            self.save_fail(w, guard.path, "VFG_ERR_ABSENT",
                           "is absent on this device (its presence is false) but holds a value")

    def save(self, steps: tuple[Step, ...], w: Writer) -> None:
        for step in steps:
            if isinstance(step, Run):
                with w.block(f"if (cap - o < {step.size}u)"):
                    self.fail(w, step.leaves[0].path, "o", "VFG_ERR_NO_SPACE", "the output buffer is too small")
                for leaf in step.leaves:
                    self.save_check(leaf, w)
                for leaf in step.leaves:
                    self.save_leaf(leaf, leaf.rel, w)
                w(f"o += {step.size}u;")
            elif isinstance(step, Cond):
                text = self.condition(step.present, self.state_expr, w, "o")
                with w.block(f"if ({text})"):
                    self.save(step.body, w)
                guards = [guard for guard in step.guards if guard.carried]
                if guards:
                    # Absent: nothing goes on the wire, and a load gives back 0, so a value here would be lost.
                    with w.block("else"):
                        for guard in guards:
                            self.absent_check(guard, w)
            elif isinstance(step, Struct):
                self.save(step.body, w)
            else:
                count = self.count(step, self.state_expr, w, "VFG_ERR_COUNT", "length cannot be evaluated")
                if step.element_size is not None:
                    with w.block(f"if ((cap - o) / {step.element_size}u < {count})"):
                        self.fail(w, step.path, "o", "VFG_ERR_NO_SPACE", "the output buffer is too small")
                    index = f"i{step.depth}"
                    if step.word:
                        if any(leaf.value_checked for leaf in step.element_leaves):
                            w.use(index)
                            with w.block(f"for ({index} = 0; {index} < {count}; {index}++)"):
                                for leaf in step.element_leaves:
                                    self.save_check(leaf, w)
                        self.bulk_copy(step, count, w, save=True)
                        continue
                    w.use(index)
                    with w.block(f"for ({index} = 0; {index} < {count}; {index}++)"):
                        for leaf in step.element_leaves:
                            self.save_check(leaf, w)
                        for leaf in step.element_leaves:
                            self.save_leaf(leaf, leaf.rel, w)
                        w(f"o += {step.element_size}u;")
                else:
                    index = f"idx[{step.depth}]"
                    w.use("idx", f"i{step.depth}")
                    with w.block(f"for ({index} = 0; {index} < {count}; {index}++)"):
                        w(f"i{step.depth} = {index};")
                        self.save(step.body, w)

    def save_leaf(self, leaf: Leaf, rel: int, w: Writer) -> None:
        at = f"buf + {_at('o', rel)}"
        target = lvalue(leaf.member) if leaf.carried else ""
        value = f"s->{target}" if target else str(leaf.gone)
        if leaf.kind is LeafKind.BYTES:
            if target:
                w(f"memcpy({at}, {value}, {leaf.size}u);")
            else:
                w(f"memset({at}, 0, {leaf.size}u);")
            return
        bits = leaf.size * 8
        if leaf.kind is LeafKind.BOOL:
            w(f"{PUT[1]}({at}, (uint8_t)({value} ? 1u : 0u));")
        elif leaf.kind is LeafKind.SINT or not target:
            w(f"{PUT[leaf.size]}({at}, (uint{bits}_t){value});")
        else:
            w(f"{PUT[leaf.size]}({at}, {value});")
