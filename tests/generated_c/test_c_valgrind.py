"""The generated C under Valgrind's memcheck: ASan and UBSan do not see a read of uninitialised memory, memcheck does.

The driver is built without sanitizers (they and Valgrind exclude each other) and fed every vector and a
fixed-seed batch of mutated payloads and blobs; any memcheck error fails the run.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from harness import COMPILERS, build, device_command, hex_or_dash, mutate, params_spec, reframed

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generated_python"))
import strategies as S  # noqa: E402
from test_vectors import VECTORS, _hex  # noqa: E402

from vfiogen_state import _runtime  # noqa: E402

pytestmark = [pytest.mark.skipif(not COMPILERS, reason="no C compiler (gcc or clang) on PATH"),
              pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed (Debian: valgrind)")]

MUTATIONS = 200  # per section, and as many device blobs


def _commands() -> list[str]:
    cases = [yaml.safe_load(p.read_text("utf-8")) for p in sorted(VECTORS.rglob("*.yaml"))]
    sections = [c for c in cases if "section" in c and "error" not in c]
    devices = [c for c in cases if "device" in c and "error" not in c]
    commands = []
    for case in cases:
        blob = _hex(case["hex"])
        if "device" in case:
            commands.append(device_command(case["device"], blob, case.get("config")))
        else:
            commands.append(f"load {case['section']} {case['version']} {params_spec(case.get('params', {}))} "
                            f"{hex_or_dash(blob)}")
    rng = random.Random("vfiogen-c-valgrind")
    for name in S.SECTIONS:
        own = [c for c in sections if c["section"] == name]
        for _ in range(MUTATIONS if own else 0):
            case = rng.choice(own)
            commands.append(f"load {name} {case['version']} {params_spec(case.get('params', {}))} "
                            f"{hex_or_dash(mutate(rng, _hex(case['hex'])))}")
    for i in range(MUTATIONS):
        case = rng.choice(devices)
        blob = _hex(case["hex"])
        mutated = mutate(rng, blob) if i % 2 else reframed(_runtime, rng, blob)
        commands.append(device_command(case["device"], mutated, case.get("config")))
    return commands


def test_no_memcheck_error_on_vectors_and_mutations(tmp_path: Path) -> None:
    driver = build(COMPILERS[0], False, str(tmp_path))
    commands = _commands()
    assert len(commands) >= 59 + MUTATIONS * 2
    result = subprocess.run(["valgrind", "--error-exitcode=99", "--track-origins=yes", "-q", str(driver)],
                            input="\n".join(commands) + "\n", capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    assert len(result.stdout.splitlines()) == len(commands)
