"""Compare two schema locks (`backends.lock.lock_data`) and list each change with its rule.

Works on lock data so that a lock file, a schema directory and a git
revision compare alike. Where a change lives in the schemas comes from a
`Locator` built from the checked module when one is at hand; a lock file
carries only each section's source file, so its changes point at line 1.

Migration model (docs/wire-format.md, "Versions"): a source saves a section
at any version from its min_version to its version, so the two builds agree
when some version lies in both ranges and that version's layout is the same
on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vfiogen.diff.rules import RULES, Direction
from vfiogen.ir.checked import CheckedModule

WIRE_KEYS = ("path", "type", "offset", "after", "relative", "size", "max_size", "present", "repeat",
             "in_element")


@dataclass(frozen=True)
class Place:
    file: str
    line: int


Locator = dict[tuple[str, str], Place]
"""(section, field or '') -> where the schema declares it."""


def locate(module: CheckedModule) -> Locator:
    places: Locator = {}
    for checked in module.sections:
        span = checked.section.span
        places[(checked.name, "")] = Place(span.path, span.line)
        for register in checked.registers:
            places[(checked.name, register.register.name)] = Place(register.register.span.path,
                                                                   register.register.span.line)
        for state in checked.state:
            places[(checked.name, state.name)] = Place(state.span.path, state.span.line)
        section = checked.section
        for key, items in (("restore", section.restore), ("compat", section.compat),
                           ("constraints", section.constraints), ("descriptor", section.descriptor)):
            if items:  # the first item's line: the block a reviewer opens
                places[(checked.name, key)] = Place(items[0].span.path, items[0].span.line)
    for device in module.devices:
        places[(device.name, "")] = Place(device.span.path, device.span.line)
    return places


@dataclass(frozen=True)
class Change:
    rule: str
    scope: str
    """The section (or device) changed."""
    subject: str
    """The version, field or register, '' for the whole section."""
    old: str
    new: str
    place: Place

    @property
    def direction(self) -> Direction:
        return RULES[self.rule][0]

    @property
    def summary(self) -> str:
        return RULES[self.rule][1]


def verdict(changes: list[Change]) -> Direction:
    """The worst direction among `changes` (compatible when there are none)."""
    broken = {c.direction for c in changes if c.direction.breaking}
    if Direction.BREAKS_BOTH in broken or broken == {Direction.BREAKS_FORWARD, Direction.BREAKS_BACKWARD}:
        return Direction.BREAKS_BOTH
    if broken:
        return broken.pop()
    return Direction.COMPATIBLE


class _Collector:
    def __init__(self, old_places: Locator, new_places: Locator, old: dict[str, Any], new: dict[str, Any]):
        self.changes: list[Change] = []
        self._places = (old_places, new_places)
        self._sources = ({n: s.get("source", "") for n, s in old.get("sections", {}).items()}
                         | {n: d.get("source", "") for n, d in old.get("devices", {}).items()},
                         {n: s.get("source", "") for n, s in new.get("sections", {}).items()}
                         | {n: d.get("source", "") for n, d in new.get("devices", {}).items()})

    def add(self, rule: str, scope: str, subject: str, old: object, new: object, *, field: str = "",
            old_side: bool = False) -> None:
        side = 0 if old_side else 1
        places, sources = self._places[side], self._sources[side]
        place = places.get((scope, field)) or places.get((scope, "")) or Place(sources.get(scope, "?"), 1)
        self.changes.append(Change(rule, scope, subject, _text(old), _text(new), place))


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, dict)):
        return str(len(value)) + " entries" if value else "none"
    return str(value)


def compare_locks(old: dict[str, Any], new: dict[str, Any], old_places: Locator | None = None,
                  new_places: Locator | None = None) -> list[Change]:
    """Every change from `old` to `new`, sections in name order, then devices."""
    out = _Collector(old_places or {}, new_places or {}, old, new)
    old_sections, new_sections = old.get("sections", {}), new.get("sections", {})
    for name in sorted(set(old_sections) | set(new_sections)):
        if name not in new_sections:
            out.add("VD002", name, "", old_sections[name].get("id"), None, old_side=True)
        elif name not in old_sections:
            out.add("VD001", name, "", None, new_sections[name].get("id"))
        else:
            _section(out, name, old_sections[name], new_sections[name])
    old_devices, new_devices = old.get("devices", {}), new.get("devices", {})
    for name in sorted(set(old_devices) & set(new_devices)):
        _device(out, name, old_devices[name], new_devices[name], old_sections, new_sections)
    return out.changes


def _section(out: _Collector, name: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    if old.get("id") != new.get("id"):
        out.add("VD003", name, "id", old.get("id"), new.get("id"))
    old_layouts = {layout["version"]: layout["items"] for layout in old.get("layouts", [])}
    new_layouts = {layout["version"]: layout["items"] for layout in new.get("layouts", [])}
    for version in sorted(set(old_layouts) & set(new_layouts)):
        difference = _first_wire_difference(old_layouts[version], new_layouts[version])
        if difference is not None:
            field, before, after = difference
            out.add("VD010", name, f"version {version}: {field}", before, after,
                    field=field.split(".")[0].split("[")[0])
    common = set(old_layouts) & set(new_layouts)
    if not common:
        out.add("VD012", name, "versions", _range(old), _range(new))
    for version in sorted(set(new_layouts) - set(old_layouts)):
        if version > max(old_layouts, default=0):
            out.add("VD011", name, f"version {version}", _range(old), _range(new))
    if common and new.get("min_version", 0) > old.get("min_version", 0):
        out.add("VD013", name, "min_version", old.get("min_version"), new.get("min_version"))
    _versioned_fields(out, name, old, new)
    _descriptor(out, name, old, new)
    # A repeated section's most instances bound its descriptor records in a loader (1 when not repeated).
    old_most = old.get("location", {}).get("instances", 1)
    new_most = new.get("location", {}).get("instances", 1)
    if new_most != old_most:
        out.add("VD018" if new_most < old_most else "VD019", name, "instances", old_most, new_most)
    _registers(out, name, old, new)
    _enums(out, name, old, new)
    _defaults(out, name, old, new, max(common, default=0))
    old_checks = {c["check"] for c in old.get("constraints", [])}
    new_checks = {c["check"] for c in new.get("constraints", [])}
    for check in sorted(new_checks - old_checks):
        out.add("VD032", name, "constraints", None, check, field="constraints")
    for check in sorted(old_checks - new_checks):
        out.add("VD035", name, "constraints", check, None, field="constraints", old_side=True)
    _params(out, name, old, new)
    for key, rule in (("compat", "VD030"), ("restore", "VD031"), ("hooks", "VD033")):
        if old.get(key) != new.get(key):
            out.add(rule, name, key, old.get(key), new.get(key), field=key)
    if old.get("title") != new.get("title"):
        out.add("VD040", name, "title", old.get("title"), new.get("title"))


def _range(section: dict[str, Any]) -> str:
    return f"{section.get('min_version')}..{section.get('version')}"


def _first_wire_difference(old: list[dict[str, Any]],
                           new: list[dict[str, Any]]) -> tuple[str, str, str] | None:
    """(field, old item, new item) at the first item that differs; None when the layouts agree."""
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else None
        after = new[index] if index < len(new) else None
        if before is None or after is None or any(before.get(k) != after.get(k) for k in WIRE_KEYS):
            return str((after or before or {}).get("path")), _item_text(before), _item_text(after)
    return None


def _item_text(item: dict[str, Any] | None) -> str:
    if item is None:
        return "nothing"
    where = f"byte {item['offset']}" if item.get("offset") is not None else f"{item['relative']} after {item['after']}"
    size = item["size"] if item.get("size") is not None else f"up to {item['max_size']}"
    present = f" if {item['present']}" if item.get("present") else ""
    return f"{item['path']} ({item['type']}, {size} bytes at {where}{present})"


def _versioned_fields(out: _Collector, name: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Fields that a new version adds or retires: each is what a reviewer checks the default of."""
    newest = old.get("version") or 0
    before = {f["name"]: f for f in old.get("registers", []) + old.get("state", [])}
    for field in new.get("registers", []) + new.get("state", []):
        previous = before.get(field["name"])
        since, until = field.get("since") or 1, field.get("until")
        if previous is None and since > newest:
            out.add("VD014", name, field["name"], None, f"since {since}, default {_text(field.get('default'))}",
                    field=field["name"])
        elif previous is not None and until is not None and previous.get("until") is None and until > newest:
            out.add("VD015", name, field["name"], None, f"until {until}", field=field["name"])


