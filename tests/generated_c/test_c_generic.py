"""The generic device end to end: sections and params given at run time, in C (ASan/UBSan) and Python alike.

`schemas/devices/generic.yaml` fixes neither which sections a device has nor
their params: the caller's config says both. Two device instances are driven
here, as vfio-pci would meet them:

* MSI_X_ONLY: nothing but MSI-X, at 64 vectors (table_size 63);
* MSI_SRIOV: the header with 64-bit BARs in slots 0 and 2, MSI and SR-IOV
  with a 64-bit VF BAR 0 (the pairing follows each BAR's type bits).

For each: Python save -> C load -> C save is byte-equal; the C capture of a
config-space image, its derived descriptor and save match the Python's; the
device restore makes the same writes. A blob carrying a section the target
lacks, or lacking a required one it has, is refused by both, with the same
section, field and offset, before anything is stored.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from harness import COMPILERS, Answer, build, config_spec, device_command, lock, python_device, run

from vfiogen.backends.c.emit import STATUSES
from vfiogen_state import generic, msix
from vfiogen_state._runtime import LoadError, MigrationRefused

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generated_python"))
from nic_example import valid_state  # noqa: E402

MSI_X_ONLY: dict[str, Any] = {"present": ["msix"], "params": {}}
MSI_SRIOV: dict[str, Any] = {"present": ["header", "msi", "sriov"], "params": {}}
BASES = {"rebar": 0x100, "header": 0, "msi": 0x50, "msix": 0x70, "sriov": 0x160}
ORDER = ("rebar", "header", "msi", "msix", "sriov")
STATUS = dict(STATUSES)  # what the driver prints for a status: its meaning


def config(spec: dict[str, Any]) -> generic.GenericConfig:
    present = 0
    for name in spec["present"]:
        present |= getattr(generic, f"HAS_{name.upper()}")
    return generic.GenericConfig(present=present, params=generic.GenericParams())


def state_of(spec: dict[str, Any]) -> generic.GenericState:
    """A valid state of the instance: example_nic's sections, MSI-X grown to 64 vectors."""
    nic = valid_state()
    state = generic.GenericState(header=nic.header, msi=nic.msi, sriov=nic.sriov)
    x = msix.MsixState()
    x.control.table_size = 63
    x.control.enable = True
    x.table.bir, x.table.offset = 2, 0
    x.pba.bir, x.pba.offset = 2, 0x800 >> 3
    x.vectors = [msix.VectorsEntry(0xFEE00000 + 0x1000 * (i % 4), 0, 0x40 + i, i % 2) for i in range(64)]
    x.pending = [1 << 63 | 1]
    state.msix = x
    assert spec["present"]  # the sections the config leaves out are ignored, whatever they hold
    return state


def host(spec: dict[str, Any]) -> generic.GenericDescriptor:
    """The host-supplied descriptor fields: capability offsets (0 for the sections the device lacks)."""
    d = generic.GenericDescriptor()
    for name in spec["present"]:
        if hasattr(getattr(d, name), "cap_offset"):
            getattr(d, name).cap_offset = BASES[name]
    return d


def blob_of(spec: dict[str, Any]) -> bytes:
    c, state = config(spec), state_of(spec)
    return generic.save(state, generic.derive_descriptor(state, host(spec), c), config=c)


