"""The work behind `vfiogen inspect --descriptor`, `vfiogen capture` and `vfiogen compat`; `cli` only parses.

Each function returns an exit status (0 success or allowed, 1 a user error or a refused migration) and
writes its result to the given streams; a bad argument raises `UsageError` (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from vfiogen.configspace.dump import DumpError, Function, read_dump
from vfiogen.ir.checked import CheckedModule
from vfiogen.ir.nodes import Device
from vfiogen.migration import compat as compat_rules
from vfiogen.migration.blob import EncodeError, encode
from vfiogen.migration.descriptor import Descriptor, DescriptorError, derive, from_json, to_json
from vfiogen.migration.sections import DeviceSections, find_sections, missing_required


class UsageError(Exception):
    """Bad usage: a device the schemas lack, a dump with several functions and no --function, an input that
    is neither a descriptor nor a dump."""


def pick_device(module: CheckedModule, name: str | None) -> Device | None:
    if name is None:
        return None
    devices = {d.name: d for d in module.devices}
    if name not in devices:
        raise UsageError(f"no device '{name}' (devices: {', '.join(sorted(devices)) or 'none'})")
    return devices[name]


def pick_function(functions: list[Function], address: str | None, where: str) -> Function:
    if address is not None:
        found = [f for f in functions if f.address == address or f.address.endswith(address)]
        if len(found) != 1:
            raise UsageError(f"{where}: {'no' if not found else 'more than one'} function {address} "
                             f"(functions: {', '.join(f.address for f in functions)})")
        return found[0]
    if len(functions) != 1:
        raise UsageError(f"{where} holds {len(functions)} functions; choose one with --function "
                         f"({', '.join(f.address for f in functions)})")
    return functions[0]


def sections_of(path: str, module: CheckedModule, device: Device | None, address: str | None,
                err: TextIO) -> DeviceSections | None:
    """The captured sections of one function of a dump; None (after saying why on `err`) when the device
    requires a section the function lacks."""
    try:
        functions = read_dump(Path(path))
    except DumpError as exc:
        raise UsageError(str(exc)) from None
    found = find_sections(pick_function(functions, address, path), module, device)
    for note in found.notes:
        err.write(f"{path}: note: {note}\n")
    missing = missing_required(found)
    if missing:
        assert device is not None
        err.write(f"{path}: error: {found.function.address} lacks section(s) {', '.join(missing)}, which device "
                  f"'{device.name}' requires\n")
        return None
    return found


def descriptor_command(paths: list[str], module: CheckedModule, device_name: str | None, address: str | None,
                       out: TextIO, err: TextIO) -> int:
    """`inspect DUMP... --descriptor`: one descriptor as JSON (a list when several functions are shown)."""
    device = pick_device(module, device_name)
    documents: list[dict[str, Any]] = []
    for path in paths:
        try:
            functions = read_dump(Path(path))
        except DumpError as exc:
            raise UsageError(str(exc)) from None
        chosen = [pick_function(functions, address, path)] if address is not None else functions
        for function in chosen:
            found = find_sections(function, module, device)
            for note in found.notes:
                err.write(f"{path}: {function.address}: note: {note}\n")
            documents.append(to_json(derive(found)))
    shown: Any = documents[0] if len(documents) == 1 else documents
    out.write(json.dumps(shown, indent=2) + "\n")
    return 0


def capture_command(dump: str, module: CheckedModule, device_name: str | None, address: str | None,
                    output: str, err: TextIO) -> int:
    """`capture schemas/ DUMP -o state.bin`: the function's state as a blob."""
    device = pick_device(module, device_name)
    found = sections_of(dump, module, device, address, err)
    if found is None:
        return 1
    for section in found.sections:
        for problem in section.captured.problems:
            err.write(f"{dump}: error: {section.checked.name} at 0x{section.base:x}: {problem}\n")
    if any(section.captured.problems for section in found.sections):
        return 1
    try:
        blob = encode(found.sections, derive(found))
    except EncodeError as exc:
        err.write(f"{dump}: error: {exc}\n")
        return 1
    try:
        Path(output).write_bytes(blob)
    except OSError as exc:
        err.write(f"vfiogen: error: cannot write '{output}': {exc.strerror}\n")
        return 1
    err.write(f"vfiogen: {found.function.address}: {len(found.sections)} section(s) "
              f"({', '.join(s.checked.name for s in found.sections)}), {len(blob)} bytes in {output}\n")
    return 0


def read_side(path: str, module: CheckedModule, device: Device | None, address: str | None,
              err: TextIO) -> Descriptor | None:
    """A compat side: a descriptor as `inspect --descriptor` prints it, or a dump whose descriptor is derived."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    if text is not None and text.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: not valid JSON: {exc}") from None
        if isinstance(data, list):
            matching = [d for d in data if address is None or (isinstance(d, dict) and d.get("address") == address)]
            if len(matching) != 1:
                raise UsageError(f"{path} holds {len(data)} descriptors; choose one with --function")
            data = matching[0]
        try:
            return from_json(data, module, path)
        except DescriptorError as exc:
            raise UsageError(str(exc)) from None
    found = sections_of(path, module, device, address, err)
    return derive(found) if found is not None else None


def compat_command(source_path: str, target_path: str, module: CheckedModule, device_name: str | None,
                   address: str | None, fmt: str, out: TextIO, err: TextIO) -> int:
    device = pick_device(module, device_name)
    source = read_side(source_path, module, device, address, err)
    target = read_side(target_path, module, device, address, err)
    if source is None or target is None:
        return 1
    if device is not None:
        for side, descriptor in ((source_path, source), (target_path, target)):
            extra = compat_rules.outside(device, descriptor)
            if extra:
                raise UsageError(f"{side}: section(s) {', '.join(extra)} are not sections of device '{device.name}'")
    failures = compat_rules.check(module, source, target, device)
    if fmt == "json":
        out.write(json.dumps(compat_rules.render_json(failures), indent=2) + "\n")
    elif fmt == "markdown":
        out.write(compat_rules.render_markdown(failures))
    else:
        out.write(compat_rules.render_text(failures))
    return 1 if failures else 0