def _descriptor(out: _Collector, name: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    """The descriptor record has no version: its size is checked exactly and the compat rules read its fields."""
    difference = _first_wire_difference(old.get("descriptor_layout", []), new.get("descriptor_layout", []))
    if difference is not None:
        field, before, after = difference
        out.add("VD016", name, f"descriptor: {field}", before, after, field="descriptor")
        return
    # The mask list is keyed by register index: a register that takes another's index makes each build
    # compare the other register's masks. (A lock written before the list has none: nothing to compare.)
    shared = zip(old.get("mask_list", []), new.get("mask_list", []), strict=False)  # a list may have grown
    moved = next(((before, after) for before, after in shared if before != after), None)
    if moved is not None:
        index = old["mask_list"].index(moved[0])
        out.add("VD041", name, f"mask list entry {index}", moved[0], moved[1], field="descriptor")
    old_fields = {d["name"]: d for d in old.get("descriptor", [])}
    for item in new.get("descriptor", []):
        previous = old_fields.get(item["name"])
        if previous is not None and (previous.get("from"), previous.get("fields")) != (item.get("from"),
                                                                                       item.get("fields")):
            out.add("VD017", name, f"descriptor: {item['name']}", ", ".join(previous.get("fields") or []),
                    ", ".join(item.get("fields") or []), field="descriptor")


def _registers(out: _Collector, name: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    old_registers = {r["name"]: r for r in old.get("registers", [])}
    for register in new.get("registers", []):
        previous = old_registers.get(register["name"])
        if previous is None:
            continue
        where = register["name"]
        old_reserved, new_reserved = int(previous["masks"]["reserved"], 16), int(register["masks"]["reserved"], 16)
        if new_reserved & ~old_reserved:
            out.add("VD020", name, where, previous["masks"]["reserved"], register["masks"]["reserved"], field=where)
        if old_reserved & ~new_reserved:
            out.add("VD021", name, where, previous["masks"]["reserved"], register["masks"]["reserved"], field=where)
        if previous["masks"]["writable"] != register["masks"]["writable"]:
            out.add("VD022", name, where, previous["masks"]["writable"], register["masks"]["writable"], field=where)
        # Locks written before the masks were negotiated have no "emulated": no bit was emulated then.
        old_emulated, new_emulated = previous["masks"].get("emulated", "0x0"), register["masks"].get("emulated", "0x0")
        if old_emulated != new_emulated:
            out.add("VD026", name, where, old_emulated, new_emulated, field=where)
        if previous.get("reset") != register.get("reset"):
            out.add("VD034", name, where, previous.get("reset"), register.get("reset"), field=where)
        # Locks written before reserved_when existed have no key: no bit was conditionally reserved then.
        old_fields = {f["name"]: f.get("reserved_when") for f in previous.get("fields", [])}
        for bit_field in register.get("fields", []):
            before, after = old_fields.get(bit_field["name"]), bit_field.get("reserved_when")
            if bit_field["name"] in old_fields and before != after:
                field = f"{where}.{bit_field['name']}"
                out.add("VD027", name, field, before, after, field=field)


def _enums(out: _Collector, name: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    old_enums = {e["name"]: e["values"] for e in old.get("enums", [])}
    for enum in new.get("enums", []):
        before = old_enums.get(enum["name"])
        if before is None:
            continue
        for value in sorted(set(enum["values"]) - set(before)):
            out.add("VD023", name, f"{enum['name']}.{value}", None, enum["values"][value])
        for value in sorted(set(before) - set(enum["values"])):
            out.add("VD024", name, f"{enum['name']}.{value}", before[value], None)


def _defaults(out: _Collector, name: str, old: dict[str, Any], new: dict[str, Any], common: int) -> None:
    """A default is what loading a version without the field gives, so it matters only at such a version."""
    fields = {f["name"]: f for f in old.get("registers", []) + old.get("state", [])}
    for field in new.get("registers", []) + new.get("state", []):
        previous = fields.get(field["name"])
        if previous is None or previous.get("default") is None or previous.get("default") == field.get("default"):
            continue
        carried = all((f.get("since") or 1) <= common and (f.get("until") is None or common < f["until"])
                      for f in (previous, field))
        if not carried:
            out.add("VD025", name, field["name"], previous.get("default"), field.get("default"), field=field["name"])


def _params(out: _Collector, name: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    old_params = {p["name"]: p for p in old.get("params", [])}
    new_params = {p["name"]: p for p in new.get("params", [])}
    for param in sorted(set(old_params) | set(new_params)):
        before, after = old_params.get(param), new_params.get(param)
        subject = f"params.{param}"
        if (before or {}).get("from") != (after or {}).get("from"):
            out.add("VD036", name, subject, (before or {}).get("from"), (after or {}).get("from"), field="params",
                    old_side=after is None)
        shape = ("type", "default")
        if before is None or after is None or any(before.get(k) != after.get(k) for k in shape):
            out.add("VD037", name, subject, None if before is None else " ".join(str(before.get(k)) for k in shape),
                    None if after is None else " ".join(str(after.get(k)) for k in shape), field="params",
                    old_side=after is None)


def _device_params(out: _Collector, name: str, old_use: dict[str, Any], new_use: dict[str, Any],
                   old_section: dict[str, Any], new_section: dict[str, Any]) -> None:
    """Each param both builds have, as the device takes it: its binding, else the param's default."""
    defaults = ({p["name"]: p.get("default") for p in old_section.get("params", [])},
                {p["name"]: p.get("default") for p in new_section.get("params", [])})
    section = new_use["section"]
    for param in sorted(set(defaults[0]) & set(defaults[1])):
        before = old_use.get("params", {}).get(param, defaults[0][param])
        after = new_use.get("params", {}).get(param, defaults[1][param])
        if before != after:
            out.add("VD038", name, f"{section}.params.{param}", before, after)


def _device(out: _Collector, name: str, old: dict[str, Any], new: dict[str, Any], old_sections: dict[str, Any],
            new_sections: dict[str, Any]) -> None:
    old_uses = {u["section"]: u for u in old.get("sections", [])}
    new_uses = {u["section"]: u for u in new.get("sections", [])}
    for section in sorted(set(new_uses) - set(old_uses)):
        rule = "VD004" if new_uses[section].get("required", True) else "VD005"
        out.add(rule, name, section, None, "required" if rule == "VD004" else "optional")
    for section in sorted(set(old_uses) - set(new_uses)):
        out.add("VD006", name, section, "used", None, old_side=True)
    if old.get("generic") or new.get("generic"):
        return  # a generic device's hypervisor passes every param at run time
    for section in sorted(set(old_uses) & set(new_uses) & set(old_sections) & set(new_sections)):
        _device_params(out, name, old_uses[section], new_uses[section], old_sections[section],
                       new_sections[section])
