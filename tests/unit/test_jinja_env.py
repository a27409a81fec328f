"""vfiogen.backends.jinja_env: compiled templates are cached between builds, and a build works without it."""

from __future__ import annotations

import jinja2
import pytest
from vfiogen.backends import jinja_env


def test_templates_are_cached_between_builds() -> None:
    assert isinstance(jinja_env._bytecode_cache(), jinja2.FileSystemBytecodeCache)


def test_no_cache_when_its_directory_cannot_be_made_safely(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise RuntimeError("Cannot create or access cache directory")  # what jinja says for another user's

    monkeypatch.setattr(jinja2, "FileSystemBytecodeCache", refuse)
    assert jinja_env._bytecode_cache() is None
    environment = jinja_env.environment.__wrapped__("vfiogen.backends.docs")
    assert environment.bytecode_cache is None
    assert environment.from_string("{{ 3 | hex(2) }}").render() == "0x03"
