"""Generate a synthetic but realistic vfiogen schema tree with exactly N fields.

Usage: python tests/bench/gen_schemas.py N OUT_DIR

The tree looks like a large device's: many extended-capability sections
(32-bit registers with a few bit fields each, an MSI-style register whose
offset moves with a read-only bit, registers present only on some shapes, a
vector table as an array whose length is a register field, a descriptor,
compat rules, constraints, an enum, a param and a restore sequence that
writes every writable register) and emulation sections (scalar, bytes, enum,
array and struct state fields, presence on earlier state, versioned fields
with defaults). A device file uses every section. Output is a pure function
of N: the same N always gives byte-identical files.

What counts as one field (see `count_fields`): each bit field of a register;
a register with a register-wide `access` (no `fields`); each state field;
each struct member (an array of structs counts itself plus its members).

A standard capability holds at most 192 bytes and an extended one 3840, so
registers are spread over many extended-capability sections of a few dozen
fields each rather than packed into one; emulation sections have no size
limit and carry the bulk of the state.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

# Per-section field budgets cycle through these (deterministic, varied sizes).
EXT_SIZES = (24, 40, 16, 56, 32, 48, 20, 64)
EMU_SIZES = (60, 120, 30, 200, 90, 150)
EXT_MIN = 16       # header + cap + control + vector table + a couple of fillers
EMU_SKELETON = 8   # below this an emulation section holds plain u32 fields only

_REG_NAMES = ("ctl", "status", "addr_lo", "addr_hi", "data", "mask", "pending", "cfg", "timer", "doorbell",
              "window", "limit", "base", "event", "route")
_STATE_TYPES = ("u32", "u16", "u8", "u64", "bool", "s32", "u32", "u16", "s8", "u64")


@dataclasses.dataclass
class Stats:
    """What `generate` wrote."""

    fields: int = 0
    sections: int = 0
    ext_sections: int = 0
    emu_sections: int = 0
    registers: int = 0
    state_fields: int = 0
    arrays: int = 0
    presence: int = 0
    restore_steps: int = 0
    files: int = 0


def plan(n: int) -> list[tuple[str, int]]:
    """[(kind, fields)] with kinds 'ext'/'emu' summing to exactly n (n >= 1)."""
    if n < 1:
        raise ValueError("N must be at least 1")
    sections: list[tuple[str, int]] = []
    total = 0
    index = 0
    while total < n:
        kind = "emu" if index % 3 == 2 else "ext"
        sizes = EMU_SIZES if kind == "emu" else EXT_SIZES
        size = sizes[(index // 3) % len(sizes)]
        remaining = n - total
        if remaining < size + EXT_MIN:  # the last section takes what is left
            size = remaining
            if kind == "ext" and size < EXT_MIN:
                kind = "emu"
        sections.append((kind, size))
        total += size
        index += 1
    return sections


# --- YAML text helpers (hand-written, so the output is stable and uses flow style like the shipped schemas)


def _flow(mapping: dict[str, Any]) -> str:
    parts = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            text = _flow(value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value) if value < 10 else f"0x{value:x}" if key in ("offset", "mask", "reset") else str(value)
        elif isinstance(value, list):
            text = "[" + ", ".join(str(v) for v in value) + "]"
        else:
            text = f'"{value}"' if any(c in value for c in ":?,{}[]#&*!|>'%@`") or value != value.strip() else value
        parts.append(f"{key}: {text}")
    return "{" + ", ".join(parts) + "}"


@dataclasses.dataclass
class _Register:
    name: str
    offset: int | str
    fields: dict[str, dict[str, Any]] | None
    access: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    writable: bool = False

    @property
    def field_count(self) -> int:
        return len(self.fields) if self.fields else 1


def _filler_register(name: str, offset: int, nfields: int, variant: int) -> _Register:
    """A 32-bit register with `nfields` (1..4) fields; `variant` picks the access mix."""
    fields: dict[str, dict[str, Any]]
    if nfields == 1:
        access = ("rw", "ro", "rw", "hwinit")[variant % 4]
        return _Register(name, offset, None, access=access, writable=access == "rw",
                         extra={"description": f"{name.replace('_', ' ')} value"} if variant % 3 == 0 else {})
    if nfields == 2:
        fields = {"value": {"bits": "15:0", "access": "rw" if variant % 2 == 0 else "ro"},
                  "reserved": {"bits": "31:16", "access": "rsvdp"}}
        return _Register(name, offset, fields, writable=variant % 2 == 0)
    if nfields == 3:
        fields = {"enable": {"bits": 0, "access": "rw", "description": "enable"},
                  "ready": {"bits": 1, "access": "ro"},
                  "count": {"bits": "15:8", "access": "rw"}}
        return _Register(name, offset, fields, writable=True, extra={"reset": 1})
    if variant % 3 == 2:  # read-only identification register: nothing to restore
        fields = {"ident": {"bits": "7:0", "access": "ro"}, "revision": {"bits": "15:8", "access": "ro"},
                  "class_code": {"bits": "23:16", "access": "hwinit"}, "reserved": {"bits": "31:24", "access": "rsvdp"}}
        return _Register(name, offset, fields, writable=False)
    fields = {"enable": {"bits": 0, "access": "rw"}, "event": {"bits": 1, "access": "rw1c"},
              "mode": {"bits": "7:4", "access": "rw", "enum": "xmode"}, "reserved": {"bits": "31:8", "access": "rsvdz"}}
    return _Register(name, offset, fields, writable=True)


def ext_section(index: int, budget: int, stats: Stats) -> tuple[str, str]:
    """An extended-capability section with exactly `budget` fields (budget >= EXT_MIN)."""
    assert budget >= EXT_MIN
    name = f"xcap{index:04d}"
    registers = [
        _Register("header", 0, {"cap_id": {"bits": "15:0", "access": "ro"},
                                "cap_version": {"bits": "19:16", "access": "ro"},
                                "next": {"bits": "31:20", "access": "ro", "description": "next capability offset"}}),
        _Register("cap", 4, {"has_ext": {"bits": 0, "access": "ro", "description": "extended shape"},
                             "table_size": {"bits": "11:1", "access": "ro", "description": "vector table size - 1"},
                             "reserved": {"bits": "31:12", "access": "rsvdp"}}),
        _Register("control", 8, {"enable": {"bits": 0, "access": "rw", "description": "capability enable"},
                                 "mode": {"bits": "3:1", "access": "rw", "enum": "xmode"},
                                 "event": {"bits": 4, "access": "rw1c"},
                                 "reserved": {"bits": "31:5", "access": "rsvdp"}}, writable=True),
    ]
    table_fields = 3  # the array and its two struct members
    remaining = budget - sum(r.field_count for r in registers) - table_fields
    # Fillers: sizes cycle 3,4,2,1,...; the last ones absorb the remainder exactly.
    cycle = (3, 4, 2, 1, 3, 4, 4, 2, 1, 3)
    sizes: list[int] = []
    while remaining > 0:
        size = min(cycle[(len(sizes) + index) % len(cycle)], remaining)
        sizes.append(size)
        remaining -= size
    offset = 0x0c
    moving = len(sizes) >= 4  # MSI-style: last register moves by 4 when the gated one before it exists
    for position, size in enumerate(sizes):
        reg_name = f"{_REG_NAMES[(position + index) % len(_REG_NAMES)]}_{position}"
        register = _filler_register(reg_name, offset, size, position + index)
        last, gated = position == len(sizes) - 1, position == len(sizes) - 2
        if moving and gated:
            register.extra["present"] = "cap.has_ext"
        elif moving and last:
            # one slot further when the gated register before it exists, in its slot otherwise
            register.offset = f"cap.has_ext ? 0x{offset:x} : 0x{offset - 4:x}"
        elif position % 5 == 4:
            register.extra["present"] = "cap.has_ext"
        if position % 7 == 6:
            register.extra.update({"since": 2, "default": 0})
        registers.append(register)
        offset += 4
    size_bytes = offset  # one past the last register slot
    assert size_bytes <= 3840

    lines = [f"# Synthetic extended capability {index} (generated by tests/bench/gen_schemas.py).",
             f"section: {name}",
             f"title: Synthetic extended capability {index}",
             "description: >-",
             "  Registers with bit fields, a register whose offset moves with a read-only bit,",
             "  registers present only on the extended shape, and a vector table sized by a register field.",
             f"id: 0x{0x100 + index:04x}",
             "location:",
             f"  extended_capability: {{id: 0x{0x30 + index:04x}, version: 1, size: {size_bytes}}}",
             "version: 2",
             "min_version: 1",
             "",
             "params:",
             "  max_vectors: {type: u16, default: 2048, description: vectors the device exposes}",
             "",
             "enums:",
             "  xmode: {values: {off: 0, low: 1, high: 2, auto: 3}}",
             "",
             "registers:"]
    writable: list[str] = []
    for register in registers:
        body: dict[str, Any] = {"offset": register.offset, "width": 32}
        if register.fields is None:
            body["access"] = register.access
        body.update(register.extra)
        if register.fields is None:
            lines.append(f"  {register.name}: {_flow(body)}")
        else:
            lines.append(f"  {register.name}:")
            for key, value in body.items():
                lines.append(f"    {key}: {_flow({key: value})[len(key) + 3:-1]}")
            lines.append("    fields:")
            for field_name, field_body in register.fields.items():
                lines.append(f"      {field_name}: {_flow(field_body)}")
        if register.writable and register.name != "control":
            writable.append(register.name)
        stats.registers += 1
        stats.presence += "present" in register.extra
    lines += ["",
              "state:",
              "  vectors:",
              "    type: array",
              '    length: "cap.table_size + 1"',
              "    max: 2048",
              "    element:",
              "      type: struct",
              "      members:",
              "        address: {type: u64, description: message address}",
              "        data:    {type: u32, description: message data}",
              "",
              "constraints:",
              '  - {check: "control.mode <= xmode.auto", reason: reserved mode}',
              "",
              "descriptor:",
              "  cap_offset: {type: u16, description: offset of the capability in configuration space}",
              "  shape:      {from: cap, fields: [has_ext, table_size]}",
              "  vectors_max: {type: u16}",
              "  features:   {type: u32}",
              "",
              "compat:",
              "  - {require: present, reason: the target lacks this capability}",
              "  - {equal: cap_offset, reason: the capability sits at another offset}",
              "  - {masked_equal: {field: shape, mask: 0x1}, reason: the capability has another shape}",
              "  - {target_ge: vectors_max, reason: the target has fewer vectors}",
              "  - {subset: features, reason: the target lacks a feature the source uses}",
              "",
              "restore:",
              "  - {write: control, with: {enable: 0}}"]
    lines += [f"  - {register}" for register in writable]
    lines += ["  - control", ""]
    stats.restore_steps += len(writable) + 2
    stats.state_fields += 1 + 2
    stats.arrays += 1
    stats.ext_sections += 1
    return name, "\n".join(lines)


def emu_section(index: int, budget: int, stats: Stats) -> tuple[str, str]:
    """An emulation section (state only) with exactly `budget` fields (budget >= 1)."""
    name = f"emu{index:04d}"
    lines = [f"# Synthetic emulation state {index} (generated by tests/bench/gen_schemas.py).",
             f"section: {name}",
             f"title: Synthetic emulation state {index}",
             f"id: 0x{0x100 + index:04x}",
             "location: {emulation: true}",
             "version: 2",
             "min_version: 1",
             ""]
    state: list[str] = []
    remaining = budget
    skeleton = budget >= EMU_SKELETON
    if skeleton:
        lines += ["enums:", "  emu_kind: {values: {none: 0, basic: 1, full: 2}}", ""]
        state += ["  kind:      {type: u8, enum: emu_kind, description: what the hypervisor emulates}",
                  "  has_table: {type: bool}",
                  "  count:     {type: u16}",
                  "  table:",
                  "    type: array",
                  "    length: count",
                  "    max: 512",
                  "    present: has_table",
                  "    element:",
                  "      type: struct",
                  "      members:",
                  "        lo: {type: u32}",
                  "        hi: {type: u32}"]
        remaining -= 6
        stats.arrays += 1
        stats.presence += 1
    position = 0
    while remaining > 0:
        field_name = f"f{position:04d}"
        body: dict[str, Any]
        if skeleton and position % 13 == 12:
            state += [f"  {field_name}:", "    type: array", '    length: "count + 1"', "    max: 64",
                      "    element: {type: u32}"]
            stats.arrays += 1
        else:
            if skeleton and position % 17 == 16:
                body = {"type": "bytes[16]"}
            elif skeleton and position % 11 == 10:
                body = {"type": "u8", "enum": "emu_kind", "default": 0}
            else:
                body = {"type": _STATE_TYPES[(position + index) % len(_STATE_TYPES)]}
            if skeleton and position % 6 == 5:
                body["present"] = "has_table"
                stats.presence += 1
            if position % 9 == 8:
                body.update({"since": 2, "default": 0})
            if position % 10 == 0:
                body["description"] = f"emulated value {position}"
            state.append(f"  {field_name}: {_flow(body)}")
        remaining -= 1
        position += 1
    lines += ["state:", *state, ""]
    if skeleton:
        lines += ["constraints:", '  - {check: "count <= 512", reason: more table entries than the table holds}', ""]
    lines += ["descriptor:", "  features: {type: u32}", "",
              "compat:",
              "  - {require: present, reason: the target does not emulate this}",
              "  - {subset: features, reason: the target lacks an emulated feature}", "",
              "hooks:", f"  pre_save: [{name}_sync]", f"  post_load: [{name}_rebuild]", ""]
    stats.state_fields += budget
    stats.emu_sections += 1
    return name, "\n".join(lines)


def generate(n: int, out_dir: Path) -> Stats:
    """Write the tree for `n` fields under `out_dir` (sections/ and devices/); return what was written."""
    stats = Stats()
    sections_dir = out_dir / "sections"
    devices_dir = out_dir / "devices"
    sections_dir.mkdir(parents=True, exist_ok=True)
    devices_dir.mkdir(parents=True, exist_ok=True)
    uses: list[str] = []
    for index, (kind, budget) in enumerate(plan(n)):
        maker = ext_section if kind == "ext" else emu_section
        name, text = maker(index, budget, stats)
        (sections_dir / f"{name}.yaml").write_text(text, "utf-8")
        entry = f"  - use: {name}"
        if kind == "ext":
            entry += "\n    params: {max_vectors: 64}"
        if index % 4 == 3:
            entry += "\n    required: false"
        uses.append(entry)
        stats.fields += budget
        stats.sections += 1
    # A device lists at most 32 sections (the meta-schema's maxItems), so a larger tree has more devices.
    groups = [uses[start:start + DEVICE_SECTIONS] for start in range(0, len(uses), DEVICE_SECTIONS)]
    for number, group in enumerate(groups):
        name = "bench_device" if number == 0 else f"bench_device{number}"
        device = [f"device: {name}", f"title: Synthetic device with {n} fields", "sections:", *group, ""]
        (devices_dir / f"{name}.yaml").write_text("\n".join(device), "utf-8")
    stats.files = stats.sections + len(groups)
    return stats


DEVICE_SECTIONS = 32
"""The most sections one device file may use."""


def count_fields(tree: Path) -> int:
    """Count fields in a schema tree independently of the generator (same definition)."""
    import yaml  # PyYAML is a vfiogen dependency

    def state_count(body: dict[str, Any]) -> int:
        count = 1
        element = body.get("element")
        members = (element or body).get("members") if isinstance(element or body, dict) else None
        for member in (members or {}).values():
            count += state_count(member)
        return count

    total = 0
    for path in sorted(tree.rglob("*.yaml")):
        document = yaml.safe_load(path.read_text("utf-8"))
        for register in (document.get("registers") or {}).values():
            total += len(register["fields"]) if "fields" in register else 1
        for body in (document.get("state") or {}).values():
            total += state_count(body)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="total number of fields")
    parser.add_argument("out_dir", type=Path, help="directory to write sections/ and devices/ into")
    args = parser.parse_args(argv)
    stats = generate(args.n, args.out_dir)
    print(f"{stats.fields} fields in {stats.sections} sections ({stats.ext_sections} extended capabilities, "
          f"{stats.emu_sections} emulation), {stats.registers} registers, {stats.state_fields} state fields, "
          f"{stats.arrays} arrays, {stats.presence} presence expressions, {stats.restore_steps} restore steps, "
          f"{stats.files} files -> {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
