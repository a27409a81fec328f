"""vfiogen.backends.lock: the canonical JSON contract."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from unit_support import CAP_HEADER, compile_texts, schema
from vfiogen.backends.lock.emit import LOCK_FORMAT, LOCK_PATH, LockBackend, lock_data
from vfiogen.ir.checked import CheckedModule

SECTION = CAP_HEADER.replace("title: T", "title: Tést – ü") + schema("""
    params:
      vectors: {type: u16, default: 32}
    enums:
      mode: {values: {off: 0, on: 1}}
    registers:
      control:
        offset: 0x02
        width: 16
        fields:
          enable: {bits: 0, access: rw}
          mode: {bits: 1, access: rw, enum: mode}
          addr64: {bits: 7, access: ro}
      address_hi: {offset: 0x08, width: 32, access: rw, present: control.addr64}
      data: {offset: "control.addr64 ? 0x0c : 0x08", width: 16, access: rw}
    state:
      count: {type: u8}
      table: {type: array, length: "count", max: 8, element: {type: u32}}
    descriptor:
      cap_offset: {type: u8}
      shape: {from: control, fields: [addr64]}
    constraints:
      - {check: "count <= 8", reason: too many}
    compat:
      - {require: present, reason: "no capability"}
      - {masked_equal: {field: shape, mask: 0x80}, reason: "another shape"}
    restore:
      - {write: control, with: {enable: 0}}
      - {hook: write_table}
      - address_hi
      - data
      - control
    hooks:
      pre_save: [sync]
""").replace("{off: 0, on: 1}", "{'off': 0, 'on': 1}")

DEVICE = schema("""
    device: nic
    title: NIC
    sections:
      - use: t
        params: {vectors: 8}
        required: false
