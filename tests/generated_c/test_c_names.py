"""Schema names that are also names in the generated code: C locals and parameters (`offset`, `present`,
`p`, `err`...), C and Python keywords (`default`, `switch`, `from`, `lambda`), the Python methods' `self`,
builtins the Python annotations name (`int`, `list`), and the methods of the Python runtime's bases (bit
fields `value`, `from_value` and `to_dict` beside `Register.value()`..., a state field `to_dict`). Both back ends must still give code that compiles
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


def test_bit_fields_named_as_the_register_methods_leave_them_working(names: ModuleType) -> None:
    """Bit fields `value`, `from_value` and `to_dict` are `value_`... in Python; the register's own methods still
    are the methods, and to_dict still keys by the schema's names. A state field `to_dict` likewise."""
    control = names.ControlRegister(value_=True, to_dict_=True)
    assert control.value() == 0b101_0000
    loaded = names.ControlRegister.from_value(0b111_0000)
    assert (loaded.value_, loaded.from_value_, loaded.to_dict_) == (True, True, True)
    assert loaded.to_dict() == {"class": False, "int": 0, "value": True, "from_value": True, "to_dict": True}
    entries = [names.ListEntry() for _ in range(names.PARAMS.len)]
    state = names.NamesState(control=control, value=3, to_dict_=4, list_=entries)
    data = state.to_dict()
    assert (data["control"]["value"], data["value"], data["to_dict"]) == (True, 3, 4)
    assert names.load(names.save(state, names.VERSION, names.PARAMS), names.VERSION, names.PARAMS) == state
