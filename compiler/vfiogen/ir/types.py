"""Closed vocabularies of the IR, as enums rather than strings."""

from __future__ import annotations

import enum


class Access(enum.Enum):
    """Software access to a register bit, as the PCI specification names it."""

    RW = "rw"
    RO = "ro"
    RW1C = "rw1c"
    RSVDP = "rsvdp"
    RSVDZ = "rsvdz"
    HWINIT = "hwinit"
    RWS = "rws"
    """Sticky: kept across a hot reset (and in D3cold with aux power) as the PCIe Base specification says."""
    RW1CS = "rw1cs"
    ROS = "ros"

    @property
    def base(self) -> Access:
        """The access without stickiness: what save, load, masks and restore treat the bit as."""
        return _UNSTICKY.get(self, self)

    @property
    def sticky(self) -> bool:
        return self in _UNSTICKY

    @property
    def writable(self) -> bool:
        return self.base in (Access.RW, Access.RW1C)

    @property
    def reserved(self) -> bool:
        return self in (Access.RSVDP, Access.RSVDZ)


_UNSTICKY = {Access.RWS: Access.RW, Access.RW1CS: Access.RW1C, Access.ROS: Access.RO}


class LocationKind(enum.Enum):
    HEADER = "header"
    CAPABILITY = "capability"
    EXTENDED_CAPABILITY = "extended_capability"
    DEVICE_SPECIFIC = "device_specific"
    EMULATION = "emulation"


class ScalarKind(enum.Enum):
    U8 = "u8"
    U16 = "u16"
    U32 = "u32"
    U64 = "u64"
    S8 = "s8"
    S16 = "s16"
    S32 = "s32"
    S64 = "s64"
    BOOL = "bool"

    @property
    def bits(self) -> int:
        return 8 if self is ScalarKind.BOOL else int(self.value[1:])

    @property
    def size(self) -> int:
        """Bytes on the wire (a bool is one byte)."""
        return self.bits // 8

    @property
    def signed(self) -> bool:
        return self.value.startswith("s")

    @property
    def min_value(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_value(self) -> int:
        if self is ScalarKind.BOOL:
            return 1
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1


class CompatKind(enum.Enum):
    """How a target's descriptor field must relate to the source's."""

    REQUIRE_PRESENT = "require"
    EQUAL = "equal"
    SUBSET = "subset"
    SUPERSET = "superset"
    TARGET_GE = "target_ge"
    MASKED_EQUAL = "masked_equal"


# Bytes of configuration space a location may span.
CONFIG_SPACE_SIZE = {LocationKind.HEADER: 64, LocationKind.CAPABILITY: 256, LocationKind.DEVICE_SPECIFIC: 256,
                     LocationKind.EXTENDED_CAPABILITY: 4096}
# Where a location's first byte can sit at the earliest: standard capabilities
# follow the 64-byte header, extended ones start at 0x100.
CONFIG_SPACE_BASE = {LocationKind.HEADER: 0, LocationKind.CAPABILITY: 0x40, LocationKind.DEVICE_SPECIFIC: 0x40,
                     LocationKind.EXTENDED_CAPABILITY: 0x100}
