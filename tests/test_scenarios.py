"""The upstream review's objections, each a scenario run end to end in Python and in C with the same outcome.

The migrations start from a real function, the Intel 82576 (8086:10c9) of pciutils' cap-pcie-2 dump, which has
MSI at 0x50, MSI-X at 0x70 (10 vectors) and SR-IOV at 0x160: the generic device captures it as vfio-pci would
(sections and params learned from the dump), derives its descriptor (capability offsets from the walk), saves,
and the target loads with its own descriptor, derived the same way from its own (possibly edited) dump. The
restore scenarios run the example NIC on the simulated function (tests/simdev.py and its C twin) and assert on the
write log. The IGD-style emulated register that a target's build does not support is tests/test_hv_schemas.py
(a build of the library with a hypervisor's own section, in both languages). The repeated vendor-specific
capability is pciutils' cap-vendor-virtio function, whose five instances the generic device carries.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import GENERATED, ROOT
from simdev_runs import BASES, VECTORS, build_twin, nic_state, python_run, saved_blob, twin_run

sys.path.insert(0, str(ROOT / "tests" / "generated_c"))
sys.path.insert(0, str(ROOT / "tests" / "generated_python"))
from harness import COMPILERS, build, config_spec, descriptor_records, failures_of, python_config, python_failures, run, with_mask  # noqa: E402,I001
from test_pciutils_capture import DATA, MISSING  # noqa: E402

from vfiogen.backends.c.emit import STATUSES  # noqa: E402
from vfiogen.configspace.chain import walk_extended, walk_standard  # noqa: E402
from vfiogen.configspace.dump import Function, parse_text  # noqa: E402
from vfiogen_state import example_nic, generic  # noqa: E402
from vfiogen_state import header as header_module  # noqa: E402
from vfiogen_state import msix as msix_module  # noqa: E402
from vfiogen_state import sriov as sriov_module  # noqa: E402
from vfiogen_state import vendor_specific  # noqa: E402
from vfiogen_state._runtime import MigrationRefused  # noqa: E402

DUMP, SLOT = DATA / "cap-pcie-2.lspci-xxxx.txt", "0000:01:00.0"
SECTION_OF = {("cap", 0x05): "msi", ("cap", 0x11): "msix", ("ecap", 0x0010): "sriov", ("ecap", 0x0015): "rebar"}

pytestmark = pytest.mark.skipif(not DUMP.is_file(), reason=MISSING)


def real_config() -> bytearray:
    function = next(f for f in parse_text(DUMP.read_text("utf-8", errors="replace"), str(DUMP)) if f.address == SLOT)
    return bytearray(function.config)


def learn(config: bytes) -> tuple[dict[str, Any], dict[str, int]]:
    """The generic device's config (sections present) and bases of a function, as vfio-pci learns them."""
    function = Function(SLOT, "edited", bytes(config))
    bases = {"header": 0}
    for cap in walk_standard(function).caps + walk_extended(function).caps:
        name = SECTION_OF.get((cap.kind, cap.id))
        if name is not None:
            bases[name] = cap.offset
    # No params: the BARs pair by their type bits, which the capture reads from the dump.
    return {"present": [n for n in ("rebar", "header", "msi", "msix", "sriov") if n in bases]}, bases


