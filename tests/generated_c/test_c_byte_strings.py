"""Byte-string registers in C against the Python, on a test-only section (gcc and clang, ASan/UBSan).

The shipped vendor_specific section takes its byte string with `equal` only; this one, `bs`, also with
`subset`, at another offset, and with a length that can run past its max, so that both back ends are asked
the same questions of every part: capture from a config-space image (the bytes, and a refused length),
derive_descriptor (the bytes, 0 past the length), check_compat (the first byte that breaks each rule, by its
offset in the capability, and both bytes), and save. A small C program prints what the C answers; the
generated Python of the same build answers in-process. Expected values are also worked out by hand.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from harness import COMPILERS, generated_flags
from isolated import import_build

SECTION = """\
section: bs
title: Byte strings
id: 0x0040
location:
  capability: {id: 0x40, size: 32}
version: 1
registers:
  count: {offset: 0x02, width: 8, access: ro, default: 6}
  data: {offset: 0x06, bytes: "count - 6", max: 8, access: ro}
descriptor:
  vendor: {from: data}
compat:
  - {equal: vendor, reason: "other bytes"}
  - {subset: vendor, reason: "the target lacks a bit"}
"""

MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "vfg_bs.h"

static int reader(void *opaque, uint32_t offset, unsigned len, uint32_t *value)
{
    const uint8_t *image = opaque;
    unsigned i;
    *value = 0;
    for (i = 0; i < len; i++) {
        *value |= (uint32_t)image[offset + i] << (8u * i);
    }
    return 0;
}

static int side(const char *hex, struct vfg_bs_descriptor *d, uint8_t *payload, size_t *len)
{
    uint8_t image[64];
    struct vfg_bs_state s;
    struct vfg_error err;
    unsigned i, byte;
    memset(image, 0, sizeof image);
    for (i = 0; i < sizeof image && sscanf(hex + 2 * i, "%2x", &byte) == 1; i++) {
        image[i] = (uint8_t)byte;
    }
    vfg_bs_init(&s);
    if (vfg_bs_capture(&s, NULL, reader, image, 16u, &err) != VFG_OK) {
        printf("capture refused %s %lu\n", err.field, (unsigned long)err.offset);
        return 1;
    }
    if (vfg_bs_derive_descriptor(d, &s, NULL, &err) != VFG_OK ||
        vfg_bs_save(&s, VFG_BS_VERSION, NULL, payload, 64u, len, &err) != VFG_OK) {
        printf("error %s\n", err.message);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct vfg_bs_descriptor a, b;
    struct vfg_compat_failure failures[4];
    struct vfg_compat_report report;
    uint8_t payload[64];
    size_t len, i;
    char text[256];
    if (argc != 3 || side(argv[1], &a, payload, &len) != 0) {
        return 0;
    }
    printf("payload ");
    for (i = 0; i < len; i++) {
        printf("%02x", payload[i]);
    }
    printf("\nvendor ");
    for (i = 0; i < sizeof a.vendor; i++) {
        printf("%02x", a.vendor[i]);
    }
    printf("\n");
    if (side(argv[2], &b, payload, &len) != 0) {
        return 0;
    }
    vfg_compat_report_init(&report, failures, 4u);
    vfg_bs_check_compat(&a, &b, &report);
    for (i = 0; i < report.count; i++) {
        vfg_compat_format(&failures[i], text, sizeof text);
        printf("failure %s\n", text);
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("bytestrings")
    (root / "schemas").mkdir()
    (root / "schemas" / "bs.yaml").write_text(SECTION, "utf-8")
    result = run_cli("build", str(root / "schemas"), "-o", str(root / "out"))
    assert result.status == 0, result.stderr
    return root / "out", import_build(root / "out" / "python")["bs"]


def image(count: int, data: bytes) -> str:
    """A config-space image with the capability at 16: its count byte at 18 and the bytes from 22."""
    space = bytearray(64)
    space[18] = count
    space[22:22 + len(data)] = data
    return space.hex()


def python_answers(bs: Any, source: str, target: str) -> list[str]:
    def side(hex_image: str) -> tuple[Any, Any]:
        space = bytes.fromhex(hex_image)
        state = bs.capture(lambda o, n: int.from_bytes(space[o:o + n], "little"), 16)
        return state, bs.derive_descriptor(state)

    try:
        state, a = side(source)
    except Exception as exc:  # the LoadError of a refused capture
        return [f"capture refused {exc.field} {exc.offset}"]  # type: ignore[attr-defined]
    lines = [f"payload {bs.save(state).hex()}", f"vendor {a.vendor.hex()}"]
    _, b = side(target)
    return lines + [f"failure {failure}" for failure in bs.check_compat(a, b)]


@pytest.mark.parametrize("compiler", COMPILERS)
def test_both_languages_capture_derive_and_compare_byte_strings_alike(compiler: str, built: tuple[Path, Any],
                                                                       tmp_path: Path) -> None:
    out, bs = built
    c_dir = out / "c"
    (tmp_path / "main.c").write_text(MAIN, "utf-8")
    binary = tmp_path / "bs"
    subprocess.run([compiler, *generated_flags(), f"-I{c_dir}", str(tmp_path / "main.c"), str(c_dir / "vfg_bs.c"),
                    str(c_dir / "vfg_runtime.c"), "-o", str(binary)], check=True)
    source = bytes([0x01, 0x0F, 0x33])
    cases = [
        # the same bytes: nothing refused; payload = count, then the 3 bytes; vendor = the bytes, 0 to 8
        (image(9, source), image(9, source), ["payload 09010f33", "vendor 010f330000000000"]),
        # byte 1 (capability offset 7) 0x0f -> 0x07: equal breaks there, and subset too (bit 3 is gone)
        (image(9, source), image(9, bytes([0x01, 0x07, 0x33])),
         ["payload 09010f33", "vendor 010f330000000000",
          "failure bs: other bytes (equal vendor at offset 7: source 0xf, target 0x7)",
          "failure bs: the target lacks a bit (subset vendor at offset 7: source 0xf, target 0x7)"]),
        # the target sets more bits: equal breaks at offset 6 (0x01 -> 0x03), subset holds everywhere
        (image(9, source), image(9, bytes([0x03, 0x0F, 0x33])),
         ["payload 09010f33", "vendor 010f330000000000",
          "failure bs: other bytes (equal vendor at offset 6: source 0x1, target 0x3)"]),
        # count 15 asks for 9 bytes, one more than the max: capture refuses at the first byte, 16 + 6 = 22
        (image(15, source), image(9, source), ["capture refused data 22"]),
    ]
    for source_image, target_image, want in cases:
        python = python_answers(bs, source_image, target_image)
        c = subprocess.run([str(binary), source_image, target_image], capture_output=True, text=True, check=True)
        assert python == want, (python, want)
        assert c.stdout.splitlines() == want, (c.stdout, c.stderr)
