"""The generated runtime: CRC-32C against its published check value, framing, header checks."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vfiogen.wire.format import crc32c as reference_crc32c
from vfiogen_state import _runtime as rt


def test_crc32c_check_value() -> None:
    # The CRC-32C "check" value from the CRC catalogue (and RFC 3720's iSCSI tests): crc("123456789").
    assert rt.crc32c(b"123456789") == 0xE3069283


@pytest.mark.parametrize(("data", "crc"), [
    (bytes(32), 0x8A9136AA),              # RFC 3720 B.4: 32 bytes of zeros
    (b"\xff" * 32, 0x62A8AB43),           # RFC 3720 B.4: 32 bytes of ones
    (bytes(range(32)), 0x46DD794E),       # RFC 3720 B.4: incrementing bytes
])
def test_crc32c_rfc3720_vectors(data: bytes, crc: int) -> None:
    assert rt.crc32c(data) == crc


@given(st.binary(max_size=64), st.binary(max_size=64))
def test_crc32c_chains(a: bytes, b: bytes) -> None:
    assert rt.crc32c(b, rt.crc32c(a)) == rt.crc32c(a + b)


def _pattern(size: int) -> bytes:
    return bytes(((i * 2654435761) & 0xFFFFFFFF) >> 13 & 0xFF for i in range(size))


def test_crc32c_folds_equal_the_byte_loop_at_every_length() -> None:
    """The fold path (64 bytes up) against the byte-at-a-time reference at every length where the set of
    folds it takes changes, either side of the 128 KiB chunk, and with every input type."""
    data = _pattern((1 << 18) + 100)
    sizes = [*range(0, 700), 1472, 33464, (1 << 17) - 1, 1 << 17, (1 << 17) + 1, (1 << 17) + 63, (1 << 18) + 100]
    for size in sizes:
        chunk = data[:size]
        want = reference_crc32c(chunk)
        for crc32c in (rt.crc32c, rt._portable_crc32c):  # native when the crc32c package is installed, and not
            assert crc32c(chunk) == want, size
            assert crc32c(memoryview(chunk)) == crc32c(bytearray(chunk)) == want, size
            assert crc32c(chunk[size // 3:], crc32c(chunk[:size // 3])) == want, size


@given(st.binary(min_size=60, max_size=5000), st.integers(0, 0xFFFFFFFF))
def test_crc32c_folds_equal_the_byte_loop(data: bytes, crc: int) -> None:
    assert rt.crc32c(data, crc) == rt._portable_crc32c(data, crc) == reference_crc32c(data, crc)


def test_the_native_crc32c_is_used_when_the_package_is_installed() -> None:
    """Loaded from the crc32c package's extension without importing the package (whose __init__ is slow)."""
    pytest.importorskip("crc32c")
    rt.crc32c(b"")
    assert rt._native[0] is not None and rt._native[0].__module__ == "crc32c._crc32c"


def test_frame_layout() -> None:
    framed = rt.frame(0x0005, 2, True, b"\x01\x02\x03")
    assert framed[:12] == bytes.fromhex("0005 0002 00000001 00000003")
    assert framed[12:15] == b"\x01\x02\x03"
    assert int.from_bytes(framed[15:], "big") == rt.crc32c(framed[:15])
    assert rt.read_frame(framed, 0, "t") == rt.Frame(5, 2, True, 12, 15)


def test_frame_errors_name_the_offset() -> None:
    framed = bytearray(rt.frame(7, 1, False, b"abcd"))
    framed[13] ^= 0x40
    with pytest.raises(rt.LoadError) as corrupt:
        rt.read_frame(bytes(framed), 0, "dev")
    assert (corrupt.value.section, corrupt.value.field, corrupt.value.offset) == ("dev", "frame", 16)
    assert "CRC-32C mismatch" in corrupt.value.reason
    with pytest.raises(rt.LoadError) as short:
        rt.read_frame(bytes(framed[:-1]), 0, "dev")
    assert (short.value.offset, short.value.reason) == (12, "truncated: needs 8 bytes, 7 left")
    huge = rt.FRAME.pack(7, 1, 0, 0xFFFFFFFF)  # a 4 GiB length claim: refused before any read or allocation
    with pytest.raises(rt.LoadError) as claim:
        rt.read_frame(huge, 0, "dev")
    assert claim.value.reason == "truncated: needs 4294967299 bytes, 0 left"
    flagged = rt.FRAME.pack(7, 1, 0x2, 0) + rt.CRC.pack(0)
    with pytest.raises(rt.LoadError) as flags:
        rt.read_frame(flagged, 0, "dev")
    assert (flags.value.offset, flags.value.reason) == (4, "unknown flags 0x00000002")


