"""The wire walk of one section version, as a tree the C function bodies are printed from.

Load runs in two passes so that a failed load leaves the caller's state
untouched without a second copy of it: `check` reads every byte, decodes the
values expressions need into locals and checks everything the Python loader
checks, in the same order (so both name the same field at the same offset);
`store` then decodes the same bytes, which are known good, straight into the
caller's state. Arrays whose elements need no checks (plain integers and
bytes, as the MSI-X table) are only bounds-checked by `check`, so the
common case reads the payload about once.

Consecutive fixed-size items that are always present form a `Run`, checked
for truncation as one, exactly as the Python loader merges them into one
`struct.Struct`, so a truncation names the same (first cut) item in both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from vfiogen.backends.c import naming
from vfiogen.backends.c.cexpr import CExpr
from vfiogen.ir.expr import Expr
from vfiogen.ir.nodes import ArrayType, BytesType, FieldType, Register, ScalarType, StateField, StructType
from vfiogen.ir.symbols import SectionSymbols
from vfiogen.ir.types import ScalarKind
from vfiogen.passes.normalize import register_masks


@dataclass(frozen=True)
class Leaf:
    """One fixed-size value on the wire."""

    path: str
    """Error path; "[]" stands for each enclosing array's index."""
    kind: str
    """'uint' (registers too), 'sint', 'bool' or 'bytes'."""
    size: int
    lvalue: str
    """Where it lives in the state, relative to `s->` (`vectors[i1].data`); '' when the state no longer has it."""
    top: str = ""
    """For a top-level scalar: its name (the check pass keeps it in local `f_<name>`)."""
    reserved: int = 0
    enum_fields: tuple[tuple[int, int, str], ...] = ()
    """(lo, mask, valid function) of bit fields with an enum that does not cover every value."""
    enum_valid: str = ""
    """The valid function of a whole-value enum."""
    gone_value: str = "0"
    """What save writes when the state no longer has the field."""

    @property
    def checked(self) -> bool:
        return bool(self.reserved or self.enum_fields or self.enum_valid or self.kind == "bool")


@dataclass(frozen=True)
class Run:
    leaves: tuple[Leaf, ...]

    @property
    def size(self) -> int:
        return sum(leaf.size for leaf in self.leaves)


@dataclass(frozen=True)
class Cond:
    present: Expr
    body: tuple[Node, ...]
    absent: tuple[tuple[str, str], ...]
    """(lvalue, C default) set when absent; top-level scalars also reset their local."""


@dataclass(frozen=True)
class Array:
    path: str
    lvalue: str
    length: Expr
    max: int
    depth: int
    body: tuple[Node, ...]
    element_size: int | None
    """Bytes per element when fixed."""
    element_items: tuple[tuple[str, int, int], ...] = ()
    """For fixed elements: (path, offset in the element, size) of each leaf, to name a cut element."""
    word: int = 0
    """Bytes per word when the element's C layout is its wire bytes with each word in host order (integers
    of one width, or bytes): store and save then move the whole array with one byte-swapping copy. 0 when
    not, or when the state no longer has the array."""

    @property
    def index(self) -> str:
        return f"idx[{self.depth}]"

    @property
    def checked(self) -> bool:
        return self.element_size is None or any(_needs_check(node) for node in self.body)


Node = Run | Cond | Array


def _needs_check(node: Node) -> bool:
    if isinstance(node, Run):
        return any(leaf.checked for leaf in node.leaves)
    return True  # a nested array or condition: checked element by element


def _leaves(nodes: tuple[Node, ...]) -> Iterator[Leaf]:
    for node in nodes:
        if isinstance(node, Run):
            yield from node.leaves
        elif isinstance(node, Cond):
            yield from _leaves(node.body)


def _merge(nodes: list[Node]) -> tuple[Node, ...]:
    merged: list[Node] = []
    for node in nodes:
        if isinstance(node, Run) and merged and isinstance(merged[-1], Run):
            merged[-1] = Run(merged[-1].leaves + node.leaves)
        else:
            merged.append(node)
    return tuple(merged)


def _wire_word(element: FieldType) -> int:
    """The `Array.word` of an array of `element`."""
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


def scalar_leaf_kind(kind: ScalarKind) -> str:
    if kind is ScalarKind.BOOL:
        return "bool"
    return "sint" if kind.signed else "uint"


