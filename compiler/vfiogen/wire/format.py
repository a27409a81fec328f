"""The wire format's constants and its CRC, in one place (docs/wire-format.md describes them).

The generated runtimes are rendered from these values, and `wire.decode`
reads blobs with them, so a change here is a change of the format.
"""

from __future__ import annotations

import functools

MAGIC = b"VFGS"
FORMAT_VERSION = 1
DESCRIPTOR_ID = 0
FLAG_REQUIRED = 0x1
HEADER_FORMAT = ">4sHH"
"""Blob header: magic, format version, number of section frames after the descriptor frame."""
FRAME_FORMAT = ">HHII"
"""Frame header: section id, section version, flags, payload length."""
RECORD_FORMAT = ">HH"
"""Descriptor record header: section id, record length."""
CRC_FORMAT = ">I"
CRC32C_POLYNOMIAL = 0x82F63B78
"""Castagnoli, bit-reflected."""


@functools.cache
def crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ CRC32C_POLYNOMIAL if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C, chainable: `crc32c(b, crc32c(a)) == crc32c(a + b)`."""
    table = crc32c_table()
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
