"""Break long lines of generated C to QEMU's 80 columns, the way its code is written by hand.

The printers build each statement on one line; `Writer` and the `c_wrap`
and `c_comment` template filters pass it through here. A statement that
does not fit is broken at its lowest-precedence top-level operator (`,` of
a parameter list, `?:`, `||`, `&&`, `|`, ...), each continuation aligned with
the start of the operand list, that is just after the open parenthesis or
after `return ` / `x = `; an operand that still does not fit is broken
inside its own parentheses. Operators end the line, as in QEMU. String
literals and comments are never split, so a message may run past 80 columns
on a line of its own (checkpatch allows that), but no generated line does
past 90.

This is not a formatter run over finished output (the house style forbids
those): it knows only the generator's own one-line shapes.
"""

from __future__ import annotations

import hashlib
import itertools
import marshal
import os
import re
import textwrap
import zlib
from dataclasses import dataclass, field
from pathlib import Path


LIMIT = 80
"""checkpatch.pl warns over 80 columns..."""
HARD_LIMIT = 90
"""... and refuses over 90."""

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|/\*.*?\*/|[()\[\]{},;]|\s+|[^\s()\[\]{},;"\']+')
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = frozenset(_OPEN.values())
_CLASSES = ((";",), (",",), ("?", ":"), ("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="),
            ("<", ">", "<=", ">="), ("+", "-"))
"""Break points from the loosest binding: a line breaks after the loosest operator present at its top level."""
_PREFIXES = ("=", "+=", "-=", "|=", "&=", "return")
_PREFIX_SET = frozenset(_PREFIXES)
_RANK: dict[object, int] = {operator: rank for rank, operators in enumerate(_CLASSES) for operator in operators}
"""Each break-point operator's class, 0 the loosest."""


@dataclass(eq=False)
class _Group:
    """A bracketed run; compared (and hashed) by identity, so a list of items can be looked up in a dict of
    operator tokens without asking each item's type first."""

    open: str
    items: list[_Item]
    """Complete when the group is made (`_parse`), and never changed after."""
    close: str
    flat: str = field(init=False, repr=False)
    """The group's text, worked out once: layout asks for it at every level it tries (recomputing it made
    wrapping quadratic in the nesting and half of the C back end's time)."""
    blank: bool = field(init=False, repr=False)
    """Nothing but whitespace between the brackets: nothing to break inside."""

    def __post_init__(self) -> None:
        self.flat = self.open + _flat(self.items) + self.close
        self.blank = all(_space(item) for item in self.items)

    def text(self) -> str:
        return self.flat


_Item = str | _Group
_Line = tuple[int, str]
"""A line as (the column its text starts at, the text)."""


def _flat(items: list[_Item]) -> str:
    return "".join([item if item.__class__ is str else item.flat for item in items])  # type: ignore[union-attr]


def _parse(text: str) -> list[_Item]:
    """`text` as tokens, with bracketed runs as groups; an unmatched bracket is a plain token."""
    stack: list[tuple[str, list[_Item]]] = [("", [])]
    for token in _TOKEN.findall(text):
        if token in _OPEN:
            stack.append((token, []))
        elif token in _CLOSE and len(stack) > 1 and _OPEN[stack[-1][0]] == token:
            opened, items = stack.pop()
            stack[-1][1].append(_Group(opened, items, token))
        else:
            stack[-1][1].append(token)
    while len(stack) > 1:
        opened, items = stack.pop()
        stack[-1][1].extend([opened, *items])
    return stack[0][1]


def _space(item: _Item) -> bool:
    return item.__class__ is str and item.isspace()


def _strip(items: list[_Item]) -> list[_Item]:
    """`items` without leading and trailing whitespace tokens."""
    begin, end = 0, len(items)
    while begin < end and _space(items[begin]):
        begin += 1
    while end > begin and _space(items[end - 1]):
        end -= 1
    return items[begin:end] if begin or end < len(items) else items


def _segments(items: list[_Item]) -> list[list[_Item]] | None:
    """`items` split after each top-level operator of the loosest class it has, or None if it has none.

    The generator puts one space after every such operator, so the segments join back with one space.
    """
    ranks = list(map(_RANK.get, items[:-1]))  # a group is no operator: _Group hashes by identity
    found = [rank for rank in ranks if rank is not None]
    if not found:
        return None
    loosest = min(found)
    cuts = [i + 1 for i, rank in enumerate(ranks) if rank == loosest]
    bounds = [0, *cuts, len(items)]
    parts = [_strip(items[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return [part for part in parts if part]


def _lay(items: list[_Item], col: int, tail: int) -> list[_Line]:
    """Lines of `items` starting at column `col`, with `tail` more characters to follow the last one."""
    text = _flat(items)
    if col + len(text) + tail <= LIMIT:
        return [(col, text)]
    if len(items) == 1 and text.startswith('"'):
        return _split_string(text, col, tail)
    words = [i for i, item in enumerate(items) if not _space(item)] if not _PREFIX_SET.isdisjoint(items) else []
    for index in words[:-1]:
        word = items[index]
        if word in _PREFIX_SET and (word != "return" or index == words[0]):
            assert isinstance(word, str)
            head = _flat(items[:index + 1]) + " "
            rest = _lay(_strip(items[index + 1:]), col + len(head), tail)
            if word != "return" and _widest(rest) > LIMIT:
                # The value does not fit after `x = `: it starts the next line, one indentation level in.
                below = _lay(_strip(items[index + 1:]), col + 4, tail)
                if _widest(below) < _widest(rest):
                    return [(col, head.rstrip()), *below]
            return [(col, head + rest[0][1]), *rest[1:]]
    segments = _segments(items)
    if segments is not None and len(segments) > 1:
        return _fill(segments, col, tail)
    return _descend(items, col, tail)


def _widest(lines: list[_Line], tail: int = 0) -> int:
    """The last column the lines reach, the last one with `tail` more characters."""
    return max(start + len(text) + (tail if index == len(lines) - 1 else 0)
               for index, (start, text) in enumerate(lines))


def _fill(segments: list[list[_Item]], col: int, tail: int) -> list[_Line]:
    """As many segments on a line as fit, each further line aligned at `col`."""
    lines: list[_Line] = []
    broken = False
    for index, segment in enumerate(segments):
        end = tail if index == len(segments) - 1 else 0
        text = _flat(segment)
        if lines and not broken:
            start, last = lines[-1]
            if start + len(last) + 1 + len(text) + end <= LIMIT:
                lines[-1] = (start, f"{last} {text}")
                continue
        laid = _lay(segment, col, end)
        broken = len(laid) > 1  # the next operand starts a line of its own, not the tail of a broken one
        lines.extend(laid)
    return lines


def _descend(items: list[_Item], col: int, tail: int) -> list[_Line]:
    """Break inside a group: the first whose close lies past the limit, or else the last."""
    groups = [i for i, item in enumerate(items) if item.__class__ is _Group and not item.blank]
    if not groups:
        return [(col, _flat(items))]
    chosen = groups[-1]
    ends = list(itertools.accumulate(len(item if item.__class__ is str else item.flat)  # type: ignore
                                     for item in items))
    for index in groups:
        after = tail if index == len(items) - 1 else 0
        if col + ends[index] + after > LIMIT:
            chosen = index
            break
    group = items[chosen]
    assert isinstance(group, _Group)
    head = _flat(items[:chosen]) + group.open
    rest = items[chosen + 1:]
    lead = ""
    while rest and _space(rest[0]):
        lead += str(rest[0])
        rest = rest[1:]
    # What follows the group stays on its last line if it is short (`);`, `) {`); a long rest is laid out itself.
    follow = len(_flat(rest)) + tail
    inner_tail = len(group.close) + len(lead) + (follow if follow <= LIMIT // 4 else 0)
    inner = _lay(_strip(group.items), col + len(head), inner_tail)
    lines = [(col, head + inner[0][1]), *inner[1:]]
    if _widest(lines, inner_tail) > LIMIT:
        # Aligned after a long name the operands still do not fit: they start the next line, indented.
        below = _lay(_strip(group.items), col + 4, inner_tail)
        if _widest(below, inner_tail) < _widest(lines, inner_tail):
            lines = [(col, head), *below]
    start, last = lines[-1]
    last += group.close + lead
    if not rest:
        return [*lines[:-1], (start, last)]
    laid = _lay(rest, start + len(last), tail)
    return [*lines[:-1], (start, last + laid[0][1]), *laid[1:]]


_DECLARATOR = re.compile(r"^((?:static |inline |const |unsigned |struct |enum )*\w+ \**)\w+\([^()]*\);?$")
"""A function's head: its return type (group 1), then its name and parameters."""


def _split_string(text: str, col: int, tail: int) -> list[_Line]:
    """A string literal as adjacent literals (C joins them), broken after spaces, when even on a line of its own
    it would pass the hard limit; below that it stays whole (checkpatch exempts such a line) so it can be grepped."""
    if col + len(text) + tail <= HARD_LIMIT:
        return [(col, text)]
    words = re.findall(r"[^ ]* *", text[1:-1])
    pieces = [""]
    for word in words:
        if pieces[-1] and col + len(pieces[-1]) + len(word) + 2 > LIMIT:
            pieces.append("")
        pieces[-1] += word
    return [(col, f'"{piece}"') for piece in pieces if piece]


def statement(text: str, indent: int, tail: str = "") -> list[str]:
    """The lines of one C statement or declaration `text`, indented `indent` columns; `tail` (such as ` {`)
    follows it on its last line."""
    if indent + len(text) + len(tail) <= LIMIT:
        return [" " * indent + text + tail]  # what `_statement` gives a line that fits, without caching it
    if "\n" in text or "\n" in tail:  # never generated; kept out of the store, which joins lines with newlines
        return list(_statement(text, indent, tail))
    key = f"{indent}:{len(tail)}:{tail}{text}"
    found = _LAID.get(key)
    if found is None:
        if len(_LAID) >= _LAID_LIMIT:
            _LAID.clear()  # a test session lays out many modules: keep memory bounded
        found = _LAID[key] = "\n".join(_statement(text, indent, tail))
    _used[key] = found
    return found.split("\n")


_LAID: dict[str, str] = {}
"""Each long statement laid out so far, its lines joined, by indent, tail and text: the same checks and calls
recur in every section, and `load_store` fills it from the previous build's. Plain strings, so that the
store loads in a millisecond or two."""
_LAID_LIMIT = 65536
_used: dict[str, str] = {}
"""What this build laid out, which `save_store` keeps for the next one..."""
_stored: dict[str, str] = {}
"""... unless the store it was loaded from holds all of it already."""


def _store_file(directory: str) -> Path:
    """The store for this version of this module: another wrapping rule gives another file name."""
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return Path(directory, f"vfiogen-c-wrap-{digest}.marshal")


def load_store(directory: str | None) -> None:
    """Take the statements the previous build laid out from `directory` (jinja's per-user cache directory, or
    None for no store). Laying out the library's 6,600 distinct long statements is about 60% of the C back end's time
    (250 ms of a cold build on a busy machine); the layout is a pure function of the statement and this module,
    so a build with the store writes the same bytes as one without. The file is the CRC-32 of its payload, then
    the payload (`marshal` of a dict of strings): a truncated, damaged or foreign store is ignored."""
    _used.clear()
    _stored.clear()
    if directory is None:
        return
    try:
        data = _store_file(directory).read_bytes()
    except OSError:
        return
    payload = data[4:]
    if len(data) < 4 or zlib.crc32(payload) != int.from_bytes(data[:4], "little"):
        return
    try:
        stored = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return
    if isinstance(stored, dict) and all(type(k) is str and type(v) is str for k, v in stored.items()):
        _stored.update(stored)
        _LAID.update(stored)


def save_store(directory: str | None) -> None:
    """Keep what this build laid out for the next one (atomically; a failure only costs the next build time)."""
    if directory is None or not _used or _used.keys() <= _stored.keys():
        return
    target = _store_file(directory)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    payload = marshal.dumps(dict(_used))
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # as jinja's own files
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(zlib.crc32(payload).to_bytes(4, "little") + payload)
        os.replace(temporary, target)
    except OSError:
        temporary.unlink(missing_ok=True)


def _statement(text: str, indent: int, tail: str) -> tuple[str, ...]:
    """`statement` of a line that does not fit, laid out."""
    lines = _lay(_strip(_parse(text)), indent, len(tail)) if indent + len(text) + len(tail) > LIMIT \
        else [(indent, text)]
    head = _DECLARATOR.match(text)
    if _widest(lines) > LIMIT and head is not None and not text.startswith("return "):
        # A long return type and name: the name starts a line of its own, as in QEMU's longer prototypes.
        rest = _lay(_strip(_parse(text[head.end(1):])), indent, len(tail))
        if _widest(rest) < _widest(lines):
            lines = [(indent, head.group(1).rstrip()), *rest]
    out = [" " * start + line for start, line in lines]
    out[-1] += tail
    return tuple(out)


def c_wrap(block: str) -> str:
    """Template filter: every line of `block` over the limit broken as a statement at its own indentation.
    Comment lines are left as they are (`c_comment` fills those)."""
    out = []
    for line in block.split("\n"):
        stripped = line.lstrip(" ")
        if len(line) <= LIMIT or re.match(r"/\*|\*(/|\s|$)|#", stripped):
            out.append(line)
            continue
        tail = " {" if stripped.endswith(" {") else ""
        body = stripped[:-len(tail)] if tail else stripped
        out.extend(statement(body, len(line) - len(stripped), tail))
    return "\n".join(out)


def comment(text: str, indent: int = 0) -> list[str]:
    """`text` as a C comment at `indent`: `/* text */` if it fits on a line, else a filled block comment."""
    text = " ".join(text.split())
    pad = " " * indent
    if indent + len(text) + 6 <= LIMIT:
        return [f"{pad}/* {text} */"]
    body = textwrap.wrap(text, LIMIT - indent - 3, break_long_words=False, break_on_hyphens=False)
    return [f"{pad}/*", *(f"{pad} * {line}" for line in body), f"{pad} */"]


def c_comment(text: str, indent: int = 0) -> str:
    """Template filter: `comment` as text (ending in a newline if `text` does)."""
    return "\n".join(comment(text, indent)) + ("\n" if text.endswith("\n") else "")


def c_comment_lines(text: str, indent: int = 0) -> str:
    """Template filter: `text` filled as the ` * ` lines inside a block comment the template opens and closes."""
    pad = " " * indent
    body = textwrap.wrap(" ".join(text.split()), LIMIT - indent - 3, break_long_words=False, break_on_hyphens=False)
    return "".join(f"{pad} * {line}\n" for line in body)
