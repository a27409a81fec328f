"""Error goldens: malformed schemas and the exact diagnostics `vfiogen check` gives for them.

A case is either

* a file `tests/errors/<case>.yaml` that starts with its expected
  diagnostics as comment lines (`# {path}:LINE:COL: error[VGnnnn]: ...` and
  `# {path}:LINE:COL: note: ...`), ended by a blank line, followed by the
  malformed schema (line numbers count the comment lines too); or
* a directory `tests/errors/<case>/` of schema files plus `expected.txt`
  holding the same lines with `{dir}` for the case directory.

Only diagnostic header and note lines are compared: the quoted source and
caret lines and the final `vfiogen: N error(s)` summary are dropped. A case
exits with status 1, or 0 when it expects warnings only.

`pytest --update-goldens` rewrites the expected lines from the compiler's
current output (except for the cases in `known_failures.py`, whose goldens
hold the correct output). Read every rewritten line before committing it.
A new single-file case starts with a blank line (an empty expected block)
followed by its schema; a new directory case needs no expected.txt yet.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from known_failures import ERROR_GOLDENS as KNOWN_FAILURES
from vfiogen.diagnostics import CATALOGUE

ERRORS = Path(__file__).resolve().parent / "errors"

# Catalogue codes that no passing golden case covers, each with the reason.
# Codes are counted from the cases that pass, not from known failures: a
# known failure's golden says what the compiler should print, not what it
# does, so it proves nothing about the check today.
UNCOVERED_ALLOWED: dict[str, str] = {
    # Internal compiler error: only a compiler bug produces it, and a golden
    # that showed it would be a bug report, not an expectation.
    "VG0901": "internal error",
    # A path that is neither a file nor a directory, or a file that cannot be
    # read: a golden is always an existing, readable file. Covered by
    # test_missing_path_is_located below instead.
    "VG0110": "unreadable path",
    # A file over 128 KiB: too big to keep as a golden. Covered by
    # tests/test_hostile_schemas.py (the 10 MB file), located and timed.
    "VG0113": "schema file too large",
    # Bytes that are not UTF-8: awkward to keep in the repository, so
    # test_load_errors_are_located writes such a file into tmp_path instead.
    "VG0101": "non-UTF-8 file",
    # Lock enforcement compares with the output directory's previous lock,
    # which `vfiogen check` never reads: tests/test_lock_enforcement.py
    # builds, edits the schema and builds again instead.
    "VG0801": "needs a previous build",
    "VG0802": "needs a previous build",
}

_HEADER = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<column>\d+): "
                     r"(?P<severity>error|warning)\[(?P<code>VG\d{4})\]: (?P<message>.*)$")
_SUMMARY = re.compile(r"^vfiogen: \d+ error\(s\)$")


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    """The schema file, or the case directory."""

    @property
    def is_dir(self) -> bool:
        return self.path.is_dir()

    @property
    def placeholder(self) -> str:
        return "{dir}" if self.is_dir else "{path}"

    def expected(self) -> list[str]:
        if self.is_dir:
            listing = self.path / "expected.txt"
            return listing.read_text("utf-8").splitlines() if listing.is_file() else []
        expected, _ = _split_golden(self.path.read_text("utf-8"))
        return expected


def _cases() -> list[Case]:
    cases = [Case(p.stem, p) for p in ERRORS.glob("*.yaml")]
    cases += [Case(p.name, p) for p in ERRORS.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))]
    return sorted(cases, key=lambda c: c.name)


CASES = _cases()


def _split_golden(text: str) -> tuple[list[str], str]:
    """(expected lines, schema text) of a single-file case.

    The expected block is every leading line that starts with '#'; a blank
    line separates it from the schema, which may have comments of its own.
    """
    lines = text.splitlines(keepends=True)
    expected: list[str] = []
    index = 0
    while index < len(lines) and lines[index].startswith("#"):
        expected.append(lines[index].rstrip("\n").removeprefix("#").removeprefix(" "))
        index += 1
    body = "".join(lines[index:]).lstrip("\n")
    return expected, body


def _join_golden(expected: list[str], body: str) -> str:
    block = "".join(f"# {line}\n" for line in expected)
    return f"{block}\n{body}" if body else block


def _display(path: Path) -> str:
    """The path as vfiogen shows it (see `inputs.display`)."""
    return Path(os.path.relpath(path)).as_posix()


def diagnostic_lines(stderr: str, case: Case) -> list[str]:
    """Header and note lines of `stderr`, with the case's path replaced by its placeholder."""
    shown = _display(case.path)
    kept = []
    for line in stderr.splitlines():
        if line.startswith("  ") or _SUMMARY.match(line):
            continue
        if case.is_dir:
            line = line.replace(shown + "/", "{dir}/")
        else:
            line = line.replace(shown, "{path}")
        kept.append(line)
    return kept


def _run(case: Case, *extra: str) -> tuple[int, list[str]]:
    result = run_cli("check", *extra, str(case.path))
    return result.status, diagnostic_lines(result.stderr, case)


def _update(case: Case) -> None:
    if case.is_dir:
        _, actual = _run(case)
        (case.path / "expected.txt").write_text("".join(f"{line}\n" for line in actual), "utf-8")
        return
    # The block's own length moves every line number below it: iterate to the fixed point.
    _, body = _split_golden(case.path.read_text("utf-8"))
    for _ in range(5):
        current, _ = _split_golden(case.path.read_text("utf-8"))
        _, actual = _run(case)
        if actual == current:
            return
        case.path.write_text(_join_golden(actual, body), "utf-8")
    raise AssertionError(f"{case.name}: the golden did not settle after 5 rewrites")


