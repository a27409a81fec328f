"""resize_<field>: setting a field array lengths read resizes those arrays, so the state still saves (issue 15).

MSI-X's table size gives two arrays (the vector table and the PBA); SR-IOV's
vfs_created gives two (the per-VF records and their MSI-X counts). Expected
lengths are the schema's length expressions worked by hand: table size N-1
means N vectors and ceil(N / 64) PBA quadwords.
"""

from __future__ import annotations

import pytest

from vfiogen_state import msix, sriov


@pytest.mark.parametrize(("table_size", "vectors", "pending"), [(0, 1, 1), (63, 64, 1), (64, 65, 2),
                                                                (2047, 2048, 32)])
def test_msix_table_size_resizes_the_table_and_the_pba(table_size: int, vectors: int, pending: int) -> None:
    state = msix.MsixState()
    msix.resize_control_table_size(state, table_size)
    assert state.control.table_size == table_size
    assert (len(state.vectors), len(state.pending)) == (vectors, pending)
    assert msix.validate(state) == []
    assert msix.load(msix.save(state)) == state


def test_growing_keeps_the_vectors_there_and_adds_defaults_shrinking_drops_the_rest() -> None:
    state = msix.MsixState()
    msix.resize_control_table_size(state, 3)
    for index, vector in enumerate(state.vectors):
        vector.data = 0x100 + index
    state.control.enable = True
    msix.resize_control_table_size(state, 1)
    assert [v.data for v in state.vectors] == [0x100, 0x101]
    msix.resize_control_table_size(state, 5)
    assert [v.data for v in state.vectors] == [0x100, 0x101, 0, 0, 0, 0]
    assert state.control.enable  # the register's other bits are kept
    assert len({id(v) for v in state.vectors}) == 6  # each added element is its own object


@pytest.mark.parametrize("value", [0x800, -1, True, "3", 1.0])
def test_a_value_the_field_cannot_hold_is_refused_and_changes_nothing(value: object) -> None:
    state = msix.MsixState()
    msix.resize_control_table_size(state, 2)
    before = msix.save(state)
    with pytest.raises(ValueError, match=r"msix: control.table_size holds 11 bits \(0..0x7ff\)"):
        msix.resize_control_table_size(state, value)  # type: ignore[arg-type]
    assert msix.save(state) == before


def test_a_length_past_its_max_is_refused_and_changes_nothing() -> None:
    state = sriov.SriovState()
    sriov.resize_vfs_created(state, 2)
    assert (len(state.vfs), len(state.vf_msix_counts)) == (2, 2)
    with pytest.raises(ValueError, match="vfs_created = 257 gives vfs 257 entries, outside 0..256"):
        sriov.resize_vfs_created(state, 257)
    assert state.vfs_created == 2 and len(state.vfs) == 2
    state.total_vfs = state.num_vfs = 256  # constraints: vfs_created <= num_vfs <= total_vfs, VF Enable set
    state.sriov_ctrl.vf_enable = True
    sriov.resize_vfs_created(state, 256)
    assert sriov.load(sriov.save(state)) == state
