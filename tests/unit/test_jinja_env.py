"""vfiogen.backends.jinja_env: compiled templates are cached between builds, and a build works without it."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
from vfiogen.backends import jinja_env


def test_templates_are_cached_between_builds() -> None:
    assert isinstance(jinja_env._bytecode_cache(), jinja2.FileSystemBytecodeCache)


def test_templates_are_cached_in_the_directory_the_result_cache_uses(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("VFIOGEN_CACHE_DIR", str(tmp_path / "cache"))
    chosen = jinja_env._bytecode_cache()
    assert isinstance(chosen, jinja2.FileSystemBytecodeCache) and chosen.directory == str(tmp_path / "cache")


def test_no_cache_when_its_directory_cannot_be_made_safely(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    os.chmod(tmp_path / "shared", 0o755)  # others may read it: not private, so `vfiogen.cache.directory` refuses it
    monkeypatch.setenv("VFIOGEN_CACHE_DIR", str(tmp_path / "shared"))
    assert jinja_env._bytecode_cache() is None
    environment = jinja_env.environment.__wrapped__("vfiogen.backends.docs")
    assert environment.bytecode_cache is None
    assert environment.from_string("{{ 3 | hex(2) }}").render() == "0x03"
