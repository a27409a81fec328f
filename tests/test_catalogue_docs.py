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
