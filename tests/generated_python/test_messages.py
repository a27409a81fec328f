"""Save and validate name what a field holds in the schema's terms (issue 15).

The issue's case: a register object put in MSI-X's list of u64 PBA words was
reported as "PbaRegister(bir=0, offset=0) does not fit 64 bits", which says
neither that an integer is wanted nor what kind.
"""

from __future__ import annotations

import pytest

from vfiogen_state import msix, sriov
from vfiogen_state._runtime import Problem, SaveError


def test_an_object_where_a_u64_belongs() -> None:
    state = msix.MsixState()
    state.pending = [state.pba]  # type: ignore[list-item]
    with pytest.raises(SaveError) as raised:
        msix.save(state)
    assert str(raised.value) == ("msix.pending[0]: holds PbaRegister(bir=0, offset=0), but it is a u64: "
                                 "an integer 0..0xffffffffffffffff")


def test_an_integer_out_of_range() -> None:
    state = msix.MsixState()
    state.vectors[0].data = 1 << 32
    assert msix.validate(state) == [Problem("vectors[0].data", "holds 4294967296, but it is a u32: an integer "
                                                               "0..0xffffffff")]
    state = sriov.SriovState()
    state.vfs_created = -1
    assert [p.reason for p in sriov.validate(state)][0] == "holds -1, but it is a u16: an integer 0..0xffff"