class WalkBuilder:
    """Builds the node tree of one version of a section."""

    def __init__(self, section_name: str, table: SectionSymbols, valid_of: Callable[[str], str]) -> None:
        self.section_name = section_name
        self.table = table
        self.valid_of = valid_of

    def enum_covers(self, enum: str, bits: int) -> bool:
        return {v.value for v in self.table.enums[enum].values} >= set(range(1 << bits))

    def register_leaf(self, register: Register, current: bool) -> Leaf:
        masks = register_masks(register)
        enum_fields = tuple((f.lo, (1 << f.width) - 1, self.valid_of(f.enum)) for f in register.fields
                            if f.enum and not f.access.reserved and not self.enum_covers(f.enum, f.width))
        enum_valid = self.valid_of(register.enum) if register.enum and not register.fields else ""
        return Leaf(path=register.name, kind="uint", size=register.width // 8,
                    lvalue=naming.ident(register.name) if current else "", top=register.name,
                    reserved=masks.reserved if register.fields else 0, enum_fields=enum_fields,
                    enum_valid=enum_valid, gone_value=str(register.versioning.default or 0))

    def field_nodes(self, path: str, lvalue: str, field_type: FieldType, enum: str | None, depth: int,
                    top: str, current: bool, default: int | None) -> list[Node]:
        if isinstance(field_type, ScalarType):
            kind = field_type.kind
            return [Run((Leaf(path=path, kind=scalar_leaf_kind(kind), size=kind.size,
                              lvalue=lvalue if current else "", top=top,
                              enum_valid=self.valid_of(enum) if enum else "",
                              gone_value=str(int(default or 0))),))]
        if isinstance(field_type, BytesType):
            return [Run((Leaf(path=path, kind="bytes", size=field_type.size, lvalue=lvalue if current else ""),))]
        if isinstance(field_type, ArrayType):
            index = f"i{depth}"
            body = _merge(self.field_nodes(f"{path}[]", f"{lvalue}[{index}]", field_type.element, None,
                                           depth + 1, "", current, None))
            element_size = _fixed_size(body)
            items: tuple[tuple[str, int, int], ...] = ()
            if element_size is not None:
                rel, collected = 0, []
                for leaf in _leaves(body):
                    collected.append((leaf.path, rel, leaf.size))
                    rel += leaf.size
                items = tuple(collected)
            return [Array(path=path, lvalue=lvalue if current else "", length=field_type.length,
                          max=field_type.max, depth=depth, body=body, element_size=element_size,
                          element_items=items, word=_wire_word(field_type.element) if current else 0)]
        assert isinstance(field_type, StructType)
        nodes: list[Node] = []
        for member in field_type.members:
            member_lvalue = f"{lvalue}.{naming.ident(member.name)}"
            member_nodes = self.field_nodes(f"{path}.{member.name}", member_lvalue, member.type, member.enum, depth,
                                            "", current, None)
            if member.present is None:
                nodes.extend(member_nodes)
            else:
                # Like a top-level field: on the wire only when its presence (over top-level fields) holds.
                struct_like = not isinstance(member.type, ScalarType)
                nodes.append(Cond(member.present, tuple(_merge(member_nodes)),
                                  ((member_lvalue, "zero" if struct_like else "0"),) if current else ()))
        return list(_merge(nodes))

    def version(self, registers: tuple[Register, ...], state: tuple[StateField, ...], version: int,
                newest: int) -> tuple[Node, ...]:
        nodes: list[Node | _Fence] = []
        for register in registers:
            if not register.versioning.carried_by(version):
                continue
            run = Run((self.register_leaf(register, register.versioning.carried_by(newest)),))
            if register.present is not None:
                nodes.append(Cond(register.present, (run,), ((naming.ident(register.name), "0"),)))
            else:
                nodes.append(run)
        for item in state:
            if not item.versioning.carried_by(version):
                continue
            current = item.versioning.carried_by(newest)
            top = item.name if isinstance(item.type, ScalarType) else ""
            body = self.field_nodes(item.name, naming.ident(item.name), item.type, item.enum, 0, top, current,
                                    item.versioning.default)
            if item.present is not None:
                struct_like = not isinstance(item.type, ScalarType)
                nodes.append(Cond(item.present, tuple(_merge(body)),
                                  ((naming.ident(item.name), "zero" if struct_like else "0"),)))
            else:
                # A struct's members form their own runs: the Python loader reads a struct apart from its neighbours.
                nodes.extend(body if not isinstance(item.type, StructType) else [_Fence(), *body, _Fence()])
        return _merge_fenced(nodes)


class _Fence:
    """Keeps runs on either side apart."""


