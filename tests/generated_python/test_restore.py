"""Restore replays the schema's sequence as (offset, value, size in bytes) writes; capture reads what restore wrote."""

from __future__ import annotations

import pytest
from nic_example import valid_state

from vfiogen_state import example_nic as nic
from vfiogen_state import msi, msix, sriov

Write = tuple[int, int, int]


def recorded(restore_call: object) -> list[Write]:
    writes: list[Write] = []
    assert callable(restore_call)
    restore_call(lambda offset, value, size: writes.append((offset, value, size)))
    return writes


def test_msi_64bit_maskable_restore_order() -> None:
    state = valid_state().msi          # 64-bit, per-vector masking, mmc = 2
    state.control.enable = True
    state.control.mme = 1
    writes = recorded(lambda w: msi.restore(state, w, 0x50))
    control = (1 << 0) | (2 << 1) | (1 << 4) | (1 << 7) | (1 << 8)   # enable, mmc=2, mme=1, addr64, pvm
    assert writes == [
        (0x52, control & ~1, 2),        # control with enable forced to 0
        (0x54, 0xFEE00000, 4),           # address_lo
        (0x58, 0, 4),                    # address_hi (64-bit)
        (0x5C, 0x4021, 2),               # data at 0x0c in the 64-bit shape
        (0x60, 0x2, 4),                  # mask at 0x10
        (0x52, control, 2),              # control as saved: enable last
    ]


def test_msi_32bit_restore_skips_absent_registers_and_moves_data() -> None:
    state = msi.MsiState()
    state.control.enable = True
    state.address_lo.address = 0xFEE00000 >> 2
    state.data = 0x21
    writes = recorded(lambda w: msi.restore(state, w, 0x50))
    assert writes == [(0x52, 0x0000, 2), (0x54, 0xFEE00000, 4), (0x58, 0x21, 2), (0x52, 0x0001, 2)]


def test_msix_restore_writes_the_table_with_enable_clear_then_enables() -> None:
    state = valid_state().msix          # enable set, function_mask clear, 3 vectors
    events: list[object] = []
    msix.restore(state, lambda o, v, w: events.append((o, v, w)), 0x70,
                 hooks={"msix_restore_vector_table": lambda s: events.append(("table", len(s.vectors)))})
    # First control: table_size 2 kept, function_mask (bit 14) forced on, enable (bit 15) forced off:
    # 0x4002. The table and PBA (the hook) go in while MSI-X is off; then control as saved (0x8002)
    # enables it once, with every entry in place.
    assert events == [(0x72, 0x4002, 2), ("table", 3), (0x72, 0x8002, 2)]


def test_restore_refuses_to_start_without_its_hooks() -> None:
    writes: list[Write] = []
    with pytest.raises(ValueError, match="calls hook 'msix_restore_vector_table', which was not given"):
        msix.restore(valid_state().msix, lambda o, v, w: writes.append((o, v, w)), 0x70)
    assert writes == []  # nothing was written before the missing hook was noticed


def test_sriov_restore_order_and_vf_enable_last() -> None:
    state = valid_state().sriov
    writes = recorded(lambda w: sriov.restore(state, w, 0x160, nic.PARAMS_SRIOV,
                                              hooks={"sriov_recreate_vfs": lambda s: None}))
    offsets = [offset - 0x160 for offset, _, _ in writes]
    # control with VF Enable/MSE off, page size, NumVFs, VF BAR0, its upper half (slot 1), VF BARs 2..5,
    # control without VF Enable, control as saved.
    assert offsets == [0x08, 0x20, 0x10, 0x24, 0x28, 0x2C, 0x30, 0x34, 0x38, 0x08, 0x08]
    assert writes[0][1] & 0x1 == 0 and writes[-1][1] & 0x1 == 1


def test_capture_reads_back_what_restore_wrote() -> None:
    state = valid_state()
    space = bytearray(4096)

    def write(offset: int, value: int, size: int) -> None:
        space[offset:offset + size] = value.to_bytes(size, "little")

    def read(offset: int, size: int) -> int:
        return int.from_bytes(space[offset:offset + size], "little")

    nic.restore(state, write, {"rebar": 0x100, "msi": 0x50, "msix": 0x70, "sriov": 0x160},
                hooks={"msix_restore_vector_table": lambda s: None, "sriov_recreate_vfs": lambda s: None})
    captured = nic.capture(read, {"rebar": 0x100, "msi": 0x50, "msix": 0x70, "sriov": 0x160})
    # Every register restore writes comes back; the read-only ones it skips read 0 from this blank space.
    assert captured.msi == msi.MsiState(control=state.msi.control, address_lo=state.msi.address_lo,
                                        address_hi=state.msi.address_hi, data=state.msi.data,
                                        mask=state.msi.mask, pending=0)
    assert captured.msix.control == state.msix.control
    assert (captured.header.command, captured.header.bar0, captured.header.bar1_upper,
            captured.header.bar2, captured.header.bar3_upper) == (
        state.header.command, state.header.bar0, state.header.bar1_upper, state.header.bar2,
        state.header.bar3_upper)
    assert (captured.sriov.num_vfs, captured.sriov.system_page_size, captured.sriov.sriov_ctrl) == (
        state.sriov.num_vfs, state.sriov.system_page_size, state.sriov.sriov_ctrl)
    assert captured.rebar.ctrl0.bar_size == state.rebar.ctrl0.bar_size


def test_device_restore_refuses_before_its_first_write_when_a_later_section_lacks_its_hook() -> None:
    # Regression: the device restore checked each section's hooks as it reached the section, so rebar,
    # header, msi and msix were written before sriov's missing hook stopped it (the C device restore
    # checks every hook before its first write).
    writes: list[Write] = []
    with pytest.raises(ValueError, match="restore hook 'sriov_recreate_vfs' was not given"):
        nic.restore(valid_state(), lambda o, v, w: writes.append((o, v, w)),
                    {"rebar": 0x100, "msi": 0x50, "msix": 0x70, "sriov": 0x160},
                    hooks={"msix_restore_vector_table": lambda s: None})
    assert writes == []
