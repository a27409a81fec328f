"""Whole blobs of example_nic: round trip, framing errors, unknown sections, transactional load, versions."""

from __future__ import annotations

import copy

import pytest
from nic_example import descriptor_of, valid_state

from vfiogen_state import _runtime as rt
from vfiogen_state import example_nic as nic
from vfiogen_state import sriov


def blob_of(state: nic.ExampleNicState, **versions: int) -> bytes:
    return nic.save(state, descriptor_of(state), versions)


def frames(blob: bytes) -> list[tuple[int, int]]:
    """(start, end) of every frame after the header, CRC included."""
    out = []
    offset = rt.HEADER.size
    while offset < len(blob):
        frame = rt.read_frame(blob, offset, "test")
        out.append((offset, frame.end + rt.CRC.size))
        offset = frame.end + rt.CRC.size
    return out


def with_frames(blob: bytes, parts: list[bytes], count: int) -> bytes:
    return rt.HEADER.pack(rt.MAGIC, rt.FORMAT_VERSION, count) + b"".join(parts)


def test_round_trip() -> None:
    state = valid_state()
    loaded, descriptor = nic.load(blob_of(state))
    assert loaded == state
    assert descriptor == descriptor_of(state)


def test_blob_layout() -> None:
    state = valid_state()
    blob = blob_of(state)
    assert blob[:8] == b"VFGS\x00\x01\x00\x05"  # magic, format 1, five section frames
    spans = frames(blob)
    ids = [int.from_bytes(blob[start:start + 2], "big") for start, _ in spans]
    assert ids == [0x0000, 0x0115, 0x0001, 0x0005, 0x0011, 0x0110]  # descriptor, then device order
    assert all(blob[start + 4:start + 8] == b"\x00\x00\x00\x01" for start, _ in spans)  # every frame required


def test_unknown_optional_section_is_skipped_and_unknown_required_is_refused() -> None:
    blob = blob_of(valid_state())
    parts = [blob[start:end] for start, end in frames(blob)]
    extra = rt.frame(0x7777, 3, False, b"future state")
    loaded, _ = nic.load(with_frames(blob, parts[:2] + [extra] + parts[2:], 6))
    assert loaded == valid_state()
    required = rt.frame(0x7777, 3, True, b"future state")
    spliced = with_frames(blob, parts[:2] + [required] + parts[2:], 6)
    with pytest.raises(rt.LoadError) as error:
        nic.load(spliced)
    assert (error.value.field, error.value.offset) == ("", rt.HEADER.size + len(parts[0]) + len(parts[1]))
    assert error.value.reason == "unknown required section 0x7777"


def test_missing_duplicate_and_miscounted_sections() -> None:
    blob = blob_of(valid_state())
    parts = [blob[start:end] for start, end in frames(blob)]
    with pytest.raises(rt.LoadError) as missing:
        nic.load(with_frames(blob, parts[:3] + parts[4:], 4))   # msi left out
    assert (missing.value.field, missing.value.reason) == ("msi", "required section is missing")
    with pytest.raises(rt.LoadError) as twice:
        nic.load(with_frames(blob, parts + [parts[3]], 6))
    assert twice.value.reason == "section 0x0005 appears twice"
    assert twice.value.offset == len(blob)
    with pytest.raises(rt.LoadError) as fewer:
        nic.load(with_frames(blob, parts, 4))
    assert fewer.value.reason == f"{len(parts[5])} bytes after the last section"
    with pytest.raises(rt.LoadError) as more:
        nic.load(with_frames(blob, parts, 6))
    assert (more.value.field, more.value.offset) == ("frame", len(blob))


def test_every_truncation_and_every_single_bit_flip_is_a_load_error() -> None:
    blob = blob_of(valid_state())
    for length in range(len(blob)):
        with pytest.raises(rt.LoadError):
            nic.load(blob[:length])
    for position in range(len(blob)):
        for bit in (0x01, 0x80):
            corrupt = bytearray(blob)
            corrupt[position] ^= bit
            with pytest.raises(rt.LoadError):
                nic.load(bytes(corrupt))


def test_a_failed_load_leaves_the_callers_state_untouched() -> None:
    state = valid_state()
    before = copy.deepcopy(state)
    blob = bytearray(blob_of(state))
    blob[-1] ^= 0xFF
    with pytest.raises(rt.LoadError):
        state, _ = nic.load(bytes(blob))
    assert state == before


def test_down_save_to_sriov_version_1() -> None:
    state = valid_state()
    with pytest.raises(rt.SaveError) as lossy:
        blob_of(state, sriov=1)
    assert (lossy.value.section, lossy.value.field) == ("sriov", "vf_msix_counts")
    assert lossy.value.reason == "version 1 cannot carry it and it does not hold its default"
    state.sriov.vf_msix_counts = [0, 0]  # the default: one zero per created VF
    old = blob_of(state, sriov=1)
    loaded, _ = nic.load(old)
    assert loaded == state
    assert len(old) == len(blob_of(state)) - 5  # v2 adds vf_user_created (1 byte) and 2 VFs x u16


def test_sriov_payload_versions_differ_exactly_by_the_added_fields() -> None:
    state = valid_state().sriov
    state.vf_msix_counts = [0, 0]
    v1 = sriov.save(state, 1, valid_params())
    v2 = sriov.save(state, 2, valid_params())
    assert v2 == v1 + b"\x00" + b"\x00\x00" * 2  # vf_user_created false, then one u16 per created VF
    assert sriov.load(v1, 1, valid_params()) == state  # loading v1 fills in the v2 fields' defaults
    state.vf_user_created = True
    with pytest.raises(rt.SaveError) as lossy:
        sriov.save(state, 1, valid_params())
    assert lossy.value.field == "vf_user_created"


def valid_params() -> sriov.Params:
    return nic.PARAMS_SRIOV
