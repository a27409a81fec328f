""".pre-commit-hooks.yaml: every hook's command runs and passes on this repository as committed.

`pre-commit try-repo` itself is run when the pre-commit tool is installed (it is not a test extra yet).
"""

from __future__ import annotations

import shlex
import shutil

import pytest
import yaml
from conftest import ROOT, run_cli


def _hooks() -> list[dict[str, object]]:
    return yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))  # type: ignore[no-any-return]


def test_hooks_are_the_three_commands() -> None:
    assert [h["id"] for h in _hooks()] == ["vfiogen-check", "vfiogen-build-check", "vfiogen-diff"]


@pytest.mark.parametrize("hook", _hooks(), ids=lambda h: str(h["id"]))
def test_hook_command_passes_here(hook: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    words = shlex.split(str(hook["entry"])) + [str(a) for a in hook["args"]]  # type: ignore[attr-defined]
    assert words[0] == "vfiogen"
    result = run_cli(*words[1:])
    assert result.status == 0, result.stderr


@pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pre-commit is not installed")
def test_pre_commit_try_repo() -> None:  # pragma: no cover - needs the tool
    import subprocess

    done = subprocess.run(["pre-commit", "try-repo", str(ROOT), "vfiogen-check", "--all-files"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
