"""Hold a build to the schema lock it replaces (run by `vfiogen build`, after `normalize`).

Expects: the checked module and the previous lock's data (`schema.lock.json`
of the output directory, as `backends.lock` wrote it). Guarantees: every
version the previous lock records of a section that still exists keeps its
wire layout (each item's path, type, offset, size and presence), or a VG0801
error names the section, version and first differing field, located at that
field in the new schema. A stream saved at a version is read by every later
build as that version, so changing what the number means loses state
silently; a new layout needs a new version number. Versions that disappear
(min_version raised) and sections removed are not this check's business:
they change what loads, not what a number means, and `vfiogen diff` reports
them.
"""

from __future__ import annotations

from typing import Any

from vfiogen.backends.lock.emit import lock_data
from vfiogen.context import Context
from vfiogen.ir.checked import CheckedModule, CheckedSection
from vfiogen.source import Span

WIRE_KEYS = ("path", "type", "offset", "after", "relative", "size", "max_size", "present", "repeat",
             "in_element")
"""The keys of a lock wire item that say where its bytes are; all of them, so any change is caught."""


def check_lock(module: CheckedModule, previous: dict[str, Any], lock_path: str, ctx: Context) -> None:
    """Report VG0801 for each section version whose wire layout differs from `previous`."""
    current = lock_data(module)["sections"]
    for name, old_section in sorted(previous.get("sections", {}).items()):
        if name not in current:
            continue
        checked = module.section(name)
        new_layouts = {layout["version"]: layout for layout in current[name]["layouts"]}
        for old_layout in old_section.get("layouts", []):
            version = old_layout.get("version")
            if version not in new_layouts:
                continue
            _compare(checked, version, old_layout.get("items", []), new_layouts[version]["items"], lock_path, ctx)


def _compare(checked: CheckedSection, version: int, old_items: list[dict[str, Any]],
             new_items: list[dict[str, Any]], lock_path: str, ctx: Context) -> None:
    differing = [index for index in range(max(len(old_items), len(new_items)))
                 if _at(old_items, index) is None or _at(new_items, index) is None
                 or any(old_items[index].get(k) != new_items[index].get(k) for k in WIRE_KEYS)]
    if not differing:
        return
    # The first difference shifts everything after it, so one error per version says it. An array or
    # struct differs whenever a member does (its size is theirs): name the member, which is what changed.
    first = differing[0]
    container = (_at(new_items, first) or _at(old_items, first) or {}).get("path", "?")
    inner = [index for index in differing[1:]
             if str((_at(new_items, index) or _at(old_items, index) or {}).get("path", "")).startswith(
                 (container + "[]", container + "."))]
    index = inner[0] if inner else first
    old, new = _at(old_items, index), _at(new_items, index)
    field = (new or old or {}).get("path", "?")
    ctx.focus = checked.section.span
    ctx.reporter.report(
        "VG0801", _field_span(checked, field),
        f"section '{checked.name}' version {version} changes its wire layout at '{field}' "
        f"({_what_changed(old, new)}), but {lock_path} records version {version} as it was; bump 'version' "
        f"to {checked.section.version + 1} and keep the old layout loadable (since/until), "
        "or pass --accept-break for a deliberate break")


def _at(items: list[dict[str, Any]], index: int) -> dict[str, Any] | None:
    return items[index] if index < len(items) else None


def _what_changed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    if old is None:
        assert new is not None
        return f"'{new['path']}' added at the end"
    if new is None:
        return f"'{old['path']}' removed from the end"
    if old.get("path") != new.get("path"):
        return f"'{old.get('path')}' was here, now '{new.get('path')}'"
    changes = [f"{key} {_text(old.get(key))} -> {_text(new.get(key))}" for key in WIRE_KEYS
               if old.get(key) != new.get(key)]
    return ", ".join(changes)


def _text(value: Any) -> str:
    return "none" if value is None else str(value)


def _field_span(checked: CheckedSection, path: str) -> Span:
    """Where the schema declares a wire item's top-level field (the section itself when it is gone)."""
    try:
        return checked.state_field(path.replace("[]", "")).span
    except (StopIteration, AssertionError):
        pass
    top = path.split(".")[0].split("[")[0]
    for register in checked.registers:
        if register.register.name == top:
            return register.register.span
    for state in checked.state:
        if state.name == top:
            return state.span
    return checked.section.span
