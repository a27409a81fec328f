"""Repeated sections in C (gcc and clang, ASan/UBSan) against the Python: the vendor-specific capabilities of the
pciutils dumps, every instance of each function through the generic device.

For each function with vendor-specific capabilities: the C device capture of its config space (bases one per
instance, in list order), derive and save give the Python's blob byte for byte; the C load and save of that blob
give it back; and a migration to a target whose instance differs in one byte, or that has one instance fewer,
is refused by both with the same failures, the instance named (`vendor_specific[3]`), nothing stored.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from harness import (COMPILERS, Answer, build, config_spec, descriptor_records, device_command, failures_of,
                     hex_or_dash, python_failures, run)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import SHARED_DATA  # noqa: E402

from vfiogen.configspace.chain import capabilities  # noqa: E402
from vfiogen.configspace.dump import Function, read_dump  # noqa: E402
from vfiogen.backends.c.emit import STATUSES as C_STATUSES  # noqa: E402
from vfiogen.wire.format import crc32c  # noqa: E402
from vfiogen_state import generic  # noqa: E402
from vfiogen_state import vendor_specific as vs  # noqa: E402
from vfiogen_state._runtime import LoadError, MigrationRefused  # noqa: E402

DATA = SHARED_DATA / "pciutils"
ORDER = ("rebar", "header", "msi", "msix", "sriov", "vendor_specific")


def _functions() -> list[tuple[str, Function, list[int]]]:
    """Every function of the dumps with vendor-specific capabilities that fit standard space, and their offsets."""
    found = []
    for path in sorted(DATA.glob("*.lspci-xxxx.txt")) if DATA.is_dir() else []:
        for function in read_dump(path):
            offsets = [c.offset for c in capabilities(function)[0] if c.kind == "cap" and c.id == 0x09]
            if offsets and all(function.config[o + 2] <= 192 for o in offsets):
                found.append((path.name.removesuffix(".lspci-xxxx.txt"), function, offsets))
    return found


FUNCTIONS = _functions()
needs_data = pytest.mark.skipif(not FUNCTIONS, reason=f"no pciutils dumps with vendor-specific capabilities at {DATA}")


@pytest.fixture(scope="module", params=COMPILERS)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(request.param, True, str(tmp_path_factory.mktemp("instances")))


def _spec(count: int) -> dict[str, Any]:
    return {"present": ["vendor_specific"], "params": {}, "instances": {"vendor_specific": count}}


def _python_blob(function: Function, offsets: list[int]) -> tuple[bytes, Any, Any]:
    """The Python's capture, descriptor over zeroed host fields (as the driver derives it) and blob."""
    c = generic.GenericConfig(present=generic.HAS_VENDOR_SPECIFIC)
    c.instances.vendor_specific = len(offsets)
    read = lambda o, n: int.from_bytes(function.config[o:o + n], "little")  # noqa: E731
    state = generic.capture(read, {"vendor_specific": offsets}, c)
    host = generic.GenericDescriptor(present=c.present,
                                     vendor_specific=[vs.VendorSpecificDescriptor() for _ in offsets])
    descriptor = generic.derive_descriptor(state, host, c)
    return generic.save(state, descriptor, config=c), descriptor, c


@needs_data
def test_capture_and_load_agree_on_every_instance(driver: Path) -> None:
    assert len(FUNCTIONS) >= 5 and max(len(o) for _, _, o in FUNCTIONS) == 5
    commands, wanted = [], []
    for _case, function, offsets in FUNCTIONS:
        blob, _, _ = _python_blob(function, offsets)
        spec = _spec(len(offsets))
        bases = ",".join(["0"] * (len(ORDER) - 1) + ["/".join(str(o) for o in offsets)])
        image = function.config + bytes(4096 - len(function.config))
        commands.append(f"devcapture generic {config_spec('generic', spec)} {bases} {image.hex()}")
        commands.append(device_command("generic", blob, spec))
        wanted += [Answer(True, blob.hex()), Answer(True, blob.hex())]
    answers = run(driver, commands)
    wrong = [f"{FUNCTIONS[i // 2][0]} {FUNCTIONS[i // 2][1].address} {commands[i].split()[0]}: {got.key}"
             for i, (got, want) in enumerate(zip(answers, wanted, strict=True)) if got.key != want.key]
    assert not wrong, "\n".join(wrong)


