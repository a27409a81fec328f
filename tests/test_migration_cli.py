"""`vfiogen inspect --descriptor`, `vfiogen capture` and `vfiogen compat` on the pciutils dumps.

Independent references: the dump bytes themselves (every register a captured blob decodes to is read back
from the dump at the register's fixed offset), the generated Python (`generic.capture`, `derive_descriptor`
and `save` give the same blob byte for byte; `generic.check_compat` the same reasons), and the schema YAML
text for each refusal's reason.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import GENERATED, SCHEMAS, SHARED_DATA, run_cli, standard_module

from vfiogen.configspace.chain import capabilities
from vfiogen.configspace.dump import Function, read_dump
from vfiogen.ir.expr import IntLit
from vfiogen.migration import compat
from vfiogen.migration.blob import encode
from vfiogen.migration.descriptor import derive, from_json, to_json
from vfiogen.migration.sections import find_sections
from vfiogen.wire.decode import decode_blob

sys.path.insert(0, str(GENERATED / "python"))
from vfiogen_state import generic, msix, vendor_specific  # noqa: E402

DATA = SHARED_DATA / "pciutils"
MISSING = f"pciutils config-space dumps not found at {DATA}"
CASES = sorted(p.name.removesuffix(".lspci-xxxx.txt") for p in DATA.glob("*.lspci-xxxx.txt")) if DATA.is_dir() else []
MODULE = standard_module()
pytestmark = pytest.mark.skipif(not CASES, reason=MISSING)


def functions() -> list[tuple[str, Function]]:
    return [(name, f) for name in CASES for f in read_dump(DATA / f"{name}.lspci-xxxx.txt")]


def function_reader(data: bytes) -> Any:
    def read_config(offset: int, size: int) -> int:
        return int.from_bytes(data[offset:offset + size], "little")
    return read_config


def schema_reason(section: str, field: str) -> str:
    """The compat rule's reason as written in schemas/sections/SECTION.yaml (read here, not from the IR)."""
    data = yaml.safe_load((SCHEMAS / "sections" / f"{section}.yaml").read_text())
    if field == "":
        return next(r["reason"] for r in data["compat"] if r.get("require") == "present")
    return next(r["reason"] for r in data["compat"] if field in r.values() and "require" not in r)


# --- capture ---------------------------------------------------------------------------------------------

def test_capture_of_every_dump_decodes_to_the_dump_bytes() -> None:
    sections = registers = moving = skipped = string_bytes = 0
    for name, function in functions():
        found = find_sections(function, MODULE)
        # A vendor-specific capability whose length byte claims bytes past the end of the dump (and past its byte
        # string's max) cannot be captured whole (one in the dumps); it is left out here, and nothing else may
        # have a problem.
        troubled = [s for s in found.sections if s.captured.problems]
        assert all(s.checked.name == "vendor_specific" and all("past the dump" in p or "outside 0..189" in p
                                                               for p in s.captured.problems)
                   for s in troubled), (name, [(s.name, s.captured.problems[:2]) for s in troubled])
        skipped += len(troubled)
        found.sections = [s for s in found.sections if not s.captured.problems]
        decoded = decode_blob(encode(found.sections, derive(found)), MODULE, None)
        assert [s.name for s in decoded.sections] == [s.name for s in found.sections]
        for section, frame in zip(found.sections, decoded.sections, strict=True):
            where = f"{name} {function.address} {section.checked.name}@0x{section.base:x}"
            offset_entries = [e for e in decoded.descriptor[frame.name] if e.path == "cap_offset"]
            assert all(e.value == section.base for e in offset_entries), where
            strings = {s.name: s.config_offset for s in section.checked.state if s.config_offset is not None}
            for entry in frame.entries:
                byte = re.fullmatch(r"(\w+)\[(\d+)\]", entry.path)
                if byte is not None and byte.group(1) in strings:
                    # a byte-string register's byte n: the dump's byte at its offset + n in the capability
                    at = section.base + (strings[byte.group(1)] or 0) + int(byte.group(2))
                    assert entry.value == function.config[at], f"{where}.{entry.path}: blob 0x{entry.value:x}"
                    string_bytes += 1
                    continue
                if entry.path not in {r.register.name for r in section.checked.registers}:
                    continue  # emulation state: at its defaults, not in the dump
                checked = section.checked.register(entry.path)
                width = checked.register.width // 8
                fixed = checked.register.offset
                places = [fixed.value] if isinstance(fixed, IntLit) else checked.offsets
                dump = [int.from_bytes(function.config[section.base + o:section.base + o + width], "little")
                        & ~checked.masks.reserved for o in places]
                if len(dump) > 1:
                    moving += 1
                assert entry.value in dump, f"{where}.{entry.path}: blob 0x{entry.value:x}, dump {dump}"
                registers += 1
            sections += 1
    # Measured: 137 functions, 473 sections (15 vendor-specific instances among them; 464 before AER version 2
    # and VC under id 0x0009 were matched: 8 + 1 more, as inspect counts them), 6336 registers and vendor bytes
    # (71 registers at an offset that moves, such as MSI's data; the vendor bytes were one-byte registers
    # data3..data191 until the byte string `data`, so registers + bytes is counted as before); one
    # vendor-specific capability runs past its dump's end. 6278 before AER's params were read from the PCI
    # Express capability (`from:`): the lspci -vvv files show 14 functions with AER whose Express line says
    # Root Port or Root Complex Event Collector (3 root registers each) and 4 with AER and EETLPPrefix+ (4 TLP
    # Prefix Log dwords each): 14 * 3 + 4 * 4 = 58 more.
    assert (len(functions()), sections, registers + string_bytes, skipped) == (137, 473, 6336, 1), (
        sections, registers, string_bytes, moving)


