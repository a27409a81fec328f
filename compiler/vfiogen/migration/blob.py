"""A captured device state as a blob (docs/wire-format.md): what `vfiogen capture` writes and `vfiogen decode`
reads.

Each section is saved at its current version: its registers as captured (present ones, big-endian at their
width; reserved bits were dropped by the capture), then its emulation state at its defaults, which a dump
cannot hold (the hypervisor's own record: an MSI-X vector table of zeros as long as the table size says, no
VFs instantiated), as the generated Python capture builds a new state. The descriptor frame holds each
section's record (`migration.descriptor`), then one frame per section, each with its CRC-32C.
"""

from __future__ import annotations

import struct

from vfiogen.ir.defaults import default_env
from vfiogen.ir.evaluate import EvaluationError, Value, evaluate
from vfiogen.ir.nodes import ArrayType, BytesType, FieldType, ScalarType, StructType
from vfiogen.ir.types import ScalarKind
from vfiogen.migration.descriptor import Descriptor, pack_record
from vfiogen.migration.sections import FoundSection
from vfiogen.wire.format import (CRC_FORMAT, DESCRIPTOR_ID, FLAG_INSTANCE_SHIFT, FLAG_REQUIRED, FORMAT_VERSION,
                                 FRAME_FORMAT, HEADER_FORMAT, MAGIC, RECORD_FORMAT, crc32c)


class EncodeError(ValueError):
    """The captured state cannot be saved (an array count beyond its max, an expression that cannot be
    evaluated): the message names the section and field."""


def payload(found: FoundSection) -> bytes:
    """The section's payload at its current version."""
    section = found.checked.section
    version = section.version
    registers = {name: value or 0 for name, value in found.captured.registers.items()}
    env = default_env(section, found.params, registers)
    out = bytearray()
    for register in section.registers:
        if not register.versioning.carried_by(version):
            continue
        value = found.captured.registers.get(register.name)
        if value is not None:
            out += value.to_bytes(register.width // 8, "big")
    for state in section.state:
        if not state.versioning.carried_by(version) or not _holds(state.present, env, section.name, state.name):
            continue
        if state.byte_string:
            out += found.captured.strings.get(state.name, b"")
            continue
        out += _default_bytes(state.type, state.versioning.default or 0, env, section.name, state.name)
    return bytes(out)


def _holds(expr: object, env: dict[str, Value], section: str, path: str) -> bool:
    if expr is None:
        return True
    try:
        return bool(evaluate(expr, env))  # type: ignore[arg-type]
    except EvaluationError as exc:
        raise EncodeError(f"{section}.{path}: presence cannot be evaluated: {exc}") from None


def _default_bytes(field_type: FieldType, default: int, env: dict[str, Value], section: str, path: str) -> bytes:
    if isinstance(field_type, ScalarType):
        kind = field_type.kind
        value = int(bool(default)) if kind is ScalarKind.BOOL else default
        return value.to_bytes(kind.size, "big", signed=kind.signed)
    if isinstance(field_type, BytesType):
        return bytes(field_type.size)
    if isinstance(field_type, ArrayType):
        try:
            count = int(evaluate(field_type.length, env))
        except (EvaluationError, ArithmeticError) as exc:
            raise EncodeError(f"{section}.{path}: length cannot be evaluated: {exc}") from None
        if not 0 <= count <= field_type.max:
            raise EncodeError(f"{section}.{path}: count {count} is outside 0..{field_type.max}")
        return b"".join(_default_bytes(field_type.element, 0, env, section, f"{path}[{i}]") for i in range(count))
    assert isinstance(field_type, StructType)
    return b"".join(_default_bytes(m.type, 0, env, section, f"{path}.{m.name}") for m in field_type.members
                    if _holds(m.present, env, section, f"{path}.{m.name}"))


def _frame(section_id: int, version: int, required: bool, data: bytes, instance: int | None = None) -> bytes:
    flags = (FLAG_REQUIRED if required else 0) | ((instance or 0) << FLAG_INSTANCE_SHIFT)
    head = struct.pack(FRAME_FORMAT, section_id, version, flags, len(data))
    return head + data + struct.pack(CRC_FORMAT, crc32c(head + data))


def encode(sections: list[FoundSection], descriptor: Descriptor) -> bytes:
    """The whole blob: header, descriptor frame, one frame per section in `sections`' order."""
    records = b"".join(struct.pack(RECORD_FORMAT, s.checked.section.wire_id, len(record)) + record
                       for s in descriptor.sections for record in [pack_record(s)])
    frames = [_frame(DESCRIPTOR_ID, FORMAT_VERSION, True, records)]
    frames += [_frame(f.checked.section.wire_id, f.checked.section.version, f.required, payload(f), f.instance)
               for f in sections]
    return struct.pack(HEADER_FORMAT, MAGIC, FORMAT_VERSION, len(sections)) + b"".join(frames)
