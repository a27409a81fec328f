"""`capability.version`: an extended capability's header version, read without declaring the header.

A test-only section (built with `vfiogen build`, Python and C) whose version 2 adds a register: its
expressions read `capability.version`, so the compiler puts the header's byte 2 first on the wire, version bits
only. The capability id and the next pointer are not saved: two functions that differ only in where their next
capability sits save the same bytes. Expected payloads are written out by hand from the wire format
(docs/wire-format.md: registers big-endian in declaration order, absent ones take no bytes).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from harness import COMPILERS, build, run
from isolated import import_build

SCHEMA = """
    section: grown
    title: A capability that grew a register in its version 2
    id: 0x0128
    location:
      extended_capability: {id: 0x0028, version: 1, last_version: 2, size: 16}
    version: 1
    registers:
      control: {offset: 0x04, width: 32, fields: {enable: {bits: 0, access: rw}}}
      extra:   {offset: 0x08, width: 32, access: rw, present: "capability.version >= 2"}
    restore: [control, extra]
"""
BASE = 0x100


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("capability_version")
    (root / "schemas").mkdir()
    (root / "schemas" / "grown.yaml").write_text(textwrap.dedent(SCHEMA).lstrip(), "utf-8")
    result = run_cli("build", str(root / "schemas"), "-o", str(root / "out"))
    assert result.status == 0, result.stderr
    return root / "out", import_build(root / "out" / "python")["grown"]


def _config(version: int, next_pointer: int) -> bytes:
    config = bytearray(4096)
    header = 0x0028 | version << 16 | next_pointer << 20
    config[BASE:BASE + 12] = (header.to_bytes(4, "little") + (1).to_bytes(4, "little")
                              + (0xCAFE).to_bytes(4, "little"))
    return bytes(config)


def _capture(module: Any, config: bytes) -> Any:
    return module.capture(lambda offset, size: int.from_bytes(config[offset:offset + size], "little"), BASE)


# version, next pointer: the payload (capability byte, control, extra when version >= 2)
CASES = {(1, 0x000): "01" "00000001", (1, 0x150): "01" "00000001",
         (2, 0x000): "02" "00000001" "0000cafe", (2, 0xffc): "02" "00000001" "0000cafe"}


@pytest.mark.parametrize(("version", "next_pointer"), sorted(CASES))
def test_python_saves_the_version_and_not_the_next_pointer(built: tuple[Path, Any], version: int,
                                                           next_pointer: int) -> None:
    _, grown = built
    state = _capture(grown, _config(version, next_pointer))
    assert state.capability.version == version
    payload = grown.save(state)
    assert payload.hex() == CASES[version, next_pointer]
    assert grown.load(payload) == state


def test_a_next_pointer_bit_on_the_wire_is_refused(built: tuple[Path, Any]) -> None:
    _, grown = built
    with pytest.raises(grown.LoadError) as refused:
        grown.load(bytes.fromhex("12" "00000001" "0000cafe"))
    assert (refused.value.field, refused.value.offset) == ("capability", 0)


def test_restore_writes_no_header_byte(built: tuple[Path, Any]) -> None:
    _, grown = built
    writes: list[tuple[int, int, int]] = []
    grown.restore(_capture(grown, _config(2, 0x150)), lambda o, v, n: writes.append((o, v, n)), BASE)
    assert writes == [(BASE + 4, 1, 4), (BASE + 8, 0xCAFE, 4)]


@pytest.mark.parametrize("compiler", COMPILERS)
def test_c_captures_loads_and_refuses_as_python_does(built: tuple[Path, Any], compiler: str,
                                                     tmp_path: Path) -> None:
    out, _ = built
    driver = build(compiler, True, str(tmp_path), str(out))
    commands = [f"capture grown - {BASE} {_config(v, n).hex()}" for v, n in sorted(CASES)]
    commands.append("load grown 1 - 12000000010000cafe")
    answers = run(driver, commands)
    for answer, key in zip(answers, sorted(CASES), strict=False):
        assert answer.ok and answer.payload == CASES[key], (key, answer)
    refused = answers[-1]
    assert not refused.ok and (refused.field, refused.offset, refused.untouched) == ("capability", 0, True)
