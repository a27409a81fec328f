"""`vfiogen inspect`: dumps read, capability chains walked, and what the schemas capture from real devices.

The independent reference is Debian's lspci decode of pciutils' test dumps
(../shared/data/pciutils); the captured registers are held against the
generated Python's own `capture`, which reads the same plan through generated
code.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import GENERATED, ROOT, SHARED_DATA, run_cli, standard_module
from hypothesis import given, settings
from hypothesis import strategies as st

from vfiogen.configspace.chain import walk_extended, walk_standard
from vfiogen.configspace.dump import DumpError, Function, parse_text, read_dump
from vfiogen.configspace.report import inspect_function

sys.path.insert(0, str(GENERATED / "python"))
sys.path.insert(0, str(ROOT / "tests" / "generated_python"))
from lspci_dump import parse_lspci  # noqa: E402

DATA = SHARED_DATA / "pciutils"
MISSING = f"pciutils config-space dumps not found at {DATA} (../shared/data/pciutils from the project root)"
CASES = sorted(p.name.removesuffix(".lspci-xxxx.txt") for p in DATA.glob("*.lspci-xxxx.txt")) if DATA.is_dir() else []
CASE_PARAMS: list[Any] = list(CASES) or [pytest.param("<no data>", marks=pytest.mark.skip(reason=MISSING))]


MODULE = standard_module()


@pytest.mark.parametrize("name", CASE_PARAMS)
def test_inspect_lists_every_capability_lspci_lists_in_order(name: str) -> None:
    result = run_cli("inspect", "--format", "json", str(DATA / f"{name}.lspci-xxxx.txt"))
    assert result.status == 0, result.stderr
    devices = json.loads(result.stdout)["devices"]
    reference = {d.slot: d for d in parse_lspci((DATA / f"{name}.lspci-vvv.txt").read_text())}
    assert sorted(d["address"] for d in devices) == sorted(reference)
    for device in devices:
        expected = [(c.offset, c.version) for c in reference[device["address"]].caps]
        found = [(c["offset"], c["version"]) for c in device["capabilities"]]
        assert found == expected, device["address"]
        for cap in device["capabilities"]:
            assert cap["kind"] == ("cap" if cap["version"] is None else "ecap")
            assert cap["name"] and (cap["schema"] is None) == (cap["state"] is None)




def _generated_values(state: Any, names: list[str]) -> dict[str, int]:
    values = {}
    for name in names:
        value = getattr(state, name)
        values[name] = value.value() if hasattr(value, "value") and callable(value.value) else int(value)
    return values


@pytest.mark.parametrize("name", CASE_PARAMS)
def test_inspect_captures_what_the_generated_capture_captures(name: str) -> None:
    """Every register inspect shows equals the generated Python capture's, on every real capability with a
    schema (inspect interprets the capture plan; the generated code prints it)."""
    compared = 0
    for function in read_dump(DATA / f"{name}.lspci-xxxx.txt"):
        report = inspect_function(function, MODULE)
        places = [(report.header_schema, 0, report.header)] + [
            (c.schema, c.capability.offset, c.state) for c in report.capabilities]
        for schema, base, captured in places:
            if schema is None or captured is None or captured.problems:
                continue
            module = importlib.import_module(f"vfiogen_state.{schema}")

            def read_config(offset: int, size: int, config: bytes = function.config) -> int:
                return int.from_bytes(config[offset:offset + size], "little")

            # inspect reads the params other sections give (`from:`: PCI-X's form, AER's root port registers)
            # from their captures; the generated section capture is given the same (the generated device
            # capture derives them itself: tests/test_param_from.py)
            bound = captured.params
            state = module.capture(read_config, base, module.Params(**bound) if bound else module.PARAMS)
            names = list(captured.registers)
            mine = {k: v or 0 for k, v in captured.registers.items()}
            assert mine == _generated_values(state, names), (name, function.address, schema, base)
            compared += 1
    if name == "cap-pcie-2":
        assert compared >= 4  # header, MSI, MSI-X and SR-IOV of its one function


def test_a_64_byte_sysfs_read_is_decoded_as_far_as_it_goes(tmp_path: Path) -> None:
    config = bytearray(64)
    config[0:4] = bytes.fromhex("8680c910")
    config[0x06] = 0x10  # capability list present
    config[0x34] = 0x40  # ...at 0x40, past what an unprivileged read returns
    device = tmp_path / "0000:03:00.1"
    device.mkdir()
    (device / "config").write_bytes(bytes(config))
    result = run_cli("inspect", "--format", "json", str(device / "config"))
    assert result.status == 0, result.stderr
    (only,) = json.loads(result.stdout)["devices"]
    assert (only["address"], only["vendor_id"], only["device_id"], only["config_size"]) == (
        "0000:03:00.1", 0x8086, 0x10C9, 64)
    assert only["capabilities"] == []
    assert any("past the dump's 64 bytes" in p for p in only["problems"])
    assert any("unprivileged read of sysfs config" in p for p in only["problems"])
    assert only["header"]["schema"] == "header" and only["header"]["state"]["vendor_id"] == 0x8086


def test_inspect_refuses_what_is_not_a_dump(tmp_path: Path) -> None:
    odd = tmp_path / "odd.bin"
    odd.write_bytes(bytes(100))
    result = run_cli("inspect", str(odd))
    assert result.status == 1
    assert "100 bytes is not a configuration space (64, 256, 4096 bytes)" in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(DumpError, match=r"t.txt:1: a hex row before any function line"):
        parse_text("00: 86 80 c9 10 07 04 10 00 01 00 00 02 10 00 80 00\n", "t.txt")
    with pytest.raises(DumpError, match=r"t.txt:3: 0000:00:01.0: a row at 0x20 where 0x10 was due"):
        parse_text("00:01.0 x\n00: " + "00 " * 15 + "00\n20: " + "00 " * 15 + "00\n", "t.txt")
    missing = run_cli("inspect", str(tmp_path / "absent"))
    assert missing.status == 1 and "cannot read it" in missing.stderr


def _function(config: dict[int, int], size: int = 4096) -> Function:
    buf = bytearray(size)
    for offset, byte in config.items():
        buf[offset] = byte
    return Function("0000:00:00.0", "synthetic", bytes(buf))


def test_a_looping_chain_is_reported_and_the_walk_ends() -> None:
    looped = _function({0x06: 0x10, 0x34: 0x40, 0x40: 0x05, 0x41: 0x50, 0x50: 0x11, 0x51: 0x40})
    report = inspect_function(looped, MODULE)
    assert [(c.capability.offset, c.schema) for c in report.capabilities] == [(0x40, "msi"), (0x50, "msix")]
    assert report.problems == ["the list loops back to 0x40"]
    text = run_text(looped)
    assert "Capabilities: [40] MSI [cap 0x05] (msi)" in text and "note: the list loops back to 0x40" in text


def run_text(function: Function) -> str:
    from vfiogen.configspace.report import render_text

    return render_text([inspect_function(function, MODULE)])


POINTERS = (0x34, 0x41, 0x51, 0x61, 0x101, 0x102, 0x103)
"""Where capability pointers live in most dumps: the list head, next pointers, the first extended header's."""
HOSTILE = (0x00, 0x10, 0x3C, 0x3F, 0x40, 0x41, 0x50, 0xFC, 0xFE, 0xFF)
"""Pointer values: none, into the header, at the first capability (a loop), at the end, past the end."""


