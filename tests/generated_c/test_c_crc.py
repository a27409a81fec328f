"""The C runtime's CRC-32C, each implementation forced in turn (slicing-by-8, SSE4.2 crc32 in three
streams, PCLMULQDQ folding, VPCLMULQDQ folding on 256- and 512-bit registers) and as vfg_crc32c chooses,
against the compiler's reference over pseudo-random bytes: every length to 640 at 16 offsets, longer ones
(to 64 KiB) at offsets to 63, chained at a split; under ASan/UBSan with each host compiler, with and
without VFG_NO_SIMD, and big-endian in qemu. A path the CPU lacks is skipped, saying so."""

from __future__ import annotations

import functools
import platform
import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness import C_DIR, COMPILERS, CROSS, HERE, SANITIZE, STRICT, Cross

from vfiogen.wire.format import crc32c

# vfg_crc32c_force's numbers (enum crc_path in vfg_crc.c.j2); -1 lets vfg_crc32c choose
PATHS = {-1: "chosen", 0: "slice8", 1: "sse42", 2: "pclmul", 3: "vpclmul256", 4: "vpclmul512"}
PORTABLE_PATHS = (-1, 0)
MAX_BYTES = 65600
LONG_LENGTHS = (641, 777, 1024, 1535, 1536, 2100, 4099, 8192, 12345, 33464, 33763, 65536)
LONG_OFFSETS = (0, 1, 7, 8, 15, 16, 31, 33, 63)
NOT_BUILT = 77  # crc_test's exit status where the build or the CPU lacks the path

TARGETS: list[Any] = [(c, simd) for c in COMPILERS for simd in (True, False)] + [(c, False) for c in CROSS]
if not CROSS:
    TARGETS.append(pytest.param(("big-endian", False), marks=pytest.mark.skip(
        "no cross target: Debian's gcc-s390x-linux-gnu and qemu-user run the C big-endian")))
CASES = [(target, path) for target in TARGETS for path in PATHS]


@functools.cache
def _data() -> bytes:
    """crc_test.c's bytes: the top byte of each xorshift64 step."""
    state, out, mask = 0x9E3779B97F4A7C15, bytearray(MAX_BYTES), (1 << 64) - 1
    for i in range(MAX_BYTES):
        state ^= state << 13 & mask
        state ^= state >> 7
        state ^= state << 17 & mask
        out[i] = state >> 56
    return bytes(out)


@functools.cache
def _expected() -> tuple[str, ...]:
    data = _data()
    cases = [(n, o) for n in range(641) for o in range(16)]
    cases += [(n, o) for n in LONG_LENGTHS for o in LONG_OFFSETS]
    lines = []
    for n, o in cases:
        whole = crc32c(data[o:o + n])
        lines.append(f"{n:x} {o:x} {whole:x} {whole:x}")
    return tuple(lines)


@functools.cache
def _build(target: tuple[str | Cross, bool], directory: Path) -> list[str]:
    """The command that runs crc_test for `target` (built once per target and session)."""
    what, simd = target
    binary = directory / f"crc-{_target_id(target)}"
    defines = ["-DVFG_CRC_TESTING", *([] if simd else ["-DVFG_NO_SIMD"])]
    sources = [str(HERE / "crc_test.c"), str(C_DIR / "vfg_runtime.c")]
    if isinstance(what, Cross):
        subprocess.run([what.compiler, "-std=c99", "-O2", *STRICT, *defines, "-static", "-I", str(C_DIR), *sources,
                        "-o", str(binary)], check=True, capture_output=True, text=True)
        return [what.emulator, str(binary)]
    subprocess.run([what, "-std=c99", "-O1", *STRICT, *SANITIZE, *defines, "-I", str(C_DIR), *sources, "-o",
                    str(binary)], check=True, capture_output=True, text=True)
    return [str(binary)]


def _target_id(target: Any) -> str:
    what, simd = target
    name = what.compiler.split("-")[0] if isinstance(what, Cross) else what
    return f"{name}-{'dispatch' if simd else 'VFG_NO_SIMD'}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{_target_id(case[0])}-{PATHS[case[1]]}")
