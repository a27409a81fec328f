"""`reserved_when`, end to end on the PCI Express capability, in both languages.

schemas/sections/pcie.yaml reserves, by what the function is (PCIe Base spec, Device Control and Link
Control registers):

* Device Control bit 15 (`initiate_flr`) unless the function reports FLR capability (it is then Initiate
  Function Level Reset) or is a PCIe to PCI/PCI-X bridge (Bridge Configuration Retry Enable);
* Link Control bits 4 and 5 (Link Disable, Retrain Link) on Endpoints, Legacy Endpoints, Upstream Ports and
  PCIe to PCI/PCI-X bridges: only a port with a link below it has them.

Each function below is a config space whose capability has all three bits set, as a hostile or broken
device could return them. Expected values are written from that table by hand, not from the schema. For each
function the generated Python and the generated C (ASan/UBSan) must capture the same payload, with the
reserved bits dropped; derive the same descriptor, whose write mask leaves them out; refuse the same payload
with one of them set, naming the field; and restore Device Control with bit 15 as saved on a bridge only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import COMPILERS, build, run

from vfiogen_state import pcie

BASE = 0x40
DEVCTL, LNKCTL = 0x08, 0x10
FLR_CAPABLE = 1 << 28  # Device Capabilities: Function Level Reset Capability
ENDPOINT, LEGACY_ENDPOINT, ROOT_PORT, UPSTREAM, DOWNSTREAM, PCIE_TO_PCI, PCI_TO_PCIE = 0, 1, 4, 5, 6, 7, 8
INITIATE_FLR, LINK_DISABLE, RETRAIN_LINK = 1 << 15, 1 << 4, 1 << 5

# name: (Device/Port Type, FLR capable, DevCtl bit 15 kept, LnkCtl bits 4 and 5 kept)
FUNCTIONS = {
    "endpoint": (ENDPOINT, False, False, False),
    "endpoint with FLR": (ENDPOINT, True, True, False),
    "legacy endpoint": (LEGACY_ENDPOINT, False, False, False),
    "root port": (ROOT_PORT, False, False, True),
    "upstream port": (UPSTREAM, False, False, False),
    "downstream port": (DOWNSTREAM, False, False, True),
    "PCIe to PCI bridge": (PCIE_TO_PCI, False, True, False),
    "PCI to PCIe bridge": (PCI_TO_PCIE, False, False, True),
}


def _config(port_type: int, flr: bool) -> bytes:
    """256 bytes of config space with a version 1 PCI Express capability at BASE: Device Control MaxPayload
    and MaxReadReq 128 bytes plus bit 15, Link Control with Common Clock and bits 4 and 5."""
    config = bytearray(256)
    config[BASE] = 0x10
    config[BASE + 2:BASE + 4] = (1 | port_type << 4).to_bytes(2, "little")
    config[BASE + 4:BASE + 8] = (FLR_CAPABLE if flr else 0).to_bytes(4, "little")
    config[BASE + DEVCTL:BASE + DEVCTL + 2] = (INITIATE_FLR | 0x0001).to_bytes(2, "little")
    config[BASE + LNKCTL:BASE + LNKCTL + 2] = (LINK_DISABLE | RETRAIN_LINK | 0x0040).to_bytes(2, "little")
    return bytes(config)


def _capture(config: bytes) -> pcie.PcieState:
    return pcie.capture(lambda offset, size: int.from_bytes(config[offset:offset + size], "little"), BASE)


def _writes(state: pcie.PcieState) -> str:
    """The Python restore's writes as the driver prints them (`offset:value:size`, `;` between)."""
    writes: list[str] = []
    pcie.restore(state, lambda offset, value, size: writes.append(f"{offset}:{value}:{size}"), BASE)
    return ";".join(writes)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_python_capture_drops_what_the_function_reserves(name: str) -> None:
    port_type, flr, flr_kept, link_kept = FUNCTIONS[name]
    state = _capture(_config(port_type, flr))
    assert state.devctl.value() == (INITIATE_FLR if flr_kept else 0) | 0x0001
    assert state.lnkctl.value() == ((LINK_DISABLE | RETRAIN_LINK) if link_kept else 0) | 0x0040
    assert pcie.validate(state) == []
    assert pcie.load(pcie.save(state)) == state


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_python_write_mask_leaves_out_the_reserved_bits(name: str) -> None:
    port_type, flr, flr_kept, link_kept = FUNCTIONS[name]
    descriptor = pcie.derive_descriptor(_capture(_config(port_type, flr)), cap_offset=BASE)
    masks = dict(zip(pcie.MASKED_REGISTERS, descriptor.write_masks, strict=True))
    assert masks["devctl"] & INITIATE_FLR == (INITIATE_FLR if flr_kept else 0)
    assert masks["lnkctl"] & (LINK_DISABLE | RETRAIN_LINK) == ((LINK_DISABLE | RETRAIN_LINK) if link_kept else 0)
    # The bits no port type reserves stay writable on every one of them.
    assert masks["devctl"] & 0x7fff == 0x7fff and masks["lnkctl"] & 0xffcf == 0xffcf