@st.composite
def damaged(draw: st.DrawFn) -> Function:
    original = draw(st.sampled_from(DUMPS))
    data = bytearray(original.config)
    how = draw(st.sampled_from(["truncate", "flip", "pointer"]))
    if how == "truncate":
        data = data[:draw(st.integers(0, len(data)))]
    elif how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] ^= 1 << draw(st.integers(0, 7))
    else:
        for _ in range(draw(st.integers(1, 3))):
            target = draw(st.sampled_from([p for p in POINTERS if p < len(data)]))
            data[target] = draw(st.sampled_from(HOSTILE))
    return Function(original.address, original.title, bytes(data))


DUMPS = [f for name in CASES for f in read_dump(DATA / f"{name}.lspci-xxxx.txt")] if CASES else []


@pytest.mark.skipif(not DUMPS, reason=MISSING)
@settings(max_examples=400, deadline=None)
@given(damaged())
def test_damaged_real_dumps_never_crash_or_hang(function: Function) -> None:
    """Any truncation, bit flips or rewritten pointers of a real dump: inspect reports, never raises or loops."""
    report = inspect_function(function, MODULE)
    standard, extended = walk_standard(function), walk_extended(function)
    # each walk visits an offset at most once, so it is bounded by the space it walks
    assert len({c.offset for c in standard.caps}) == len(standard.caps) <= (0x100 - 0x40) // 4
    assert len({c.offset for c in extended.caps}) == len(extended.caps) <= (0x1000 - 0x100) // 4
    json.dumps(report.to_json())
    run_text(function)