def side(config: bytes) -> tuple[Any, Any, Any]:
    """(state, descriptor, generic config) of the function in `config`, captured and derived as a hypervisor does."""
    spec, bases = learn(config)
    cfg = python_config("generic", spec)
    state = generic.capture(lambda offset, size: int.from_bytes(config[offset:offset + size], "little"), bases,
                            config=cfg)
    # The MSI-X table is the hypervisor's emulation state, not config space: it holds what the guest programmed.
    vectors = state.msix.control.table_size + 1
    state.msix.vectors = [type(state.msix.vectors[0])(address_lo=0xFEE00000 | (i << 12), address_hi=0,
                                                      data=0x4100 + i, vector_control=0) for i in range(vectors)]
    state.msix.pending = [0] * ((vectors + 63) // 64)
    host = generic.GenericDescriptor(present=cfg.present)
    for name in ("msi", "msix", "sriov", "rebar"):
        if name in bases:
            getattr(host, name).cap_offset = bases[name]
    return state, generic.derive_descriptor(state, host, config=cfg), cfg


@pytest.fixture(scope="module", params=COMPILERS)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(request.param, True, str(tmp_path_factory.mktemp("scenarios")))


def migrate(driver: Path, target_config: bytes) -> tuple[list[tuple[str, str, str, str]], Any]:
    """Save the real function, load it on a target built from `target_config`, in Python and in C. Both must agree;
    returns the reasons (section, rule, field, text) and the Python's loaded state (None when refused)."""
    state, descriptor, cfg = side(real_config())
    blob = generic.save(state, descriptor, config=cfg)
    _, target, target_cfg = side(target_config)
    spec, _ = learn(target_config)
    try:
        loaded, _ = generic.load(blob, config=target_cfg, target=target)
        python, resaved = [], generic.save(loaded, target, config=target_cfg).hex()
    except MigrationRefused as refusal:
        python, loaded, resaved = python_failures(refusal.failures), None, ""
    (answer,) = run(driver, [f"migrate generic {blob.hex()} {descriptor_records('generic', target).hex()} "
                             f"{config_spec('generic', spec)}"])
    assert failures_of(answer.extra) == python
    if python:
        assert not answer.ok and answer.status == dict(STATUSES)["VFG_ERR_INCOMPATIBLE"] and answer.untouched
        assert (answer.section, answer.field) == ("generic", "descriptor")
    else:
        # The C's load saves what the Python's does: the target's own descriptor with the source's state.
        assert answer.ok
        state_c = generic.load(bytes.fromhex(answer.payload), config=target_cfg)[0]
        assert state_c == loaded and resaved
    return python, loaded


def _texts(reasons: list[tuple[str, str, str, str]]) -> list[str]:
    return [row[3] for row in reasons]


def test_the_same_device_migrates_to_itself_from_a_real_dump(driver: Path) -> None:
    reasons, loaded = migrate(driver, real_config())
    assert reasons == [] and loaded == side(real_config())[0]


def test_migration_to_a_device_without_msi_is_refused(driver: Path) -> None:
    config = real_config()
    assert config[0x41] == 0x50 and config[0x51] == 0x70  # PM -> MSI -> MSI-X in the dump
    config[0x41] = 0x70  # the target's list skips MSI: PM -> MSI-X
    assert _texts(migrate(driver, config)[0]) == ["msi: the target has no MSI capability"]


def test_msi_at_another_offset_is_refused(driver: Path) -> None:
    config = real_config()
    # MSI (64-bit with per-vector masking: 24 bytes) moved to 0x80, between MSI-X (0x70..0x7b) and PCI Express
    # (0xa0), where the dump holds zeros; PM's next pointer follows it.
    assert not any(config[0x80:0xA0])
    config[0x80:0x98] = config[0x50:0x68]
    config[0x50:0x68] = bytes(24)
    config[0x41] = 0x80
    assert _texts(migrate(driver, config)[0]) == [
        "msi: the target's MSI capability sits at another offset (equal cap_offset: source 0x50, target 0x80)"]


def test_a_different_msix_table_size_is_refused(driver: Path) -> None:
    config = real_config()
    control = int.from_bytes(config[0x72:0x74], "little")
    assert control & 0x7FF == 9  # 10 vectors, as lspci says ("Count=10")
    config[0x72:0x74] = ((control & ~0x7FF) | 15).to_bytes(2, "little")
    assert _texts(migrate(driver, config)[0]) == [
        "msix: the target's MSI-X table has another size; the guest sized its vectors by it "
        "(equal table_size: source 0x9, target 0xf)"]


def test_emulated_bits_or_a_write_mask_differing_on_the_target_are_refused_with_both_masks(driver: Path) -> None:
    """The target's build passes the ROM BAR through (no emulated bits) and lets the guest write MSI-X control's
    enable only: both differences are refused, each with both masks, in both languages."""
    state, descriptor, cfg = side(real_config())
    blob = generic.save(state, descriptor, config=cfg)
    _, target, _ = side(real_config())
    target.header = with_mask(header_module, target.header, "emulated_masks", "rom_base", 0)
    target.msix = with_mask(msix_module, target.msix, "write_masks", "control", 0x8000)
    with pytest.raises(MigrationRefused) as caught:
        generic.load(blob, config=cfg, target=target)
    python = python_failures(caught.value.failures)
    spec, _ = learn(real_config())
    (answer,) = run(driver, [f"migrate generic {blob.hex()} {descriptor_records('generic', target).hex()} "
                             f"{config_spec('generic', spec)}"])
    assert not answer.ok and answer.untouched and failures_of(answer.extra) == python
    assert _texts(python) == [
        "header: the hypervisor emulates other bits of register rom_base of Type-0 configuration header "
        "(section header) on the target (equal emulated_rom_base: source 0xfffff8ff, target 0x0)",
        "msix: the guest may write other bits of register control of MSI-X (section msix) on the target "
        "(equal wmask_control: source 0xc000, target 0x8000)"]


VIRTIO = DATA / "cap-vendor-virtio.lspci-xxxx.txt"


def _virtio_side(config: bytes, offsets: list[int]) -> tuple[Any, Any, dict[str, Any]]:
    """(state, descriptor, config spec) of the virtio function's vendor-specific instances, as vfio-pci learns
    them: the instances in capability-list order, each at its own offset."""
    spec = {"present": ["vendor_specific"], "instances": {"vendor_specific": len(offsets)}}
    cfg = python_config("generic", spec)
    state = generic.capture(lambda offset, size: int.from_bytes(config[offset:offset + size], "little"),
                            {"vendor_specific": offsets}, config=cfg)
    host = generic.GenericDescriptor(present=cfg.present)
    host.vendor_specific = [vendor_specific.VendorSpecificDescriptor(cap_offset=o) for o in offsets]
    return state, generic.derive_descriptor(state, host, config=cfg), spec


def test_a_repeated_vendor_specific_capability_differing_on_the_target_is_refused_naming_the_instance(
        driver: Path) -> None:
    """A virtio function (pciutils cap-vendor-virtio: five vendor-specific capabilities, one per virtio
    structure) migrates to itself; to a target whose DeviceCfg window (instance 3, the fourth in the list) sits at
    another BAR offset, it is refused by the Python and the C alike, the reason naming the instance."""
    function = next(f for f in parse_text(VIRTIO.read_text("utf-8", errors="replace"), str(VIRTIO))
                    if f.address.endswith("00:04.0"))  # virtio-fs: CommonCfg, ISR, Notify, DeviceCfg and one more
    source_config = bytes(function.config)
    offsets = [cap.offset for cap in walk_standard(function).caps if cap.id == 0x09]
    assert offsets == [0x4C, 0x5C, 0x6C, 0x80, 0x90]  # as lspci lists them
    state, descriptor, spec = _virtio_side(source_config, offsets)
    cfg = python_config("generic", spec)
    blob = generic.save(state, descriptor, config=cfg)
    edited = bytearray(source_config)
    edited[offsets[3] + 9] ^= 0x40  # bit 14 of the window's offset (virtio_pci_cap bytes 8..11, little-endian)
    for target_config, want in ((source_config, []),
                                (bytes(edited), [("vendor_specific[3]", "equal", "vendor")])):
        _, target, _ = _virtio_side(target_config, offsets)
        try:
            generic.load(blob, config=cfg, target=target)
            python: list[tuple[str, str, str, str]] = []
        except MigrationRefused as refusal:
            python = python_failures(refusal.failures)
        assert [row[:3] for row in python] == want
        (answer,) = run(driver, [f"migrate generic {blob.hex()} {descriptor_records('generic', target).hex()} "
                                 f"{config_spec('generic', spec)}"])
        assert failures_of(answer.extra) == python and answer.ok == (not want)
        if want:
            assert answer.untouched and "vendor-specific capability holds another byte (equal vendor at offset 9: " \
                f"source 0x{source_config[offsets[3] + 9]:x}, target 0x{edited[offsets[3] + 9]:x})" in python[0][3]


# --- restore on the simulated function ------------------------------------------------------------------------


@pytest.fixture(scope="module", params=COMPILERS)
def twin(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_twin(request.param, GENERATED, tmp_path_factory.mktemp("twin") / "restore")


def both(twin: Path, blob: bytes) -> Any:
    """The Python's restore of `blob` on the simulated function; the C twin's must log and leave the same."""
    result = python_run(example_nic, blob)
    c = twin_run(twin, blob, result)
    assert (c.log, c.events, c.table) == (result.sim.log, result.sim.events, result.sim.table)
    assert c.readback == result.expected
    return result


def _writes_to(log: list[tuple[int, int, int]], offset: int) -> list[tuple[int, int]]:
    """(index in the log, value) of every write at `offset`."""
    return [(i, value) for i, (at, value, _) in enumerate(log) if at == offset]


@pytest.mark.parametrize("mode", ["intx", "msi"])
def test_the_msix_table_is_saved_in_intx_and_msi_mode_and_restored_intact(twin: Path, mode: str) -> None:
    blob = saved_blob(mode)
    state, _ = example_nic.load(blob)
    assert not state.msix.control.enable and len(state.msix.vectors) == VECTORS
    assert state.msix.vectors == nic_state(mode)[0].msix.vectors  # saved whatever the mode
    result = both(twin, blob)
    assert result.sim.table == [(0xFEE00000 | (i << 12), 0, 0x4000 + i, 0) for i in range(VECTORS)]


def test_restore_writes_the_msix_table_before_the_enable_and_msi_address_and_data_with_enable_off(twin: Path) -> None:
    log = both(twin, saved_blob("msix")).sim
    control = _writes_to(log.log, BASES["msix"] + 2)
    table_at = int(next(e for e in log.events if e.startswith("table@")).split("@")[1])
    # Before the table: MSI-X off with the function masked; after it: control as saved (enabled, unmasked).
    assert [(i < table_at, v & 0xC000) for i, v in control] == [(True, 0x4000), (False, 0x8000)]
    msi = both(twin, saved_blob("msi")).sim.log
    enables = _writes_to(msi, BASES["msi"] + 2)
    message = [i for i, (at, _, _) in enumerate(msi) if BASES["msi"] + 4 <= at < BASES["msi"] + 0x10]
    assert [v & 1 for _, v in enables] == [0, 1] and len(message) == 3  # address_lo, address_hi, data
    assert enables[0][0] < min(message) and max(message) < enables[1][0]


def test_rebar_size_control_is_restored_before_the_bars(twin: Path) -> None:
    log = both(twin, saved_blob("msix")).sim.log
    resize = _writes_to(log, BASES["rebar"] + 8)  # ctrl0: the programmed BAR size
    bars = [i for i, (at, _, _) in enumerate(log) if 0x10 <= at < 0x28]
    assert resize and resize[0][1] & 0x3F00 == 0x0800 and bars and resize[-1][0] < min(bars)


def test_sriov_pf_emulation_state_migrates_through_its_section(twin: Path, driver: Path) -> None:
    state, _ = nic_state("msix")
    state.sriov.sriov_ctrl.vf_enable = True
    state.sriov.num_vfs = 8
    blob = saved_blob("msix", _with_vfs(state, 8))
    loaded, _ = example_nic.load(blob)
    assert (loaded.sriov.num_vfs, loaded.sriov.sriov_ctrl.vf_enable, loaded.sriov.vfs_created) == (8, True, 8)
    assert [v.routing_id for v in loaded.sriov.vfs] == [0x0180 + 2 * i for i in range(8)]
    assert loaded.sriov.vf_user_created and loaded.sriov.vf_msix_counts == [4] * 8
    # The C loads and saves the same emulation state.
    (answer,) = run(driver, [f"device example_nic {blob.hex()}"])
    assert answer.ok and answer.payload == blob.hex()
    # Restore: NumVFs written while VF Enable is clear, then VF Enable, then the VFs re-created, in both languages.
    sim = both(twin, blob).sim
    ctrl = _writes_to(sim.log, BASES["sriov"] + 0x08)
    num_vfs = _writes_to(sim.log, BASES["sriov"] + 0x10)
    assert num_vfs == [(num_vfs[0][0], 8)] and [v & 1 for _, v in ctrl] == [0, 0, 1]
    assert ctrl[0][0] < num_vfs[0][0] < ctrl[1][0] < ctrl[2][0]
    assert sim.events[-1] == f"vfs@{len(sim.log)}"
    assert sim.read_config(BASES["sriov"] + 0x10, 2) == 8 and sim.read_config(BASES["sriov"] + 0x08, 2) & 1


def _with_vfs(state: Any, count: int) -> Any:
    """`state` with `count` instantiated VFs (routing IDs from the PF's first VF offset and stride), created by the
    management stack and given 4 MSI-X vectors each."""
    sriov = state.sriov
    sriov.vfs_created = count
    sriov.vfs = [sriov_module.VfsEntry(routing_id=0x0180 + 2 * i, cookie=bytes([i]) * 16) for i in range(count)]
    sriov.vf_user_created = True
    sriov.vf_msix_counts = [4] * count
    return state
