"""Hostile migration streams (issue 14): one table of cases for the Python and the C loaders alike.

Every case starts from a device's valid blob vector (tests/vectors/devices/<device>/valid_blob.yaml), takes
it apart into frames, changes something an attacker controls and frames it again with a CRC-32C computed
here (bit by bit, not with the generated code), so that the CRC is right and the content hostile unless the
case is about the CRC. Each case gives what the loader must say, worked out by the rules of
docs/wire-format.md and tests/vectors/README.md ("Device cases"), never taken from a loader's output:
the section, the field, the absolute byte offset and a key word of the reason.
tests/generated_python/test_hostile_streams.py and tests/generated_c/test_c_hostile_streams.py run the
table; both also require that a refused load left the caller's state as it was.

A case with `known_failure` is one the loaders accept today although they should not; the tests run it as
a strict expected failure, so fixing the loaders turns it into a failure that asks for the entry's removal.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DEVICE_VECTORS = HERE / "vectors" / "devices"
HEADER_SIZE, FRAME_HEAD, CRC_SIZE, RECORD_HEAD = 8, 12, 4, 4


def crc32c(data: bytes) -> int:
    """CRC-32C bit by bit: reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the check value every CRC-32C gives


@dataclass
class Frame:
    ident: int
    version: int
    flags: int
    payload: bytes


@dataclass
class Stream:
    """A blob taken apart: its header fields and its frames (the descriptor frame first)."""

    count: int
    frames: list[Frame]

    @classmethod
    def parse(cls, blob: bytes) -> Stream:
        magic, version, count = struct.unpack_from(">4sHH", blob)
        assert (magic, version) == (b"VFGS", 1)
        frames, o = [], HEADER_SIZE
        while o < len(blob):
            ident, fversion, flags, length = struct.unpack_from(">HHII", blob, o)
            payload = blob[o + FRAME_HEAD:o + FRAME_HEAD + length]
            (stored,) = struct.unpack_from(">I", blob, o + FRAME_HEAD + length)
            assert stored == crc32c(blob[o:o + FRAME_HEAD + length]), "the vector's own CRC"
            frames.append(Frame(ident, fversion, flags, payload))
            o += FRAME_HEAD + length + CRC_SIZE
        return cls(count, frames)

    def copy(self) -> Stream:
        return Stream(self.count, [replace(f) for f in self.frames])

    def index(self, ident: int) -> int:
        return next(i for i, f in enumerate(self.frames) if f.ident == ident and i > 0)

    def frame_offset(self, index: int) -> int:
        return HEADER_SIZE + sum(FRAME_HEAD + len(f.payload) + CRC_SIZE for f in self.frames[:index])

    def payload_offset(self, index: int) -> int:
        return self.frame_offset(index) + FRAME_HEAD

    def record_offset(self, ident: int) -> int:
        """Where the descriptor frame's record of section `ident` starts (absolute)."""
        payload, o = self.frames[0].payload, 0
        while struct.unpack_from(">H", payload, o)[0] != ident:
            o += RECORD_HEAD + struct.unpack_from(">H", payload, o + 2)[0]
        return self.payload_offset(0) + o

    def blob(self) -> bytes:
        out = bytearray(struct.pack(">4sHH", b"VFGS", 1, self.count))
        for f in self.frames:
            head = struct.pack(">HHII", f.ident, f.version, f.flags, len(f.payload))
            out += head + f.payload + struct.pack(">I", crc32c(head + f.payload))
        return bytes(out)


@dataclass(frozen=True)
class Case:
    name: str
    blob: bytes
    section: str
    field: str
    offset: int
    reason: str
    """A key word both languages' reasons hold."""
    with_target: bool = False
    """Loaded with the valid blob's descriptor as the target's own (else without a target descriptor)."""
    known_failure: str | None = field(default=None, compare=False)


def _hex(value: object) -> bytes:
    text = "".join(value) if isinstance(value, list) else str(value)
    return bytes.fromhex(re.sub(r"\s+", "", text))


def valid_blob(device: str = "example_nic") -> bytes:
    return _hex(yaml.safe_load((DEVICE_VECTORS / device / "valid_blob.yaml").read_text("utf-8"))["hex"])


