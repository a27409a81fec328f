"""Read a schema file into located nodes (first pass of the pipeline).

PyYAML's own constructors guess types the YAML 1.1 way (`yes` is a boolean,
`010` is octal, `3:1` is sexagesimal) and silently keep the last of duplicate
keys. vfiogen builds its own tree from PyYAML's event stream instead, so that
every scalar is typed by one small documented rule set and every node keeps a
1-based span:

* plain `true`/`false` are booleans; any other YAML 1.1 boolean spelling is an
  error (VG0106);
* plain integers are decimal, `0x…` or `0b…`; a leading zero is an error
  (VG0107);
* everything else, and every quoted scalar, is a string;
* duplicate keys, anchors, aliases, `<<` merges, explicit tags, null values,
  tabs in indentation, non-UTF-8 bytes and empty files are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

import yaml

from vfiogen.diagnostics import Note, Reporter
from vfiogen.source import SourceFile, Span

try:  # libyaml is much faster; the event stream and marks are the same.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

Plain = Union[dict[str, "Plain"], list["Plain"], int, bool, str]

_BOOL_1_1 = re.compile(r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|True|TRUE|False|FALSE)$")
_NULL = re.compile(r"^(~|null|Null|NULL|)$")
_DECIMAL = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_BIN = re.compile(r"^0b[01]+$")
_AMBIGUOUS_NUMBER = re.compile(r"^([-+]?0[0-9]+|0o[0-7]+|[-+]?[0-9][0-9_]*_[0-9_]*|0x[0-9a-fA-F_]*_[0-9a-fA-F_]*)$")


@dataclass(frozen=True, slots=True)
class Node:
    """A located YAML value.

    `value` is a dict of child nodes (in file order), a list of nodes, or an
    int, bool or str. For mappings, `key_spans` locates each key.
    """

    value: dict[str, Node] | list[Node] | int | bool | str
    span: Span
    key_spans: dict[str, Span] = field(default_factory=dict)
    quoted: bool = False
    """True for a quoted scalar: its text starts one column after `span`."""

    def plain(self) -> Plain:
        """The value without locations, for the meta-schema validator."""
        if isinstance(self.value, dict):
            return {key: child.plain() for key, child in self.value.items()}
        if isinstance(self.value, list):
            return [child.plain() for child in self.value]
        return self.value

    def get(self, key: str) -> Node | None:
        return self.value.get(key) if isinstance(self.value, dict) else None


MAX_DEPTH = 32
"""How deep a schema may nest mappings and lists. The deepest real schema nests about 8 levels; the limit keeps
every later recursive walk (meta-schema, lowering) far from Python's recursion limit."""

MAX_INTEGER_BITS = 64
"""Every integer a schema holds is a register, field or id value of at most 64 bits (or a signed one)."""


class _Abort(Exception):
    """Raised inside the composer after a fatal diagnostic has been reported."""


