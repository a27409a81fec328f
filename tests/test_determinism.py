"""Builds are byte-for-byte reproducible: file order, hash seed, locale and working directory do not matter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SCHEMAS, run_cli


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root`, by relative path, as bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def schema_files() -> list[str]:
    files = sorted(str(p) for p in SCHEMAS.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    assert files, "schemas/ has no schema files"
    # Files given by name are known by their base name: two with one name would not both be built.
    assert len({Path(f).name for f in files}) == len(files)
    return files


def assert_same_tree(first: Path, second: Path) -> None:
    a, b = tree(first), tree(second)
    assert sorted(a) == sorted(b), f"different files: {sorted(set(a) ^ set(b))}"
    different = [name for name in a if a[name] != b[name]]
    assert different == [], f"files differ between {first.name} and {second.name}: {different}"
    assert "MANIFEST" in a and "schema.lock.json" in a


def test_file_order_does_not_matter(tmp_path: Path) -> None:
    files = schema_files()
    forward, backward = tmp_path / "forward", tmp_path / "backward"
    first = run_cli("build", *files, "-o", str(forward))
    assert first.status == 0, first.stderr
    second = run_cli("build", *reversed(files), "-o", str(backward))
    assert second.status == 0, second.stderr
    assert_same_tree(forward, backward)


def test_hash_seed_locale_and_directory_do_not_matter(tmp_path: Path) -> None:
    here = tmp_path / "in_process"
    result = run_cli("build", str(SCHEMAS), "-o", str(here))
    assert result.status == 0, result.stderr

    there = tmp_path / "subprocess"
    seed = "12345" if os.environ.get("PYTHONHASHSEED") != "12345" else "54321"
    env = {**os.environ, "PYTHONHASHSEED": seed, "LC_ALL": "C", "LANG": "C"}
    env.pop("LANGUAGE", None)
    completed = subprocess.run(
        [sys.executable, "-m", "vfiogen.cli", "build", str(SCHEMAS), "-o", str(there)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    assert_same_tree(here, there)


def test_a_relative_schema_path_builds_the_same_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = tmp_path / "absolute"
    assert run_cli("build", str(SCHEMAS), "-o", str(absolute)).status == 0
    relative = tmp_path / "relative"
    monkeypatch.chdir(ROOT)
    assert run_cli("build", "schemas", "-o", str(relative)).status == 0
    assert_same_tree(absolute, relative)