def test_header_checks() -> None:
    assert rt.read_header(rt.HEADER.pack(b"VFGS", 1, 3), "dev") == 3
    with pytest.raises(rt.LoadError, match="bad magic"):
        rt.read_header(b"QEVM\x00\x01\x00\x00", "dev")
    with pytest.raises(rt.LoadError, match="format version 2, this build reads 1"):
        rt.read_header(rt.HEADER.pack(b"VFGS", 2, 0), "dev")
    with pytest.raises(rt.LoadError, match="truncated"):
        rt.read_header(b"VFG", "dev")


def test_describe_is_json_data_with_problems() -> None:
    import json

    from vfiogen_state import msi

    state = msi.MsiState()
    state.control.mmc = 6  # reserved: above 32 vectors
    described = msi.describe(state)
    assert json.loads(json.dumps(described)) == described
    assert (described["section"], described["id"], described["version"]) == ("msi", 5, 2)
    assert described["state"]["control"]["mmc"] == 6
    assert described["problems"] == [{"field": "control.mmc",
                                      "reason": "Multiple Message Capable above 5 (32 vectors) is reserved"}]


_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _outcome(*args: object) -> object:
    """unpack_masks(*args)'s arrays, or its LoadError as a tuple."""
    try:
        return rt.unpack_masks(*args)
    except rt.LoadError as error:
        return ("LoadError", error.section, error.field, error.offset, error.reason)


@st.composite
def _mask_lists(draw: st.DrawFn) -> tuple[tuple[int, ...], int, bytes, list[tuple[int, int]]]:
    """A build's widths, the record's mask_registers and a valid mask list (entries past the build's registers
    included), as bytes and as (index, width) heads."""
    widths = tuple(draw(st.lists(st.sampled_from((1, 2, 4, 8)), min_size=0, max_size=8)))
    registers = draw(st.integers(len(widths), len(widths) + 3))
    out, heads = bytearray(), []
    for index in sorted(draw(st.sets(st.integers(0, max(registers - 1, 0)), max_size=registers))):
        width = widths[index] if index < len(widths) else draw(st.sampled_from((1, 2, 4, 8)))
        top = (1 << (8 * width)) - 1
        emulated, writable = draw(st.integers(0, top)), draw(st.integers(0, top))
        if not emulated | writable:
            writable = 1
        out += struct.pack(f">HB{_CODES[width]}{_CODES[width]}", index, width, emulated, writable)
        heads.append((index, width))
    return widths, registers, bytes(out), heads


@given(_mask_lists(), st.data())
def test_a_remembered_mask_list_shape_reads_as_the_entry_loop_does(
        drawn: tuple[tuple[int, ...], int, bytes, list[tuple[int, int]]], data: st.DataObject) -> None:
    """unpack_masks with a section's shapes dict (one struct call for a list of a shape seen before) gives what
    the entry-by-entry loop gives, arrays or LoadError, for the list it learnt the shape from and for the same
    length of bytes changed anywhere (heads, zeroed masks), and a record's mask_registers below its last entry."""
    widths, registers, good, heads = drawn
    blob = b"\xaa" * 5 + good + b"\x55" * 3  # the list is a slice of a longer buffer, as in a descriptor frame
    o, end = 5, 5 + len(good)
    shapes: dict[int, object] = {}
    want = rt.unpack_masks("s", blob, o, end, registers, widths)
    assert rt.unpack_masks("s", blob, o, end, registers, widths, shapes) == want
    assert bool(shapes) == (len(heads) >= 3 and bool(widths))
    assert rt.unpack_masks("s", blob, o, end, registers, widths, shapes) == want  # the remembered shape
    changed = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(o, max(end - 1, o)))
        changed[at] = data.draw(st.sampled_from((0, 1, 2, 3, 4, 8, 9, 0xFF, changed[at] ^ 1)))
    fewer = data.draw(st.integers(0, registers))
    for candidate, count in ((bytes(changed), registers), (blob, fewer), (bytes(changed), fewer)):
        assert (_outcome("s", candidate, o, end, count, widths, shapes)
                == _outcome("s", candidate, o, end, count, widths))


@pytest.mark.parametrize("widths", [(), (1,), (1, 1, 1)])
def test_a_remembered_shape_gives_arrays_as_long_as_the_registers_this_build_indexes(widths: tuple[int, ...]) -> None:
    # Three one-byte entries of registers 0..2: none, one or all of them indexed by this build.
    good = b"".join(struct.pack(">HBBB", index, 1, 0, index + 1) for index in range(3))
    shapes: dict[int, object] = {}
    want = ((0,) * len(widths), (1, 2, 3)[:len(widths)])
    for _ in range(2):  # learning the shape, then using it
        assert rt.unpack_masks("s", good, 0, len(good), 3, widths, shapes) == want
    # learnt from the first list (by its size) and used by the second; a build indexing no register keeps none
    assert list(shapes) == ([len(good)] if widths else []), shapes