class _Composer:
    def __init__(self, source: SourceFile, reporter: Reporter) -> None:
        self.source = source
        self.reporter = reporter
        self.events: list[yaml.Event] = []
        self.position = 0
        self.depth = 0

    def span(self, start: Any, end: Any) -> Span:
        return Span(self.source.path, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def next(self) -> yaml.Event:
        event = self.events[self.position]
        self.position += 1
        return event

    def check_node_event(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.AliasEvent):
            self.reporter.report("VG0105", self.span(event.start_mark, event.end_mark),
                                 "aliases are not allowed; write the value out")
            raise _Abort
        node: Any = event  # a scalar or collection start: each has an anchor, a tag and `implicit`
        anchor = node.anchor
        if anchor is not None:
            self.reporter.report("VG0105", self.span(event.start_mark, event.end_mark),
                                 f"anchor '&{anchor}' is not allowed; write each value out")
            raise _Abort
        tag = node.tag
        if tag is None:  # nearly every event: nothing more to ask
            return
        implicit = node.implicit
        explicit = not (implicit[0] if isinstance(implicit, tuple) else implicit)
        if tag != "!" and explicit:
            shown = "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag
            self.reporter.report("VG0109", self.span(event.start_mark, event.end_mark),
                                 f"tag '{shown}' is not allowed; values are typed by how they are written")
            raise _Abort

    def compose(self) -> Node:
        event = self.events[self.position]
        self.position += 1
        if type(event) is _SCALAR:
            if event.anchor is not None or event.tag is not None:  # nearly never: the full check
                self.check_node_event(event)
            return self.scalar(event)
        self.check_node_event(event)
        if self.depth >= MAX_DEPTH:
            self.reporter.report("VG0102", self.span(event.start_mark, event.end_mark),
                                 f"nesting deeper than {MAX_DEPTH} levels; no schema needs that many")
            raise _Abort
        self.depth += 1
        try:
            return self.collection(event)
        finally:
            self.depth -= 1

    def collection(self, event: yaml.Event) -> Node:
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Node] = []
            events = self.events
            while type(events[self.position]) is not _SEQUENCE_END:
                items.append(self.compose())
            end = self.next()
            return Node(items, self.span(event.start_mark, end.end_mark))
        if isinstance(event, yaml.MappingStartEvent):
            return self.mapping(event)
        raise AssertionError(f"unexpected YAML event {event!r}")  # parser guarantees structure

    def mapping(self, start: yaml.MappingStartEvent) -> Node:
        children: dict[str, Node] = {}
        key_spans: dict[str, Span] = {}
        events = self.events
        path = self.source.path
        while True:
            key_event: Any = events[self.position]
            kind = type(key_event)
            if kind is _MAPPING_END:
                break
            if kind is not _SCALAR:
                self.check_node_event(key_event)
                self.reporter.report("VG0102", self.span(key_event.start_mark, key_event.end_mark),
                                     "mapping keys must be plain names")
                raise _Abort
            self.position += 1
            if key_event.anchor is not None or key_event.tag is not None:
                self.check_node_event(key_event)
            first, last = key_event.start_mark, key_event.end_mark
            key_span = Span(path, first.line + 1, first.column + 1, last.line + 1, last.column + 1)
            key = key_event.value
            if key == "<<" and not key_event.style:
                self.reporter.report("VG0105", key_span, "merge keys ('<<') are not allowed")
                raise _Abort
            value = self.compose()
            if key in children:
                self.reporter.report("VG0104", key_span, f"duplicate key '{key}'",
                                     Note(key_spans[key], "first defined here"))
                continue
            children[key] = value
            key_spans[key] = key_span
        end = self.next()
        return Node(children, self.span(start.start_mark, end.end_mark), key_spans)

    def scalar(self, event: yaml.ScalarEvent) -> Node:
        first: Any = event.start_mark  # the span, written out: a scalar is half of all nodes
        last: Any = event.end_mark
        span = Span(self.source.path, first.line + 1, first.column + 1, last.line + 1, last.column + 1)
        text: str = event.value
        if event.style:  # quoted or block scalar: always a string (libyaml gives '' for plain)
            return Node(text, span, quoted=event.style in ("'", '"'))
        if text[:1] not in _MAYBE_TYPED:  # a name or a word: no rule below can match (most scalars)
            return Node(text, span)
        if text in ("true", "false"):
            return Node(text == "true", span)
        if _BOOL_1_1.match(text):
            self.reporter.report("VG0106", span,
                                 f"'{text}' is a YAML 1.1 boolean; write true or false (or quote it)")
            return Node(text, span)
        if _NULL.match(text):
            self.reporter.report("VG0111", span, "null value; write a value or leave the key out")
            return Node("", span)
        for pattern, base, digits, skip in ((_DECIMAL, 10, 20, 0), (_HEX, 16, 16, 2), (_BIN, 2, 64, 2)):
            if pattern.match(text):
                # A length check first: Python refuses to convert more than 4300 decimal digits at all.
                body = text.lstrip("+-")[skip:]
                value = int(body, base) if len(body) <= digits else None
                if value is None or not -(1 << (MAX_INTEGER_BITS - 1)) <= (-value if text[0] == "-" else value) \
                        < 1 << MAX_INTEGER_BITS:
                    shown = text if len(text) <= 24 else f"{text[:12]}...{text[-6:]} ({len(text)} characters)"
                    self.reporter.report("VG0112", span, f"integer {shown} does not fit {MAX_INTEGER_BITS} bits")
                    return Node(0, span)
                return Node(-value if text[0] == "-" else value, span)
        if _AMBIGUOUS_NUMBER.match(text):
            self.reporter.report("VG0107", span,
                                 f"'{text}' is ambiguous (YAML 1.1 reads it as octal or with "
                                 "separators); write decimal without leading zeros, 0x or 0b")
            return Node(text, span)
        return Node(text, span)