def config_image(spec: dict[str, Any]) -> bytes:
    """Config space as the Python's device restore leaves it (hooks do nothing)."""
    space = bytearray(4096)

    def write(offset: int, value: int, size: int) -> None:
        space[offset:offset + size] = value.to_bytes(size, "little")

    names = {name for s in ORDER for name in getattr(generic, f"_{s}").RESTORE_HOOKS}
    state = state_of(spec)
    generic.restore(state, write, BASES, {n: (lambda _s: None) for n in names}, config(spec))
    # Restore writes no read-only register, but the device has them (TotalVFs, which NumVFs may not exceed;
    # the supported page sizes the system page size must be one of): each section's always-present ones.
    for name in spec["present"]:
        for register in lock()["sections"][name]["registers"]:
            if int(register["masks"]["writable"], 16) == 0 and register["present"] is None:
                value = getattr(getattr(state, name), register["name"])
                write(BASES[name] + register["offsets"][0], value if isinstance(value, int) else value.value(),
                      register["width"] // 8)
    return bytes(space)


@pytest.fixture(scope="module", params=COMPILERS)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(request.param, True, str(tmp_path_factory.mktemp("generic")))


@pytest.mark.parametrize("spec", [MSI_X_ONLY, MSI_SRIOV], ids=["msix-only", "msi-sriov"])
def test_python_save_c_load_c_save_is_byte_equal(driver: Path, spec: dict[str, Any]) -> None:
    blob = blob_of(spec)
    [answer] = run(driver, [device_command("generic", blob, spec)])
    assert answer == Answer(True, blob.hex()), answer
    assert python_device("generic", blob, spec) == Answer(True, blob.hex())
    # The config decides what is on the wire: the two instances share no section frame.
    state, _ = generic.load(blob, config=config(spec))
    assert (state.msix.control.table_size == 63) == ("msix" in spec["present"])


def test_the_two_instances_differ_on_the_wire() -> None:
    only, both = blob_of(MSI_X_ONLY), blob_of(MSI_SRIOV)
    assert int.from_bytes(only[6:8], "big") == 1 and int.from_bytes(both[6:8], "big") == 3
    assert len(only) != len(both)


@pytest.mark.parametrize("spec", [MSI_X_ONLY, MSI_SRIOV], ids=["msix-only", "msi-sriov"])
def test_capture_derive_and_restore_agree(driver: Path, spec: dict[str, Any]) -> None:
    image = config_image(spec)
    c = config(spec)
    captured = generic.capture(lambda o, n: int.from_bytes(image[o:o + n], "little"), BASES, c)
    # Capture reads registers only: the emulation state is the C caller's (zeroed by init here), and the
    # Python's starts at its defaults, so the vector table takes the length the captured control gives it.
    captured.msix.vectors = [msix.VectorsEntry() for _ in range(captured.msix.control.table_size + 1)]
    captured.msix.pending = [0] * ((captured.msix.control.table_size + 64) // 64)
    want = generic.save(captured, generic.derive_descriptor(captured, generic.GenericDescriptor(), c), config=c)
    bases = ",".join(str(BASES[s]) for s in ORDER)
    blob = blob_of(spec)
    writes: list[str] = []
    names = {name for s in ORDER for name in getattr(generic, f"_{s}").RESTORE_HOOKS}
    owner = {name: s for s in ORDER for name in getattr(generic, f"_{s}").RESTORE_HOOKS}
    loaded, _ = generic.load(blob, config=c)
    generic.restore(loaded, lambda o, v, w: writes.append(f"{o}:{v}:{w}"), BASES,
                    {n: (lambda _s, n=n: writes.append(f"hook:{owner[n]}.{n}")) for n in names}, c)
    got_capture, got_restore = run(driver, [f"devcapture generic {config_spec('generic', spec)} {bases} {image.hex()}",
                                            f"devrestore generic {blob.hex()} {bases} - {config_spec('generic', spec)}"])
    assert got_capture == Answer(True, want.hex()), got_capture
    assert got_restore == Answer(True, ";".join(writes)), got_restore
    # Only the present sections' registers are written.
    touched = {int(w.split(":")[0]) for w in writes if not w.startswith("hook:")}
    assert (0x04 in touched) == ("header" in spec["present"])          # the header's command register
    assert ((0x70 + 2) in touched) == ("msix" in spec["present"])      # MSI-X message control


def _python_refusal(blob: bytes, spec: dict[str, Any]) -> tuple[str, str, int]:
    with pytest.raises(LoadError) as caught:
        generic.load(blob, config=config(spec))
    return caught.value.section, caught.value.field, caught.value.offset


def test_a_section_the_target_lacks_is_refused(driver: Path) -> None:
    # The source has header, MSI and SR-IOV; the target has header and SR-IOV only. msi.yaml requires MSI on the
    # target (`require: present`): the migration is refused at the descriptor, with the schema's reason.
    blob = blob_of(MSI_SRIOV)
    target = {"present": ["header", "sriov"], "params": MSI_SRIOV["params"]}
    with pytest.raises(MigrationRefused) as caught:
        generic.load(blob, config=config(target))
    assert [str(f) for f in caught.value.failures] == ["msi: the target has no MSI capability"]
    assert (caught.value.section, caught.value.field, caught.value.offset) == ("generic", "descriptor", 20)
    [answer] = run(driver, [device_command("generic", blob, target)])
    assert (answer.ok, answer.section, answer.field, answer.offset) == (False, "generic", "descriptor", 20)
    assert answer.status == STATUS["VFG_ERR_INCOMPATIBLE"] and answer.untouched
    assert answer.message == "the target has no MSI capability"


def test_a_required_section_the_source_lacks_is_refused(driver: Path) -> None:
    # The source has MSI-X only; the target has MSI-X and the header, which the device requires.
    blob = blob_of(MSI_X_ONLY)
    target = {"present": ["header", "msix"], "params": {}}
    with pytest.raises(MigrationRefused) as caught:
        generic.load(blob, config=config(target))
    assert [(f.section, f.rule) for f in caught.value.failures] == [("header", "present")]
    [answer] = run(driver, [device_command("generic", blob, target)])
    assert (answer.ok, answer.section, answer.field, answer.offset) == (False, "generic", "descriptor", 20)
    assert answer.status == STATUS["VFG_ERR_INCOMPATIBLE"] and answer.untouched
    assert answer.message == "the source has no section header, which the target requires"


def test_a_frame_the_descriptor_does_not_announce_is_refused(driver: Path) -> None:
    # A blob saved for MSI-X and the header, with the header's descriptor record cut out: the descriptor then
    # agrees with an MSI-X-only target, but the header's frame still arrives, and is refused, not skipped.
    c = config({"present": ["header", "msix"], "params": {}})
    state = state_of(MSI_X_ONLY)
    state.header.bar0.mem_type = state.header.bar0.mem_type.MEM32
    state.header.bar1_upper = state.header.bar3_upper = 0
    state.header.bar2.mem_type = state.header.bar2.mem_type.MEM32
    blob = generic.save(state, generic.derive_descriptor(state, host(MSI_X_ONLY), c), config=c)
    rt = generic._runtime
    head = rt.read_frame(blob, rt.HEADER.size, "t")
    records = blob[head.start:head.end]
    size = rt.RECORD.size + rt.RECORD.unpack_from(records, 0)[1]
    assert rt.RECORD.unpack_from(records, 0)[0] == generic._header.SECTION_ID
    spliced = (blob[:rt.HEADER.size] + rt.frame(rt.DESCRIPTOR_ID, rt.FORMAT_VERSION, True, records[size:])
               + blob[head.end + rt.CRC.size:])
    section, field, offset = _python_refusal(spliced, MSI_X_ONLY)
    assert (section, field) == ("generic", "header")
    [answer] = run(driver, [device_command("generic", spliced, MSI_X_ONLY)])
    assert (answer.ok, answer.section, answer.field, answer.offset) == (False, section, field, offset)
    assert answer.status == STATUS["VFG_ERR_ABSENT_SECTION"] and answer.untouched


def test_a_generic_device_needs_a_config() -> None:
    with pytest.raises(ValueError, match="needs the caller's config"):
        generic.load(blob_of(MSI_X_ONLY))
    with pytest.raises(ValueError, match="names no section"):
        generic.save(generic.GenericState(), generic.GenericDescriptor(),
                     config=generic.GenericConfig(present=generic.ALL_SECTIONS + 1))
