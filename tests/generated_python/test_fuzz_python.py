"""Python fuzzing in the normal suite (issue 14, item 2): every target of tests/python_fuzz_targets.py on
Hypothesis-drawn mutations of its seeds (bit flips, byte writes, truncations, insertions, deletions,
repeated spans and 32-bit fields rewritten to hostile lengths) and on plain random bytes.

Only the documented error type of each entry point may escape (the targets let exactly that one through);
anything else fails the test with the input Hypothesis shrank it to. tests/fuzz/fuzz_python.py runs the
same targets coverage-guided under atheris, for longer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_fuzz_targets import seeds, targets

TARGETS = targets()
HOSTILE_U32 = (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF4, 0x10000)


@st.composite
def _mutated(draw: st.DrawFn, pool: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.integers(0, 6))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == 0 and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == 1 and data:
            data[at] = draw(st.integers(0, 255))
        elif op == 2:
            del data[at:]
        elif op == 3:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == 4:
            del data[at:at + draw(st.integers(1, 16))]
        elif op == 5:
            data[at:at] = data[at:at + draw(st.integers(1, 32))]
        elif len(data) >= at + 4:
            data[at:at + 4] = draw(st.sampled_from(HOSTILE_U32)).to_bytes(4, "big")
    return bytes(data)


def _inputs(name: str) -> st.SearchStrategy[bytes]:
    return st.one_of(_mutated(seeds(name)), st.binary(max_size=600))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_only_documented_errors_escape(name: str) -> None:
    target: Callable[[bytes], None] = TARGETS[name]
    # decode and inspect compile the schemas once (cached) and are slower per input: fewer examples
    examples = 60 if name in ("decode", "inspect") or name.startswith("device_") else 300

    @settings(max_examples=examples, deadline=None, derandomize=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=_inputs(name))
    def run(data: bytes) -> None:
        target(data)

    run()


def test_every_seed_runs_through_its_target() -> None:
    """Every seed (the vectors, the valid blobs, the pciutils dumps) passes its target's checks as it is."""
    for name, target in TARGETS.items():
        for data in seeds(name):
            target(data)
