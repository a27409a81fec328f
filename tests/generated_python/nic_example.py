"""A valid example_nic state built by hand: an SR-IOV NIC as the device file describes it."""

from __future__ import annotations

from vfiogen_state import example_nic as nic
from vfiogen_state import header, msi, msix, rebar, sriov


def valid_state() -> nic.ExampleNicState:
    state = nic.ExampleNicState()
    rebar = state.rebar
    rebar.ctrl0.num_bars = 1
    rebar.ctrl0.bar_index = 2
    rebar.ctrl0.bar_size = 8                       # 256 MB ...
    rebar.cap0.sizes_supported = 1 << (8 + 4 - 4)  # ... which cap0 bit 12 says is supported
    head = state.header
    head.vendor_id, head.device_id = 0x8086, 0x1572
    head.command.mem_space_enable = True
    head.command.bus_master_enable = True
    head.bar0.mem_type = header.BarMemType.MEM64   # slots 0 and 2 are 64-bit, 1 and 3 their upper dwords
    head.bar0.base_address = 0xFE00000 >> 4        # address bits 31:4 of 0xfe00000
    head.bar1_upper = 0x1
    head.bar2.mem_type = header.BarMemType.MEM64
    head.bar2.prefetchable = True
    head.bar3_upper = 0x2
    msi = state.msi
    msi.control.addr64 = True
    msi.control.pvm = True
    msi.control.mmc = 2
    msi.address_lo.address = 0xFEE00000 >> 2
    msi.data = 0x4021
    msi.mask = 0x2
    x = state.msix
    x.control.table_size = 2
    x.control.enable = True
    x.vectors = [msix.VectorsEntry(0xFEE00000, 0, 0x40 + i, i % 2) for i in range(3)]
    x.pending = [0b100]
    pf = state.sriov
    pf.sriov_ctrl.vf_enable = True
    pf.total_vfs = pf.initial_vfs = 8
    pf.num_vfs = 2
    pf.supported_page_sizes = 0x553
    pf.system_page_size = 0x1
    pf.vf_bar0.mem_type = sriov.BarMemType.MEM64   # VF slot 1 is its upper dword
    pf.vfs_created = 2
    pf.vfs = [sriov.VfsEntry(0x0181 + i, bytes([i]) * 16) for i in range(2)]
    pf.vf_msix_counts = [4, 4]
    return state


def descriptor_of(state: nic.ExampleNicState) -> nic.ExampleNicDescriptor:
    """What the device computes for itself (read-only bits, plus host values picked for the example)."""
    return nic.ExampleNicDescriptor(
        rebar=rebar.derive_descriptor(state.rebar, nic.PARAMS_REBAR, cap_offset=0x100),
        header=header.derive_descriptor(state.header, nic.PARAMS_HEADER),
        msi=msi.derive_descriptor(state.msi, nic.PARAMS_MSI, cap_offset=0x50),
        msix=msix.derive_descriptor(state.msix, nic.PARAMS_MSIX, cap_offset=0x70),
        sriov=sriov.derive_descriptor(state.sriov, nic.PARAMS_SRIOV, cap_offset=0x160,
                                          vf_bar_sizes=bytes([14, 0, 0, 0, 0, 0])),
    )
