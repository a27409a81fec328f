"""Decode a migration blob by walking the checked IR, recording every field's byte offset.

This is an interpreter of the wire format, independent of the generated
code: `vfiogen decode` uses it to dump a blob with offsets (as QEMU's
analyze-migration.py does for its stream), and the tests use it as a second
implementation to compare the generated loaders against.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vfiogen.ir.checked import CheckedModule, CheckedSection
from vfiogen.ir.evaluate import EvaluationError, Value, evaluate, register_values, section_constants, source_params
from vfiogen.ir.expr import Expr
from vfiogen.ir.nodes import ArrayType, BytesType, Device, FieldType, Register, ScalarType, StructType
from vfiogen.ir.types import ScalarKind
from vfiogen.ir.plan import MASK_ENTRY_HEAD, MASK_FIELD_PREFIXES
from vfiogen.passes.plan import instance_name
from vfiogen.wire.format import (DESCRIPTOR_ID, FLAG_INSTANCE_MASK, FLAG_INSTANCE_SHIFT, FLAG_REQUIRED,
                                 FORMAT_VERSION, FRAME_FORMAT, HEADER_FORMAT, MAGIC, RECORD_FORMAT, crc32c)

_HEADER = struct.Struct(HEADER_FORMAT)
_FRAME = struct.Struct(FRAME_FORMAT)
_RECORD = struct.Struct(RECORD_FORMAT)
_MASK_ENTRY = struct.Struct(">HB")


class DecodeError(Exception):
    def __init__(self, section: str, field_path: str, offset: int, reason: str) -> None:
        super().__init__(f"{section}{'.' + field_path if field_path else ''} at byte {offset}: {reason}")
        self.section, self.field, self.offset, self.reason = section, field_path, offset, reason


@dataclass
class Entry:
    """One decoded field: where it is, how big, its value (and bit fields for registers)."""

    path: str
    offset: int
    size: int
    value: Any
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class DecodedSection:
    name: str
    section_id: int
    version: int
    required: bool
    offset: int
    length: int
    entries: list[Entry] = field(default_factory=list)
    skipped: bool = False


@dataclass
class DecodedBlob:
    format_version: int
    descriptor: dict[str, list[Entry]]
    sections: list[DecodedSection]

    def to_json(self) -> dict[str, Any]:
        def entry(e: Entry) -> dict[str, Any]:
            out: dict[str, Any] = {"path": e.path, "offset": e.offset, "size": e.size, "value": e.value}
            if e.fields:
                out["fields"] = e.fields
            return out
        return {"format_version": self.format_version,
                "descriptor": {name: [entry(e) for e in entries] for name, entries in self.descriptor.items()},
                "sections": [{"name": s.name, "id": s.section_id, "version": s.version, "required": s.required,
                              "offset": s.offset, "length": s.length, "skipped": s.skipped,
                              "fields": [entry(e) for e in s.entries]} for s in self.sections]}


class _Reader:
    def __init__(self, data: bytes, start: int, end: int, section: str) -> None:
        self.data, self.offset, self.end, self.section = data, start, end, section

    def take(self, size: int, path: str) -> bytes:
        if self.end - self.offset < size:
            raise DecodeError(self.section, path, self.offset,
                              f"truncated: needs {size} bytes, {max(self.end - self.offset, 0)} left")
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk


class _SectionDecoder:
    def __init__(self, checked: CheckedSection, params: Mapping[str, int]) -> None:
        self.checked = checked
        self.section = checked.section
        self.env: dict[str, Value] = section_constants(self.section, params)
        self.masks = {r.register.name: r.masks for r in checked.registers}
        self.enum_values = {e.name: {v.value for v in e.values} for e in self.section.enums}

    def holds(self, expr: Expr | None, reader: _Reader, path: str) -> bool:
        if expr is None:
            return True
        try:
            return bool(evaluate(expr, self.env))
        except EvaluationError as exc:
            raise DecodeError(self.section.name, path, reader.offset, str(exc)) from None

    def decode(self, reader: _Reader, version: int) -> list[Entry]:
        entries: list[Entry] = []
        for register in self.section.registers:
            if not register.versioning.carried_by(version):
                continue
            if not self.holds(register.present, reader, register.name):
                self.define_register(register, 0)
                continue
            entries.append(self.register(reader, register))
        for state in self.section.state:
            if not state.versioning.carried_by(version):
                continue
            if self.holds(state.present, reader, state.name):
                entries.extend(self.value(reader, state.name, state.type, state.enum, top=True))
        return entries

    def define_register(self, register: Register, raw: int) -> dict[str, Any]:
        values = register_values(register, raw)
        self.env.update(values)
        fields: dict[str, Any] = {}
        for bit_field in register.fields:
            if not bit_field.access.reserved:
                typed = values[f"{register.name}.{bit_field.name}"]
                fields[bit_field.name] = self.enum_name(bit_field.enum, int(typed)) if bit_field.enum else typed
        return fields

    def register(self, reader: _Reader, register: Register) -> Entry:
        offset = reader.offset
        raw = int.from_bytes(reader.take(register.width // 8, register.name), "big")
        reserved = self.masks[register.name].reserved
        if raw & reserved:
            raise DecodeError(self.section.name, register.name, offset, f"reserved bits 0x{raw & reserved:x} set")
        fields = self.define_register(register, raw)
        self.check_enums(register, raw, offset)
        return Entry(register.name, offset, register.width // 8, raw, fields)

    def check_enums(self, register: Register, raw: int, offset: int) -> None:
        enums = self.enum_values
        for bit_field in register.fields:
            value = (raw >> bit_field.lo) & ((1 << bit_field.width) - 1)
            if bit_field.enum and value not in enums[bit_field.enum]:
                raise DecodeError(self.section.name, register.name, offset,
                                  f"{bit_field.name} = {value} is not a value of {bit_field.enum}")
        if register.enum and not register.fields and raw not in enums[register.enum]:
            raise DecodeError(self.section.name, register.name, offset, f"{raw} is not a value of {register.enum}")

    def enum_name(self, enum: str, value: int) -> Any:
        enum_type = next(e for e in self.section.enums if e.name == enum)
        return next((v.name for v in enum_type.values if v.value == value), value)

    def value(self, reader: _Reader, path: str, field_type: FieldType, enum: str | None,
              top: bool = False) -> list[Entry]:
        offset = reader.offset
        if isinstance(field_type, ScalarType):
            kind = field_type.kind
            size = kind.size
            raw = int.from_bytes(reader.take(size, path), "big", signed=kind.signed)
            value: Any = raw
            if kind is ScalarKind.BOOL:
                if raw > 1:
                    raise DecodeError(self.section.name, path, offset, f"bool byte is {raw}, not 0 or 1")
                value = raw == 1
            elif enum is not None:
                if raw not in self.enum_values[enum]:
                    raise DecodeError(self.section.name, path, offset, f"{raw} is not a value of {enum}")
                value = self.enum_name(enum, raw)
            if top:
                self.env[path] = value if kind is ScalarKind.BOOL else raw
            return [Entry(path, offset, size, value)]
        if isinstance(field_type, BytesType):
            return [Entry(path, offset, field_type.size, reader.take(field_type.size, path).hex())]
        if isinstance(field_type, ArrayType):
            try:
                count = int(evaluate(field_type.length, self.env))
            except (EvaluationError, ArithmeticError) as exc:
                raise DecodeError(self.section.name, path, offset, f"length cannot be evaluated: {exc}") from None
            if not 0 <= count <= field_type.max:
                raise DecodeError(self.section.name, path, offset, f"count {count} is outside 0..{field_type.max}")
            entries = [Entry(path, offset, 0, f"{count} entries")]
            for index in range(count):
                entries.extend(self.value(reader, f"{path}[{index}]", field_type.element, None))
            entries[0].size = reader.offset - offset
            return entries
        assert isinstance(field_type, StructType)
        entries = []
        for member in field_type.members:
            if member.present is None or self.holds(member.present, reader, f"{path}.{member.name}"):
                entries.extend(self.value(reader, f"{path}.{member.name}", member.type, member.enum))
        return entries


def decode_blob(blob: bytes, module: CheckedModule, device: Device | None) -> DecodedBlob:
    """Decode a whole blob; sections are found by id, params come from `device` (else defaults)."""
    if len(blob) < _HEADER.size:
        raise DecodeError("blob", "header", 0, f"truncated: needs {_HEADER.size} bytes, {len(blob)} left")
    magic, version, count = _HEADER.unpack_from(blob, 0)
    if magic != MAGIC:
        raise DecodeError("blob", "header", 0, f"bad magic {magic!r}: not a vfiogen blob")
    if version != FORMAT_VERSION:
        raise DecodeError("blob", "header", 4, f"format version {version}, this build reads {FORMAT_VERSION}")
    by_id = {s.section.wire_id: s for s in module.sections}
    params: dict[str, dict[str, int]] = {}
    if device is not None:
        params = {use.section: {b.name: b.value for b in use.params} for use in device.sections}
    # What each decoded section read, for the params later sections read from it (`from:`): frames come in
    # device order, and a device lists a section before those whose params it gives.
    envs: dict[str, dict[str, Value]] = {}
    offset = _HEADER.size
    descriptor: dict[str, list[Entry]] = {}
    sections: list[DecodedSection] = []
    for index in range(count + 1):
        frame_id, frame_version, flags, length, start = _read_frame(blob, offset)
        end = start + length
        if index == 0:
            if frame_id != DESCRIPTOR_ID:
                raise DecodeError("blob", "descriptor", offset, f"first frame is 0x{frame_id:04x}, not the descriptor")
            descriptor = _descriptor(blob, start, end, by_id)
        else:
            checked = by_id.get(frame_id)
            name = checked.name if checked is not None else f"0x{frame_id:04x}"
            instance = (flags & FLAG_INSTANCE_MASK) >> FLAG_INSTANCE_SHIFT
            if checked is not None and checked.section.location.instances is not None:
                name = instance_name(name, instance)  # a repeated section: the frame of one instance
            elif instance:
                raise DecodeError("blob", name, offset + 4, f"instance {instance} of a section that is not repeated")
            decoded = DecodedSection(name, frame_id, frame_version, bool(flags & FLAG_REQUIRED), start, length)
            if checked is None:
                if flags & FLAG_REQUIRED:
                    raise DecodeError("blob", name, offset, f"unknown required section 0x{frame_id:04x}")
                decoded.skipped = True
            else:
                section = checked.section
                if not section.min_version <= frame_version <= section.version:
                    raise DecodeError(name, "", offset + 2, f"version {frame_version} is not one this build loads "
                                      f"({section.min_version}..{section.version})")
                reader = _Reader(blob, start, end, name)
                bound = {**params.get(checked.name, {}), **source_params(section, envs)}
                decoder = _SectionDecoder(checked, bound)
                decoded.entries = decoder.decode(reader, frame_version)
                if section.location.instances is None:
                    envs[checked.name] = decoder.env
                if reader.offset != end:
                    raise DecodeError(name, "", reader.offset, f"{end - reader.offset} bytes left over after the "
                                      "last field")
            sections.append(decoded)
        offset = end + 4
    if offset != len(blob):
        raise DecodeError("blob", "", offset, f"{len(blob) - offset} bytes after the last section")
    return DecodedBlob(version, descriptor, sections)


def _read_frame(blob: bytes, offset: int) -> tuple[int, int, int, int, int]:
    if len(blob) - offset < _FRAME.size:
        raise DecodeError("blob", "frame", offset, f"truncated: needs {_FRAME.size} bytes, {len(blob) - offset} left")
    frame_id, version, flags, length = _FRAME.unpack_from(blob, offset)
    start = offset + _FRAME.size
    if flags & ~(FLAG_REQUIRED | FLAG_INSTANCE_MASK):
        raise DecodeError("blob", "frame", offset + 4, f"unknown flags 0x{flags:08x}")
    if start + length + 4 > len(blob):
        raise DecodeError("blob", "frame", start, f"truncated: needs {length + 4} bytes, {len(blob) - start} left")
    stored = int.from_bytes(blob[start + length:start + length + 4], "big")
    actual = crc32c(blob[offset:start + length])
    if stored != actual:
        raise DecodeError("blob", "frame", start + length,
                          f"CRC-32C mismatch: stored 0x{stored:08x}, computed 0x{actual:08x}")
    return frame_id, version, flags, length, start


def _descriptor(blob: bytes, start: int, end: int, by_id: dict[int, CheckedSection]) -> dict[str, list[Entry]]:
    out: dict[str, list[Entry]] = {}
    counts: dict[str, int] = {}  # records of each repeated section so far: one per instance, in order
    offset = start
    while offset < end:
        if end - offset < _RECORD.size:
            raise DecodeError("blob", "descriptor", offset, "truncated descriptor record")
        section_id, size = _RECORD.unpack_from(blob, offset)
        offset += _RECORD.size
        checked = by_id.get(section_id)
        name = checked.name if checked is not None else f"0x{section_id:04x}"
        if checked is not None and checked.section.location.instances is not None:
            counts[name] = counts.get(name, 0) + 1
            name = instance_name(name, counts[name] - 1)
        if offset + size > end:
            raise DecodeError("blob", f"descriptor.{name}", offset, f"record of {size} bytes runs past the frame")
        entries = []
        if checked is not None:
            position = offset
            for item in checked.descriptor_layout:
                assert item.size is not None
                chunk = blob[position:position + item.size]
                value: Any = chunk.hex() if item.type_text.startswith("bytes") else int.from_bytes(chunk, "big")
                entries.append(Entry(item.path, position, item.size, value))
                position += item.size
            # then the mask list: (index u16, width u8, emulated bits, write mask) per entry
            registers = checked.plan.masks.registers
            while offset + size - position >= MASK_ENTRY_HEAD:
                index, width = _MASK_ENTRY.unpack_from(blob, position)
                at = position + MASK_ENTRY_HEAD
                if offset + size - at < 2 * width:
                    break
                register = registers[index].name if index < len(registers) else f"register{index}"
                for prefix, where in zip(MASK_FIELD_PREFIXES, (at, at + width), strict=True):
                    entries.append(Entry(prefix + register, where, width,
                                         int.from_bytes(blob[where:where + width], "big")))
                position = at + 2 * width
        out[name] = entries
        offset += size
    return out


def render_decoded(decoded: DecodedBlob) -> str:
    """The text form of `vfiogen decode`: one line per field, offset first."""
    lines = [f"blob: format version {decoded.format_version}, {len(decoded.sections)} section frame(s)",
             "descriptor:"]
    for name, entries in decoded.descriptor.items():
        for entry in entries:
            lines.append(f"  0x{entry.offset:04x}  {name}.{entry.path} = {_show(entry.value)}")
    for section in decoded.sections:
        state = "required" if section.required else "optional"
        lines.append(f"section {section.name} (id 0x{section.section_id:04x}, version {section.version}, {state}): "
                     f"{section.length} bytes at 0x{section.offset:04x}" + (", skipped (unknown)" if section.skipped
                                                                            else ""))
        for entry in section.entries:
            detail = ""
            if entry.fields:
                detail = "  {" + ", ".join(f"{k}: {_show(v)}" for k, v in entry.fields.items()) + "}"
            lines.append(f"  0x{entry.offset:04x}  {entry.path} = {_show(entry.value)}{detail}")
    return "\n".join(lines) + "\n"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"0x{value:x}" if value > 9 else str(value)
    return str(value)
