"""vfiogen.diagnostics: the catalogue, the reporter, -W switches and rendering."""

from __future__ import annotations

import json
import re

import pytest
from vfiogen.diagnostics import (
    CATALOGUE,
    Diagnostic,
    Note,
    Reporter,
    Severity,
    SourceMap,
    render_json,
    render_text,
)
from vfiogen.source import SourceFile, Span

SPAN = Span("a.yaml", 2, 3, 2, 7)


def test_catalogue_codes_are_well_formed_and_grouped_by_stage() -> None:
    stages = {"01", "02", "03", "04", "05", "06", "07", "08", "09"}
    for code, (severity, summary) in CATALOGUE.items():
        assert re.fullmatch(r"VG0\d{3}", code), code
        assert code[2:4] in stages, code
        assert isinstance(severity, Severity)
        assert summary and not summary.endswith(".")
    assert list(CATALOGUE) == sorted(CATALOGUE)


def test_only_the_documented_codes_are_warnings() -> None:
    warnings = {code for code, (severity, _) in CATALOGUE.items() if severity is Severity.WARNING}
    assert warnings == {"VG0518", "VG0523"}


def test_report_takes_the_severity_from_the_catalogue() -> None:
    reporter = Reporter()
    reporter.report("VG0401", SPAN, "overlap")
    reporter.report("VG0518", SPAN, "useless write", Note(None, "n"))
    assert reporter.diagnostics == [
        Diagnostic("VG0401", Severity.ERROR, SPAN, "overlap"),
        Diagnostic("VG0518", Severity.WARNING, SPAN, "useless write", (Note(None, "n"),)),
    ]
    assert reporter.error_count == 1


def test_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        Reporter().report("VG9999", SPAN, "nope")


def test_disabled_warning_is_dropped() -> None:
    reporter = Reporter(disabled=frozenset({"VG0518"}))
    reporter.report("VG0518", SPAN, "useless write")
    reporter.report("VG0523", SPAN, "twice")
    assert [d.code for d in reporter.diagnostics] == ["VG0523"]
    assert reporter.error_count == 0


def test_promoted_warning_becomes_an_error() -> None:
    reporter = Reporter(promoted=frozenset({"VG0518"}))
    reporter.report("VG0518", SPAN, "useless write")
    assert reporter.diagnostics == [Diagnostic("VG0518", Severity.ERROR, SPAN, "useless write")]
    assert reporter.error_count == 1


def test_switches_never_touch_errors() -> None:
    reporter = Reporter(disabled=frozenset({"VG0401"}), promoted=frozenset({"VG0401"}))
    reporter.report("VG0401", SPAN, "overlap")
    assert reporter.diagnostics == [Diagnostic("VG0401", Severity.ERROR, SPAN, "overlap")]


def test_sorted_orders_by_path_line_column_code_then_message() -> None:
    reporter = Reporter()
    reporter.report("VG0402", Span("b.yaml", 1, 1, 1, 2), "b")
    reporter.report("VG0402", Span("a.yaml", 3, 1, 3, 2), "line 3")
    reporter.report("VG0402", Span("a.yaml", 2, 9, 2, 10), "col 9")
    reporter.report("VG0402", Span("a.yaml", 2, 4, 2, 5), "z")
    reporter.report("VG0401", Span("a.yaml", 2, 4, 2, 5), "y")
    reporter.report("VG0402", Span("a.yaml", 2, 4, 2, 5), "a")
    assert [(d.span.path, d.span.line, d.span.column, d.code, d.message) for d in reporter.sorted()] == [
        ("a.yaml", 2, 4, "VG0401", "y"),
        ("a.yaml", 2, 4, "VG0402", "a"),
        ("a.yaml", 2, 4, "VG0402", "z"),
        ("a.yaml", 2, 9, "VG0402", "col 9"),
        ("a.yaml", 3, 1, "VG0402", "line 3"),
        ("b.yaml", 1, 1, "VG0402", "b"),
    ]
    # sorting does not reorder the reporter's own list
    assert reporter.diagnostics[0].message == "b"