def _moved_to_an_endpoint() -> tuple[pcie.PcieState, bytes]:
    """A downstream port's state with Link Disable and Retrain Link set, its port type made an endpoint's; and
    the payload a save would give it (the port's payload with the type patched: pcie_caps is its first two
    bytes, big-endian, the type in bits 7:4)."""
    state = _capture(_config(DOWNSTREAM, False))
    payload = bytearray(pcie.save(state))
    payload[1] = payload[1] & 0x0F | ENDPOINT << 4
    state.pcie_caps = pcie.PcieCapsRegister.from_value(state.pcie_caps.value() & ~0xf0 | ENDPOINT << 4)
    return state, bytes(payload)


def test_python_load_save_and_validate_refuse_a_reserved_bit_set() -> None:
    """A downstream port's Link Disable, moved to an endpoint: load refuses the payload; save and validate
    refuse the state."""
    state, payload = _moved_to_an_endpoint()
    with pytest.raises(pcie.LoadError) as refused:
        pcie.load(payload)
    assert (refused.value.section, refused.value.field, refused.value.offset) == ("pcie", "lnkctl.link_disable", 0)
    assert "reserved" in refused.value.reason
    with pytest.raises(pcie.SaveError) as unsaved:
        pcie.save(state)
    assert (unsaved.value.section, unsaved.value.field) == ("pcie", "lnkctl.link_disable")
    assert [p.field for p in pcie.validate(state)] == ["lnkctl.link_disable", "lnkctl.retrain_link"]


@pytest.fixture(scope="module", params=COMPILERS)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(request.param, True, str(tmp_path_factory.mktemp("reserved_when")))


def test_c_captures_derives_and_restores_as_python_does(driver: Path) -> None:
    commands, expected = [], []
    for name in sorted(FUNCTIONS):
        port_type, flr, flr_kept, _ = FUNCTIONS[name]
        config = _config(port_type, flr)
        state = _capture(config)
        payload = pcie.save(state)
        descriptor = pcie.derive_descriptor(state, cap_offset=0)  # the driver leaves host fields 0
        commands += [f"capture pcie - {BASE} {config.hex()}", f"derive pcie - {payload.hex()}",
                     f"restore pcie - {BASE} {payload.hex()}"]
        expected += [payload.hex(), pcie.pack_descriptor(descriptor).hex(), _writes(state)]
        # Restore writes Device Control bit 15 as saved on the bridge only; never starts an FLR.
        devctl = next(w for w in _writes(state).split(";") if w.startswith(f"{BASE + DEVCTL}:"))
        assert int(devctl.split(":")[1]) & INITIATE_FLR == (INITIATE_FLR if flr_kept and not flr else 0), name
    answers = run(driver, commands)
    for command, answer, want in zip(commands, answers, expected, strict=True):
        assert answer.ok, (command[:40], answer)
        assert answer.payload == want, command[:40]


def test_c_refuses_a_reserved_bit_set_as_python_does(driver: Path) -> None:
    _, payload = _moved_to_an_endpoint()
    [answer] = run(driver, [f"load pcie 1 - {payload.hex()}"])
    assert not answer.ok
    assert (answer.section, answer.field, answer.offset, answer.status) == (
        "pcie", "lnkctl.link_disable", 0, "reserved bits set")
    assert answer.untouched
