"""The CRC-32C constants the back ends render: the Python runtime's fold distances, the C runtime's
slicing and shift tables, each recomputed here from the polynomial by another route."""

from __future__ import annotations

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