def _sources() -> SourceMap:
    text = "key: value\n  offset: 0x10  \nshort\n"
    return SourceMap({"a.yaml": SourceFile.from_text("a.yaml", text)})


def test_quote_underlines_the_span() -> None:
    assert _sources().quote(Span("a.yaml", 2, 11, 2, 15)) == ["    offset: 0x10  ", "            ^~~~"]


def test_quote_of_an_empty_or_multi_line_span_is_one_caret() -> None:
    sources = _sources()
    assert sources.quote(Span("a.yaml", 1, 6, 1, 6)) == ["  key: value", "       ^"]
    assert sources.quote(Span("a.yaml", 1, 6, 3, 2)) == ["  key: value", "       ^"]


def test_quote_clips_the_underline_to_the_line() -> None:
    assert _sources().quote(Span("a.yaml", 3, 3, 3, 40)) == ["  short", "    ^~~"]


def test_quote_past_the_end_of_a_line_is_one_caret() -> None:
    assert _sources().quote(Span("a.yaml", 3, 6, 3, 7)) == ["  short", "       ^"]


@pytest.mark.parametrize("span", [
    Span("other.yaml", 1, 1, 1, 2),              # file not loaded
    Span("a.yaml", 1, 1, 1, 2, synthetic=True),  # made-up node
    Span("a.yaml", 9, 1, 9, 2),                  # beyond the last line
])
def test_quote_nothing_when_there_is_no_source_line(span: Span) -> None:
    assert _sources().quote(span) == []


def test_render_text_is_gcc_style_with_quotes_and_notes() -> None:
    diagnostics = [
        Diagnostic("VG0401", Severity.ERROR, Span("a.yaml", 2, 3, 2, 9), "registers overlap",
                   (Note(Span("a.yaml", 1, 1, 1, 4), "first here"), Note(None, "a plain note"))),
        Diagnostic("VG0518", Severity.WARNING, Span("gone.yaml", 4, 2, 4, 3), "no writable bits"),
    ]
    assert render_text(diagnostics, _sources()) == (
        "a.yaml:2:3: error[VG0401]: registers overlap\n"
        "    offset: 0x10  \n"
        "    ^~~~~~\n"
        "a.yaml:1:1: note: first here\n"
        "  key: value\n"
        "  ^~~\n"
        "note: a plain note\n"
        "gone.yaml:4:2: warning[VG0518]: no writable bits\n"
    )


def test_render_text_of_nothing_is_empty() -> None:
    assert render_text([], SourceMap()) == ""


def test_render_json_has_the_same_data() -> None:
    diagnostics = [
        Diagnostic("VG0401", Severity.ERROR, Span("a.yaml", 2, 3, 2, 9), "registers overlap",
                   (Note(Span("a.yaml", 1, 1, 1, 4), "first here"), Note(None, "plain"))),
        Diagnostic("VG0518", Severity.WARNING, Span("b.yaml", 4, 2, 5, 1), "no writable bits"),
    ]
    text = render_json(diagnostics)
    assert text.endswith("]\n")
    assert json.loads(text) == [
        {"code": "VG0401", "severity": "error", "message": "registers overlap",
         "location": {"path": "a.yaml", "line": 2, "column": 3, "end_line": 2, "end_column": 9},
         "notes": [{"location": {"path": "a.yaml", "line": 1, "column": 1, "end_line": 1, "end_column": 4},
                    "message": "first here"},
                   {"location": None, "message": "plain"}]},
        {"code": "VG0518", "severity": "warning", "message": "no writable bits",
         "location": {"path": "b.yaml", "line": 4, "column": 2, "end_line": 5, "end_column": 1},
         "notes": []},
    ]
    # canonical: re-serialising with the same options gives the same text
    assert json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n" == text


def test_render_json_of_nothing_is_an_empty_array() -> None:
    assert json.loads(render_json([])) == []
