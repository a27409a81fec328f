"""The hostile-stream table (tests/hostile_streams.py) against the generated C device loader, with gcc and
clang under ASan/UBSan (and detect_stack_use_after_return, so that a refused migration's reasons, formatted
after the load returned, must not point into its stack).

Each case must be refused (a status other than VFG_OK) naming the case's section, field and absolute byte
offset, with its key word in the message, and leave the caller's state and source descriptor byte for byte
as they were. tests/generated_python/test_hostile_streams.py holds the Python to the same table.
"""

from __future__ import annotations

import importlib
import os
import struct
import subprocess
from typing import Any

import jinja2
import pytest
from harness import C_DIR, COMPILERS, HERE, SANITIZE, generated_flags
from hostile_streams import Case, cases, valid_blob
from object_cache import compiled

from vfiogen_state._runtime import LoadError, MigrationRefused

CASES = cases()
DEVICE = "example_nic"


@pytest.fixture(scope="module", params=COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def answers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Every case's answer line from the driver, built with one compiler."""
    compiler = request.param
    tmp = tmp_path_factory.mktemp(f"hostile_streams_{compiler}")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    source = tmp / "hostile_streams.c"
    source.write_text(env.get_template("hostile_streams.c.j2").render(
        device=DEVICE, macro=DEVICE.upper(), valid=", ".join(f"0x{b:02x}" for b in valid_blob(DEVICE))))
    binary = tmp / "hostile_streams"
    flags = ["-std=c99", "-O1", "-g", *SANITIZE]
    objects = map(str, compiled(compiler, generated_flags(), C_DIR))
    subprocess.run([compiler, *flags, "-Wall", "-Wextra", "-I", str(C_DIR), str(source), *objects, "-o",
                    str(binary)], check=True)
    table = tmp / "cases.bin"
    table.write_bytes(b"".join(struct.pack(">IB", len(c.blob), c.with_target) + c.blob for c in CASES))
    env_vars = dict(os.environ, ASAN_OPTIONS="detect_stack_use_after_return=1")
    run = subprocess.run([str(binary), str(table)], capture_output=True, text=True, timeout=600, env=env_vars)
    assert run.returncode == 0, f"{run.stdout[-2000:]}\n{run.stderr[-6000:]}"
    lines = run.stdout.splitlines()
    assert len(lines) == len(CASES)
    return {case.name: line.split("\t") for case, line in zip(CASES, lines, strict=True)}


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case.known_failure)] if case.known_failure else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_a_hostile_stream_is_refused_with_section_field_and_offset(answers: dict[str, list[str]],
                                                                   case: Case) -> None:
    status, section, field, offset, untouched, message, reasons = answers[case.name]
    assert int(status) != 0, f"{case.name}: loaded"
    assert untouched == "1", f"{case.name}: a refused load changed the caller's state"
    if case.known_failure is None:
        assert (section, field, int(offset)) == (case.section, case.field, case.offset), message
        assert case.reason in message, message
    # A refused migration's every reason, formatted after the load returned, reads as the Python's.
    module = importlib.import_module(f"vfiogen_state.{DEVICE}")
    try:
        module.load(case.blob, target=module.load(valid_blob(DEVICE))[1] if case.with_target else None)
    except MigrationRefused as refused:
        assert reasons == "; ".join(str(f) for f in refused.failures)
    except LoadError:
        assert reasons == ""


def test_the_table_is_of_the_device_the_driver_loads() -> None:
    assert {c.name.split("/")[0] for c in CASES} == {DEVICE}
