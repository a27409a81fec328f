"""Lay registers out in configuration space (pass after `typecheck`).

Expects: typed expressions. Guarantees on exit: bit ranges are well formed,
inside their register and disjoint; capabilities fit their configuration
space; and for every combination of the read-only bits that offsets and
presence depend on, the present registers are aligned, inside the
capability and disjoint. Bits that only presence reads are enumerated with
the others while the combinations stay under MAX_CASES; past that (a
header's six BAR slots chain their presence through 15 type bits) two
registers that meet are checked for co-presence over their own presence
inputs only. Offsets are evaluated, not guessed, so MSI's `data`
moving with `addr64` is checked in both shapes.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from vfiogen.context import Context
from vfiogen.diagnostics import Note
from vfiogen.ir.evaluate import EvaluationError, Value, compiled, evaluate, section_constants
from vfiogen.ir.expr import Expr, refs
from vfiogen.ir.nodes import ArrayType, BitField, Module, Param, Register, Section, StateField
from vfiogen.ir.symbols import SectionSymbols
from vfiogen.ir.types import CONFIG_SPACE_BASE, CONFIG_SPACE_SIZE, LocationKind

# Beyond this many combinations an offset is not checked exhaustively; real
# capabilities move registers on one or two bits.
MAX_CASES = 4096


@dataclass(frozen=True, slots=True)
class Placement:
    """Where each present register sits for one combination of the bits offsets depend on."""

    condition: tuple[tuple[str, Value], ...]
    offsets: tuple[tuple[Register, int], ...]
    failures: tuple[tuple[Register, str], ...] = ()
    """Registers whose offset cannot be evaluated here, with the reason."""

    def describe(self) -> str:
        return ", ".join(f"{name} = {int(value)}" for name, value in self.condition)


def _domain(table: SectionSymbols, name: str, bindings: Mapping[str, int]) -> list[Value] | None:
    symbol = table.symbols.get(name)
    if symbol is None:
        return None
    node = symbol.node
    if isinstance(node, BitField):
        return [False, True] if node.hi == node.lo else list(range(1 << max(0, node.hi - node.lo + 1)))
    if isinstance(node, Param):
        return [bindings.get(node.name, node.default)]
    if isinstance(node, Register):
        return list(range(1 << node.width)) if node.width <= 12 else None
    return None


def _case_inputs(section: Section, table: SectionSymbols,
                 bound: Mapping[str, int]) -> tuple[list[str], list[list[Value]]] | None:
    """The names a case fixes and each one's values: every enumerable input of an offset, then presence inputs
    while the product stays at most MAX_CASES (the rest are left to `co_present`). None when the offsets' inputs
    alone are too many."""
    names = _inputs(table, bound, [r.offset for r in section.registers])
    total = _combinations(table, bound, names)
    if total > MAX_CASES:
        return None
    for name in _inputs(table, bound, [r.present for r in section.registers if r.present is not None]):
        size = len(_domain(table, name, bound) or [])
        if name not in names and total * size <= MAX_CASES:
            names.append(name)
            total *= size
    return names, [_domain(table, name, bound) or [] for name in names]


_Where = tuple[bool, int | None, str | None]
"""One register under one assignment of its inputs: present, its offset, or why it has none."""


class _Register:
    """A register's placement as a function of only the names it reads, each assignment evaluated once.

    The cases of a section are the product of every input's values, but a
    register reads one or two of them; evaluating its expressions once per
    assignment of its own inputs, not once per case, is what keeps the pass
    linear in practice (MSI-X and friends have a few hundred cases).
    """

    __slots__ = ("register", "indexes", "names", "pick", "env", "present", "offset", "memo", "fixed")

    def __init__(self, register: Register, names: list[str], constants: Mapping[str, Value]) -> None:
        self.register = register
        read = {ref.dotted for expr in (register.offset, register.present) if expr is not None
                for ref in refs(expr)}
        self.indexes = tuple(i for i, name in enumerate(names) if name in read)
        self.names = tuple(names[i] for i in self.indexes)
        # The register's own inputs out of a case's values (one value, not a tuple, when it reads one).
        self.pick = operator.itemgetter(*self.indexes) if self.indexes else None
        # One environment, its inputs overwritten for each assignment (every assignment sets all of them), and
        # the compiled expressions called directly: a register is evaluated up to 512 times (ACS's egress
        # control vectors read a bit and a size byte).
        self.env = dict(constants)
        self.present = compiled(register.present) if register.present is not None else None
        self.offset = compiled(register.offset)
        self.memo: dict[object, _Where] = {}
        self.fixed = None if self.indexes else self.evaluate(())
        """Where a register that reads no input sits, in every case (most registers)."""

    def where(self, values: tuple[Value, ...]) -> _Where:
        if self.fixed is not None:
            return self.fixed
        assert self.pick is not None
        key = self.pick(values)
        found = self.memo.get(key)
        if found is None:
            own = key if len(self.indexes) > 1 else (key,)
            found = self.memo[key] = self.evaluate(zip(self.names, own, strict=True))
        return found

    def column(self, domains: list[list[Value]], ordinals: list[int]) -> list[_Where]:
        """Where the register sits in every case, in `itertools.product(*domains)` order; `ordinals` gives
        each case's assignment of the register's own inputs (see `_ordinals`)."""
        if self.fixed is not None:
            own = [self.fixed]
        else:
            own = [self.own(key) for key in itertools.product(*(domains[i] for i in self.indexes))]
        return list(map(own.__getitem__, ordinals))

    def own(self, key: tuple[Value, ...]) -> _Where:
        """Where the register sits when its own inputs take the values `key`, in the order of `indexes`."""
        if self.fixed is not None:
            return self.fixed
        memo_key = key if len(key) > 1 else key[0]  # as `pick` gives it, so `where` finds it
        found = self.memo.get(memo_key)
        if found is None:
            found = self.memo[memo_key] = self.evaluate(zip(self.names, key, strict=True))
        return found

    def evaluate(self, own: Iterable[tuple[str, Value]]) -> _Where:
        env = self.env
        env.update(own)
        try:
            if self.present is not None and not self.present(env):
                return False, None, None
        except EvaluationError:
            pass  # presence on emulation state, or on an input no case fixes: assume present, the stricter check
        try:
            return True, int(self.offset(env)), None
        except EvaluationError as exc:
            return True, None, str(exc)


def placements(section: Section, table: SectionSymbols,
               bindings: Mapping[str, int] | None = None) -> Iterator[Placement] | None:
    """Every layout the section's registers can take, or None when there are too many to try.

    Params take the device's `bindings`, or their defaults.
    """
    cases = _cases(section, table, bindings or {})
    if cases is None:
        return None
    names, domains, registers = cases
    return (_placement(names, values, registers) for values in itertools.product(*domains))


def _cases(section: Section, table: SectionSymbols, bound: Mapping[str, int]) -> _Cases | None:
    """The names a case fixes, each one's values and every register's placement function; None when there
    are too many cases."""
    key = (id(section), id(table), tuple(sorted(bound.items())))
    kept = _CASES.get(key)
    if kept is not None and kept[0] is section and kept[1] is table:
        return kept[2]
    inputs = _case_inputs(section, table, bound)
    cases = None
    if inputs is not None:
        names, domains = inputs
        constants = section_constants(section, bound)
        cases = names, domains, [_Register(register, names, constants) for register in section.registers]
    if len(_CASES) >= 512:  # a test session compiles many modules: keep only recent ones
        _CASES.clear()
    _CASES[key] = (section, table, cases)
    return cases


_Cases = tuple[list[str], list[list[Value]], list[_Register]]
_CASES: dict[tuple[int, int, tuple[tuple[str, int], ...]], tuple[Section, SectionSymbols, _Cases | None]] = {}
"""`_cases` of each section, symbol table and bindings lately asked, by identity (both are kept, so their ids
are not reused; the IR is frozen): `normalize` asks for the offsets layout has just evaluated, and each
register's outcomes are remembered in its `_Register`."""


