"""generated/ must always equal a fresh `vfiogen build schemas/`."""

from __future__ import annotations

import difflib
from pathlib import Path

from conftest import GENERATED, SCHEMAS, run_cli


def test_generated_matches_fresh_build(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    result = run_cli("build", str(SCHEMAS), "-o", str(out))
    assert result.status == 0, result.stderr
    fresh = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    committed = {p.relative_to(GENERATED).as_posix() for p in GENERATED.rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts}
    assert fresh == committed, f"files differ: only fresh {sorted(fresh - committed)}, only committed {sorted(committed - fresh)}"
    for name in sorted(fresh):
        new = (out / name).read_text("utf-8")
        old = (GENERATED / name).read_text("utf-8")
        if new != old:
            diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                f"generated/{name}", f"fresh/{name}"))
            raise AssertionError(f"generated/ is stale; run 'vfiogen build schemas/':\n{diff}")


def test_build_check_reports_a_stale_file(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert run_cli("build", str(SCHEMAS), "-o", str(out)).status == 0
    assert run_cli("build", str(SCHEMAS), "-o", str(out), "--check").status == 0
    lock = out / "schema.lock.json"
    lock.write_text(lock.read_text("utf-8") + " ", "utf-8")
    (out / "leftover.txt").write_text("x", "utf-8")
    result = run_cli("build", str(SCHEMAS), "-o", str(out), "--check")
    assert result.status == 1
    assert "schema.lock.json: stale" in result.stderr
    assert "leftover.txt: stale" in result.stderr
    assert lock.read_text("utf-8").endswith(" ")  # --check changes nothing


def test_build_deletes_files_it_no_longer_generates(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert run_cli("build", str(SCHEMAS), "-o", str(out)).status == 0
    manifest = out / "MANIFEST"
    manifest.write_text(manifest.read_text("utf-8") + "docs/sections/removed.md\n", "utf-8")
    (out / "docs/sections/removed.md").write_text("old", "utf-8")
    (out / "unrelated.txt").write_text("mine", "utf-8")
    assert run_cli("build", str(SCHEMAS), "-o", str(out)).status == 0
    assert not (out / "docs/sections/removed.md").exists()
    assert (out / "unrelated.txt").exists()  # never listed in a manifest: not ours to delete
