"""`vfiogen diff` reports: text, Markdown (a PR comment), JSON and GitHub Actions annotations."""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

from vfiogen.diff.compare import Change, verdict
from vfiogen.diff.rules import Direction

_VERDICT_TEXT = {
    Direction.COMPATIBLE: "compatible",
    Direction.BREAKS_FORWARD: "BREAKING: breaks forward migration (a new source to an old target)",
    Direction.BREAKS_BACKWARD: "BREAKING: breaks backward migration (an old source to a new target)",
    Direction.BREAKS_BOTH: "BREAKING: breaks forward and backward migration",
}


def summary(changes: list[Change]) -> str:
    return f"{_VERDICT_TEXT[verdict(changes)]} ({len(changes)} change(s))"


def render_text(changes: list[Change]) -> str:
    lines = [f"{c.place.file}:{c.place.line}: {c.direction.value}[{c.rule}]: {c.scope}"
             f"{' ' + c.subject if c.subject else ''}: {c.summary} ({c.old} -> {c.new})" for c in changes]
    return "".join(line + "\n" for line in lines) + f"vfiogen diff: {summary(changes)}\n"


def render_json(changes: list[Change]) -> str:
    data: dict[str, Any] = {
        "verdict": verdict(changes).value,
        "changes": [{"rule": c.rule, "direction": c.direction.value, "scope": c.scope, "subject": c.subject,
                     "summary": c.summary, "old": c.old, "new": c.new, "file": c.place.file, "line": c.place.line}
                    for c in changes]}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def render_github(changes: list[Change]) -> str:
    """One workflow command per change: errors for breaking ones, notices for the rest."""
    lines = []
    for c in changes:
        level = "error" if c.direction.breaking else "notice"
        message = f"{c.rule} {c.direction.value}: {c.scope} {c.subject}: {c.summary} ({c.old} -> {c.new})"
        lines.append(f"::{level} file={c.place.file},line={c.place.line},title={c.rule}::{_escape(message)}")
    return "".join(line + "\n" for line in lines)


def _escape(text: str) -> str:
    # GitHub's workflow-command escaping: a raw newline or '%' would end or corrupt the message.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_markdown(changes: list[Change], old: dict[str, Any], new: dict[str, Any]) -> str:
    out = [f"## vfiogen diff: {summary(changes)}", ""]
    for scope, group in groupby(changes, key=lambda c: c.scope):
        items = list(group)
        out += [f"### {scope}", "", "| change | rule | direction | old → new | schema |", "|---|---|---|---|---|"]
        out += [f"| {_cell(c.summary)}{': ' + _cell(c.subject) if c.subject else ''} | {c.rule} | "
                f"{c.direction.value} | {_cell(c.old)} → {_cell(c.new)} | {c.place.file}:{c.place.line} |"
                for c in items]
        if any(c.rule in ("VD010", "VD011") for c in items):
            out += ["", *_layout_diff(old["sections"][scope], new["sections"][scope])]
        out.append("")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _layout_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Byte by byte, old beside new: each version both record whose layout changed, and a new newest version
    beside the old newest (fixed offsets; others by their anchor)."""
    old_layouts = {layout["version"]: layout["items"] for layout in old.get("layouts", [])}
    new_layouts = {layout["version"]: layout["items"] for layout in new.get("layouts", [])}
    pairs = [(v, v) for v in sorted(set(old_layouts) & set(new_layouts)) if old_layouts[v] != new_layouts[v]]
    if old_layouts and new_layouts and max(new_layouts) > max(old_layouts):
        pairs.append((max(old_layouts), max(new_layouts)))
    lines = []
    for old_version, new_version in pairs:
        before, after = _bytes(old_layouts[old_version]), _bytes(new_layouts[new_version])
        title = (f"version {old_version}" if old_version == new_version
                 else f"old version {old_version} beside new version {new_version}")
        lines += [f"Wire layout, {title}:", "", "| byte | old | new |", "|---|---|---|"]
        for key in sorted(set(before) | set(after), key=_byte_order):
            mark = "" if before.get(key) == after.get(key) else " ⚠"
            lines.append(f"| {key} | {before.get(key, '-')} | {after.get(key, '-')}{mark} |")
        lines.append("")
    return lines


def _bytes(items: list[dict[str, Any]]) -> dict[str, str]:
    """Byte position -> 'path (type) byte n', for every top-level item.

    A position is a number when every earlier item has a fixed size, otherwise 'X +n': n bytes after the end
    of the variable-size item X. A variable-size item takes one row (its first byte), with its maximum.
    """
    rows: dict[str, str] = {}
    for item in items:
        if item.get("in_element"):
            continue
        fixed = item.get("offset") is not None
        base = item["offset"] if fixed else item.get("relative", 0)
        if item.get("size") is None:
            rows[_position(item, base)] = f"{item['path']} ({item['type']}, up to {item['max_size']} bytes)"
            continue
        for byte in range(item["size"]):
            rows[_position(item, base + byte)] = f"{item['path']} ({item['type']}) byte {byte}"
    return rows


def _position(item: dict[str, Any], byte: int) -> str:
    return str(byte) if item.get("offset") is not None else f"{item.get('after')} +{byte}"


def _byte_order(key: str) -> tuple[int, str, int]:
    if key.isdigit():
        return (int(key), "", 0)
    anchor, _, byte = key.rpartition(" +")
    return (1 << 30, anchor, int(byte))