def _ordinals(indexes: tuple[int, ...], sizes: list[int]) -> list[int]:
    """For every case, in product order over domains of `sizes`, the position of its values at `indexes` in the
    product over those indexes' domains alone: a register's outcome for each case, found by list indexing."""
    ordinals = [0]
    for index, size in enumerate(sizes):
        if index in indexes:
            ordinals = [ordinal * size + value for ordinal in ordinals for value in range(size)]
        else:
            ordinals = [ordinal for ordinal in ordinals for _ in range(size)]
    return ordinals


def _placement(names: list[str], values: tuple[Value, ...], registers: list[_Register]) -> Placement:
    placed: list[tuple[Register, int]] = []
    failed: list[tuple[Register, str]] = []
    for entry in registers:
        _, offset, failure = entry.where(values)
        if offset is not None:
            placed.append((entry.register, offset))
        elif failure is not None:
            failed.append((entry.register, failure))
    return Placement(tuple(zip(names, values, strict=True)), tuple(placed), tuple(failed))


def register_offsets(section: Section, table: SectionSymbols,
                     bindings: Mapping[str, int]) -> dict[str, tuple[int, ...]] | None:
    """Each register's offsets over all cases where it is present, sorted (what `placements` would give).

    The inputs' values are independent, so every assignment of a register's
    own inputs occurs in some case: its offsets are found without walking
    the product of all inputs. None when layout would not enumerate the cases.
    """
    cases = _cases(section, table, bindings)
    return None if cases is None else _offsets_of(cases)