""")


def module() -> CheckedModule:
    compiled = compile_texts({"s.yaml": SECTION, "d.yaml": DEVICE})
    assert compiled.diagnostics == [], compiled.diagnostics
    assert compiled.module is not None
    return compiled.module


def render() -> str:
    outputs = LockBackend().render(module())
    assert list(outputs) == [LOCK_PATH] == ["schema.lock.json"]
    return outputs[LOCK_PATH]


def test_lock_is_canonical_json() -> None:
    text = render()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    parsed = json.loads(text)
    assert json.dumps(parsed, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text


def test_lock_keys_are_sorted_at_every_level() -> None:
    objects: list[list[str]] = []

    def record(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        objects.append([k for k, _ in pairs])
        return dict(pairs)

    json.loads(render(), object_pairs_hook=record)
    assert len(objects) > 20
    assert all(keys == sorted(keys) for keys in objects)


def test_lock_keeps_non_ascii_text_unescaped() -> None:
    text = render()
    assert '"title": "Tést – ü"' in text
    assert "\\u" not in text


def test_lock_render_is_deterministic() -> None:
    assert render() == render()


def test_lock_content() -> None:
    data = json.loads(render())
    assert data["format"] == LOCK_FORMAT == 2
    assert list(data["sections"]) == ["t"] and list(data["devices"]) == ["nic"]
    section = data["sections"]["t"]
    assert section["id"] == "0x0001" and section["version"] == 1 and section["min_version"] == 1
    assert section["source"] == "s.yaml"
    assert re.fullmatch("[0-9a-f]{64}", section["fingerprint"])
    assert section["fingerprint"] != hashlib.sha256(SECTION.encode()).hexdigest()  # not the file's bytes
    assert section["location"] == {"kind": "capability", "id": "0x05", "version": None, "size": 24}
    assert section["params"] == [{"name": "vectors", "type": "u16", "default": 32}]
    assert section["enums"] == [{"name": "mode", "values": {"off": 0, "on": 1}}]
    registers = {r["name"]: r for r in section["registers"]}
    assert list(registers) == ["control", "address_hi", "data"]  # declaration (wire) order, not sorted
    assert registers["data"]["offset"] == "control.addr64 ? 0xc : 8"
    assert registers["data"]["offsets"] == [8, 12]
    assert registers["address_hi"]["present"] == "control.addr64"
    assert registers["control"]["fields"][2] == {"name": "addr64", "hi": 7, "lo": 7, "access": "ro", "enum": None,
                                                 "mask": "0x80"}
    assert registers["control"]["masks"]["writable"] == "0x3"
    assert registers["control"]["masks"]["reserved"] == "0xff7c"
    assert registers["control"]["reset"] == "0x0"
    assert (registers["control"]["since"], registers["control"]["until"], registers["control"]["default"]) == (
        1, None, None)
    assert section["state"][1]["type"] == {"kind": "array", "element": {"kind": "u32"}, "length": "count", "max": 8}
    assert section["descriptor"] == [
        {"name": "cap_offset", "type": {"kind": "u8"}, "from": None, "fields": []},
        {"name": "shape", "type": None, "from": "control", "fields": ["addr64"]},
    ]
    assert section["constraints"] == [{"check": "count <= 8", "reason": "too many"}]
    assert section["compat"] == [
        {"rule": "require", "field": None, "mask": None, "reason": "no capability"},
        {"rule": "masked_equal", "field": "shape", "mask": "0x80", "reason": "another shape"},
    ]
    assert section["restore"] == [
        {"write": "control", "with": {"enable": "0"}},
        {"hook": "write_table"},
        {"write": "address_hi", "with": {}},
        {"write": "data", "with": {}},
        {"write": "control", "with": {}},
    ]
    assert section["hooks"] == {"pre_save": ["sync"], "post_load": []}
    (layout,) = section["layouts"]
    assert layout["version"] == 1
    assert [i["path"] for i in layout["items"]] == ["control", "address_hi", "data", "count", "table"]
    device = data["devices"]["nic"]
    assert re.fullmatch("[0-9a-f]{64}", device.pop("fingerprint"))
    assert device == {
        "name": "nic", "title": "NIC", "source": "d.yaml", "generic": False,
        "sections": [{"section": "t", "id": "0x0001", "required": False, "params": {"vectors": 8}, "offsets": {},
                      "defaults": {}}]}


def test_unbound_params_take_their_defaults_in_the_lock() -> None:
    device = DEVICE.replace("    params: {vectors: 8}\n", "")
    assert "vectors: 8" not in device
    compiled = compile_texts({"s.yaml": SECTION, "d.yaml": device})
    assert compiled.module is not None
    assert lock_data(compiled.module)["devices"]["nic"]["sections"][0]["params"] == {"vectors": 32}


@pytest.mark.parametrize("name", ["s.yaml", "other/s.yaml"])
def test_lock_source_is_the_canonical_name(name: str) -> None:
    compiled = compile_texts({name: SECTION})
    assert compiled.module is not None
    assert lock_data(compiled.module)["sections"]["t"]["source"] == name


def test_lock_items_say_whether_their_offset_counts_from_an_array_element() -> None:
    source = schema("""
        section: e
        title: E
        id: 2
        location: {emulation: true}
        version: 1
        state:
          count: {type: u8}
          pair: {type: struct, members: {lo: {type: u16}}}
          rows: {type: array, length: count, max: 2, element: {type: struct, members: {a: {type: u16}}}}
    """)
    compiled = compile_texts({"s.yaml": source})
    assert compiled.module is not None
    (layout,) = lock_data(compiled.module)["sections"]["e"]["layouts"]
    assert [(i["path"], i["offset"], i["in_element"]) for i in layout["items"]] == [
        ("count", 0, False), ("pair", 1, False), ("pair.lo", 1, False), ("rows", 3, False), ("rows[].a", 0, True)]
    assert layout["items"][4] == {"path": "rows[].a", "type": "u16", "offset": 0, "after": None, "relative": 0,
                                  "size": 2, "max_size": 2, "present": None, "repeat": None, "in_element": True}


@pytest.mark.parametrize(("location", "expected"), [
    ("capability: {id: 0x05, size: 24}", {"kind": "capability", "id": "0x05", "version": None, "size": 24}),
    ("extended_capability: {id: 0x15, version: 1, size: 52}",
     {"kind": "extended_capability", "id": "0x0015", "version": 1, "size": 52}),
    ("header: {type: 0}", {"kind": "header", "id": "0x00", "version": None, "size": 64}),
])
def test_lock_ids_are_hex_padded_to_their_width(location: str, expected: dict[str, Any]) -> None:
    source = schema(f"""
        section: s
        title: S
        id: 0x1234
        location:
          {location}
        version: 1
    """)
    compiled = compile_texts({"s.yaml": source})
    assert compiled.diagnostics == [], compiled.diagnostics
    assert compiled.module is not None
    section = lock_data(compiled.module)["sections"]["s"]
    assert (section["id"], section["location"]) == ("0x1234", expected)
