""".pre-commit-hooks.yaml: every hook's command runs and passes on this repository as committed.

`pre-commit try-repo` then runs all three as a user's repository would: pre-commit installs this repository
into a hook environment of its own and runs each hook there (pre-commit is a test extra).
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

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


# Beside the interpreter first: CI runs the venv's python without the venv on PATH.
PRE_COMMIT = next((str(p) for p in (Path(sys.executable).with_name("pre-commit"),) if p.exists()),
                  shutil.which("pre-commit"))


@pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed (a test extra)")
def test_pre_commit_try_repo_runs_every_hook() -> None:
    import subprocess

    assert PRE_COMMIT is not None
    done = subprocess.run([PRE_COMMIT, "try-repo", str(ROOT), "--all-files"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    passed = {line.split(".")[0] for line in done.stdout.splitlines() if line.rstrip().endswith("Passed")}
    assert passed == {str(h["name"]) for h in _hooks()}, done.stdout