def _offsets_of(cases: _Cases) -> dict[str, tuple[int, ...]]:
    _, domains, registers = cases
    found: dict[str, tuple[int, ...]] = {}
    for entry in registers:
        offsets = {offset for own in itertools.product(*(domains[i] for i in entry.indexes))
                   if (offset := entry.own(own)[1]) is not None}
        found[entry.register.name] = tuple(sorted(offsets))
    return found


def _inputs(table: SectionSymbols, bound: Mapping[str, int], exprs: list[Expr | None]) -> list[str]:
    """The enumerable names `exprs` read, in first-use order."""
    names: list[str] = []
    for expr in exprs:
        for ref in refs(expr) if expr is not None else []:
            if ref.dotted not in names and _domain(table, ref.dotted, bound) is not None:
                names.append(ref.dotted)
    return names


def _combinations(table: SectionSymbols, bound: Mapping[str, int], names: list[str]) -> int:
    total = 1
    for name in names:
        total *= len(_domain(table, name, bound) or [])
    return total


def co_present(section: Section, table: SectionSymbols, case: Placement, first: Register,
               second: Register) -> bool:
    """Whether `first` and `second` can both be present in `case`, trying every value of the presence inputs
    the case leaves open (True when that is too many to try, or a presence cannot be evaluated)."""
    exprs = [r.present for r in (first, second) if r.present is not None]
    fixed = dict(case.condition)
    bound = {name.removeprefix("params."): int(value) for name, value in fixed.items()
             if name.startswith("params.")}
    names = [n for n in _inputs(table, bound, list(exprs)) if n not in fixed]
    if not names:
        return True  # the case decided both presences, and both held
    if _combinations(table, bound, names) > MAX_CASES:
        return True
    base: dict[str, Value] = {**section_constants(section, bound), **fixed}
    for values in itertools.product(*(_domain(table, n, bound) or [] for n in names)):
        env = {**base, **dict(zip(names, values, strict=True))}
        try:
            if all(evaluate(expr, env) for expr in exprs):
                return True
        except EvaluationError:
            return True
    return False


def _check_bit_fields(register: Register, ctx: Context) -> None:
    seen: list[BitField] = []
    for bit_field in register.fields:
        if bit_field.hi < bit_field.lo:
            ctx.reporter.report("VG0407", bit_field.span,
                                f"bit range '{bit_field.hi}:{bit_field.lo}' of '{register.name}.{bit_field.name}' "
                                f"is reversed; write the high bit first: '{bit_field.lo}:{bit_field.hi}'")
            continue
        if bit_field.hi >= register.width:
            ctx.reporter.report("VG0403", bit_field.span,
                                f"bit field '{register.name}.{bit_field.name}' uses bit {bit_field.hi}, beyond "
                                f"the {register.width}-bit register")
            continue
        for other in seen:
            if other.mask & bit_field.mask:
                overlap = other.mask & bit_field.mask
                lo = (overlap & -overlap).bit_length() - 1
                hi = overlap.bit_length() - 1
                ctx.reporter.report("VG0402", bit_field.span,
                                    f"bit field '{bit_field.name}' overlaps '{other.name}' in register "
                                    f"'{register.name}' (bits {hi}:{lo})" if hi != lo else
                                    f"bit field '{bit_field.name}' overlaps '{other.name}' in register "
                                    f"'{register.name}' (bit {lo})",
                                    Note(other.span, f"'{other.name}' declared here"))
                break
        seen.append(bit_field)


