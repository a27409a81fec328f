"""The runtime's byte-swapping array copies (the MSI-X table's load and save), with and without the AVX2
path, checked by a C program against a byte-reversal reference under ASan/UBSan at the strict flags."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest
from harness import C_DIR, COMPILERS, HERE, SANITIZE, STRICT

# Every width (1, 2, 4, 8), every count up to 200 bytes, 4 x 4 misalignments.
CASES = 16 * sum(200 // width + 1 for width in (1, 2, 4, 8))


def _has_avx2() -> bool:
    try:
        return " avx2 " in Path("/proc/cpuinfo").read_text() + " "
    except OSError:
        return False


@pytest.mark.skipif(sys.byteorder != "little", reason="the reference reverses bytes: a little-endian host")
@pytest.mark.parametrize("simd", [True, False], ids=["dispatch", "VFG_NO_SIMD"])
@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_array_copies_reverse_each_word_and_nothing_else(tmp_path: Path, compiler: str, simd: bool) -> None:
    binary = tmp_path / "byte_swap"
    defines = [] if simd else ["-DVFG_NO_SIMD"]
    subprocess.run([compiler, "-std=c99", "-O1", *STRICT, *SANITIZE, *defines, "-I", str(C_DIR),
                    str(HERE / "byte_swap_test.c"), str(C_DIR / "vfg_runtime.c"), "-o", str(binary)],
                   check=True, capture_output=True, text=True)
    result = subprocess.run([str(binary)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == CASES


def test_the_dispatching_build_has_the_avx2_path_where_the_machine_does() -> None:
    """Without this the test above could pass on the plain loop twice."""
    if not _has_avx2():
        pytest.skip("this machine has no AVX2: only the plain loop can run here")
    compiler = COMPILERS[0] if COMPILERS else pytest.skip("no C compiler")
    result = subprocess.run([compiler, "-std=c99", "-O2", "-I", str(C_DIR), "-S", "-o", "-",
                             str(C_DIR / "vfg_runtime.c")], check=True, capture_output=True, text=True)
    assert "vpshufb" in result.stdout


ACCESSORS = """#include "vfg_runtime.h"
uint16_t get16(const uint8_t *p) { return vfg_get_be16(p); }
uint32_t get32(const uint8_t *p) { return vfg_get_be32(p); }
uint64_t get64(const uint8_t *p) { return vfg_get_be64(p); }
void put16(uint8_t *p, uint16_t v) { vfg_put_be16(p, v); }
void put32(uint8_t *p, uint32_t v) { vfg_put_be32(p, v); }
void put64(uint8_t *p, uint64_t v) { vfg_put_be64(p, v); }
"""


def _bodies(assembly: str) -> dict[str, list[str]]:
    """Each function's instructions, up to its return, from `cc -S` output (directives and labels dropped)."""
    bodies: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in assembly.splitlines():
        text = " ".join(line.split("#")[0].split())
        if text.endswith(":") and not text.startswith("."):
            current = bodies.setdefault(text[:-1], [])
        elif current is not None and text and not text.startswith("."):
            if text.startswith("ret"):
                current = None
            else:
                current.append(text)
    return bodies


@pytest.mark.skipif(platform.machine() != "x86_64", reason="reads x86-64 assembly")
@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_big_endian_accessors_are_one_access_and_one_swap(tmp_path: Path, compiler: str) -> None:
    """DESIGN's "memcpy plus byte-swap helpers that compile to single loads and stores", at -O2."""
    source = tmp_path / "accessors.c"
    source.write_text(ACCESSORS)
    result = subprocess.run([compiler, "-std=c99", "-O2", "-I", str(C_DIR), "-S", "-o", "-", str(source)],
                            check=True, capture_output=True, text=True)
    bodies = _bodies(result.stdout)
    assert set(bodies) == {f"{op}{bits}" for op in ("get", "put") for bits in (16, 32, 64)}
    for name, body in bodies.items():
        accesses = [i for i in body if "(%rdi)" in i]
        swaps = [i for i in body if i.startswith(("bswap", "rolw $8", "movbe"))]
        assert len(body) <= 2 and len(accesses) == 1 and len(swaps) == len(body) - 1, (name, body)