def test_c_crc32c_equals_the_reference(tmp_path_factory: pytest.TempPathFactory,
                                       case: tuple[tuple[str | Cross, bool], int]) -> None:
    target, path = case
    command = _build(target, tmp_path_factory.getbasetemp())
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=600)
    if result.returncode == NOT_BUILT:
        # only the vector paths may be missing, and never from a dispatching x86-64 build: from the CPU
        assert path not in PORTABLE_PATHS, result.stdout
        if target[1] and platform.machine() == "x86_64":
            pytest.skip(f"this CPU lacks {PATHS[path]}'s instructions ({result.stdout.strip()})")
        return  # VFG_NO_SIMD and big-endian builds have slicing-by-8 only, as they should
    assert result.returncode == 0, result.stderr
    assert target[1] or path in PORTABLE_PATHS, f"{PATHS[path]} ran in a build that should have none"
    got = result.stdout.splitlines()
    expected = _expected()
    assert len(got) == len(expected)
    for line, want in zip(got, expected, strict=True):
        assert line == want


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    return next((set(line.split(":", 1)[1].split()) for line in text.splitlines() if line.startswith("flags")),
                set())


@pytest.mark.parametrize("target", TARGETS, ids=_target_id)
def test_vfg_crc32c_takes_the_widest_fold_the_cpu_has_from_the_crossover(
        tmp_path_factory: pytest.TempPathFactory, target: tuple[str | Cross, bool]) -> None:
    """The run-time choice against the kernel's own list of the CPU's features (/proc/cpuinfo): under
    CRC_CLMUL_MIN bytes the crc32 instruction, from there the 512-bit fold, else the 256-bit, else the
    128-bit one; slicing-by-8 where the build has no x86-64 code."""
    from vfiogen.backends.c.emit import CRC_CLMUL_MIN

    command = _build(target, tmp_path_factory.getbasetemp())
    lengths = (0, CRC_CLMUL_MIN - 1, CRC_CLMUL_MIN, 33763)
    result = subprocess.run([*command, "-1", *map(str, lengths)], capture_output=True, text=True, timeout=300,
                            check=True)
    got = dict(tuple(map(int, line.split())) for line in result.stdout.splitlines())
    flags = _cpu_flags()
    if not target[1] or platform.machine() != "x86_64":
        assert got == dict.fromkeys(lengths, 0)
        return
    if not flags:
        pytest.skip("no /proc/cpuinfo to read the CPU's features from")
    short = 1 if "sse4_2" in flags else 0
    clmul = {"sse4_2", "pclmulqdq"} <= flags
    long = (4 if clmul and {"vpclmulqdq", "avx512f"} <= flags else
            3 if clmul and {"vpclmulqdq", "avx2"} <= flags else 2 if clmul else short)
    assert got == {0: short, CRC_CLMUL_MIN - 1: short, CRC_CLMUL_MIN: long, 33763: long}


def test_the_reference_has_the_check_value() -> None:
    assert crc32c(b"123456789") == 0xE3069283


@pytest.mark.skipif(platform.machine() != "x86_64", reason="reads x86-64 assembly")
@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def test_the_dispatching_build_has_each_instruction_and_no_simd_has_none(compiler: str) -> None:
    """Without this the forced paths above could all pass on slicing-by-8."""
    def assembly(*flags: str) -> str:
        return subprocess.run([compiler, "-std=c99", "-O2", *flags, "-I", str(C_DIR), "-S", "-o", "-",
                               str(C_DIR / "vfg_runtime.c")], check=True, capture_output=True, text=True).stdout
    dispatching = assembly()
    assert "crc32q" in dispatching
    lines = dispatching.splitlines()
    assert any("pclmulqdq" in line and "%xmm" in line and "vpclmul" not in line for line in lines)
    assert any("vpclmulqdq" in line and "%ymm" in line for line in lines)
    assert any("vpclmulqdq" in line and "%zmm" in line for line in lines)
    # a function that leaves the upper halves of the vector registers dirty slows every SSE instruction
    # after it (gcc did not clear them on its own before a tail call: a whole load went 1.3x slower)
    for function in dispatching.split("\t.type\t")[1:]:
        if "%ymm" in function or "%zmm" in function:
            assert "vzeroupper" in function, function.split(",")[0]
    portable = assembly("-DVFG_NO_SIMD")
    assert "crc32" not in portable.replace("crc32c", "") and "pclmul" not in portable