_SCALAR = yaml.ScalarEvent
_SEQUENCE_END = yaml.SequenceEndEvent
_MAPPING_END = yaml.MappingEndEvent
_MAYBE_TYPED = frozenset("yYnNoOtTfF~+-0123456789") | {""}
"""The first characters (and the empty text) of every plain scalar that one of the patterns above can match: a
YAML 1.1 boolean, a null, a number. Any other plain scalar is a string without trying them."""


def _check_bytes(path: str, data: bytes, reporter: Reporter) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[:exc.start].decode("utf-8", errors="replace")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        reporter.report("VG0101", Span(path, line, column, line, column + 1),
                        f"byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid UTF-8")
        return None


def load_yaml(path: str, data: bytes, reporter: Reporter) -> tuple[SourceFile | None, Node | None]:
    """Parse one schema file.

    Args:
        path: the path to show in diagnostics.
        data: the raw file contents.
        reporter: receives every problem found.

    Returns:
        The decoded source (None if it is not UTF-8) and the root node (None
        after a fatal error).
    """
    text = _check_bytes(path, data, reporter)
    if text is None:
        return None, None
    source = SourceFile.from_text(path, text)
    had_tab = False
    for number, line in enumerate(text.split("\n"), start=1):
        indent = len(line) - len(line.lstrip(" \t"))
        tab = line.find("\t", 0, indent)
        if tab >= 0:
            reporter.report("VG0108", Span(path, number, tab + 1, number, tab + 2),
                            "tab in indentation; YAML indents with spaces")
            had_tab = True
    if had_tab:
        return source, None
    composer = _Composer(source, reporter)
    try:
        composer.events = list(yaml.parse(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        row, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        notes = []
        context = exc.context_mark
        if exc.problem and exc.context and context is not None:
            # libyaml notices an unclosed bracket lines later; say where it opened.
            opened = Span(path, context.line + 1, context.column + 1, context.line + 1, context.column + 2)
            notes.append(Note(opened, exc.context))
        reporter.report("VG0102", Span(path, row, column, row, column + 1), f"YAML syntax error: {problem}", *notes)
        return source, None
    except yaml.YAMLError as exc:
        reporter.report("VG0102", Span(path, 1, 1, 1, 2), f"YAML syntax error: {exc}")
        return source, None
    documents = sum(1 for e in composer.events if isinstance(e, yaml.DocumentStartEvent))
    if documents == 0:
        reporter.report("VG0103", Span(path, 1, 1, 1, 1), "file is empty; a schema needs at least a name")
        return source, None
    if documents > 1:
        second = [e for e in composer.events if isinstance(e, yaml.DocumentStartEvent)][1]
        span = composer.span(second.start_mark, second.end_mark)
        reporter.report("VG0102", span, "one schema per file; a second YAML document starts here")
        return source, None
    composer.position = 2  # StreamStart, DocumentStart
    try:
        root = composer.compose()
    except _Abort:
        return source, None
    return source, root