def _merge_fenced(nodes: list[Node | _Fence]) -> tuple[Node, ...]:
    merged: list[Node] = []
    fenced = False
    for node in nodes:
        if isinstance(node, _Fence):
            fenced = True
            continue
        if isinstance(node, Run) and merged and isinstance(merged[-1], Run) and not fenced:
            merged[-1] = Run(merged[-1].leaves + node.leaves)
        else:
            merged.append(node)
        fenced = False
    return tuple(merged)


def _fixed_size(nodes: tuple[Node, ...]) -> int | None:
    total = 0
    for node in nodes:
        if not isinstance(node, Run):
            return None
        total += node.size
    return total


# --- printing ---------------------------------------------------------------------------------------


class Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1

    def __call__(self, text: str) -> None:
        self.lines.append("    " * self.depth + text if text else "")

    @contextmanager
    def block(self, head: str) -> Iterator[None]:
        self(head + " {")
        self.depth += 1
        yield
        self.depth -= 1
        self("}")

    def text(self) -> str:
        return "\n".join(self.lines)


_GET = {1: "vfg_get8", 2: "vfg_get_be16", 4: "vfg_get_be32", 8: "vfg_get_be64"}
_PUT = {1: "vfg_put8", 2: "vfg_put_be16", 4: "vfg_put_be32", 8: "vfg_put_be64"}


def evaluate(w: Writer, render: CExpr, expr: Expr, on_bad: str, into: str = "present", reset: bool = False) -> str:
    """Print what evaluating `expr` takes and return the C text of its value.

    An expression with checked arithmetic is evaluated into the local `into`, and `on_bad` (a statement)
    runs when it overflowed, divided by zero or shifted out of range; `reset` clears `bad` first, for
    functions that go on after a failure (validate). An unchecked expression is returned as it is.
    """
    text = render(expr)
    if not render.checked:
        return text
    if reset:
        w("bad = false;")
    w(f"{into} = {text};")
    with w.block("if (bad)"):
        w(on_bad)
    return into


def _times(count: str, factor: int) -> str:
    return count if factor == 1 else f"{count} * {factor}u"


def _at(offset: str, rel: int) -> str:
    return f"{offset} + {rel}" if rel else offset


