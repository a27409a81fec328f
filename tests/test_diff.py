"""`vfiogen diff`: rule, direction and location of each change, the four outputs, exit codes, --against.

Each test copies the standard schemas twice into tmp_path (old and new),
edits the new copy and compares them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, run_cli


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(ROOT / "schemas", old)
    shutil.copytree(ROOT / "schemas", new)
    return old, new


def _edit(path: Path, before: str, after: str) -> int:
    """Replace the one `before` in `path` by `after`; the 1-based line where it started."""
    text = path.read_text("utf-8")
    assert text.count(before) == 1, before
    line = text[:text.index(before)].count("\n") + 1
    path.write_text(text.replace(before, after), "utf-8")
    return line


def _json(old: Path, new: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = run_cli("diff", str(old), str(new), "--format", "json")
    return result.status, json.loads(result.stdout)


def test_identical_schemas_are_compatible(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    status, data = _json(old, new)
    assert (status, data) == (0, {"verdict": "compatible", "changes": []})


def test_u32_in_the_middle_of_msix_version_1_breaks_both_ways(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    line = _edit(new / "sections" / "msix.yaml", "  pending:\n", "  tph: {type: u32}\n  pending:\n")
    status, data = _json(old, new)
    assert status == 1 and data["verdict"] == "breaks-both"
    [change] = data["changes"]
    assert (change["rule"], change["scope"], change["subject"], change["line"]) == ("VD010", "msix",
                                                                                   "version 1: tph", line)
    assert change["file"].endswith("new/sections/msix.yaml")
    github = run_cli("diff", str(old), str(new), "--format", "github")
    assert github.status == 1
    assert re.fullmatch(rf"::error file=\S*new/sections/msix\.yaml,line={line},title=VD010::VD010 breaks-both: "
                        r"msix version 1: tph: .*\n", github.stdout), github.stdout
    markdown = run_cli("diff", str(old), str(new), "--format", "markdown").stdout
    assert markdown.startswith("## vfiogen diff: BREAKING: breaks forward and backward migration (1 change(s))")
    assert "| vectors +0 | pending (array of u64, up to 256 bytes) | tph (u32) byte 0 ⚠ |" in markdown
    assert "| 0 | control (u16 register) byte 0 | control (u16 register) byte 0 |" in markdown


def test_a_field_added_with_a_version_bump_is_compatible(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    msix = new / "sections" / "msix.yaml"
    _edit(msix, "  pending:\n", "  tph: {type: u32, since: 2, default: 0}\n  pending:\n")
    _edit(msix, "\nversion: 1\n", "\nversion: 2\nmin_version: 1\n")
    status, data = _json(old, new)
    assert status == 0, data
    assert [(c["rule"], c["direction"]) for c in data["changes"]] == [("VD011", "compatible")]


def test_raising_min_version_past_the_old_version_breaks(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    msix = new / "sections" / "msix.yaml"
    _edit(msix, "  pending:\n", "  tph: {type: u32, since: 2, default: 0}\n  pending:\n")
    _edit(msix, "\nversion: 1\n", "\nversion: 2\nmin_version: 2\n")
    status, data = _json(old, new)
    assert status == 1
    assert ("VD012", "breaks-both") in [(c["rule"], c["direction"]) for c in data["changes"]]


def test_aer_mask_bits_declared_break_forward(tmp_path: Path) -> None:
    """QEMU 7.2 -> 8.0: the AER mask register's writable bits changed. Here the new schema declares
    uncorrectable bits 27..31 that were reserved: a new source may carry them set, an old loader
    refuses reserved bits (docs/wire-format.md), so forward migration breaks."""
    old, new = _pair(tmp_path)
    aer = old / "sections" / "aer.yaml"
    text = aer.read_text("utf-8")
    control = text.index("  uncorrectable_control:\n")
    tail = text.index("  correctable_status:\n")
    kept = "".join(line for line in text[control:tail].splitlines(keepends=True)
                   if not re.search(r"bits: (2[7-9]|3[01])\b", line))
    aer.write_text(text[:control] + kept + text[tail:], "utf-8")
    status, data = _json(old, new)
    assert status == 1 and data["verdict"] == "breaks-forward", data
    rules = {(c["rule"], c["subject"]) for c in data["changes"]}
    assert ("VD021", "uncorrectable_error_mask") in rules
    assert ("VD022", "uncorrectable_error_mask") in rules
    assert all(c["direction"] in ("breaks-forward", "behavioural") for c in data["changes"])


def test_restore_order_change_is_behavioural(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    _edit(new / "sections" / "aer.yaml", "  - uncorrectable_error_mask\n  - correctable_error_mask\n",
          "  - correctable_error_mask\n  - uncorrectable_error_mask\n")
    status, data = _json(old, new)
    assert status == 0
    assert [(c["rule"], c["direction"]) for c in data["changes"]] == [("VD031", "behavioural")]


def test_a_lock_file_compares_with_a_schema_directory(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    _edit(new / "sections" / "msix.yaml", "title: MSI-X\n", "title: MSI-X (extended)\n")
    result = run_cli("diff", str(ROOT / "generated" / "schema.lock.json"), str(new))
    assert result.status == 0
    assert re.search(r"new/sections/msix\.yaml:\d+: cosmetic\[VD040\]: msix title: title changed "
                     r"\(MSI-X -> MSI-X \(extended\)\)", result.stdout), result.stdout


@pytest.mark.parametrize("args", [["diff"], ["diff", "a"], ["diff", "--against", "HEAD", "a", "b"],
                                  ["diff", "/nonexistent/x", "/nonexistent/y"], ["diff", "--format", "yaml"]])
def test_usage_errors_exit_2_without_traceback(args: list[str], tmp_path: Path) -> None:
    result = run_cli(*args)
    assert result.status == 2
    assert "Traceback" not in result.stderr and "error" in result.stderr


def test_schemas_that_do_not_check_exit_2_with_located_errors(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    _edit(new / "sections" / "msix.yaml", "\nversion: 1\n", "\nversion: one\n")
    result = run_cli("diff", str(old), str(new))
    assert result.status == 2
    assert re.search(r"msix\.yaml:\d+:\d+: error\[VG\d{4}\]", result.stderr), result.stderr


def test_against_head_in_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "schemas", repo / "schemas")

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo,
                       check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    line = _edit(repo / "schemas" / "sections" / "msix.yaml", "  pending:\n", "  tph: {type: u32}\n  pending:\n")
    git("commit", "-qam", "second")
    monkeypatch.chdir(repo)
    result = run_cli("diff", "--against", "HEAD~1", "--format", "github")
    assert result.status == 1, result.stderr
    assert result.stdout.startswith(f"::error file=schemas/sections/msix.yaml,line={line},title=VD010::")
    assert run_cli("diff", "--against", "HEAD", "schemas").status == 0
    bad = run_cli("diff", "--against", "no-such-rev")
    assert bad.status == 2 and "git archive failed" in bad.stderr


def test_changing_a_repeated_sections_instances_breaks_the_side_with_more(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    line = _edit(new / "sections/vendor_specific.yaml", "size: 192, instances: 16", "size: 192, instances: 8")
    status, data = _json(old, new)
    assert status == 1
    assert [(c["rule"], c["direction"], c["subject"], c["old"], c["new"]) for c in data["changes"]] == [
        ("VD014", "breaks-backward", "instances", "16", "8")]
    assert line == 29
    _edit(new / "sections/vendor_specific.yaml", "instances: 8", "instances: 32")
    status, data = _json(old, new)
    assert [(c["rule"], c["direction"]) for c in data["changes"]] == [("VD015", "breaks-forward")]
