"""The benchmark's schema generator (tests/bench/gen_schemas.py) must keep producing valid schemas.

The benchmark itself is not collected (pytest's norecursedirs has "bench");
this keeps its generator from rotting as the schema language changes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from conftest import ROOT, run_cli


def _generator() -> ModuleType:
    path = ROOT / "tests" / "bench" / "gen_schemas.py"
    spec = importlib.util.spec_from_file_location("bench_gen_schemas", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_generated_tree_of_100_fields_checks_clean(tmp_path: Path) -> None:
    gen = _generator()
    stats = gen.generate(100, tmp_path)
    assert stats.fields == 100
    assert gen.count_fields(tmp_path) == 100
    assert stats.ext_sections >= 1 and stats.emu_sections >= 1
    result = run_cli("check", str(tmp_path))
    assert result.status == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""  # no diagnostics, not even warnings


def test_generator_is_deterministic(tmp_path: Path) -> None:
    gen = _generator()
    gen.generate(100, tmp_path / "a")
    gen.generate(100, tmp_path / "b")
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*.yaml")}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*.yaml")}
    assert first == second
