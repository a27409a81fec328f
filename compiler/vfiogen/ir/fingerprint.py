"""Fingerprints of checked sections and devices, for the C banners and the schema lock.

A fingerprint is the sha256 of the canonical IR dump (`ir.dump`), not of the
schema file's bytes: the dump leaves out spans, so a comment, blank lines,
indentation, quoting or the order of keys inside a YAML mapping change no
fingerprint and therefore no generated file. Anything the checked IR holds
(a title, a description, a register, a mask, the wire layout) does change it.
"""

from __future__ import annotations

import hashlib

from vfiogen.ir.checked import CheckedModule, CheckedSection
from vfiogen.ir.dump import dump
from vfiogen.ir.nodes import Device


_DUMPS: dict[int, tuple[CheckedSection, str]] = {}
"""The dump of each checked section fingerprinted lately, by identity (the section is kept, so its id is not
reused): a build fingerprints every section for the lock, the C banners and each device that uses it."""


def _section_dump(checked: CheckedSection) -> str:
    cached = _DUMPS.get(id(checked))
    if cached is not None and cached[0] is checked:
        return cached[1]
    if len(_DUMPS) >= 256:  # a test session compiles many modules: keep only recent ones
        _DUMPS.clear()
    text = dump(checked)
    _DUMPS[id(checked)] = (checked, text)
    return text


def section_fingerprint(checked: CheckedSection) -> str:
    """sha256 (hex) of the section's checked IR: its nodes, masks, offsets and wire layouts."""
    return hashlib.sha256(_section_dump(checked).encode("utf-8")).hexdigest()


def device_fingerprint(device: Device, module: CheckedModule) -> str:
    """sha256 (hex) of the device, the checked sections it uses (in device order) and where its bindings move
    registers: everything the device's generated code is made from."""
    sections = tuple(module.section(use.section) for use in device.sections)
    moved = tuple(b for b in module.bound_offsets if b.device == device.name)
    # dump((device, sections, moved)) assembled from the sections' cached dumps: a node dumped at depth k is its
    # dump at depth 0 with every later line indented 2k more (strings are repr()s, so hold no newline).
    listed = "".join(f"      - {_section_dump(section).replace(chr(10), chr(10) + ' ' * 8)}\n" for section in sections)
    text = ("[\n"
            f"  - {dump(device, 2)}\n"
            f"  - {'[]' if not sections else '[' + chr(10) + listed + '    ]'}\n"
            f"  - {dump(moved, 2)}\n"
            "]")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
