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


def section_fingerprint(checked: CheckedSection) -> str:
    """sha256 (hex) of the section's checked IR: its nodes, masks, offsets and wire layouts."""
    return hashlib.sha256(dump(checked).encode("utf-8")).hexdigest()


def device_fingerprint(device: Device, module: CheckedModule) -> str:
    """sha256 (hex) of the device, the checked sections it uses (in device order) and where its bindings move
    registers: everything the device's generated code is made from."""
    sections = tuple(module.section(use.section) for use in device.sections)
    moved = tuple(b for b in module.bound_offsets if b.device == device.name)
    return hashlib.sha256(dump((device, sections, moved)).encode("utf-8")).hexdigest()