# The example_nic's sections and what the cases change in them (schemas/sections/*.yaml, wire layouts in
# generated/docs/sections/*.md): section ids, and payload offsets of the fields the cases touch.
REBAR, HEADER, MSI, MSIX, SRIOV = 0x0115, 0x0001, 0x0005, 0x0011, 0x0110
NAMES = {REBAR: "rebar", HEADER: "header", MSI: "msi", MSIX: "msix", SRIOV: "sriov"}
VERSIONS = {REBAR: (1, 1), HEADER: (1, 1), MSI: (1, 2), MSIX: (1, 1), SRIOV: (1, 2)}  # min_version, version
MSI_ADDR64, MSI_PVM = 0x0080, 0x0100  # control bits 7 and 8: read-only shape bits
SRIOV_VFS_CREATED = 0x39  # u16 in the version 2 payload, the vfs array right after it


def _device_cases(device: str) -> list[Case]:  # noqa: C901, PLR0915 - one table, read top to bottom
    base = Stream.parse(valid_blob(device))
    blob = base.blob()
    assert blob == valid_blob(device)
    cases: list[Case] = []
    dev = device

    def add(name: str, stream: Stream | bytes, section: str, fld: str, offset: int, reason: str,
            **extra: object) -> None:
        data = stream if isinstance(stream, bytes) else stream.blob()
        cases.append(Case(f"{dev}/{name}", data, section, fld, offset, reason, **extra))  # type: ignore[arg-type]

    # Length claims up to 4 GiB, in every frame's length field: the payload and CRC would run past the
    # end, which is refused at the payload's start before anything is read (the CRC cannot be right).
    for index, frame in enumerate(base.frames):
        label = NAMES.get(frame.ident, "descriptor") if index else "descriptor"
        at = base.frame_offset(index)
        for claim in (0xFFFFFFFF, 0xFFFFFFF4, 0x80000000, 0x10000, len(blob) - at - FRAME_HEAD - CRC_SIZE + 1):
            data = bytearray(blob)
            struct.pack_into(">I", data, at + 8, claim)
            add(f"length_{claim:#x}_in_{label}_frame", bytes(data), dev, "frame", at + FRAME_HEAD, "truncated")
    # The header's frame count beyond what follows: the next frame head is cut short at the end.
    for count in (base.count + 1, 0xFFFF):
        stream = base.copy()
        stream.count = count
        add(f"frame_count_{count}", stream, dev, "frame", len(blob), "truncated")

    # A count beyond `max`: SR-IOV's vfs array is vfs_created long, max 256.
    for created in (257, 0x8000, 0xFFFF):
        stream = base.copy()
        i = stream.index(SRIOV)
        payload = bytearray(stream.frames[i].payload)
        struct.pack_into(">H", payload, SRIOV_VFS_CREATED, created)
        stream.frames[i].payload = bytes(payload)
        add(f"sriov_vfs_created_{created}", stream, "sriov", "vfs",
            stream.payload_offset(i) + SRIOV_VFS_CREATED + 2, "outside")

    # Presence bits that lie: a read-only shape bit of MSI's control flipped in the stream (CRC right).
    # addr64 cleared: the 32-bit layout ends before address_hi's 4 bytes, which are left over.
    i = base.index(MSI)
    stream = base.copy()
    stream.frames[i].payload = struct.pack(">H", struct.unpack_from(">H", stream.frames[i].payload)[0]
                                           & ~MSI_ADDR64) + stream.frames[i].payload[2:]
    add("msi_addr64_cleared", stream, "msi", "", stream.payload_offset(i) + len(stream.frames[i].payload) - 4,
        "left over")
    # pvm set: the mask register would follow data at 0x0c (the frame is version 2 with ext_data_capable
    # clear, so no ext_data between them), where the 12-byte payload ends.
    stream = base.copy()
    stream.frames[i].payload = struct.pack(">H", struct.unpack_from(">H", stream.frames[i].payload)[0]
                                           | MSI_PVM) + stream.frames[i].payload[2:]
    add("msi_pvm_set", stream, "msi", "mask", stream.payload_offset(i) + 0x0C, "truncated")

    # A blob truncated at every byte: the header, else the frame whose head or payload+CRC is cut short.
    for n in range(len(blob)):
        if n < HEADER_SIZE:
            add(f"truncated_at_{n}", blob[:n], dev, "header", 0, "truncated")
            continue
        index = max(k for k in range(len(base.frames)) if base.frame_offset(k) <= n)
        at = base.frame_offset(index)
        add(f"truncated_at_{n}", blob[:n], dev, "frame", at if n < at + FRAME_HEAD else at + FRAME_HEAD,
            "truncated")

    # A CRC that does not match, in each frame; then a correct CRC over wrong content.
    for index in range(len(base.frames)):
        data = bytearray(blob)
        end = base.frame_offset(index + 1) - CRC_SIZE
        data[end] ^= 0x01
        add(f"crc_flipped_in_frame_{index}", bytes(data), dev, "frame", end, "CRC")
    wrong: list[tuple[str, int, int, int, str, str, int]] = [
        # (name, section id, payload offset, xor, field, reason, error offset in the payload)
        ("msi_control_reserved_bit", MSI, 0, 0x80, "control", "reserved", 0),   # control bit 15 is reserved
        ("msix_control_reserved_bit", MSIX, 0, 0x08, "control", "reserved", 0),  # control bit 11 is reserved
        ("sriov_user_created_bool_2", SRIOV, SRIOV_VFS_CREATED + 2, 0x02, "vf_user_created", "bool",
         SRIOV_VFS_CREATED + 2),
    ]
    for name, ident, at, xor, fld, reason, where in wrong:
        stream = base.copy()
        i = stream.index(ident)
        payload = bytearray(stream.frames[i].payload)
        payload[at] ^= xor
        stream.frames[i].payload = bytes(payload)
        add(name, stream, NAMES[ident], fld, stream.payload_offset(i) + where, reason)
    # ...and in the descriptor frame: a record of another size, a record of a section the device lacks.
    stream = base.copy()
    payload = bytearray(stream.frames[0].payload)
    record = base.record_offset(MSI) - base.payload_offset(0)
    struct.pack_into(">H", payload, record + 2, 4)
    stream.frames[0].payload = bytes(payload)
    add("descriptor_msi_record_of_another_size", stream, dev, "descriptor.msi", base.record_offset(MSI), "record")
    stream = base.copy()
    payload = bytearray(stream.frames[0].payload)
    struct.pack_into(">H", payload, record, 0x0ABC)
    stream.frames[0].payload = bytes(payload)
    add("descriptor_record_of_no_section", stream, dev, "descriptor", base.record_offset(MSI), "device")

    # Duplicate sections, and sections out of device order.
    for ident in (REBAR, MSI, SRIOV):
        stream = base.copy()
        i = stream.index(ident)
        stream.frames.insert(i + 1, replace(stream.frames[i]))
        stream.count += 1
        add(f"{NAMES[ident]}_twice", stream, dev, "", stream.frame_offset(i + 1), "twice")
    # An optional section this build does not know (flags 0), twice: skipped the first time, refused the
    # second, whatever other unknown ids came between. The ids share a 32-bit word of the loaders' id set
    # (0x7ABC, 0x7ABD), sit in another word (0x7AFC) and at both ends of the id space (0x0002, 0xFFFF):
    # marking a later id must not forget an earlier one.
    for idents in ((0x7ABC, 0x7ABC), (0x7ABC, 0x7ABD, 0x7AFC, 0xFFFF, 0x0002, 0x7ABC),
                   (0xFFFF, 0x7ABD, 0xFFFF), (0x0002, 0x0003, 0x0002)):
        stream = base.copy()
        for ident in idents:
            stream.frames.append(Frame(ident, 1, 0, b"\x00" * 4))
        stream.count += len(idents)
        add(f"unknown_optional_{'_'.join(f'{i:04x}' for i in idents)}", stream, dev, "",
            stream.frame_offset(len(stream.frames) - 1), "twice")
    for first, second in ((REBAR, HEADER), (MSI, MSIX), (REBAR, SRIOV)):
        stream = base.copy()
        i, j = stream.index(first), stream.index(second)
        stream.frames[i], stream.frames[j] = stream.frames[j], stream.frames[i]
        # `second` now stands at i, after everything before it in device order; the frame after it, at
        # i + 1, is of a section before it in device order: refused there, naming that section as a
        # blob-structure error does (section: the device; field: the section's name).
        add(f"{NAMES[second]}_before_{NAMES[first]}", stream, dev, NAMES[stream.frames[i + 1].ident],
            stream.frame_offset(i + 1), "order")

    # A section version newer than this build loads, or older than min_version.
    for ident in (MSI, SRIOV, REBAR):
        oldest, newest = VERSIONS[ident]
        for version in (newest + 1, oldest - 1, 0xFFFF):
            stream = base.copy()
            i = stream.index(ident)
            stream.frames[i].version = version
            add(f"{NAMES[ident]}_version_{version}", stream, NAMES[ident], "", stream.payload_offset(i),
                "this build loads")

    # A descriptor frame that disagrees with the sections that follow it.
    # It lists no MSI record, and an MSI frame follows: without a target descriptor the presence rules
    # refuse first (the target's config has MSI, which the device requires), at the descriptor payload.
    stream = base.copy()
    payload = stream.frames[0].payload
    msi_record = base.record_offset(MSI) - base.payload_offset(0)
    size = struct.unpack_from(">H", payload, msi_record + 2)[0]
    stream.frames[0].payload = payload[:msi_record] + payload[msi_record + RECORD_HEAD + size:]
    add("descriptor_without_msi_then_msi_frame", stream, dev, "descriptor", stream.payload_offset(0), "msi")
    # Its MSI cap_offset is another than the target's own: the migration is refused at the descriptor.
    stream = base.copy()
    payload = bytearray(stream.frames[0].payload)
    payload[msi_record + RECORD_HEAD] ^= 0x08
    stream.frames[0].payload = bytes(payload)
    add("descriptor_msi_cap_offset_differs", stream, dev, "descriptor", stream.payload_offset(0), "offset",
        with_target=True)
    # Its SR-IOV VF BAR sizes (bytes[6], at 38 in the record) are another than the target's: refused with a
    # reason whose values are bytes, which the C report points at (they must outlive the load).
    stream = base.copy()
    payload = bytearray(stream.frames[0].payload)
    payload[base.record_offset(SRIOV) - base.payload_offset(0) + RECORD_HEAD + 38] ^= 0x01
    stream.frames[0].payload = bytes(payload)
    add("descriptor_sriov_vf_bar_sizes_differ", stream, dev, "descriptor", stream.payload_offset(0), "VF BAR",
        with_target=True)
    # The MSI frame is a consistent 32-bit MSI (addr64 clear, no address_hi) while the descriptor's shape
    # says 64-bit: the presence bit lies in the section and in nothing else.
    stream = base.copy()
    i = stream.index(MSI)
    p = stream.frames[i].payload
    stream.frames[i].payload = struct.pack(">H", struct.unpack_from(">H", p)[0] & ~MSI_ADDR64) + p[2:6] + p[10:]
    # Refused at the MSI frame's payload, naming the descriptor field its registers disagree with.
    for target in (False, True):
        add(f"msi_frame_32bit_under_a_64bit_descriptor{'_with_target' if target else ''}", stream, "msi",
            "descriptor.shape", stream.payload_offset(i), "disagree", with_target=target)
    # The same for MSI-X: a consistent frame of 2 vectors (Table Size 1) under a descriptor saying 1.
    stream = base.copy()
    i = stream.index(MSIX)
    p = stream.frames[i].payload
    control = struct.unpack_from(">H", p)[0] | 0x0001
    stream.frames[i].payload = struct.pack(">H", control) + p[2:10] + p[10:26] * 2 + p[26:]
    add("msix_frame_of_2_vectors_under_a_descriptor_of_1", stream, "msix", "descriptor.table_size",
        stream.payload_offset(i), "disagree")
    return cases


def cases() -> list[Case]:
    return _device_cases("example_nic")
