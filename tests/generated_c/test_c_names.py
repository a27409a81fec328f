"""Schema names that are also names in the generated code: C locals and parameters (`offset`, `present`,
`p`, `err`...), C and Python keywords (`default`, `switch`, `from`, `lambda`), the Python methods' `self`, and
builtins the Python annotations name (`int`, `list`). Both back ends must still give code that compiles
warning-free, type-checks and agrees, byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import run_cli
from harness import COMPILERS, build, hex_or_dash, params_spec, run
from isolated import import_build

SCHEMAS = Path(__file__).resolve().parent / "names"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("names-build")
    result = run_cli("build", str(SCHEMAS), "-o", str(directory))
    assert result.status == 0, result.stderr
    return directory


@pytest.fixture(scope="module")
def names(out: Path) -> ModuleType:
    return import_build(out / "python")["names"]


def test_the_python_type_checks(out: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "vfiogen_state"],
                            cwd=out / "python", capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not COMPILERS, reason="no C compiler (gcc or clang) on PATH")
@pytest.mark.parametrize("compiler", COMPILERS)
def test_the_c_compiles_and_agrees_with_the_python(out: Path, names: ModuleType, compiler: str,
                                                    tmp_path: Path) -> None:
    """`build` compiles every source at the strict flags with -Werror; then the same loads in both languages."""
    driver = build(compiler, True, str(tmp_path), str(out))
    entries = [names.ListEntry(int_=1, str_=2) for _ in range(names.PARAMS.len)]
    size = len(names.save(names.NamesState(list_=entries), names.VERSION, names.PARAMS))
    payloads = [bytes(size), bytes(range(size)), bytes(0xFF for _ in range(size)), bytes(range(size - 1))]
    commands = [f"load names 1 {params_spec({})} {hex_or_dash(payload)}" for payload in payloads]
    answers = run(driver, commands)
    for payload, answer in zip(payloads, answers, strict=True):
        try:
            state = names.load(payload, names.VERSION, names.PARAMS)
        except names.LoadError as exc:
            assert not answer.ok and (answer.field, answer.offset) == (exc.field, exc.offset), answer
        else:
            assert answer.ok and answer.payload == names.save(state, names.VERSION, names.PARAMS).hex()
    assert sum(answer.ok for answer in answers) >= 2
