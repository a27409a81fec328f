"""Python fuzz targets (issue 14, item 2): arbitrary bytes into every Python entry point a stream or a dump
reaches, letting out only the error type each documents.

| target | entry point | may raise |
|---|---|---|
| `section` | each section's generated `load` (byte 0 picks the section, byte 1 the version, one past the newest included) | `LoadError` |
| `device_<d>` | the device's generated `load`, without and with the target's own descriptor, as given and with every frame's CRC-32C made right | `LoadError` (`MigrationRefused` is one) |
| `compat_<d>` | the device's descriptor frame reader and `check_compat` over the stream's descriptor, against a target descriptor from the input | `LoadError` |
| `decode` | `vfiogen decode`'s `decode_blob` | `DecodeError` |
| `inspect` | `vfiogen inspect`'s dump parser and `inspect_function`, and both renderings | `DumpError` |
| `cli_compat` | `vfiogen compat SRC DST` on two files cut from the input (descriptor JSON or dumps) | `UsageError` (exit 2) |

Anything else escaping is a bug. Beyond that, each target checks what must hold of what it accepted: a
loaded section saves to the bytes it was loaded from, a loaded blob saves and loads again to equal states,
whatever the generated loader accepts `decode` decodes, and the compat target compares the loader's
verdict with `check_compat` over the records as an oracle written here reads them.
`tests/generated_python/test_fuzz_python.py` runs the targets on Hypothesis-drawn mutations of the seeds in
the normal suite; `tests/fuzz/fuzz_python.py` runs them coverage-guided under atheris.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOCK = json.loads((ROOT / "generated" / "schema.lock.json").read_text("utf-8"))
SECTIONS = sorted(LOCK["sections"])
DEVICES = sorted(LOCK["devices"])
PCIUTILS = ROOT.parent / "shared" / "data" / "pciutils"


def _hex(value: object) -> bytes:
    text = "".join(value) if isinstance(value, list) else str(value)
    return bytes.fromhex(re.sub(r"\s+", "", text))


def _mod(name: str) -> Any:
    return importlib.import_module(f"vfiogen_state.{name}")


@functools.cache
def checked_module() -> Any:
    """The checked IR of the shipped schemas, as `vfiogen decode schemas/` and `inspect` compile it."""
    from vfiogen import driver
    from vfiogen.context import Context
    from vfiogen.diagnostics import Reporter

    ctx = Context(reporter=Reporter())
    result = driver.compile_schemas(driver.discover([str(ROOT / "schemas")], ctx.reporter), ctx)
    assert result.module is not None, ctx.reporter.sorted()
    return result.module


def device_sections(device: str) -> list[str]:
    return [use["section"] for use in LOCK["devices"][device]["sections"]]


@functools.cache
def device_setup(device: str) -> tuple[Any, Any, bytes]:
    """(config, the target's own descriptor, the valid blob) of a device, from valid_blob.yaml, or where a device
    has none the first of its vectors (in name order) that expects a state."""
    mod = _mod(device)
    paths = sorted((HERE / "vectors" / "devices" / device).glob("*.yaml"), key=lambda p: (p.stem != "valid_blob", p))
    case = next(c for c in (yaml.safe_load(p.read_text("utf-8")) for p in paths) if "expect" in c)
    config = None
    if case.get("config") is not None:
        names = device_sections(device)
        config = getattr(mod, f"{''.join(p.title() for p in device.split('_'))}Config")(
            present=sum(1 << names.index(n) for n in case["config"].get("present", ())))
        for section, values in case["config"].get("params", {}).items():
            for key, value in values.items():
                setattr(getattr(config.params, section), key, value)
    blob = _hex(case["hex"])
    return config, mod.load(blob, config=config)[1], blob


def _crc_fixed(blob: bytes) -> bytes:
    """The blob with every frame's CRC-32C recomputed, walking frames by their lengths (as far as they fit)."""
    from vfiogen_state._runtime import crc32c

    data, o = bytearray(blob), 8
    while o + 12 <= len(data):
        end = o + 12 + int.from_bytes(data[o + 8:o + 12], "big")
        if end + 4 > len(data):
            break
        data[end:end + 4] = crc32c(bytes(data[o:end])).to_bytes(4, "big")
        o = end + 4
    return bytes(data)


def run_section(data: bytes) -> None:
    from vfiogen_state._runtime import LoadError

    if len(data) < 2:
        return
    mod = _mod(SECTIONS[data[0] % len(SECTIONS)])
    version = mod.MIN_VERSION + data[1] % (mod.VERSION - mod.MIN_VERSION + 2)
    payload = data[2:]
    try:
        state = mod.load(payload, version)
    except LoadError:
        return
    assert isinstance(mod.validate(state), list)
    assert mod.save(state, version) == payload, "a loaded payload saves to other bytes"
    blank = mod.unpack_descriptor(bytes(mod.DESCRIPTOR_FIXED), 0, mod.DESCRIPTOR_FIXED)
    host = {name: getattr(blank, name) for name, parameter in inspect.signature(mod.derive_descriptor).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY}
    mod.check_descriptor(state, mod.derive_descriptor(state, **host), version)  # its own descriptor agrees


def run_device(device: str, data: bytes) -> None:
    from vfiogen.wire.decode import decode_blob
    from vfiogen_state._runtime import LoadError

    mod = _mod(device)
    config, own, _ = device_setup(device)
    for blob in (data, _crc_fixed(data)):
        for target in (None, own):
            try:
                state, source = mod.load(blob, config=config, target=target)
            except LoadError:
                continue
            again = mod.save(state, source, config=config)
            assert mod.load(again, config=config) == (state, source), "a loaded blob saves to another state"
            if target is None:
                device_ir = next(d for d in checked_module().devices if d.name == device)
                decode_blob(blob, checked_module(), device_ir)  # what the loader takes, decode shows


def _records(device: str, payload: bytes) -> Any:
    """The oracle: the descriptor frame's records, one per section in device order, each at least its
    section's fixed size and a mask list unpack_descriptor takes; the source descriptor they give, or None
    when they are not that."""
    from vfiogen_state._runtime import LoadError

    mod = _mod(device)
    names = device_sections(device)
    descriptor = getattr(mod, f"{''.join(p.title() for p in device.split('_'))}Descriptor")(present=0)
    o, at = 0, 0
    while o < len(payload):
        if len(payload) - o < 4:
            return None
        ident, size = struct.unpack_from(">HH", payload, o)
        while at < len(names) and _mod(names[at]).SECTION_ID != ident:
            at += 1
        if at == len(names) or size < _mod(names[at]).DESCRIPTOR_FIXED or len(payload) - o - 4 < size:
            return None
        try:
            record = _mod(names[at]).unpack_descriptor(payload, o + 4, o + 4 + size)
        except LoadError:
            return None
        descriptor.present |= 1 << at
        o += 4 + size
        most = _most(device, names[at])
        if most:  # a repeated section: a record per instance, back to back, at most `most`
            items = getattr(descriptor, names[at])
            if len(items) == most:
                return None
            items.append(record)
            continue
        setattr(descriptor, names[at], record)
        at += 1
    return descriptor


def _most(device: str, name: str) -> int:
    """A repeated section's most instances in `device` (0 for a section that is not repeated)."""
    return next(row[5] for row in _mod(device)._DESCRIPTOR_RECORDS if row[2] == name)


def run_compat(device: str, data: bytes) -> None:
    from vfiogen_state._runtime import LoadError, MigrationRefused, crc32c

    mod = _mod(device)
    names = device_sections(device)
    # the present set (4 bytes), each section's fixed descriptor fields (its masks are then 0)
    need = 4 + sum(_mod(n).DESCRIPTOR_FIXED for n in names)
    if len(data) < need:
        return
    config, own, _ = device_setup(device)
    cls = type(own)
    target = cls(present=int.from_bytes(data[:4], "big") & mod.ALL_SECTIONS)
    o = 4
    counts = {}
    for name in names:  # a repeated section's target has one instance, from the bytes, when present
        record = _mod(name).unpack_descriptor(data, o, o + _mod(name).DESCRIPTOR_FIXED)
        if _most(device, name):
            has = bool(target.present & getattr(mod, f"HAS_{name.upper()}"))
            setattr(target, name, [record] if has else [])
            counts[name] = int(has)
        else:
            setattr(target, name, record)
        o += _mod(name).DESCRIPTOR_FIXED
    base = mod.CONFIG if config is None else config
    config = type(base)(present=target.present, params=base.params)
    for name, count in counts.items():
        setattr(config.instances, name, count)
    payload = data[need:]
    head = struct.pack(">HHII", 0, 1, 1, len(payload))
    blob = b"VFGS\x00\x01\x00\x00" + head + payload + struct.pack(">I", crc32c(head + payload))
    source = _records(device, payload)
    want = None if source is None else [str(f) for f in mod.check_compat(source, target)]
    try:
        mod.load(blob, config=config, target=target)
    except MigrationRefused as exc:
        assert want and [str(f) for f in exc.failures] == want and exc.offset == 20, (want, exc)
    except LoadError as exc:
        if source is None:
            assert exc.field.startswith("descriptor") and 20 <= exc.offset < 20 + len(payload), exc
        else:
            assert want == [] and "missing" in exc.reason, (want, exc)
    else:
        assert want == [], want


def run_decode(data: bytes) -> None:
    from vfiogen.wire.decode import DecodeError, decode_blob, render_decoded

    device = next(d for d in checked_module().devices if d.name == DEVICES[0])
    try:
        decoded = decode_blob(data, checked_module(), device)
    except DecodeError:
        return
    render_decoded(decoded)
    json.dumps(decoded.to_json())


def run_inspect(data: bytes) -> None:
    from vfiogen.configspace.dump import DumpError, parse_dump
    from vfiogen.configspace.report import inspect_function, render_json, render_text

    if not data:
        return
    body = data[1:]
    size = (None, 64, 256, 4096)[data[0] % 4]  # as it is (text or binary), or a binary dump of each size
    if size is not None:
        body = (body + bytes(size))[:size]
    try:
        functions = parse_dump(body, Path("fuzz.bin"))
    except DumpError:
        return
    reports = [inspect_function(function, checked_module()) for function in functions]
    render_text(reports)
    json.dumps(render_json(reports))


def run_cli_compat(data: bytes) -> None:
    """`vfiogen compat SRC DST` on two files cut from the input (byte 0 says where): each a descriptor JSON or a
    dump, as the command reads them. It may exit 0 or 1 or refuse its arguments (UsageError, exit 2)."""
    import io
    import tempfile

    from vfiogen.migration.commands import UsageError, compat_command

    if not data:
        return
    cut = 1 + data[0] * max(len(data) - 1, 0) // 255
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, part in (("src", data[1:cut]), ("dst", data[cut:])):
            path = Path(tmp) / name
            path.write_bytes(part)
            paths.append(str(path))
        out, err = io.StringIO(), io.StringIO()
        try:
            status = compat_command(paths[0], paths[1], checked_module(), None, None, "markdown", out, err)
        except UsageError:
            return
    assert status in (0, 1), status


def targets() -> dict[str, Callable[[bytes], None]]:
    found: dict[str, Callable[[bytes], None]] = {"section": run_section, "decode": run_decode,
                                                 "inspect": run_inspect, "cli_compat": run_cli_compat}
    for device in DEVICES:
        found[f"device_{device}"] = functools.partial(run_device, device)
        found[f"compat_{device}"] = functools.partial(run_compat, device)
    return found


def _first(descriptor: Any, name: str) -> Any:
    """A section's descriptor, or a repeated section's first instance's (a new one when it has none)."""
    value = getattr(descriptor, name)
    if not isinstance(value, list):
        return value
    fixed = _mod(name).DESCRIPTOR_FIXED
    return value[0] if value else type(_mod(name).unpack_descriptor(bytes(fixed), 0, fixed))()


def seeds(target: str) -> list[bytes]:
    """Inputs to start from: the vectors (and for inspect the pciutils dumps), framed as the target reads them."""
    if target == "section":
        out = []
        for index, name in enumerate(SECTIONS):
            mod = _mod(name)
            for path in sorted((HERE / "vectors" / name).glob("*.yaml")):
                case = yaml.safe_load(path.read_text("utf-8"))
                out.append(bytes([index, int(case.get("version", mod.MIN_VERSION)) - mod.MIN_VERSION])
                           + _hex(case["hex"]))
        return out
    if target in ("decode",) or target.startswith("device_"):
        device = DEVICES[0] if target == "decode" else target.removeprefix("device_")
        return [_hex(yaml.safe_load(p.read_text("utf-8"))["hex"])
                for p in sorted((HERE / "vectors" / "devices" / device).glob("*.yaml"))]
    if target.startswith("compat_"):
        device = target.removeprefix("compat_")
        _, own, blob = device_setup(device)
        target_bytes = own.present.to_bytes(4, "big") + b"".join(
            _mod(n).pack_descriptor(_first(own, n))[:_mod(n).DESCRIPTOR_FIXED] for n in device_sections(device))
        length = int.from_bytes(blob[16:20], "big")
        return [target_bytes + blob[20:20 + length], target_bytes]
    if target == "cli_compat":
        # A descriptor JSON against itself, and a dump against itself (`vfiogen compat` takes either).
        from vfiogen.configspace.dump import read_dump
        from vfiogen.migration.descriptor import derive, to_json
        from vfiogen.migration.sections import find_sections

        out = []
        for path in sorted(PCIUTILS.glob("*.lspci-xxxx.txt"))[:3]:
            function = read_dump(path)[0]
            text = json.dumps(to_json(derive(find_sections(function, checked_module())))).encode()
            out.append(b"\x80" + text + text)
            raw = path.read_bytes()[:6000]
            out.append(b"\x80" + raw + raw)
        return out or [b"\x80{}{}"]
    if target == "inspect":
        out = []
        for path in sorted(PCIUTILS.glob("*.lspci-xxxx.txt"))[:8]:
            text = path.read_bytes()
            out.append(b"\x00" + text[:20000])
        return out or [b"\x02" + bytes(4096)]
    raise KeyError(target)