@needs_data
def test_a_differing_or_missing_instance_is_refused_by_both_naming_it(driver: Path) -> None:
    _case, function, offsets = next(f for f in FUNCTIONS if len(f[2]) == 5)
    blob, descriptor, c = _python_blob(function, offsets)
    differs = generic.GenericDescriptor(present=c.present, vendor_specific=[
        vs.unpack_descriptor(packed, 0, len(packed))
        for packed in (vs.pack_descriptor(d) for d in descriptor.vendor_specific)])
    fewer = generic.GenericDescriptor(present=c.present, vendor_specific=descriptor.vendor_specific[:4])
    vendor = bytearray(differs.vendor_specific[3].vendor)
    vendor[8 - 3] ^= 0x40  # byte 8 of the capability, byte 5 of the byte string
    differs.vendor_specific[3].vendor = bytes(vendor)
    for target, count, expected in ((differs, 5, [("vendor_specific[3]", "equal", "vendor")]),
                                    (fewer, 4, [("vendor_specific[4]", "present", "")])):
        spec = _spec(count)
        target_config = generic.GenericConfig(present=c.present)
        target_config.instances.vendor_specific = count
        with pytest.raises(MigrationRefused) as caught:
            generic.load(blob, config=target_config, target=target)
        want = python_failures(caught.value.failures)
        assert [row[:3] for row in want] == expected
        if count == 5:  # the reason names the first differing byte by its offset in the capability
            assert " (equal vendor at offset 8: source " in want[0][3], want
        [answer] = run(driver, [f"migrate generic {blob.hex()} {hex_or_dash(descriptor_records('generic', target))} "
                                f"{config_spec('generic', spec)}"])
        assert not answer.ok and answer.untouched and answer.status == "migration refused by a compat rule", answer
        assert failures_of(answer.extra) == want
    # The other way: a source with four instances, a target with five. Both languages give the plan's reason.
    short_blob, _, _ = _python_blob(function, offsets[:4])
    target_config = generic.GenericConfig(present=c.present)
    target_config.instances.vendor_specific = 5
    with pytest.raises(MigrationRefused) as caught:
        generic.load(short_blob, config=target_config, target=descriptor)
    want = python_failures(caught.value.failures)
    assert want == [("vendor_specific[4]", "present", "",
                     "vendor_specific[4]: the source has no instance 4 of section vendor_specific, which the target has")]
    [answer] = run(driver, [f"migrate generic {short_blob.hex()} {descriptor_records('generic', descriptor).hex()} "
                            f"{config_spec('generic', _spec(5))}"])
    assert not answer.ok and answer.untouched and failures_of(answer.extra) == want


# --------------------------------------------------------------------------- a repeated section with hooks

REPEATED = """\
# Test-only: a repeated capability with pre-save, post-load and restore hooks and a writable register.
section: rep
title: Repeated test capability
id: 0x1021
location:
  capability: {id: 0x09, size: 8, instances: 3}
version: 1
registers:
  r: {offset: 0x04, width: 32, access: rw}
state:
  stamp: {type: u32}
descriptor:
  cap_offset: {type: u8}
compat:
  - {equal: cap_offset, reason: "another offset"}
hooks:
  pre_save: [stamp_it]
  post_load: [rebuilt]
restore:
  - {hook: before_r}
  - r
"""
BOARD = """\
# Test-only: a device (not generic) whose built-in config has two instances of `rep`.
device: board
title: Board
sections:
  - use: rep
    instances: 2
"""


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from conftest import run_cli
    from isolated import import_build

    schemas = tmp_path_factory.mktemp("board_schemas")
    (schemas / "rep.yaml").write_text(REPEATED)
    (schemas / "board.yaml").write_text(BOARD)
    out = tmp_path_factory.mktemp("board_build")
    result = run_cli("build", str(schemas), "-o", str(out))
    assert result.status == 0, result.stderr
    return out, import_build(out / "python")


