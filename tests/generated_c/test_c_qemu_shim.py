"""The optional QEMU shim (vfg_qemu.h, -DVFG_QEMU): built against stub QEMU headers the test writes, the
runtime and a section save, frame and check the same bytes as the standalone build, the CRC of the test
vectors is the same (and Python's), QEMU's helpers are what ran, and vfg_error_propagate sets the expected
message, and nothing on success. gcc and clang, the strict flags, ASan/UBSan.

The stubs stand in for QEMU's include/qemu/osdep.h, qemu/bswap.h (the big-endian ld*_be_p/st*_be_p, in
plain C, counting their calls), qemu/crc32c.h (crc32c() is implemented by the driver, bit by bit, with
QEMU's convention: the register taken as it is, the result inverted) and qapi/error.h (an error_setg that
records its message)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from harness import C_DIR, COMPILERS, HERE, SANITIZE, STRICT

from vfiogen_state import msi
from vfiogen_state._runtime import LoadError, crc32c

OSDEP = """#ifndef QEMU_OSDEP_H
#define QEMU_OSDEP_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#endif
"""

# QEMU's signatures: the 16- and 32-bit loads return int.
BSWAP = """#ifndef QEMU_BSWAP_H
#define QEMU_BSWAP_H
extern unsigned long stub_loads[9];
extern unsigned long stub_stores[9];
static inline uint64_t stub_load(const void *ptr, unsigned n)
{
    const uint8_t *p = ptr;
    uint64_t v = 0;
    unsigned i;
    stub_loads[n]++;
    for (i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}
static inline void stub_store(void *ptr, uint64_t v, unsigned n)
{
    uint8_t *p = ptr;
    stub_stores[n]++;
    while (n > 0) {
        p[--n] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}
static inline int lduw_be_p(const void *ptr) { return (int)stub_load(ptr, 2); }
static inline int ldl_be_p(const void *ptr) { return (int)(int32_t)(uint32_t)stub_load(ptr, 4); }
static inline uint64_t ldq_be_p(const void *ptr) { return stub_load(ptr, 8); }
static inline void stw_be_p(void *ptr, uint16_t v) { stub_store(ptr, v, 2); }
static inline void stl_be_p(void *ptr, uint32_t v) { stub_store(ptr, v, 4); }
static inline void stq_be_p(void *ptr, uint64_t v) { stub_store(ptr, v, 8); }
#endif
"""

CRC32C = """#ifndef QEMU_CRC32C_H
#define QEMU_CRC32C_H
uint32_t crc32c(uint32_t crc, const uint8_t *data, unsigned int length);
#endif
"""

ERROR = """#ifndef QAPI_ERROR_H
#define QAPI_ERROR_H
#include <stdarg.h>
typedef struct Error { int unused; } Error;
extern char stub_error_message[256];
extern int stub_error_count;
static Error stub_error;
static inline void stub_error_setg(Error **errp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(stub_error_message, sizeof stub_error_message, fmt, ap);
    va_end(ap);
    stub_error_count++;
    *errp = &stub_error;
}
#define error_setg(errp, ...) stub_error_setg((errp), __VA_ARGS__)
#endif
"""

VECTORS = [b"", b"a", b"123456789", b"The quick brown fox jumps over the lazy dog"]


def _stubs(root: Path) -> Path:
    for name, text in (("qemu/osdep.h", OSDEP), ("qemu/bswap.h", BSWAP), ("qemu/crc32c.h", CRC32C),
                       ("qapi/error.h", ERROR)):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")
    return root


def _run(compiler: str, directory: Path, qemu: bool) -> list[str]:
    binary = directory / ("shim" if qemu else "standalone")
    defines = ["-DVFG_QEMU", "-I", str(_stubs(directory / "stubs"))] if qemu else []
    subprocess.run([compiler, "-std=c99", "-O1", "-g", *STRICT, *SANITIZE, *defines, "-I", str(C_DIR),
                    str(HERE / "qemu_shim_test.c"), str(C_DIR / "vfg_runtime.c"), str(C_DIR / "vfg_msi.c"),
                    "-o", str(binary)], check=True, capture_output=True, text=True)
    result = subprocess.run([str(binary)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


@pytest.fixture(scope="module", params=COMPILERS or [pytest.param("cc", marks=pytest.mark.skip("no C compiler"))])
def outputs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str]]:
    directory = tmp_path_factory.mktemp(f"shim-{request.param}")
    return _run(request.param, directory, False), _run(request.param, directory, True)


def _lines(output: list[str], tag: str) -> list[str]:
    return [line.split(" ", 1)[1] if " " in line else "" for line in output if line.split(" ", 1)[0] == tag]


def test_the_shim_build_gives_the_standalone_bytes_and_crcs(outputs: tuple[list[str], list[str]]) -> None:
    standalone, shim = outputs
    assert [line for line in shim if "-qemu" not in line and not line.startswith(("stubs", "ok-qemu"))] \
        == standalone
    expected = [f"{crc32c(v):08x} {crc32c(v):08x}" for v in VECTORS]
    assert _lines(shim, "crc") == expected
    assert expected[2].startswith("e3069283")  # the CRC-32C check value
    assert _lines(shim, "be") == ["123489abcdef0123456789abcdef"]
    assert _lines(shim, "be-get") == ["1234 89abcdef 0123456789abcdef"]
    (payload,) = _lines(shim, "save")
    state = msi.load(bytes.fromhex(payload))  # the Python reads what the shim build saved, and saves it again
    assert (state.control.value(), msi.save(state).hex()) == (0x0181, payload)
    assert _lines(shim, "read") == ["0"]
    assert _lines(shim, "load") == ["0 0181 fee01004 00000001 4041 00000001 00000000"]
    assert _lines(shim, "corrupt") == ["3"]  # VFG_ERR_CRC


def test_qemus_helpers_are_what_ran(outputs: tuple[list[str], list[str]]) -> None:
    """Each width's load and store, and the CRC, went through the stubs."""
    assert _lines(outputs[1], "stubs") == ["1 1 1 1 1 1 1"]


def test_vfg_error_propagate_sets_the_message(outputs: tuple[list[str], list[str]]) -> None:
    shim = outputs[1]
    for tag in ("crc-error", "load-error", "blob-error"):
        (raw,) = _lines(shim, tag)
        section, field, offset, message = raw.split("|")
        where = f"{section}.{field}" if field else section
        assert _lines(shim, f"{tag}-qemu") == [f"1 {where} at byte {offset}: {message}"]
    # The CRC is checked over a 20-byte payload after a 12-byte frame head: its mismatch is at byte 32.
    assert _lines(shim, "crc-error-qemu") == ["1 msi.frame at byte 32: CRC-32C mismatch"]
    (raw,) = _lines(shim, "load-error")
    _, field, offset, _ = raw.split("|")
    with pytest.raises(LoadError) as caught:
        msi.load(bytes.fromhex(_lines(shim, "save")[0])[:3])
    assert (field, int(offset)) == (caught.value.field, caught.value.offset)
    assert _lines(shim, "blob-error-qemu") == ["1 example_nic at byte 7: bytes after the last section"]
    assert _lines(shim, "ok-qemu") == ["1"]
