"""Source files and spans: the location model every diagnostic and IR node uses.

Lines and columns are 1-based everywhere in vfiogen. The YAML loader converts
PyYAML's 0-based marks once, on entry; nothing downstream converts again.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field



@dataclass(frozen=True, slots=True)
class SourceFile:
    """One schema file as read from disk."""

    path: str
    """Path as shown to the user (relative to the working directory when possible)."""
    text: str
    """Decoded file contents."""
    line_starts: tuple[int, ...] = field(default=(), compare=False, repr=False)
    """Character offset at which each line starts; filled by `from_text`."""

    @staticmethod
    def from_text(path: str, text: str) -> SourceFile:
        starts = [0]
        index = text.find("\n")
        while index >= 0:  # str.find runs in C; a loop over characters was a tenth of loading a schema
            starts.append(index + 1)
            index = text.find("\n", index + 1)
        return SourceFile(path=path, text=text, line_starts=tuple(starts))

    def line_text(self, line: int) -> str:
        """Return line `line` (1-based) without its newline, or '' past the end."""
        if line < 1 or line > len(self.line_starts):
            return ""
        start = self.line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def position(self, offset: int) -> tuple[int, int]:
        """Map a character offset to a 1-based (line, column)."""
        line_index = bisect.bisect_right(self.line_starts, offset) - 1
        return line_index + 1, offset - self.line_starts[line_index] + 1


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based, end-exclusive region of a source file."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    synthetic: bool = False
    """True for nodes the compiler made up; they borrow their parent's span."""

    def as_synthetic(self) -> Span:
        return Span(self.path, self.line, self.column, self.end_line, self.end_column, True)

    def sub(self, start: int, end: int) -> Span:
        """A sub-span of a single-line span, by 0-based character offsets.

        Used to point inside a scalar, e.g. at one token of an expression.
        Multi-line scalars fall back to the whole span.
        """
        if self.line != self.end_line:
            return self
        return Span(self.path, self.line, self.column + start, self.line, self.column + end,
                    self.synthetic)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


def file_span(path: str) -> Span:
    """A span naming a whole file, for errors that have no better place."""
    return Span(path, 1, 1, 1, 1)
