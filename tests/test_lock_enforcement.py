"""`vfiogen build` holds the schemas to the lock its previous build left (VG0801, VG0802).

Each test copies the standard schemas into tmp_path, builds them once to get
a lock, edits one schema and builds again into the same output directory.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from conftest import ROOT, run_cli

MSIX_PENDING = "  pending:\n"
TPH_IN_THE_MIDDLE = "  tph: {type: u32, description: inserted before pending}\n"


def _first_build(tmp_path: Path) -> tuple[Path, Path]:
    schemas, out = tmp_path / "schemas", tmp_path / "out"
    shutil.copytree(ROOT / "schemas", schemas)
    first = run_cli("build", str(schemas), "-o", str(out))
    assert first.status == 0, first.stderr
    return schemas, out


def _insert_in_msix(schemas: Path, text: str, *, version: str | None = None) -> int:
    """Insert `text` before MSI-X's 'pending' state field; the 1-based line it lands on."""
    path = schemas / "sections" / "msix.yaml"
    source = path.read_text("utf-8")
    assert source.count(MSIX_PENDING) == 1
    line = source[:source.index(MSIX_PENDING)].count("\n") + 1
    source = source.replace(MSIX_PENDING, text + MSIX_PENDING)
    if version is not None:
        source = source.replace("\nversion: 1\n", f"\nversion: {version}\n")
    path.write_text(source, "utf-8")
    return line


def test_u32_in_the_middle_of_msix_version_1_is_refused(tmp_path: Path) -> None:
    schemas, out = _first_build(tmp_path)
    lock_before = (out / "schema.lock.json").read_bytes()
    line = _insert_in_msix(schemas, TPH_IN_THE_MIDDLE)
    second = run_cli("build", str(schemas), "-o", str(out))
    assert second.status == 1
    header = re.search(r"^(.*msix\.yaml):(\d+):(\d+): error\[VG0801\]: (.*)$", second.stderr, re.M)
    assert header, second.stderr
    assert int(header.group(2)) == line
    message = header.group(4)
    assert "section 'msix' version 1" in message
    assert "'tph'" in message and "bump 'version' to 2" in message and "--accept-break" in message
    assert "Traceback" not in second.stderr
    # Refused means nothing written: the lock still records the old version 1.
    assert (out / "schema.lock.json").read_bytes() == lock_before
    # --check refuses it too (CI runs that, not build).
    assert run_cli("build", str(schemas), "-o", str(out), "--check").status == 1


def test_accept_break_writes_the_new_layout(tmp_path: Path) -> None:
    schemas, out = _first_build(tmp_path)
    _insert_in_msix(schemas, TPH_IN_THE_MIDDLE)
    accepted = run_cli("build", str(schemas), "-o", str(out), "--accept-break")
    assert accepted.status == 0, accepted.stderr
    items = json.loads((out / "schema.lock.json").read_text())["sections"]["msix"]["layouts"][0]["items"]
    assert [i["path"] for i in items if not i["in_element"]] == ["control", "table", "pba", "vectors", "tph",
                                                                  "pending"]
    # The accepted lock is the new reference: the same schemas build again without the flag.
    assert run_cli("build", str(schemas), "-o", str(out)).status == 0


def test_a_bumped_version_keeps_version_1_and_builds(tmp_path: Path) -> None:
    schemas, out = _first_build(tmp_path)
    _insert_in_msix(schemas, "  tph: {type: u32, since: 2, default: 0}\n", version="2\nmin_version: 1")
    second = run_cli("build", str(schemas), "-o", str(out))
    assert second.status == 0, second.stderr
    layouts = json.loads((out / "schema.lock.json").read_text())["sections"]["msix"]["layouts"]
    assert [layout["version"] for layout in layouts] == [1, 2]


def test_a_changed_width_is_refused_at_the_field(tmp_path: Path) -> None:
    schemas, out = _first_build(tmp_path)
    path = schemas / "sections" / "msix.yaml"
    source = path.read_text("utf-8")
    assert source.count("data:           {type: u32") == 1
    path.write_text(source.replace("data:           {type: u32", "data:           {type: u64"), "utf-8")
    refused = run_cli("build", str(schemas), "-o", str(out))
    assert refused.status == 1
    assert re.search(r"msix\.yaml:\d+:\d+: error\[VG0801\]: section 'msix' version 1 changes its wire layout at "
                     r"'vectors\[\]\.data' \(type u32 -> u64, size 4 -> 8, max_size 4 -> 8\)", refused.stderr), \
        refused.stderr
    assert run_cli("build", str(schemas), "-o", str(out), "--accept-break").status == 0


def test_unreadable_previous_lock_is_located(tmp_path: Path) -> None:
    schemas, out = _first_build(tmp_path)
    (out / "schema.lock.json").write_text("{not json", "utf-8")
    result = run_cli("build", str(schemas), "-o", str(out))
    assert result.status == 1
    assert re.search(r"schema\.lock\.json:1:1: error\[VG0802\]: cannot read the previous lock", result.stderr), result.stderr
    (out / "schema.lock.json").write_text("[1, 2]", "utf-8")
    result = run_cli("build", str(schemas), "-o", str(out))
    assert result.status == 1 and "not a vfiogen schema lock" in result.stderr


def test_first_build_needs_no_lock(tmp_path: Path) -> None:
    schemas, out = _first_build(tmp_path)
    assert (out / "schema.lock.json").is_file()
