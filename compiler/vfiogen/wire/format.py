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
FLAG_INSTANCE_SHIFT = 8
FLAG_INSTANCE_MASK = 0xFF00
"""Frame flags bits 15:8: which instance of a repeated section the frame carries (0 for any other section,
so streams from before repeated sections read unchanged)."""
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


@functools.cache
def crc32c_slice_tables(count: int = 8) -> tuple[tuple[int, ...], ...]:
    """Tables for slicing-by-`count`: table k maps a byte to its CRC followed by k zero bytes.

    Table 0 is `crc32c_table()`; `table[k][b] == (table[k-1][b] >> 8) ^ table[0][table[k-1][b] & 0xFF]`.
    """
    tables = [crc32c_table()]
    for _ in range(1, count):
        prev, first = tables[-1], tables[0]
        tables.append(tuple((value >> 8) ^ first[value & 0xFF] for value in prev))
    return tuple(tables)


@functools.cache
def crc32c_shift_tables(zeros: int) -> tuple[tuple[int, ...], ...]:
    """Four tables that advance a CRC register over `zeros` zero bytes: the register r becomes
    `t[0][r & 0xFF] ^ t[1][r >> 8 & 0xFF] ^ t[2][r >> 16 & 0xFF] ^ t[3][r >> 24]` (the step is linear)."""
    table = crc32c_table()

    def advance(register: int) -> int:
        for _ in range(zeros):
            register = table[register & 0xFF] ^ (register >> 8)
        return register

    basis = [advance(1 << bit) for bit in range(32)]
    tables = []
    for k in range(4):
        entries = [0] * 256
        for byte in range(1, 256):
            low = byte & -byte
            entries[byte] = entries[byte ^ low] ^ basis[8 * k + low.bit_length() - 1]
        tables.append(tuple(entries))
    return tuple(tables)


CRC32C_FOLDS = (
    (506608, 0x10810840),
    (196896, 0x02284890),
    (100152, 0xA4012041),
    (49832, 0x40308308),
    (29464, 0x220808A2),
    (12320, 0x6980102A),
    (7336, 0x080408E4),
    (3424, 0x82032E02),
    (1632, 0x57060022),
    (856, 0x812C0154),
    (384, 0x1C291D04),
    (224, 0xA2158B34),
    (96, 0x3171D430),
    (56, 0x68032CC8),
)
"""Fold distances for the generated Python's CRC-32C, largest first: (k bits, x^(k+31) mod P, bit-reflected).

The Python runtime reads a chunk as one little-endian integer m, with the CRC register XORed into its low
32 bits and 32 zero bits above it (bit t is the coefficient of x^(N-1-t) for an N-bit integer, as the
reflected CRC reads bytes), and folds its low k bits L into the rest: `m = (m >> k) ^ clmul(L, c)`, which
keeps m mod P and shortens it by k bits. The carry-less product is one shift and XOR of L per set bit of c,
so each k was chosen, among the multiples of 8 from 3/4 of a power of two up to it, for the fewest set
bits (5 to 13). `crc32c_fold_constant` recomputes each constant; a unit test holds them equal.
"""


def crc32c_fold_constant(k: int) -> int:
    """x^(k+31) mod P(x) for the Castagnoli polynomial, as a bit-reflected 32-bit value."""
    normal = 0x1EDC6F41 | 1 << 32
    value = 1
    for _ in range(k + 31):
        value <<= 1
        if value >> 32:
            value ^= normal
    return int(f"{value:032b}"[::-1], 2)


def crc32c_clmul_pair(bits: int) -> tuple[int, int]:
    """The C runtime's constants for moving a 128-bit lane `bits` bits on by carry-less multiplication:
    (reflected x^(bits+31) mod P, reflected x^(bits-33) mod P), the multipliers of its first and its last
    eight bytes (see vfg_crc.c.j2). `bits` is a multiple of 128."""
    return crc32c_fold_constant(bits), crc32c_fold_constant(bits - 64)


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C, chainable: `crc32c(b, crc32c(a)) == crc32c(a + b)`."""
    table = crc32c_table()
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
