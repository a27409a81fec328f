"""docs/diagnostics.md lists exactly the codes of the catalogue, with their severity and summary."""

from __future__ import annotations

import re

from conftest import ROOT
from vfiogen.diagnostics import CATALOGUE

ROW = re.compile(r"^\| (VG\d{4}) \| (error|warning) \| (.+) \|$")


def test_diagnostics_reference_matches_catalogue() -> None:
    text = (ROOT / "docs" / "diagnostics.md").read_text("utf-8")
    documented = {m.group(1): (m.group(2), m.group(3)) for m in map(ROW.match, text.splitlines()) if m}
    expected = {code: (severity.value, summary) for code, (severity, summary) in CATALOGUE.items()}
    assert documented == expected


def test_codes_are_grouped_by_stage() -> None:
    for code in CATALOGUE:
        assert re.fullmatch(r"VG0[1-9]\d\d", code), code


DIFF_ROW = re.compile(r"^\| (VD\d{3}) \| ([a-z-]+) \| (.+) \|$")


def test_diff_rules_reference_matches_catalogue() -> None:
    from vfiogen.diff.rules import RULES

    text = (ROOT / "docs" / "diff-rules.md").read_text("utf-8")
    documented = {m.group(1): (m.group(2), m.group(3)) for m in map(DIFF_ROW.match, text.splitlines()) if m}
    assert documented == {code: (direction.value, summary) for code, (direction, summary) in RULES.items()}
