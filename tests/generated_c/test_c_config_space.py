"""Capture and restore in C against the Python, over every capability of pciutils' real config-space dumps.

The Python capture is checked against lspci's independent decode in
tests/generated_python/test_pciutils_capture.py; here the C capture of the
same bytes must save to the same payload, and the C restore of that state
must make the same writes (offset, value, size in bytes, and hook calls) in the
same order as the Python restore.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest
from harness import COMPILERS, CROSS, build_target, target_id, hex_or_dash, params_spec, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generated_python"))
import strategies as S  # noqa: E402
from test_pciutils_capture import DATA, MISSING, all_cases  # noqa: E402

from vfiogen.backends.python import naming  # noqa: E402

pytestmark = [pytest.mark.skipif(not COMPILERS, reason="no C compiler (gcc or clang) on PATH"),
              pytest.mark.skipif(not DATA.is_dir(), reason=MISSING)]


@pytest.fixture(scope="module", params=[COMPILERS[0] if COMPILERS else "cc", *CROSS], ids=target_id)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The host build under ASan/UBSan, and each cross target (big-endian s390x) in its emulator."""
    return build_target(request.param, str(tmp_path_factory.mktemp("harness")))


def _with_emulation_defaults(entry: Any) -> Any:
    """The captured state with each array of emulation state as long as its length says, all default.

    Capture leaves emulation state to the hypervisor; the C state's arrays
    are as long as their length expressions by construction, so the Python
    state is given the same default elements before the two are compared.
    """
    state = copy.deepcopy(entry.state)  # the entries are cached and shared with the Python's own tests
    for item in S.checked(entry.kind).section.state:
        setattr(state, naming.attr(item.name), S.field_default(entry.kind, item, state, entry.params))
    return state


def _python_writes(entry: Any) -> str:
    writes: list[str] = []
    hooks = {name: (lambda _s, name=name: writes.append(f"hook:{name}")) for name in entry.module.RESTORE_HOOKS}
    entry.module.restore(entry.state, lambda offset, value, size: writes.append(f"{offset}:{value}:{size}"),
                         entry.cap.offset, entry.params, hooks, wait=lambda us: writes.append(f"wait:{us}"))
    return ";".join(writes)


def test_capture_and_restore_agree_with_the_python(driver: Path) -> None:
    entries = [e for case in all_cases() for e in case.captured if e.state is not None]
    assert len(entries) >= 65
    commands, expected = [], []
    for entry in entries:
        entry = dataclasses.replace(entry, state=_with_emulation_defaults(entry))
        spec = params_spec({k: int(v) for k, v in entry.params.to_dict().items()})
        payload = entry.module.save(entry.state, entry.module.VERSION, entry.params)
        config = bytes(entry.config) + bytes(4096 - len(entry.config))
        commands.append(f"capture {entry.kind} {spec} {entry.cap.offset} {config.hex()}")
        expected.append(("ok", payload.hex()))
        if entry.module.validate(entry.state, entry.params):
            continue  # the device breaks a constraint (a dump with MME > MMC): no load accepts it to restore
        commands.append(f"restore {entry.kind} {spec} {entry.cap.offset} {hex_or_dash(payload)}")
        expected.append(("ok", _python_writes(entry)))
    answers = run(driver, commands)
    mismatches = [f"{command.split()[:4]}: C {answer.key} != Python {want}"
                  for command, answer, want in zip(commands, answers, expected, strict=True) if answer.key != want]
    assert not mismatches, "\n".join(mismatches[:20])
    assert sum("hook:" in want[1] for want in expected) >= 15  # every MSI-X restore calls its table hook
