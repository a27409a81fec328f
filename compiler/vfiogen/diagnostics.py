"""Diagnostics: located errors and warnings, their catalogue, and rendering.

Every user-facing problem is a `Diagnostic` with a stable code from
`CATALOGUE`. Passes report into a `Reporter`; the driver stops after a pass
that reported an error. Rendering is GCC-style so editors and CI annotators
can parse it.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field

from vfiogen.source import SourceFile, Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Note:
    span: Span | None
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    span: Span
    message: str
    notes: tuple[Note, ...] = ()


# The catalogue: code -> (default severity, one-line summary). Codes are stable
# and never reused; the stage is the hundreds digit (01 load, 02 meta-schema,
# 03 resolve, 04 layout, 05 semantics, 06 expressions, 07 devices, 09 internal).
CATALOGUE: dict[str, tuple[Severity, str]] = {
    "VG0101": (Severity.ERROR, "file is not valid UTF-8"),
    "VG0102": (Severity.ERROR, "YAML syntax error"),
    "VG0103": (Severity.ERROR, "file is empty"),
    "VG0104": (Severity.ERROR, "duplicate mapping key"),
    "VG0105": (Severity.ERROR, "anchors, aliases and merge keys are not allowed"),
    "VG0106": (Severity.ERROR, "YAML 1.1 boolean spelling; write true or false"),
    "VG0107": (Severity.ERROR, "ambiguous number; write decimal, 0x or 0b"),
    "VG0108": (Severity.ERROR, "tab character in indentation"),
    "VG0109": (Severity.ERROR, "YAML tags are not allowed"),
    "VG0110": (Severity.ERROR, "cannot read schema path"),
    "VG0111": (Severity.ERROR, "null value; write the value or leave the key out"),
    "VG0112": (Severity.ERROR, "integer does not fit 64 bits"),
    "VG0113": (Severity.ERROR, "schema file too large"),
    "VG0201": (Severity.ERROR, "schema does not match the meta-schema"),
    "VG0202": (Severity.ERROR, "license is not an SPDX expression"),
    "VG0208": (Severity.ERROR, "repeat counter runs backwards or too far"),
    "VG0301": (Severity.ERROR, "duplicate name"),
    "VG0302": (Severity.ERROR, "undefined name"),
    "VG0303": (Severity.ERROR, "duplicate section id"),
    "VG0304": (Severity.ERROR, "duplicate section name"),
    "VG0305": (Severity.ERROR, "unknown section in device"),
    "VG0306": (Severity.ERROR, "reference has the wrong kind"),
    "VG0307": (Severity.ERROR, "more than one options file"),
    "VG0308": (Severity.ERROR, "two sections claim one capability"),
    "VG0310": (Severity.ERROR, "params read from sections in a cycle"),
    "VG0311": (Severity.ERROR, "param read from a repeated section"),
    "VG0312": (Severity.ERROR, "param read from more than one section"),
    "VG0401": (Severity.ERROR, "registers overlap"),
    "VG0402": (Severity.ERROR, "bit fields overlap"),
    "VG0403": (Severity.ERROR, "bit field beyond register width"),
    "VG0404": (Severity.ERROR, "register beyond capability size"),
    "VG0405": (Severity.ERROR, "capability larger than its configuration space"),
    "VG0406": (Severity.ERROR, "register offset not aligned to its width"),
    "VG0407": (Severity.ERROR, "bit range written high to low is reversed"),
    "VG0408": (Severity.ERROR, "offset expression has no bounded value"),
    "VG0409": (Severity.ERROR, "extended capability last_version below version"),
    "VG0501": (Severity.ERROR, "since is beyond the section version"),
    "VG0502": (Severity.ERROR, "min_version is beyond version"),
    "VG0503": (Severity.ERROR, "field added after min_version has no default"),
    "VG0504": (Severity.ERROR,
               "until is not after since, or beyond version; a struct member versioned or given a default"),
    "VG0505": (Severity.ERROR, "value does not fit its type"),
    "VG0506": (Severity.ERROR, "array maximum does not fit the length expression"),
    "VG0507": (Severity.ERROR, "compat rule over a field that is not a descriptor field"),
    "VG0508": (Severity.ERROR, "restore step names something that is not a register"),
    "VG0509": (Severity.ERROR, "writable register is never restored"),
    "VG0510": (Severity.ERROR, "restore override on a bit that cannot be written (not rw or rw1c, sticky or not)"),
    "VG0511": (Severity.ERROR, "presence, offset or reserved_when depends on a writable bit (a mode, not the device)"),
    "VG0512": (Severity.ERROR, "reference to a field that comes later on the wire"),
    "VG0513": (Severity.ERROR, "value is not one of the enum's values"),
    "VG0514": (Severity.ERROR, "reset value or default sets reserved or undeclared bits"),
    "VG0515": (Severity.ERROR, "descriptor field derived from writable bits"),
    "VG0516": (Severity.ERROR, "compat rule does not fit the descriptor field's type"),
    "VG0517": (Severity.ERROR, "restore skip on a register that is also restored"),
    "VG0518": (Severity.WARNING, "restore writes a register with no writable bits"),
    "VG0519": (Severity.ERROR, "enum does not fit the field"),
    "VG0520": (Severity.ERROR, "expression cycle"),
    "VG0521": (Severity.ERROR, "removed field has no default"),
    "VG0522": (Severity.ERROR, "field is never on the wire"),
    "VG0523": (Severity.WARNING, "register restored more than once without an override"),
    "VG0524": (Severity.ERROR, "a new state breaks a constraint"),
    "VG0525": (Severity.ERROR, "byte-string register is not read-only"),
    "VG0526": (Severity.ERROR, "reserved_when on a bit field that is reserved already"),
    "VG0527": (Severity.ERROR, "a field set's field has no access, and the register using it gives none"),
    "VG0601": (Severity.ERROR, "expression syntax error"),
    "VG0602": (Severity.ERROR, "expression type error"),
    "VG0603": (Severity.ERROR, "'~' needs an operand of known width"),
    "VG0604": (Severity.ERROR, "'!' applies to booleans only"),
    "VG0605": (Severity.ERROR, "division by zero"),
    "VG0607": (Severity.ERROR, "shift count outside 0..63"),
    "VG0701": (Severity.ERROR, "section used twice in one device"),
    "VG0702": (Severity.ERROR, "unknown or ill-typed device parameter"),
    "VG0703": (Severity.ERROR, "two sections of a device call hooks of one name"),
    "VG0704": (Severity.ERROR, "a generic device binds a param"),
    "VG0705": (Severity.ERROR, "device default does not fit its register"),
    "VG0706": (Severity.ERROR, "more instances than the section allows"),
    "VG0707": (Severity.ERROR,
               "device lists a section a param is read from after it, or as optional, or binds the param"),
    "VG0801": (Severity.ERROR, "wire layout of a locked version changed"),
    "VG0802": (Severity.ERROR, "previous schema lock cannot be read"),
    "VG0901": (Severity.ERROR, "internal compiler error"),
}


class Reporter:
    """Collects diagnostics; applies `-W` switches to warnings.

    Args:
        disabled: warning codes to drop.
        promoted: warning codes to report as errors.
    """

    def __init__(self, disabled: frozenset[str] = frozenset(),
                 promoted: frozenset[str] = frozenset()) -> None:
        self.diagnostics: list[Diagnostic] = []
        self._disabled = disabled
        self._promoted = promoted

    def report(self, code: str, span: Span, message: str, *notes: Note) -> None:
        severity = CATALOGUE[code][0]
        if severity is Severity.WARNING:
            if code in self._disabled:
                return
            if code in self._promoted:
                severity = Severity.ERROR
        self.diagnostics.append(Diagnostic(code, severity, span, message, tuple(notes)))

    @property
    def error_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    def sorted(self) -> list[Diagnostic]:
        """Diagnostics in a stable order: by file, position, then code."""
        return sorted(self.diagnostics,
                      key=lambda d: (d.span.path, d.span.line, d.span.column, d.code, d.message))


@dataclass
class SourceMap:
    """The files loaded in one run, so rendering can quote source lines."""

    files: dict[str, SourceFile] = field(default_factory=dict)

    def quote(self, span: Span) -> list[str]:
        source = self.files.get(span.path)
        if source is None or span.synthetic:
            return []
        text = source.line_text(span.line)
        if not text and span.line > len(source.line_starts):
            return []
        width = 1
        if span.end_line == span.line and span.end_column > span.column:
            width = span.end_column - span.column
        width = max(1, min(width, len(text) - span.column + 1))
        return [f"  {text}", "  " + " " * (span.column - 1) + "^" + "~" * (width - 1)]


def render_text(diagnostics: list[Diagnostic], sources: SourceMap) -> str:
    """GCC-style text: location, severity[code], message, quoted line, notes."""
    lines: list[str] = []
    for diag in diagnostics:
        lines.append(f"{diag.span}: {diag.severity.value}[{diag.code}]: {diag.message}")
        lines.extend(sources.quote(diag.span))
        for note in diag.notes:
            where = f"{note.span}: " if note.span is not None else ""
            lines.append(f"{where}note: {note.message}")
            if note.span is not None:
                lines.extend(sources.quote(note.span))
    return "\n".join(lines) + ("\n" if lines else "")


def _span_json(span: Span | None) -> dict[str, object] | None:
    if span is None:
        return None
    return {"path": span.path, "line": span.line, "column": span.column,
            "end_line": span.end_line, "end_column": span.end_column}


def render_json(diagnostics: list[Diagnostic]) -> str:
    """The same data as `render_text`, as a JSON array."""
    return json.dumps([
        {
            "code": d.code,
            "severity": d.severity.value,
            "location": _span_json(d.span),
            "message": d.message,
            "notes": [{"location": _span_json(n.span), "message": n.message} for n in d.notes],
        }
        for d in diagnostics
    ], indent=2, sort_keys=True) + "\n"
