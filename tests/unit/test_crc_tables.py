"""The CRC-32C constants the back ends render: the Python runtime's fold distances, the C runtime's
slicing and shift tables, each recomputed here from the polynomial by another route."""

from __future__ import annotations

import random
import re
from pathlib import Path

from vfiogen.wire import format as wire


def _reference_register(data: bytes, register: int) -> int:
    """The reflected CRC register after `data`, a bit at a time (no table)."""
    for byte in data:
        register ^= byte
        for _ in range(8):
            register = (register >> 1) ^ wire.CRC32C_POLYNOMIAL if register & 1 else register >> 1
    return register


def test_check_value() -> None:
    assert wire.crc32c(b"123456789") == 0xE3069283
    assert _reference_register(b"123456789", 0xFFFFFFFF) ^ 0xFFFFFFFF == 0xE3069283


def test_fold_constants_are_powers_of_x_modulo_the_polynomial() -> None:
    ks = [k for k, _ in wire.CRC32C_FOLDS]
    assert ks == sorted(ks, reverse=True) and all(k % 8 == 0 for k in ks)
    for k, constant in wire.CRC32C_FOLDS:
        assert wire.crc32c_fold_constant(k) == constant, k


def test_fold_constant_moves_a_bit_as_k_zero_bits_do() -> None:
    """x^(k+31) mod P, reflected, is the register that a 1 in the top bit of a byte (x^31 after the
    register's first byte) becomes after k more zero bits, computed bit by bit."""
    for k, constant in wire.CRC32C_FOLDS[-6:]:
        assert _reference_register(bytes(k // 8), 1) == constant, k


def test_slice_tables_advance_by_zero_bytes() -> None:
    tables = wire.crc32c_slice_tables()
    assert len(tables) == 8 and tables[0] == wire.crc32c_table()
    for k, table in enumerate(tables):
        for byte in (0, 1, 0x80, 0xA5, 0xFF):
            assert table[byte] == _reference_register(bytes([byte]) + bytes(k), 0), (k, byte)


def test_shift_tables_advance_any_register() -> None:
    zeros = 512
    tables = wire.crc32c_shift_tables(zeros)
    for register in (1, 0x80000000, 0xDEADBEEF, 0xFFFFFFFF, 0x12345678):
        shifted = (tables[0][register & 0xFF] ^ tables[1][register >> 8 & 0xFF] ^ tables[2][register >> 16 & 0xFF]
                   ^ tables[3][register >> 24])
        assert shifted == _reference_register(bytes(zeros), register), hex(register)


# The normal (unreflected) Castagnoli polynomial with its x^32 term, written out from its exponents.
_P = sum(1 << e for e in (32, 28, 27, 26, 25, 23, 22, 20, 19, 18, 14, 13, 11, 10, 9, 8, 6, 0))


def _poly_mod(a: int, m: int) -> int:
    """a mod m over GF(2), polynomials as integers (bit e the coefficient of x^e), by long division."""
    while a.bit_length() >= m.bit_length():
        a ^= m << (a.bit_length() - m.bit_length())
    return a


def _reflect(value: int, bits: int) -> int:
    return int(f"{value:0{bits}b}"[::-1], 2)


def _clmul(a: int, b: int) -> int:
    product = 0
    for bit in range(b.bit_length()):
        if b >> bit & 1:
            product ^= a << bit
    return product


def test_the_polynomial_written_out_is_the_reflected_constant() -> None:
    assert _reflect(_P & 0xFFFFFFFF, 32) == wire.CRC32C_POLYNOMIAL


def test_clmul_pairs_are_powers_of_x_modulo_the_polynomial() -> None:
    """The C runtime's folding constants for D bits: reflected x^(D+31) and x^(D-33) mod P, by division."""
    from vfiogen.backends.c.emit import CRC_FOLD_BITS

    assert CRC_FOLD_BITS == (128, 256, 512, 1024, 2048)
    for bits in CRC_FOLD_BITS:
        high, low = (_reflect(_poly_mod(1 << e, _P), 32) for e in (bits + 31, bits - 33))
        assert wire.crc32c_clmul_pair(bits) == (high, low), bits
    # as other CRC-32C folding implementations publish them (one lane, 64 and 256 bytes on)
    assert wire.crc32c_clmul_pair(128) == (0xF20C0DFE, 0x493C7D27)
    assert wire.crc32c_clmul_pair(512) == (0x740EEF02, 0x9E4ADDF8)
    assert wire.crc32c_clmul_pair(2048) == (0xDCB17AA4, 0xB9E02B86)


def test_the_generated_c_holds_the_pairs() -> None:
    runtime = (Path(__file__).resolve().parents[2] / "generated" / "c" / "vfg_runtime.c").read_text()
    for bits in (128, 256, 512, 1024, 2048):
        high, low = wire.crc32c_clmul_pair(bits)
        found = re.search(rf"static const uint64_t crc_fold_{bits}\[8\] = \{{([^}}]*)\}};", runtime)
        assert found, bits
        assert found.group(1).split() == [f"0x{high:08x}u,", f"0x{low:08x}u,"] * 3 + [f"0x{high:08x}u,",
                                                                                       f"0x{low:08x}u"]


def _folded_crc(data: bytes, crc: int, lanes: int) -> int:
    """The C runtime's folding, modelled on integers: `lanes` 16-byte lanes moved on together by
    clmul_pair(128 * lanes), joined into one lane by clmul_pair(128), the whole 16-byte blocks left folded
    in, the lane's remainder taken by the bitwise register from zero, then the tail bytes."""
    mask = (1 << 64) - 1

    def fold(lane: int, bits: int, following: int) -> int:
        high, low = wire.crc32c_clmul_pair(bits)
        return _clmul(lane & mask, high) ^ _clmul(lane >> 64, low) ^ following

    register = crc ^ 0xFFFFFFFF
    if len(data) < 16 * lanes:
        return _reference_register(data, register) ^ 0xFFFFFFFF
    block = [int.from_bytes(data[16 * i:16 * i + 16], "little") for i in range(len(data) // 16)]
    acc = block[:lanes]
    acc[0] ^= register
    used = lanes
    while len(block) - used >= lanes:
        acc = [fold(acc[i], 128 * lanes, block[used + i]) for i in range(lanes)]
        used += lanes
    lane = acc[0]
    for following in acc[1:] + block[used:]:
        lane = fold(lane, 128, following)
    register = _reference_register(lane.to_bytes(16, "little"), 0)
    return _reference_register(data[16 * len(block):], register) ^ 0xFFFFFFFF


def test_folding_with_the_pairs_gives_the_crc() -> None:
    """The derivation the C runtime's comment gives, checked: one, four, eight and sixteen lanes (its xmm,
    ymm and zmm steps) against the bitwise CRC, every length to 300 and a few longer ones."""
    rng = random.Random(15)
    for lanes in (1, 2, 4, 8, 16):
        for length in [*range(0, 300, 7 if lanes > 1 else 1), 1000, 1531, 4097]:
            data = rng.randbytes(length)
            crc = rng.getrandbits(32)
            assert _folded_crc(data, crc, lanes) == wire.crc32c(data, crc), (lanes, length)