def test_capture_equals_the_generated_generic_device() -> None:
    """For the sections of the generic device, `capture --device generic` writes the blob the generated
    Python writes from the same config space: capture, derive_descriptor (host fields: the capability
    offsets, VF BAR sizes 0) and save."""
    device = next(d for d in MODULE.devices if d.name == "generic")
    compared = 0
    for name, function in functions():
        found = find_sections(function, MODULE, device)
        if any(s.captured.problems for s in found.sections) or not found.sections:
            continue
        ours = encode(found.sections, derive(found))
        present = 0
        for s in found.sections:
            present |= getattr(generic, f"HAS_{s.checked.name.upper()}")
        config = generic.GenericConfig(present=present)
        config.instances.vendor_specific = sum(s.checked.name == "vendor_specific" for s in found.sections)
        bases: dict[str, Any] = {}
        for s in found.sections:  # a repeated section's offsets as a list, one per instance
            if s.instance is None:
                bases[s.checked.name] = s.base
            else:
                bases.setdefault(s.checked.name, []).append(s.base)
        state = generic.capture(function_reader(function.config), bases, config)
        if state.msix is not None and present & generic.HAS_MSIX:
            # The capture leaves the vector table to the hypervisor (it lives in a BAR); the blob carries a
            # zeroed one as long as the table size says, as `vfiogen capture` writes it.
            vectors = state.msix.control.table_size + 1
            state.msix.vectors = [msix.VectorsEntry() for _ in range(vectors)]
            state.msix.pending = [0] * ((vectors + 63) // 64)
        host = generic.GenericDescriptor()
        for s in found.sections:
            if s.instance is not None:
                record = vendor_specific.VendorSpecificDescriptor()
                record.cap_offset = s.base
                host.vendor_specific.append(record)
            elif hasattr(getattr(host, s.checked.name), "cap_offset"):
                getattr(host, s.checked.name).cap_offset = s.base
        theirs = generic.save(state, generic.derive_descriptor(state, host, config), config=config)
        assert ours == theirs, f"{name} {function.address}"
        compared += 1
    assert compared == 111, compared  # measured: the functions with a header (type 0) or MSI, MSI-X, ReBAR, SR-IOV


# --- the descriptor's JSON form, and compat against the generated check_compat ---------------------------

def test_descriptor_json_round_trips_and_compat_agrees_with_generated() -> None:
    device = next(d for d in MODULE.devices if d.name == "generic")
    descriptors = []
    for _, function in functions():
        found = find_sections(function, MODULE, device)
        if found.sections and not any(s.captured.problems for s in found.sections):
            descriptors.append(derive(found))
    for d in descriptors:
        again = from_json(json.loads(json.dumps(to_json(d))), MODULE, "test")
        assert to_json(again) == to_json(d)

    def generated(d: Any) -> Any:
        out = generic.GenericDescriptor()
        for s in d.sections:
            out.present |= getattr(generic, f"HAS_{s.checked.name.upper()}")
            target = getattr(out, s.checked.name)
            if s.instance is not None:
                target.append(vendor_specific.VendorSpecificDescriptor())
                target = target[-1]
            for key, value in s.values.items():
                setattr(target, key, value)
            count = len(s.checked.plan.masks.registers)
            if count:  # the mask list, by register index
                target.emulated_masks = tuple(s.masks.get(i, (0, 0))[0] for i in range(count))
                target.write_masks = tuple(s.masks.get(i, (0, 0))[1] for i in range(count))
        return out

    pairs = 0
    for a, b in zip(descriptors, descriptors[1:] + descriptors[:1], strict=True):
        ours = [f.to_json() for f in compat.check(MODULE, a, b, device)]
        theirs = [f.to_dict() for f in generic.check_compat(generated(a), generated(b))]
        assert ours == theirs
        assert [str(f) for f in compat.check(MODULE, a, b, device)] == \
            [str(f) for f in generic.check_compat(generated(a), generated(b))]
        pairs += 1
    assert pairs == 111  # each such function against the next


# --- edited dumps, through the command line -------------------------------------------------------------

def _with_msi() -> Function:
    """A function with MSI and MSI-X (cap-dvsec-cxl's first such), as a 4096-byte binary dump."""
    for _, function in functions():
        ids = [c.id for c in capabilities(function)[0]]
        if 0x05 in ids and 0x11 in ids and len(function.config) == 4096:
            return function
    raise AssertionError("no function with MSI and MSI-X")


def _caps(config: bytes) -> list[tuple[int, int]]:
    """(id, offset) of the standard list, walked here by hand (PCI 3.0 §6.7)."""
    out, pointer = [], config[0x34] & 0xFC
    while pointer:
        out.append((config[pointer], pointer))
        pointer = config[pointer + 1] & 0xFC
    return out


def _unlink(config: bytearray, offset: int) -> None:
    caps = _caps(bytes(config))
    index = [o for _, o in caps].index(offset)
    following = config[offset + 1]
    if index == 0:
        config[0x34] = following
    else:
        config[caps[index - 1][1] + 1] = following


def _write(tmp: Path, name: str, config: bytes) -> str:
    path = tmp / name
    path.write_bytes(config)
    return str(path)


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("dumps")
    function = _with_msi()
    original = bytes(function.config)
    caps = dict(_caps(original))
    msi, msix = caps[0x05], caps[0x11]
    out = {"same": _write(tmp, "same.bin", original)}
    dropped = bytearray(original)
    _unlink(dropped, msi)
    out["no_msi"] = _write(tmp, "no_msi.bin", bytes(dropped))
    # Move MSI to the highest dword-aligned run of 24 zero bytes in 0x40..0xff no capability uses.
    moved = bytearray(original)
    used = {b for o in caps.values() for b in range(o, o + 24)}
    spot = next(o for o in range(0xE8, 0x40, -4)
                if not any(moved[o:o + 24]) and not used & set(range(o, o + 24)))
    moved[spot:spot + 24] = original[msi:msi + 24]
    moved[msi:msi + 24] = bytes(24)
    caps_before = _caps(original)
    index = [o for _, o in caps_before].index(msi)
    if index == 0:
        moved[0x34] = spot
    else:
        moved[caps_before[index - 1][1] + 1] = spot
    out["head"], out["after_msi"] = f"0x{original[0x34]:x}", f"0x{original[msi + 1]:x}"
    out["moved_msi"] = _write(tmp, "moved_msi.bin", bytes(moved))
    out["moved_from"], out["moved_to"] = f"0x{msi:x}", f"0x{spot:x}"
    resized = bytearray(original)
    size = int.from_bytes(original[msix + 2:msix + 4], "little")
    resized[msix + 2:msix + 4] = ((size & ~0x7FF) | ((size + 1) & 0x7FF)).to_bytes(2, "little")
    out["msix_size"] = _write(tmp, "msix_size.bin", bytes(resized))
    out["msix_sizes"] = f"0x{size & 0x7ff:x} 0x{(size + 1) & 0x7ff:x}"
    return out


def test_the_same_dump_is_allowed(dumps: dict[str, str]) -> None:
    result = run_cli("compat", str(SCHEMAS), dumps["same"], dumps["same"])
    assert (result.status, result.stdout) == (0, "migration allowed\n"), result.stderr


def test_a_target_without_msi_is_refused(dumps: dict[str, str]) -> None:
    result = run_cli("compat", str(SCHEMAS), dumps["same"], dumps["no_msi"])
    assert result.status == 1
    expected = [f"  msi: {schema_reason('msi', '')}"]
    head, following = int(dumps["head"], 16), int(dumps["after_msi"], 16)
    if head == int(dumps["moved_from"], 16):  # MSI led the list: unlinking it moves the list's start too
        expected.insert(0, f"  header: {schema_reason('header', 'first_cap')} (equal first_cap: source "
                        f"0x{head:x}, target 0x{following:x})")
    assert result.stdout.splitlines() == [f"migration refused: {len(expected)} reason(s)", *expected]


def test_msi_at_another_offset_is_refused(dumps: dict[str, str]) -> None:
    result = run_cli("compat", str(SCHEMAS), dumps["same"], dumps["moved_msi"], "--format", "json")
    assert result.status == 1, result.stderr
    reasons = json.loads(result.stdout)["reasons"]
    assert {"section": "msi", "rule": "equal", "field": "cap_offset", "source": int(dumps["moved_from"], 16),
            "target": int(dumps["moved_to"], 16), "reason": schema_reason("msi", "cap_offset")} in reasons
    assert not json.loads(result.stdout)["allowed"]


def test_another_msix_table_size_is_refused_in_markdown(dumps: dict[str, str]) -> None:
    result = run_cli("compat", str(SCHEMAS), dumps["same"], dumps["msix_size"], "--format", "markdown")
    assert result.status == 1, result.stderr
    source, target = dumps["msix_sizes"].split()
    row = f"| 1 | msix | equal | table_size | {source} | {target} | {schema_reason('msix', 'table_size')} |"
    assert result.stdout.splitlines()[2:] == ["| # | section | rule | field | source | target | reason |",
                                           "|---|---|---|---|---|---|---|", row]


def test_descriptor_json_from_inspect_is_what_compat_takes(dumps: dict[str, str], tmp_path: Path) -> None:
    shown = run_cli("inspect", dumps["moved_msi"], "--descriptor")
    assert shown.status == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["format"] == "vfiogen-descriptor"
    msi = next(s for s in document["sections"] if s["section"] == "msi")
    assert msi["fields"]["cap_offset"] == int(dumps["moved_to"], 16)
    path = tmp_path / "target.json"
    path.write_text(shown.stdout)
    result = run_cli("compat", str(SCHEMAS), dumps["same"], str(path))
    assert result.status == 1 and "msi: " in result.stdout and "(equal cap_offset: source" in result.stdout


def test_capture_writes_a_blob_decode_reads(dumps: dict[str, str], tmp_path: Path) -> None:
    blob = tmp_path / "state.bin"
    result = run_cli("capture", str(SCHEMAS), dumps["same"], "-o", str(blob))
    assert result.status == 0, result.stderr
    decoded = run_cli("decode", str(SCHEMAS), str(blob), "--format", "json")
    assert decoded.status == 0, decoded.stderr
    names = [s["name"] for s in json.loads(decoded.stdout)["sections"]]
    assert names[0] == "header" and "msi" in names and "msix" in names


@pytest.mark.parametrize("args, message", [
    (["--device", "nosuch"], "no device 'nosuch'"),
    (["--format", "yaml"], "invalid choice"),
])
def test_bad_usage_exits_2(dumps: dict[str, str], args: list[str], message: str) -> None:
    result = run_cli("compat", str(SCHEMAS), dumps["same"], dumps["same"], *args)
    assert result.status == 2 and message in result.stderr


def test_a_dump_with_several_functions_needs_function(tmp_path: Path) -> None:
    dump = str(DATA / f"{CASES[0]}.lspci-xxxx.txt")
    result = run_cli("compat", str(SCHEMAS), dump, dump)
    assert result.status == 2 and "--function" in result.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "vfiogen-descriptor", "version": 2, "sections": [{"section": "msi"}]}')
    result = run_cli("compat", str(SCHEMAS), str(bad), str(bad))
    assert result.status == 2 and "sections[0]" in result.stderr
