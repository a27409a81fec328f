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
from conftest import ROOT, aer_before_qemu_8_0, run_cli


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
    _edit(msix, "\nversion: 1\n", "\nversion: 2\nmin_version: 1\n")
    line = _edit(msix, "  pending:\n", "  tph: {type: u32, since: 2, default: 0}\n  pending:\n")
    status, data = _json(old, new)
    assert status == 0, data
    assert [(c["rule"], c["direction"]) for c in data["changes"]] == [("VD011", "compatible"), ("VD014", "compatible")]
    added = data["changes"][1]
    assert (added["subject"], added["new"], added["line"]) == ("tph", "since 2, default 0", line)


def test_a_field_retired_with_until_is_compatible_and_named(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    for side in (old, new):
        _edit(side / "sections" / "msix.yaml", "  pending:\n", "  tph: {type: u32}\n  pending:\n")
    msix = new / "sections" / "msix.yaml"
    _edit(msix, "\nversion: 1\n", "\nversion: 2\nmin_version: 1\n")
    line = _edit(msix, "  tph: {type: u32}\n", "  tph: {type: u32, until: 2, default: 0}\n")
    status, data = _json(old, new)
    assert status == 0, data
    retired = [c for c in data["changes"] if c["rule"] == "VD015"]
    assert [(c["subject"], c["new"], c["line"]) for c in retired] == [("tph", "until 2", line)]


def test_a_descriptor_field_added_breaks_both_ways(tmp_path: Path) -> None:
    """The descriptor record carries no version and its size is checked exactly (docs/wire-format.md)."""
    old, new = _pair(tmp_path)
    line = _edit(new / "sections" / "msix.yaml", "  pba_place:", "  pba_bir: {from: pba, fields: [bir]}\n  pba_place:")
    status, data = _json(old, new)
    assert (status, data["verdict"]) == (1, "breaks-both"), data
    [change] = [c for c in data["changes"] if c["rule"] == "VD016"]
    text = (new / "sections" / "msix.yaml").read_text("utf-8")
    first_item = text[:text.index("\ndescriptor:\n")].count("\n") + 3  # the line after 'descriptor:'
    assert first_item < line
    assert (change["subject"], change["line"]) == ("descriptor: pba_bir", first_item), change


def test_a_descriptor_field_comparing_other_bits_is_behavioural(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    _edit(new / "sections" / "msix.yaml", "{from: table, fields: [bir, offset]}", "{from: table, fields: [bir]}")
    status, data = _json(old, new)
    assert status == 0, data
    assert [(c["rule"], c["subject"], c["old"], c["new"]) for c in data["changes"]] == [
        ("VD017", "descriptor: table_place", "bir, offset", "bir")]


def test_a_restore_change_points_at_the_restore_block(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    text = (new / "sections" / "aer.yaml").read_text("utf-8")
    first_step = text[:text.index("\nrestore:\n") + len("\nrestore:\n")].count("\n") + 1
    _edit(new / "sections" / "aer.yaml", "  - uncorrectable_error_mask\n  - correctable_error_mask\n",
          "  - correctable_error_mask\n  - uncorrectable_error_mask\n")
    status, data = _json(old, new)
    assert [(c["rule"], c["line"]) for c in data["changes"]] == [("VD031", first_step)]


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
    refuses reserved bits (docs/wire-format.md), so forward migration breaks; and the write masks the
    descriptors carry differ, which the target refuses either way (VD022), as QEMU's did."""
    old, new = _pair(tmp_path)
    aer = old / "sections" / "aer.yaml"
    aer.write_text(aer_before_qemu_8_0(aer.read_text("utf-8")), "utf-8")
    status, data = _json(old, new)
    assert status == 1 and data["verdict"] == "breaks-both", data
    rules = {(c["rule"], c["subject"], c["direction"]) for c in data["changes"]}
    assert ("VD021", "uncorrectable_error_mask", "breaks-forward") in rules
    assert ("VD022", "uncorrectable_error_mask", "breaks-both") in rules
    assert all(c["direction"] in ("breaks-forward", "breaks-both", "behavioural") for c in data["changes"])


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


def test_markdown_shows_a_new_version_beside_the_old_newest(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    msix = new / "sections" / "msix.yaml"
    _edit(msix, "\nversion: 1\n", "\nversion: 2\nmin_version: 1\n")
    _edit(msix, "  pending:\n", "  tph: {type: u32, since: 2, default: 0}\n  pending:\n")
    result = run_cli("diff", str(old), str(new), "--format", "markdown")
    assert result.status == 0, result.stderr
    section = result.stdout[result.stdout.index("### msix"):]
    assert "Wire layout, old version 1 beside new version 2:" in section
    changed = [row for row in section.splitlines() if row.endswith("⚠ |")]
    assert changed and all("tph" in row or "pending" in row for row in changed), changed
    assert any("| - | tph (u32) byte 0 ⚠ |" in row or "tph (u32) byte 0 ⚠" in row for row in changed), changed


def test_changing_a_repeated_sections_instances_breaks_the_side_with_more(tmp_path: Path) -> None:
    old, new = _pair(tmp_path)
    line = _edit(new / "sections/vendor_specific.yaml", "size: 192, instances: 16", "size: 192, instances: 8")
    status, data = _json(old, new)
    assert status == 1
    assert [(c["rule"], c["direction"], c["subject"], c["old"], c["new"]) for c in data["changes"]] == [
        ("VD018", "breaks-backward", "instances", "16", "8")]
    assert line == 31
    _edit(new / "sections/vendor_specific.yaml", "instances: 8", "instances: 32")
    status, data = _json(old, new)
    assert [(c["rule"], c["direction"]) for c in data["changes"]] == [("VD019", "breaks-forward")]


def test_a_changed_reserved_when_breaks_both_ways(tmp_path: Path) -> None:
    """Link Disable reserved on Root Ports too: a new loader refuses a root port's Link Disable that an old
    source saves, and the two builds' write masks for a root port's Link Control differ."""
    old, new = _pair(tmp_path)
    before = ('        reserved_when: "pcie_caps.device_port_type == port_type.endpoint || '
              'pcie_caps.device_port_type == port_type.legacy_endpoint || ')
    text = (new / "sections" / "pcie.yaml").read_text("utf-8")
    assert text.count(before) == 2  # Link Disable, then Retrain Link
    _edit(new / "sections" / "pcie.yaml", before + "pcie_caps.device_port_type == port_type.upstream_port"
          ' || pcie_caps.device_port_type == port_type.pcie_to_pci_bridge"\n        description: "Link Disable',
          before + "pcie_caps.device_port_type == port_type.root_port || pcie_caps.device_port_type == "
                 'port_type.upstream_port || pcie_caps.device_port_type == port_type.pcie_to_pci_bridge"\n'
                 '        description: "Link Disable')
    status, data = _json(old, new)
    assert status == 1 and data["verdict"] == "breaks-both", data
    [change] = [c for c in data["changes"] if c["scope"] == "pcie"]
    assert (change["rule"], change["subject"], change["direction"]) == ("VD027", "lnkctl.link_disable",
                                                                        "breaks-both")
    assert "port_type.root_port" in change["new"] and "port_type.root_port" not in change["old"]
    assert change["file"].endswith("new/sections/pcie.yaml")


def test_a_params_source_changed_breaks_both_ways(tmp_path: Path) -> None:
    """AER's root_port read from another expression: on a function where the two differ, the builds lay the
    AER section out differently (the root registers), so the change breaks both ways."""
    old, new = _pair(tmp_path)
    _edit(new / "sections" / "aer.yaml", " || pcie.pcie_caps.device_port_type == pcie.port_type.rc_event_collector\"",
          "\"")
    status, data = _json(old, new)
    assert status == 1 and data["verdict"] == "breaks-both", data
    [change] = data["changes"]
    assert (change["rule"], change["scope"], change["subject"]) == ("VD036", "aer", "params.root_port")
    assert change["old"].endswith("rc_event_collector") and change["new"].endswith("root_port")
    assert change["file"].endswith("new/sections/aer.yaml")


def test_a_device_binding_another_param_value_breaks_both_ways(tmp_path: Path) -> None:
    """tests/golden/device_params' card binds `wide: true`; bound to false, its table section is laid out
    for another function (VD038), though no section changed. A param's new default is behavioural while
    every device binds it (VD037)."""
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(ROOT / "tests" / "golden" / "device_params", old, ignore=shutil.ignore_patterns("expected"))
    shutil.copytree(old, new)
    _edit(new / "device.yaml", "wide: true", "wide: false")
    status, data = _json(old, new)
    assert status == 1 and data["verdict"] == "breaks-both", data
    assert [(c["rule"], c["scope"], c["subject"], c["old"], c["new"]) for c in data["changes"]] == [
        ("VD038", "card", "tables.params.wide", "1", "0")]
    shutil.copy(old / "device.yaml", new / "device.yaml")
    _edit(new / "schema.yaml", "wide:    {type: bool, default: false}", "wide:    {type: bool, default: true}")
    status, data = _json(old, new)
    assert [(c["rule"], c["subject"], c["direction"]) for c in data["changes"]] == [
        ("VD037", "params.wide", "behavioural")], data