def test_a_built_in_config_has_the_device_files_instances_and_hooks_run_per_instance(
        board: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out, modules = board
    device, rep = modules["board"], modules["rep"]
    state = device.BoardState()
    assert len(state.rep) == 2 and device.CONFIG.instances.rep == 2  # the device file's `instances: 2`
    state.rep[0].r, state.rep[1].r = 0x11111111, 0x22222222
    calls: list[tuple[str, int]] = []

    def stamp_it(s: Any) -> None:
        s.stamp = s.r & 0xFF
        calls.append(("stamp_it", s.r))

    hooks = {"stamp_it": stamp_it, "rebuilt": lambda s: calls.append(("rebuilt", s.r)),
             "before_r": lambda s: calls.append(("before_r", s.r))}
    descriptor = device.BoardDescriptor()
    descriptor.rep[0].cap_offset, descriptor.rep[1].cap_offset = 0x40, 0x50
    blob = device.save(state, descriptor, hooks=hooks)
    loaded, source = device.load(blob, hooks=hooks, target=descriptor)
    assert [s.stamp for s in loaded.rep] == [0x11, 0x22] and [d.cap_offset for d in source.rep] == [0x40, 0x50]
    writes: list[tuple[int, int, int]] = []
    device.restore(loaded, lambda o, v, n: writes.append((o, v, n)), {"rep": [0x40, 0x50]}, hooks=hooks)
    assert writes == [(0x44, 0x11111111, 4), (0x54, 0x22222222, 4)]
    assert calls == [("stamp_it", 0x11111111), ("stamp_it", 0x22222222), ("rebuilt", 0x11111111),
                     ("rebuilt", 0x22222222), ("before_r", 0x11111111), ("before_r", 0x22222222)]
    assert rep.SECTION_ID == 0x1021

    # The C of the same build: the driver loads the blob with every hook recorded, saves it back, and
    # restores it at two bases; both instances, in order, under the built-in config (NULL).
    driver = build(COMPILERS[0], True, str(tmp_path), generated=str(out))
    hooked, restored = run(driver, [f"hooks board {blob.hex()} -", f"devrestore board {blob.hex()} 64/80 -"])
    assert hooked.ok and hooked.payload == blob.hex(), hooked
    payloads = [rep.save(s, rep.VERSION).hex() for s in loaded.rep]
    assert hooked.extra.split(";") == ["load", f"post_load:rep.rebuilt:{payloads[0]}",
                                       f"post_load:rep.rebuilt:{payloads[1]}", "save",
                                       f"pre_save:rep.stamp_it:{payloads[0]}", f"pre_save:rep.stamp_it:{payloads[1]}"]
    assert restored.ok and restored.payload.split(";") == ["hook:rep.before_r", "68:286331153:4",
                                                           "hook:rep.before_r", "84:572662306:4"], restored


def _crc32c(data: bytes) -> int:
    """CRC-32C bit by bit (not the generated code's): reflected 0x82F63B78, initial and final XOR all ones."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def _framed(section_id: int, flags: int, payload: bytes) -> bytes:
    head = section_id.to_bytes(2, "big") + (1).to_bytes(2, "big") + flags.to_bytes(4, "big") + len(payload).to_bytes(4, "big")
    return head + payload + _crc32c(head + payload).to_bytes(4, "big")


def _vector_blob(name: str) -> bytes:
    import yaml

    case = yaml.safe_load((Path(__file__).resolve().parents[1] / "vectors/devices/generic" / f"{name}.yaml")
                          .read_text("utf-8"))
    return bytes.fromhex("".join("".join(line.split()) for line in case["hex"]))


def test_hostile_instance_counts_and_flags_are_refused_alike(driver: Path) -> None:
    # cap_offset, length, 189 vendor bytes, then min_version and max_version (1..1) and mask_registers (1:
    # cap_length), and no mask entry (nothing is writable or emulated)
    record = (0x0009).to_bytes(2, "big") + (197).to_bytes(2, "big") + bytes([0x40, 3]) + bytes(189) + b"\0\1\0\1\0\1"
    # 17 descriptor records of a section with at most 16 instances: refused at the 17th, before any frame
    many = b"VFGS" + (1).to_bytes(2, "big") + (0).to_bytes(2, "big") + _framed(0, 1, record * 17)
    # a frame of the header (not repeated) that says instance 1, to a device that has no section
    header = b"VFGS" + (1).to_bytes(2, "big") + (1).to_bytes(2, "big") + _framed(0, 1, b"") + _framed(1, 0x101, b"")
    # the shared two-instance vector with its second frame saying instance 2, which the descriptor does not list
    two = _vector_blob("vendor_specific_two_instances")
    third = two[:0x1C8] + _framed(0x0009, 0x201, two[0x1C8 + 12:0x1C8 + 12 + 14])
    cases = [(many, _spec(16), ("generic", "descriptor.vendor_specific", 20 + 16 * 201)),
             (third, _spec(2), ("generic", "vendor_specific", 0x1C8)),
             (header, {"present": [], "params": {}}, ("generic", "", 24 + 4))]  # no section: no compat refusal
    answers = run(driver, [device_command("generic", blob, spec) for blob, spec, _ in cases])
    for (blob, spec, want), answer in zip(cases, answers, strict=True):
        c = generic.GenericConfig()
        for name in spec["present"]:
            c.present |= getattr(generic, f"HAS_{name.upper()}")
        c.instances.vendor_specific = spec.get("instances", {}).get("vendor_specific", 0)
        with pytest.raises(LoadError) as caught:
            generic.load(blob, config=c)
        assert (caught.value.section, caught.value.field, caught.value.offset) == want
        assert (answer.ok, answer.section, answer.field, answer.offset) == (False, *want) and answer.untouched


# --------------------------------------------------------------------------- the byte-string register `data`


@needs_data
def test_a_length_past_the_byte_strings_max_is_refused_by_both_captures(driver: Path) -> None:
    """tree-asus-p6t6 00:10.0 has a vendor-specific capability at 0x50 whose length byte is 0xff: the byte string
    `data` would hold 252 bytes, more than its max of 189. Both captures refuse it, naming the field and the
    config-space offset of its first byte (0x53), and store nothing."""
    function = next(f for f in read_dump(DATA / "tree-asus-p6t6.lspci-xxxx.txt") if f.address.endswith("00:10.0"))
    offsets = [c.offset for c in capabilities(function)[0] if c.kind == "cap" and c.id == 0x09]
    assert offsets == [0x50] and function.config[0x52] == 0xFF
    c = generic.GenericConfig(present=generic.HAS_VENDOR_SPECIFIC)
    c.instances.vendor_specific = 1
    read = lambda o, n: int.from_bytes(function.config[o:o + n], "little")  # noqa: E731
    with pytest.raises(LoadError) as caught:
        generic.capture(read, {"vendor_specific": offsets}, c)
    assert (caught.value.field, caught.value.offset) == ("data", 0x53)
    image = function.config + bytes(4096 - len(function.config))
    bases = ",".join(["0"] * (len(ORDER) - 1) + ["80"])
    [answer] = run(driver, [f"devcapture generic {config_spec('generic', _spec(1))} {bases} {image.hex()}"])
    assert not answer.ok and (answer.field, answer.offset) == ("data", 0x53), answer
    assert answer.status == dict(C_STATUSES)["VFG_ERR_COUNT"] and answer.untouched, answer


@needs_data
def test_a_descriptor_whose_vendor_bytes_disagree_with_the_frame_is_refused_by_both(driver: Path) -> None:
    """A stream whose descriptor record says other vendor bytes than its frame carries (byte 8 of instance 0's
    capability, a virtio CommonCfg window offset) is refused at load by both languages, naming
    descriptor.vendor: the migration was decided on the record, so the frame may not say otherwise."""
    _case, function, offsets = next(f for f in FUNCTIONS if len(f[2]) == 5)
    blob, descriptor, c = _python_blob(function, offsets)
    edited = bytearray(blob)
    # blob header 8, descriptor frame header 12, record head 4, cap_offset 1 and length 1: vendor byte 0 at 26
    vendor = 8 + 12 + 4 + 2
    assert edited[vendor:vendor + 13] == function.config[offsets[0] + 3:offsets[0] + 16]
    edited[vendor + 8 - 3] ^= 0x40
    length = int.from_bytes(edited[16:20], "big")
    edited[20 + length:24 + length] = crc32c(bytes(edited[8:20 + length])).to_bytes(4, "big")
    with pytest.raises(LoadError) as caught:
        generic.load(bytes(edited), config=c)
    assert (caught.value.section, caught.value.field) == ("vendor_specific[0]", "descriptor.vendor"), caught.value
    [answer] = run(driver, [device_command("generic", bytes(edited), _spec(5))])
    assert not answer.ok and (answer.section, answer.field) == ("vendor_specific[0]", "descriptor.vendor"), answer
    assert answer.status == dict(C_STATUSES)["VFG_ERR_DESCRIPTOR"] and answer.untouched, answer
    assert answer.offset == caught.value.offset, (answer, caught.value)
