"""The C runtime's CRC-32C (three-stream SSE4.2 where the CPU has it, slicing-by-8 otherwise and with
VFG_NO_SIMD), against the compiler's reference over every length to 2100 bytes at four alignments,
chained at a split, under ASan/UBSan with each host compiler and big-endian in qemu."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness import C_DIR, COMPILERS, CROSS, HERE, SANITIZE, STRICT, Cross

from vfiogen.wire.format import crc32c

MAX_BYTES = 33464
TARGETS: list[Any] = [(c, simd) for c in COMPILERS for simd in (True, False)] + [(c, False) for c in CROSS]
if not CROSS:
    TARGETS.append(pytest.param(("big-endian", False), marks=pytest.mark.skip(
        "no cross target: Debian's gcc-s390x-linux-gnu and qemu-user run the C big-endian")))


def _pattern() -> bytes:
    return bytes(((i * 2654435761) & 0xFFFFFFFF) >> 13 & 0xFF for i in range(MAX_BYTES + 8))


def _expected() -> list[str]:
    data = _pattern()
    lines = []
    cases = [(n, o) for n in range(2101) for o in range(4)] + [(MAX_BYTES, 0), (MAX_BYTES - 1, 1)]
    for n, o in cases:
        chunk = data[o:o + n]
        whole = crc32c(chunk)
        chained = crc32c(chunk[n // 3:], crc32c(chunk[:n // 3]))
        assert whole == chained
        lines.append(f"{n:x} {o:x} {whole:x} {whole:x}")
    return lines


def _target_id(target: Any) -> str:
    what, simd = target
    name = what.compiler.split("-")[0] if isinstance(what, Cross) else what
    return f"{name}-{'dispatch' if simd else 'VFG_NO_SIMD'}"


@pytest.mark.parametrize("target", TARGETS, ids=_target_id)
def test_c_crc32c_equals_the_reference(tmp_path: Path, target: tuple[str | Cross, bool]) -> None:
    what, simd = target
    binary = tmp_path / "crc"
    defines = [] if simd else ["-DVFG_NO_SIMD"]
    sources = [str(HERE / "crc_test.c"), str(C_DIR / "vfg_runtime.c")]
    if isinstance(what, Cross):
        subprocess.run([what.compiler, "-std=c99", "-O2", *STRICT, "-static", "-I", str(C_DIR), *sources, "-o",
                        str(binary)], check=True, capture_output=True, text=True)
        command = [what.emulator, str(binary)]
    else:
        subprocess.run([what, "-std=c99", "-O1", *STRICT, *SANITIZE, *defines, "-I", str(C_DIR), *sources, "-o",
                        str(binary)], check=True, capture_output=True, text=True)
        command = [str(binary)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    got = result.stdout.splitlines()
    expected = _expected()
    assert len(got) == len(expected)
    for line, want in zip(got, expected, strict=True):
        assert line == want


def test_the_reference_has_the_check_value() -> None:
    assert crc32c(b"123456789") == 0xE3069283


@pytest.mark.skipif(platform.machine() != "x86_64", reason="reads x86-64 assembly")
@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_the_dispatching_build_has_the_crc32_instruction_and_no_simd_has_not(compiler: str) -> None:
    """Without this the dispatching case above could pass on slicing-by-8 twice."""
    def assembly(*flags: str) -> str:
        return subprocess.run([compiler, "-std=c99", "-O2", *flags, "-I", str(C_DIR), "-S", "-o", "-",
                               str(C_DIR / "vfg_runtime.c")], check=True, capture_output=True, text=True).stdout
    assert "crc32q" in assembly()
    assert "crc32" not in assembly("-DVFG_NO_SIMD").replace("crc32c", "")