PLACES = {"header": 0, "bridge_header": 0, "pcie": 0x40, "aer": 0x100, "msi": 0x40, "msix": 0x40, "pm": 0x40, "sriov": 0x100, "rebar": 0x100,
          **dict.fromkeys(("ltr", "ats", "pasid", "pri", "ptm", "l1ss", "acs", "dsn"), 0x100)}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(PLACES)), st.binary(min_size=80, max_size=80))
def test_the_capture_plan_reads_what_generated_capture_reads(schema: str, window: bytes) -> None:
    """Over any bytes where the capability lies (reserved bits set, registers moving, enums broken),
    inspect's interpretation of the capture plan equals the generated Python capture, or both refuse."""
    from vfiogen.configspace.capture import capture

    base = PLACES[schema]
    config = bytes(base) + window + bytes(4096 - base - len(window))
    checked = next(s for s in MODULE.sections if s.name == schema)
    captured = capture(checked, Function("x", "", config), base)
    module = importlib.import_module(f"vfiogen_state.{schema}")
    load_error = importlib.import_module("vfiogen_state._runtime").LoadError

    def read_config(offset: int, size: int) -> int:
        return int.from_bytes(config[offset:offset + size], "little")

    try:
        state = module.capture(read_config, base)
    except load_error:
        assert captured.problems
        return
    assert not captured.problems
    assert {k: v or 0 for k, v in captured.registers.items()} == _generated_values(state, list(captured.registers))


def test_64bit_bars_pair_as_lspci_pairs_them() -> None:
    """Every BAR lspci calls 64-bit takes the next slot as its upper dword in the captured header (bridges too),
    and every slot lspci shows as a region of its own is a BAR of its own: the pairing comes from the BAR type
    bits, with no device param. lspci prints `Region N: ... (64-bit, ...)` and skips the upper slot, except in
    five functions of three dumps (cap-dvsec-cxl, cap-exp-rev-slot, cap-ide) where it also lists the upper slot
    as `Region N+1: Memory at <unassigned> (32-bit, non-prefetchable)`: the dumps' bytes there hold the
    upper address dword (0x00000380 in cap-dvsec-cxl 7f:00.0), which the type bits of slot N say it is. Those
    lines are counted, not compared."""
    region = re.compile(r"^\tRegion (\d): Memory at (\S+) \((32|64)-bit")
    wide_seen = narrow_seen = upper_listed = 0
    for name in CASES:
        lspci = {d.slot: d for d in parse_lspci((DATA / f"{name}.lspci-vvv.txt").read_text())}
        for function in read_dump(DATA / f"{name}.lspci-xxxx.txt"):
            report = inspect_function(function, MODULE)
            if report.header is None:
                continue
            registers = report.header.registers
            previous_wide = -9
            for line in lspci[function.address].lines:
                m = region.match(line)
                if m is None:
                    continue
                n, wide = int(m[1]), m[3] == "64"
                if n == previous_wide + 1 and m[2] == "<unassigned>":
                    upper_listed += 1
                    assert registers[f"bar{n}_upper"] is not None and registers[f"bar{n}"] is None
                    continue
                previous_wide = n if wide else -9
                where = f"{name} {function.address} region {n}"
                assert registers[f"bar{n}"] is not None, f"{where}: lspci shows a BAR the capture took as an upper"
                if n + 1 < (6 if report.header_schema == "header" else 2):
                    assert (registers[f"bar{n + 1}_upper"] is not None) == wide, where
                    assert (registers[f"bar{n + 1}"] is None) == wide, where
                wide_seen += wide
                narrow_seen += not wide
    if CASES:
        assert wide_seen > 20 and narrow_seen > 20 and upper_listed == 5, (wide_seen, narrow_seen, upper_listed)