_KIND_NOUN = {LocationKind.HEADER: "header", LocationKind.CAPABILITY: "capability",
              LocationKind.DEVICE_SPECIFIC: "device-specific range",
              LocationKind.EXTENDED_CAPABILITY: "extended capability"}
_KIND_TEXT = {LocationKind.HEADER: "the header", LocationKind.CAPABILITY: "a standard capability",
              LocationKind.EXTENDED_CAPABILITY: "an extended capability"}


def _check_location(section: Section, ctx: Context) -> bool:
    location = section.location
    if location.kind is LocationKind.EMULATION:
        for register in section.registers:
            ctx.reporter.report("VG0404", register.span,
                                f"register '{register.name}' in emulation section '{section.name}', which has "
                                "no configuration space; declare it under 'state:'")
        for string in section.state:
            if string.byte_string:
                ctx.reporter.report("VG0404", string.span,
                                    f"byte-string register '{string.name}' in emulation section "
                                    f"'{section.name}', which has no configuration space; declare an array "
                                    "under 'state:'")
        return False
    if location.cap_last_version is not None and location.cap_version is not None and (
            location.cap_last_version < location.cap_version):
        ctx.reporter.report("VG0409", location.span,
                            f"last_version {location.cap_last_version} is below version {location.cap_version}: "
                            "the section describes capability versions `version` to `last_version`")
        return False
    room = CONFIG_SPACE_SIZE[location.kind] - (location.offset if location.offset is not None
                                               else CONFIG_SPACE_BASE[location.kind])
    if location.size > room and location.offset is not None:
        ctx.reporter.report("VG0405", location.span,
                            f"a device-specific range of {location.size} bytes from 0x{location.offset:02x} runs "
                            f"past configuration space, which ends at 0x100: at most {room} bytes fit there")
        return False
    if location.size > room:
        ctx.reporter.report("VG0405", location.span,
                            f"capability size {location.size} does not fit: {_KIND_TEXT[location.kind]} "
                            f"has at most {room} bytes of configuration space")
        return False
    return True


def compute_layout(module: Module, ctx: Context) -> Module:
    """Check bit fields and register placement; the module is returned unchanged."""
    for section in module.sections:
        ctx.focus = section.span
        table = ctx.symbols.get(section.name)
        if table is None:
            continue
        for register in section.registers:
            _check_bit_fields(register, ctx)
        if not _check_location(section, ctx):
            continue
        if not _check_offset_inputs(section, table, ctx):
            continue
        cases = _cases(section, table, {})
        if cases is None:
            ctx.reporter.report("VG0408", section.span,
                                f"register offsets in '{section.name}' depend on more than {MAX_CASES} "
                                "combinations of bits; offsets may depend on a few read-only bits only")
            continue
        _check_placements(section, table, cases, ctx)
        _check_byte_strings(section, _offsets_of(cases), ctx)
    if ctx.reporter.error_count:
        return module
    # A device's param bindings can move registers too: lay each binding out.
    sections = {s.name: s for s in module.sections}
    for device in module.devices:
        for use in device.sections:
            used = sections.get(use.section)
            table = ctx.symbols.get(use.section)
            if used is None or table is None or not use.params:
                continue
            bindings = {b.name: b.value for b in use.params}
            cases = _cases(used, table, bindings)
            if cases is not None:
                context = Note(use.span, f"with the params device '{device.name}' binds here")
                _check_placements(used, table, cases, ctx, context)
    return module