def _params() -> list[Any]:
    params: list[Any] = []
    for case in CASES:
        marks = []
        if case.name in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[case.name]))
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


@pytest.mark.parametrize("case", _params())
def test_error_golden(case: Case, update_goldens: bool) -> None:
    if update_goldens and case.name not in KNOWN_FAILURES:
        _update(case)
    expected = case.expected()
    status, actual = _run(case)
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(expected, actual, f"{case.name} (expected)",
                                              f"{case.name} (actual)", lineterm=""))
        pytest.fail(f"diagnostics differ from the golden:\n{diff}", pytrace=False)
    headers = [h for h in map(_header, expected) if h is not None]
    want_status = 1 if any(h["severity"] == "error" for h in headers) else 0
    assert status == want_status, f"exit status {status}, expected {want_status}"


def _header(line: str) -> dict[str, str] | None:
    match = _HEADER.match(line)
    return match.groupdict() if match else None


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 45


def test_every_case_has_expectations() -> None:
    empty = [case.name for case in CASES if not any(_header(line) for line in case.expected())]
    assert not empty, f"cases with no expected diagnostic: {empty}"


def test_known_failures_name_existing_cases() -> None:
    names = {case.name for case in CASES}
    unknown = sorted(set(KNOWN_FAILURES) - names)
    assert not unknown, f"known_failures.py lists cases that do not exist: {unknown}"


def _covered_codes() -> dict[str, list[str]]:
    """Code -> the passing cases (not known failures) whose golden expects it."""
    covered: dict[str, list[str]] = {}
    for case in CASES:
        if case.name in KNOWN_FAILURES:
            continue
        for line in case.expected():
            header = _header(line)
            if header is not None:
                covered.setdefault(header["code"], []).append(case.name)
    return covered


def test_catalogue_codes_are_covered() -> None:
    covered = _covered_codes()
    uncovered = sorted(code for code in CATALOGUE if code not in covered and code not in UNCOVERED_ALLOWED)
    assert not uncovered, ("catalogue codes no passing error golden covers: "
                           + ", ".join(f"{code} ({CATALOGUE[code][1]})" for code in uncovered))
    stale = sorted(code for code in UNCOVERED_ALLOWED if code in covered)
    assert not stale, f"allow-listed codes that a golden now covers (remove them from UNCOVERED_ALLOWED): {stale}"
    gone = sorted(code for code in UNCOVERED_ALLOWED if code not in CATALOGUE)
    assert not gone, f"allow-listed codes the catalogue no longer has: {gone}"
    expected = {header["code"] for case in CASES for header in map(_header, case.expected()) if header}
    unknown = sorted(code for code in expected if code not in CATALOGUE)
    assert not unknown, f"goldens expect codes the catalogue does not have: {unknown}"


def test_json_format_matches_text() -> None:
    case = next(c for c in CASES if c.name == "duplicate_name_state_and_register")
    expected = [h for h in map(_header, case.expected()) if h is not None]
    result = run_cli("check", "--format", "json", str(case.path))
    assert result.status == 1
    diagnostics = json.loads(result.stdout)
    assert [(d["code"], d["severity"], d["location"]["line"], d["location"]["column"], d["message"])
            for d in diagnostics] == \
        [(h["code"], h["severity"], int(h["line"]), int(h["column"]), h["message"]) for h in expected]
    assert all(d["location"]["path"] == _display(case.path) for d in diagnostics)
    notes = [n for d in diagnostics for n in d["notes"]]
    expected_notes = [line for line in case.expected() if ": note: " in line]
    assert [f"{{path}}:{n['location']['line']}:{n['location']['column']}: note: {n['message']}"
            for n in notes] == expected_notes


_SECTION = b"section: msi\ntitle: MSI\nid: 0x0005\nlocation:\n  capability: {id: 0x05, size: 24}\nversion: 1\n"


@pytest.mark.parametrize(("data", "expected"), [
    pytest.param(_SECTION.replace(b"version: 1\n", b"version: 1\nregisters:\n  control:\n"
                                  b"    offset: 0x02\n    width: 16\n    access: rw\n    present: yes\n"),
                 "x.yaml:12:14: error[VG0106]: 'yes' is a YAML 1.1 boolean; write true or false (or quote it)",
                 id="yaml11_boolean"),
    pytest.param(_SECTION.replace(b"  capability", b"\tcapability"),
                 "x.yaml:5:1: error[VG0108]: tab in indentation; YAML indents with spaces",
                 id="tab"),
    pytest.param(_SECTION.replace(b"title: MSI", b"title: MSI caf\xe9"),
                 "x.yaml:2:15: error[VG0101]: byte 0xe9 at offset 27 is not valid UTF-8",
                 id="non_utf8"),
    pytest.param(b"",
                 "x.yaml:1:1: error[VG0103]: file is empty; a schema needs at least a name",
                 id="empty"),
])
def test_load_errors_are_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes,
                                 expected: str) -> None:
    (tmp_path / "x.yaml").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "x.yaml")
    assert result.status == 1
    headers = [line for line in result.stderr.splitlines() if _HEADER.match(line)]
    assert headers == [expected]


def test_missing_path_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "missing.yaml")
    assert result.status == 1
    headers = [line for line in result.stderr.splitlines() if _HEADER.match(line)]
    assert headers == ["missing.yaml:1:1: error[VG0110]: 'missing.yaml' is neither a schema file nor a directory"]
