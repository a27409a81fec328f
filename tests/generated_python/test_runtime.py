"""The generated runtime: CRC-32C against its published check value, framing, header checks."""

from __future__ import annotations

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
