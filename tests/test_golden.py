"""IR and lock goldens: tests/golden/<case>/*.yaml compile to expected/ir.txt and expected/lock.json.

`ir.txt` is `ir.dump.dump` of the CheckedModule (what `vfiogen check --dump-ir-after normalize` prints);
`lock.json` is the lock back end's output. Run `pytest tests/test_golden.py --update-goldens` to rewrite
them after an intended change, then read the diff.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from vfiogen import driver
from vfiogen.backends.lock.emit import LOCK_PATH, LockBackend
from vfiogen.context import Context
from vfiogen.diagnostics import Reporter
from vfiogen.ir.dump import dump

GOLDEN = ROOT / "tests" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir() and any(p.glob("*.yaml")))


def test_there_are_golden_cases() -> None:
    assert CASES == ["device_params", "emulation_versions", "msi_moving", "param_from"]


def compile_case(case: Path) -> dict[str, str]:
    """Compile a case's schema files (given by name, so sources are their file names) to its outputs."""
    files = sorted(str(p) for p in case.glob("*.yaml"))
    ctx = Context(reporter=Reporter())
    inputs = driver.discover(files, ctx.reporter)
    result = driver.compile_schemas(inputs, ctx)
    assert ctx.reporter.diagnostics == [], ctx.reporter.diagnostics
    assert result.module is not None
    return {"ir.txt": dump(result.module) + "\n", "lock.json": LockBackend().render(result.module)[LOCK_PATH]}


def compare(expected_path: Path, actual: str, update: bool) -> None:
    if update:
        expected_path.parent.mkdir(parents=True, exist_ok=True)
        expected_path.write_text(actual, "utf-8")
        return
    if not expected_path.is_file():
        raise AssertionError(f"{expected_path} is missing; run pytest with --update-goldens")
    expected = expected_path.read_text("utf-8")
    if expected != actual:
        name = expected_path.relative_to(ROOT).as_posix()
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            name, f"{name} (actual)"))
        raise AssertionError(f"{name} differs from the compiler's output "
                             f"(run pytest with --update-goldens if the change is intended):\n{diff}")


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, update_goldens: bool) -> None:
    outputs = compile_case(GOLDEN / case)
    for name, text in outputs.items():
        compare(GOLDEN / case / "expected" / name, text, update_goldens)


@pytest.mark.parametrize("case", CASES)
def test_golden_ir_is_what_the_cli_dumps(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN / case)
    files = sorted(p.name for p in (GOLDEN / case).glob("*.yaml"))
    result = run_cli("check", *files, "--dump-ir-after", "normalize")
    assert result.status == 0, result.stderr
    assert result.stdout == compile_case(GOLDEN / case)["ir.txt"]