def _check_byte_strings(section: Section, offsets: dict[str, tuple[int, ...]], ctx: Context) -> None:
    """A byte-string register's `max` bytes from its offset lie inside the capability and meet no register,
    wherever the registers are placed (the bytes past its length may be another register's on some device,
    but the state and descriptor hold `max`, and a schema that says so is a mistake)."""
    size = section.location.size
    strings = [s for s in section.state if s.config_offset is not None and isinstance(s.type, ArrayType)]
    reported: set[tuple[str, str]] = set()
    for string in strings:
        assert string.config_offset is not None and isinstance(string.type, ArrayType)
        start, end = string.config_offset, string.config_offset + string.type.max
        if end > size:
            ctx.reporter.report("VG0404", string.type.max_span,
                                f"byte-string register '{string.name}' at 0x{start:02x} runs to 0x{end - 1:02x} "
                                f"with its max of {string.type.max} bytes, beyond the {size}-byte "
                                f"{_KIND_NOUN[section.location.kind]}: at most {max(size - start, 0)} fit")
        others = [(r.name, r.span, offset, offset + r.width // 8) for r in section.registers
                  for offset in offsets.get(r.name, ())]
        others += [(s.name, s.span, s.config_offset, s.config_offset + s.type.max) for s in strings
                   if s is not string and s.config_offset is not None and isinstance(s.type, ArrayType)
                   and _declared_before(section, s, string)]
        for name, span, first, last in others:
            if first < end and start < last and (string.name, name) not in reported:
                reported.add((string.name, name))
                ctx.reporter.report("VG0401", string.span,
                                    f"byte-string register '{string.name}' (0x{start:02x}..0x{end - 1:02x}) "
                                    f"overlaps '{name}' (0x{first:02x}..0x{last - 1:02x})",
                                    Note(span, f"'{name}' declared here"))


def _declared_before(section: Section, a: StateField, b: StateField) -> bool:
    names = [s.name for s in section.state]
    return names.index(a.name) < names.index(b.name)


def _check_offset_inputs(section: Section, table: SectionSymbols, ctx: Context) -> bool:
    """Offsets may read only what layout can enumerate: bit fields, narrow registers, params."""
    ok = True
    for register in section.registers:
        for ref in refs(register.offset):
            symbol = table.lookup(ref.path)
            if symbol is None or _domain(table, ref.dotted, {}) is not None:
                continue
            node = symbol.node
            what = f"a {node.width}-bit register" if isinstance(node, Register) else f"a {symbol.kind.value}"
            ctx.reporter.report("VG0408", ref.span,
                                f"offset of '{register.name}' has no bounded value: it depends on '{ref.dotted}', "
                                f"{what}; offsets may depend on a few read-only bits only")
            ok = False
    return ok


def _check_placements(section: Section, table: SectionSymbols,
                      cases: _Cases, ctx: Context,
                      context: Note | None = None) -> None:
    extra = (context,) if context is not None else ()
    size = section.location.size
    names, domains, registers = cases
    sizes = [len(domain) for domain in domains]
    many = math.prod(sizes) > 1
    reported: set[tuple[str, ...]] = set()
    key: tuple[str, ...]
    # A case that places every register as an earlier one did repeats that case's reports (deduplicated anyway),
    # except for overlaps whose co-presence hangs on inputs the cases leave open: those are asked again. A
    # register that reads no input sits alike in every case, so the registers that do decide the shape; their
    # outcomes over all cases are laid out as columns by list indexing, and only a new shape is built into a
    # Placement (a header has 4096 cases and a few dozen shapes).
    varying = [entry for entry in registers if entry.fixed is None]
    ordinals: dict[tuple[int, ...], list[int]] = {}
    columns = [entry.column(domains, ordinals.get(entry.indexes) or
                            ordinals.setdefault(entry.indexes, _ordinals(entry.indexes, sizes)))
               for entry in varying]
    shapes: Iterator[tuple[_Where, ...]] = zip(*columns, strict=True) if columns else itertools.repeat(())
    undecided: dict[tuple[_Where, ...], list[_Pending]] = {}
    asked = _CoPresence(section, table, names)
    for values, shape in zip(itertools.product(*domains), shapes, strict=False):  # `shapes` may be endless
        pending = undecided.get(shape)
        if pending is not None:
            for entry in pending:
                if entry.key not in reported:
                    _overlap(section, asked, names, values, entry, reported, many, ctx, extra)
            continue
        case = _placement(names, values, registers)
        when = f" when {case.describe()}" if case.condition and many else ""
        pending = undecided[shape] = []
        for register, reason in case.failures:
            key = ("evaluate", register.name)
            if key not in reported:
                reported.add(key)
                ctx.reporter.report("VG0408", register.offset.span,
                                    f"offset of '{register.name}' has no value{when}: {reason}", *extra)
        ordered = sorted(case.offsets, key=lambda item: (item[1], item[0].width))
        for register, offset in ordered:
            length = register.width // 8
            if offset < 0 or offset + length > size:
                key = ("bounds", register.name)
                if key not in reported:
                    reported.add(key)
                    ctx.reporter.report("VG0404", register.offset.span if not register.offset.span.synthetic
                                        else register.span,
                                        f"register '{register.name}' at 0x{offset:02x} ({length} "
                                        f"byte{'s' if length > 1 else ''}) is "
                                        f"beyond the {size}-byte {_KIND_NOUN[section.location.kind]}"
                                        f"{when}", *extra)
            elif offset % min(length, 4):
                key = ("align", register.name)
                if key not in reported:
                    reported.add(key)
                    ctx.reporter.report("VG0406", register.offset.span,
                                        f"register '{register.name}' at 0x{offset:02x} is not aligned to "
                                        f"{min(length, 4)} bytes{when}", *extra)
        for (first, first_offset), (second, second_offset) in itertools.pairwise(ordered):
            if min(first_offset + first.width // 8, second_offset + second.width // 8) > second_offset:
                meeting = _Pending(("overlap",) + tuple(sorted((first.name, second.name))), first, first_offset,
                                   second, second_offset)
                pending.append(meeting)
                if meeting.key not in reported:
                    _overlap(section, asked, names, values, meeting, reported, many, ctx, extra)


@dataclass(frozen=True, slots=True)
class _Pending:
    """Two registers that meet in a shape, reported once (under `key`) in the first case both can be present."""

    key: tuple[str, ...]
    first: Register
    first_offset: int
    second: Register
    second_offset: int


def _overlap(section: Section, asked: _CoPresence, names: list[str], values: tuple[Value, ...], meeting: _Pending,
             reported: set[tuple[str, ...]], many: bool, ctx: Context, extra: tuple[Note, ...]) -> None:
    """Report two registers that meet, once, when they can both be present in the case of `values`."""
    first, second, second_offset = meeting.first, meeting.second, meeting.second_offset
    if not asked.co_present(values, first, second):
        return
    reported.add(meeting.key)
    case = Placement(tuple(zip(names, values, strict=True)), ())
    when = f" when {case.describe()}" if case.condition and many else ""
    overlap_end = min(meeting.first_offset + first.width // 8, second_offset + second.width // 8)
    later, earlier = (second, first) if _declared_after(section, second, first) else (first, second)
    ctx.reporter.report("VG0401", later.span,
                        f"register '{later.name}' overlaps '{earlier.name}' (0x{second_offset:02x}"
                        f"..0x{overlap_end - 1:02x}){when}",
                        Note(earlier.span, f"'{earlier.name}' declared here"), *extra)


class _CoPresence:
    """`co_present` of one section's cases, remembered by the pair and the case's values of the names the two
    presences read, which is all its answer depends on: a shape that repeats over thousands of cases (a
    header's) is asked once per distinct value."""

    def __init__(self, section: Section, table: SectionSymbols, names: list[str]) -> None:
        self.section = section
        self.table = table
        self.names = names
        self.reads: dict[tuple[str, str], Callable[[tuple[Value, ...]], object]] = {}
        self.answers: dict[tuple[str, str, object], bool] = {}

    def co_present(self, values: tuple[Value, ...], first: Register, second: Register) -> bool:
        pair = (first.name, second.name)
        pick = self.reads.get(pair)
        if pick is None:
            read = {ref.dotted for register in (first, second) if register.present is not None
                    for ref in refs(register.present)}
            indexes = [i for i, name in enumerate(self.names) if name in read]
            pick = self.reads[pair] = operator.itemgetter(*indexes) if indexes else lambda _: ()
        question = (*pair, pick(values))
        answer = self.answers.get(question)
        if answer is None:
            case = Placement(tuple(zip(self.names, values, strict=True)), ())
            answer = self.answers[question] = co_present(self.section, self.table, case, first, second)
        return answer


def _declared_after(section: Section, a: Register, b: Register) -> bool:
    names = [r.name for r in section.registers]
    return names.index(a.name) > names.index(b.name)
