"""The generated C against tests/vectors/, and against the generated Python on the same bytes.

Every vector runs through the C driver built with each compiler present,
under ASan and UBSan. A positive case must load, and saving it again must
give the bytes the generated Python saves (for `resave`, the vector's own
bytes or down-save error). A negative case must fail with the vector's
section, field and offset, which are the Python's too, and must leave the
caller's state untouched.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import (COMPILERS, CROSS, build_target, device_command, hex_or_dash, params_spec, python_device, python_load,
                     run, target_id)
from known_failures import C_VECTORS as KNOWN_FAILURES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generated_python"))
from test_vectors import VECTORS, _hex  # noqa: E402  (the one parser of the vector files)

pytestmark = pytest.mark.skipif(not COMPILERS, reason="no C compiler (gcc or clang) on PATH")


def _cases() -> list[Path]:
    return sorted(p for p in VECTORS.rglob("*.yaml"))


def _case_id(path: Path) -> str:
    return str(path.relative_to(VECTORS).with_suffix(""))


# Each host compiler under ASan/UBSan, and each cross target in its emulator (a big-endian host among them).
TARGETS: list[Any] = [*COMPILERS, *CROSS]
if not CROSS:
    TARGETS.append(pytest.param("big-endian", marks=pytest.mark.skip(
        "no cross target: Debian's gcc-s390x-linux-gnu, libc6-dev-s390x-cross and qemu-user run the C big-endian")))


@pytest.fixture(scope="module", params=TARGETS, ids=target_id)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_target(request.param, str(tmp_path_factory.mktemp("harness")))


def _commands(case: dict[str, Any]) -> list[tuple[str, Any]]:
    """(driver command, the Python's answer to it) for one case."""
    if "device" in case:
        blob = _hex(case["hex"])
        config = case.get("config")
        return [(device_command(case["device"], blob, config), python_device(case["device"], blob, config))]
    payload = _hex(case["hex"])
    params = case.get("params", {})
    version = case["version"]
    head = f"load {case['section']} {version} {params_spec(params)} {hex_or_dash(payload)}"
    commands = [(head, python_load(case["section"], version, params, payload))]
    resave = case.get("resave")
    if isinstance(resave, list):
        for item in resave:
            commands.append((f"{head} {item['version']}",
                             python_load(case["section"], version, params, payload, item["version"])))
    return commands


def test_every_vector_agrees_with_the_python(driver: Path) -> None:
    cases = {_case_id(p): yaml.safe_load(p.read_text("utf-8")) for p in _cases()}
    assert len(cases) >= 59
    batch: list[tuple[str, str, Any]] = []
    for case_id, case in cases.items():
        for command, expected in _commands(case):
            batch.append((case_id, command, expected))
    answers = run(driver, [command for _, command, _ in batch])
    failures = []
    for (case_id, _command, expected), answer in zip(batch, answers, strict=True):
        if case_id in KNOWN_FAILURES:
            continue
        if answer.key != expected.key:
            failures.append(f"{case_id}: C {answer.key} != Python {expected.key} ({answer.message})")
        elif not answer.ok and not answer.untouched:
            failures.append(f"{case_id}: the failed load changed the caller's state")
    assert not failures, "\n".join(failures)


def test_vectors_hold_in_c(driver: Path) -> None:
    """Beyond agreeing with the Python: the C answers are what each vector itself says."""
    cases = {_case_id(p): yaml.safe_load(p.read_text("utf-8")) for p in _cases()}
    cases = {case_id: case for case_id, case in cases.items() if case_id not in KNOWN_FAILURES}
    answers = run(driver, [_commands(case)[0][0] for case in cases.values()])
    for (case_id, case), answer in zip(cases.items(), answers, strict=True):
        if "error" in case:
            error = case["error"]
            want = (error.get("section", case.get("section")), error["field"], error["offset"])
            assert not answer.ok and (answer.section, answer.field, answer.offset) == want, (case_id, answer)
            assert answer.untouched, case_id
        else:
            assert answer.ok, (case_id, answer)
            if case.get("resave") == "same" or (isinstance(case.get("resave"), list) and any(
                    item.get("hex") == "same" and item["version"] == case.get("version")
                    for item in case["resave"])):
                assert answer.payload == _hex(case["hex"]).hex(), case_id
    assert len(answers) >= 59


def test_known_failures_name_cases() -> None:
    ids = {_case_id(p) for p in _cases()}
    assert set(KNOWN_FAILURES) <= ids, set(KNOWN_FAILURES) - ids