@dataclass
class Printer:
    """Prints the check, store and save bodies of one node tree."""

    section_macro: str
    """The C expression naming the section in errors."""
    local_expr: CExpr
    state_expr: CExpr
    prefix: str
    """`vfg_<section>`, the start of the section's file-scope names."""
    items: list[str] = field(default_factory=list)
    """Static item tables (`struct vfg_item`) the bodies refer to."""
    layout_checks: dict[str, str] = field(default_factory=dict)
    """File-scope compile-time checks that a bulk-copied array's element has its wire size, by array path."""

    def idx(self, path: str) -> str:
        return "idx" if "[]" in path else "NULL"

    def fail(self, path: str, offset: str, status: str, message: str) -> str:
        return (f"return vfg_fail(err, {self.section_macro}, \"{path}\", {self.idx(path)}, {offset}, "
                f"{status}, \"{message}\");")

    def item_table(self, entries: tuple[tuple[str, int, int], ...]) -> str:
        name = f"items{len(self.items)}"
        body = ", ".join(f'{{"{path}", {rel}u, {size}u}}' for path, rel, size in entries)
        self.items.append(f"static const struct vfg_item {name}[] = {{ {body} }};")
        return name

    def bulk_copy(self, array: Array, count: str, w: Writer, save: bool) -> None:
        """Print the one-call copy of an array whose element's C layout is its wire words (`Array.word`), after
        a file-scope compile-time check that the element is as big in C as on the wire."""
        assert array.element_size is not None and array.word
        name = f"{self.prefix}_{array.path.replace('[]', '').replace('.', '_')}_is_wire_sized"
        element = re.sub(r"\[i\d+\]", "[0]", array.lvalue)
        self.layout_checks.setdefault(array.path, f"VFG_STATIC_ASSERT({name}, sizeof (((struct {self.prefix}_state *)"
                                      f"0)->{element}[0]) == {array.element_size}u);")
        words, width = _times(count, array.element_size // array.word), f"{array.word}u"
        if save:
            w(f"vfg_put_be_array(buf + o, s->{array.lvalue}, {words}, {width});")
        else:
            w(f"vfg_get_be_array(s->{array.lvalue}, b + o, {words}, {width});")
        w(f"o += {count} * {array.element_size}u;")

    # --- check ---------------------------------------------------------------------------------

    def check(self, nodes: tuple[Node, ...], w: Writer) -> None:
        for node in nodes:
            if isinstance(node, Run):
                self.check_run(node, w)
            elif isinstance(node, Cond):
                # No else: an absent field's local keeps its initial 0, as the loader's default.
                with w.block(f"if ({self.condition(node.present, self.local_expr, w, 'start')})"):
                    self.check(node.body, w)
            else:
                self.check_array(node, w)

    def condition(self, expr: Expr, render: CExpr, w: Writer, start: str) -> str:
        return evaluate(w, render, expr,
                        self.fail("", start, "VFG_ERR_EXPRESSION", "a presence expression cannot be evaluated"))

    def check_run(self, run: Run, w: Writer) -> None:
        leaves = run.leaves
        with w.block(f"if (end - o < {run.size}u)"):
            if len(leaves) == 1:
                w(self.fail(leaves[0].path, "o", "VFG_ERR_TRUNCATED", "truncated: the payload ends inside this field"))
            else:
                rel, entries = 0, []
                for leaf in leaves:
                    entries.append((leaf.path, rel, leaf.size))
                    rel += leaf.size
                table = self.item_table(tuple(entries))
                paths = "".join(leaf.path for leaf in leaves)
                w(f"return vfg_fail_cut(err, {self.section_macro}, {table}, {len(leaves)}u, "
                  f"{self.idx(paths)}, o, end);")
        rel = 0
        for leaf in leaves:
            self.check_leaf(leaf, rel, w)
            rel += leaf.size
        w(f"o += {run.size}u;")

    def check_leaf(self, leaf: Leaf, rel: int, w: Writer) -> None:
        if leaf.kind == "bytes":
            return
        raw = f"{_GET[leaf.size]}(b + {_at('o', rel)})"
        if leaf.top:
            value = f"f_{leaf.top}"
            converted = raw if leaf.kind == "uint" else (
                f"{raw} == 1u" if leaf.kind == "bool" else f"vfg_s{leaf.size * 8}({raw})")
            if leaf.kind == "bool":
                with w.block(f"if ({raw} > 1u)"):
                    w(self.fail(leaf.path, _at("o", rel), "VFG_ERR_BOOL", "bool byte is not 0 or 1"))
            w(f"{value} = {converted};")
        else:
            value = raw
            if leaf.kind == "bool":
                with w.block(f"if ({raw} > 1u)"):
                    w(self.fail(leaf.path, _at("o", rel), "VFG_ERR_BOOL", "bool byte is not 0 or 1"))
        if leaf.reserved:
            with w.block(f"if (({value} & {naming.literal(leaf.reserved, leaf.size * 8)}) != 0u)"):
                w(self.fail(leaf.path, _at("o", rel), "VFG_ERR_RESERVED", "reserved bits set"))
        for lo, mask, valid in leaf.enum_fields:
            shifted = f"({value} >> {lo})" if lo else value
            with w.block(f"if (!{valid}((uint64_t)({shifted} & {naming.literal(mask, leaf.size * 8)})))"):
                w(self.fail(leaf.path, _at("o", rel), "VFG_ERR_ENUM", "a field is not a value of its enum"))
        if leaf.enum_valid:
            with w.block(f"if (!{leaf.enum_valid}((uint64_t){value}))"):
                w(self.fail(leaf.path, _at("o", rel), "VFG_ERR_ENUM", "not a value of its enum"))

    def count(self, array: Array, render: CExpr, w: Writer, fail_status: str, on_bad: str) -> str:
        """Evaluate the array's length into `n<depth>` and check it against the maximum; returns the count."""
        n = f"n{array.depth}"
        text = render(array.length)
        w(f"{n} = {text};")
        if render.checked:
            with w.block("if (bad)"):
                w(self.fail(array.path, "o", "VFG_ERR_EXPRESSION", on_bad))
        with w.block(f"if ({n} < 0 || {n} > {array.max})"):
            w(self.fail(array.path, "o", fail_status, "count is outside 0..max"))
        return f"(size_t){n}"

    def check_array(self, array: Array, w: Writer) -> None:
        count = self.count(array, self.local_expr, w, "VFG_ERR_COUNT", "length cannot be evaluated")
        if not array.checked:
            assert array.element_size is not None
            with w.block(f"if ((end - o) / {array.element_size}u < {count})"):
                table = self.item_table(array.element_items)
                outer = "idx" if array.depth else "NULL"
                w(f"return vfg_fail_cut_array(err, {self.section_macro}, {table}, {len(array.element_items)}u, "
                  f"{array.element_size}u, {outer}, {array.depth}u, o, end);")
            w(f"o += {count} * {array.element_size}u;")
            return
        with w.block(f"for ({array.index} = 0; {array.index} < {count}; {array.index}++)"):
            self.check(array.body, w)

    # --- store ---------------------------------------------------------------------------------

    def store(self, nodes: tuple[Node, ...], w: Writer) -> None:
        for node in nodes:
            if isinstance(node, Run):
                rel = 0
                for leaf in node.leaves:
                    self.store_leaf(leaf, rel, w)
                    rel += leaf.size
                w(f"o += {node.size}u;")
            elif isinstance(node, Cond):
                with w.block(f"if ({self.state_expr(node.present)})"):
                    self.store(node.body, w)
                with w.block("else"):
                    for lvalue, default in node.absent:
                        if default == "zero":
                            w(f"memset(&s->{lvalue}, 0, sizeof s->{lvalue});")
                        else:
                            w(f"s->{lvalue} = {default};")
            else:
                n = f"n{node.depth}"
                w(f"{n} = {self.state_expr(node.length)};")
                index = f"i{node.depth}"
                if not node.lvalue and node.element_size is not None:
                    w(f"o += (size_t){n} * {node.element_size}u;")
                    continue
                if node.word:
                    self.bulk_copy(node, f"(size_t){n}", w, save=False)
                    continue
                with w.block(f"for ({index} = 0; {index} < (size_t){n}; {index}++)"):
                    self.store(node.body, w)

    def store_leaf(self, leaf: Leaf, rel: int, w: Writer) -> None:
        if not leaf.lvalue:
            return
        at = f"b + {_at('o', rel)}"
        target = f"s->{leaf.lvalue}"
        if leaf.kind == "bytes":
            w(f"memcpy({target}, {at}, {leaf.size}u);")
        elif leaf.kind == "bool":
            w(f"{target} = {_GET[1]}({at}) == 1u;")
        elif leaf.kind == "sint":
            w(f"{target} = vfg_s{leaf.size * 8}({_GET[leaf.size]}({at}));")
        else:
            w(f"{target} = {_GET[leaf.size]}({at});")

    # --- save ----------------------------------------------------------------------------------

    def save(self, nodes: tuple[Node, ...], w: Writer) -> None:
        for node in nodes:
            if isinstance(node, Run):
                with w.block(f"if (cap - o < {node.size}u)"):
                    w(self.fail(node.leaves[0].path, "o", "VFG_ERR_NO_SPACE", "the output buffer is too small"))
                rel = 0
                for leaf in node.leaves:
                    self.save_leaf(leaf, rel, w)
                    rel += leaf.size
                w(f"o += {node.size}u;")
            elif isinstance(node, Cond):
                text = self.condition(node.present, self.state_expr, w, "o")
                with w.block(f"if ({text})"):
                    self.save(node.body, w)
            else:
                count = self.count(node, self.state_expr, w, "VFG_ERR_COUNT", "length cannot be evaluated")
                if node.element_size is not None:
                    with w.block(f"if ((cap - o) / {node.element_size}u < {count})"):
                        w(self.fail(node.path, "o", "VFG_ERR_NO_SPACE", "the output buffer is too small"))
                    if node.word:
                        self.bulk_copy(node, count, w, save=True)
                        continue
                    index = f"i{node.depth}"
                    with w.block(f"for ({index} = 0; {index} < {count}; {index}++)"):
                        rel = 0
                        for leaf in _leaves(node.body):
                            self.save_leaf(leaf, rel, w)
                            rel += leaf.size
                        w(f"o += {node.element_size}u;")
                else:
                    with w.block(f"for ({node.index} = 0; {node.index} < {count}; {node.index}++)"):
                        w(f"i{node.depth} = {node.index};")
                        self.save(node.body, w)

    def save_leaf(self, leaf: Leaf, rel: int, w: Writer) -> None:
        at = f"buf + {_at('o', rel)}"
        value = f"s->{leaf.lvalue}" if leaf.lvalue else leaf.gone_value
        if leaf.kind == "bytes":
            if leaf.lvalue:
                w(f"memcpy({at}, {value}, {leaf.size}u);")
            else:
                w(f"memset({at}, 0, {leaf.size}u);")
            return
        bits = leaf.size * 8
        if leaf.kind == "bool":
            w(f"{_PUT[1]}({at}, (uint8_t)({value} ? 1u : 0u));")
        elif leaf.kind == "sint" or not leaf.lvalue:
            w(f"{_PUT[leaf.size]}({at}, (uint{bits}_t){value});")
        else:
            w(f"{_PUT[leaf.size]}({at}, {value});")
