"""Helpers shared by the unit tests: compile inline schemas and build expected diagnostics.

Schemas are given as text and compiled through the driver API under a short,
fixed display path, so expected spans can be written as exact values.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from vfiogen import driver
from vfiogen.context import Context
from vfiogen.diagnostics import CATALOGUE, Diagnostic, Note, Reporter, Severity
from vfiogen.ir.checked import CheckedModule
from vfiogen.source import Span

PATH = "s.yaml"


def schema(text: str) -> str:
    """Dedent an inline schema and drop the leading newline of a triple-quoted string."""
    return textwrap.dedent(text).lstrip("\n")


@dataclass
class Compiled:
    result: driver.Result
    ctx: Context

    @property
    def module(self) -> CheckedModule | None:
        return self.result.module

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.ctx.reporter.sorted()

    def codes(self) -> list[str]:
        return [d.code for d in self.diagnostics]

    def only(self, code: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.code == code]


def compile_texts(files: dict[str, str], *, stop_before: str | None = None, dump_after: str | None = None,
                  disabled: frozenset[str] = frozenset(), promoted: frozenset[str] = frozenset()) -> Compiled:
    """Compile {display path: schema text} through every pass."""
    inputs = [driver.SchemaInput(path, path, text.encode("utf-8")) for path, text in sorted(files.items())]
    ctx = Context(reporter=Reporter(disabled, promoted))
    result = driver.compile_schemas(inputs, ctx, stop_before=stop_before, dump_after=dump_after)
    return Compiled(result, ctx)


def compile_text(text: str, **kwargs: object) -> Compiled:
    return compile_texts({PATH: text}, **kwargs)  # type: ignore[arg-type]


def find(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the nth occurrence of `needle` in `text`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
        if start < 0:  # pragma: no cover - index raises
            raise ValueError(needle)
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return line, column


def span_of(text: str, needle: str, nth: int = 0, path: str = PATH) -> Span:
    """The single-line span covering the nth occurrence of `needle`."""
    line, column = find(text, needle, nth)
    return Span(path, line, column, line, column + len(needle))


def within(text: str, context: str, needle: str, path: str = PATH) -> Span:
    """The span of `needle` inside the first occurrence of `context` (which must be unique)."""
    assert text.count(context) == 1, f"{context!r} is not unique"
    start = text.index(context) + context.index(needle)
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return Span(path, line, column, line, column + len(needle))


def key(text: str, name: str, indent: int = 2, path: str = PATH) -> Span:
    """The span of the mapping key `name` written at `indent` spaces at the start of a line."""
    return within(text, "\n" + " " * indent + name + ":", name, path)


def diag(code: str, span: Span, message: str, *notes: Note, promoted: bool = False) -> Diagnostic:
    """An expected diagnostic, with the catalogue's severity."""
    severity = Severity.ERROR if promoted else CATALOGUE[code][0]
    return Diagnostic(code, severity, span, message, tuple(notes))


# A small standard capability section header most tests extend.
CAP_HEADER = """\
section: t
title: T
id: 1
location: {capability: {id: 5, size: 24}}
version: 1
"""

EMU_HEADER = """\
section: e
title: E
id: 2
location: {emulation: true}
"""
