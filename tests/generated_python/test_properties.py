"""Property tests of the generated Python package over random valid states (see strategies.py).

* save/load round trips for every section, with the default params and with example_nic's;
* older versions: a state whose later fields hold their defaults round-trips through an older
  version, and one whose later fields do not is refused by save, naming the field;
* mutations: a mutated payload or blob either raises LoadError or loads into a state that saves
  back to exactly the mutated bytes; never any other exception.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import strategies as S
from vfiogen.backends.python import naming
from vfiogen_state import _runtime, example_nic
from vfiogen_state._runtime import LoadError, SaveError

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MUTATE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SECTION_PARAMS = [pytest.param(name, S.PARAM_SETS[set_name][name], id=f"{name}-{set_name}")
                  for name in S.SECTIONS for set_name in S.param_sets_of(name)]

OLDER = [pytest.param(name, version, S.PARAM_SETS[set_name][name], id=f"{name}-v{version}-{set_name}")
         for name in S.SECTIONS
         for version in range(S.MODULES[name].MIN_VERSION, S.MODULES[name].VERSION)
         for set_name in S.param_sets_of(name)]

ALL_VERSIONS = [pytest.param(name, version, S.PARAM_SETS[set_name][name], id=f"{name}-v{version}-{set_name}")
                for name in S.SECTIONS
                for version in range(S.MODULES[name].MIN_VERSION, S.MODULES[name].VERSION + 1)
                for set_name in S.param_sets_of(name)]


def test_some_section_has_older_versions() -> None:
    # Otherwise the version properties below would silently test nothing.
    assert OLDER, "no section has min_version < version"


# --- round trips -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "p"), SECTION_PARAMS)
@FAST
@given(data=st.data())
def test_round_trip(name: str, p: Any, data: st.DataObject) -> None:
    module = S.MODULES[name]
    s = data.draw(S.section_states(name, p), label="state")
    payload = module.save(s, module.VERSION, p)
    loaded = module.load(payload, module.VERSION, p)
    assert loaded == s
    assert module.save(loaded, module.VERSION, p) == payload


@pytest.mark.parametrize(("name", "p"), SECTION_PARAMS)
@FAST
@given(data=st.data())
def test_save_refuses_what_a_load_would(name: str, p: Any, data: st.DataObject) -> None:
    """Issue 15: whatever `save` accepts, `load` takes back equal; what a load would refuse (a constraint
    broken, a bit reserved on this function set), save refuses at the source, naming the field."""
    module = S.MODULES[name]
    s = data.draw(S.loose_states(name, p), label="state")
    try:
        payload = module.save(s, module.VERSION, p)
    except SaveError as exc:
        assert exc.section == name and exc.field, exc
        event("save refused")
        return
    event("saved")
    assert module.load(payload, module.VERSION, p) == s


# --- older versions --------------------------------------------------------------------------------------

def _later_arrays_empty(name: str, version: int, s: Any) -> bool:
    values = [getattr(s, naming.attr(item.name)) for item in S.later_fields(name, version)]
    return all(value == [] for value in values if isinstance(value, list))


@pytest.mark.parametrize(("name", "version", "p"), OLDER)
@FAST
@given(data=st.data())
def test_older_version_round_trip(name: str, version: int, p: Any, data: st.DataObject) -> None:
    """Later fields at their defaults: load(save(s, v), v) == s, and the state re-saves to the same bytes."""
    module = S.MODULES[name]
    s = S.with_later_defaults(name, data.draw(S.section_states(name, p), label="state"), p, version)
    assert module.validate(s, p) == []
    event("later arrays empty" if _later_arrays_empty(name, version, s) else "later arrays non-empty")
    payload = module.save(s, version, p)
    loaded = module.load(payload, version, p)
    assert loaded == s
    assert module.validate(loaded, p) == []
    assert module.save(loaded, version, p) == payload
    # What an older stream loads as is a valid current state, so it re-saves at the current version.
    assert module.load(module.save(loaded, module.VERSION, p), module.VERSION, p) == s


@pytest.mark.parametrize(("name", "version", "p"), OLDER)
@FAST
@given(data=st.data())
def test_older_version_refuses_non_default(name: str, version: int, p: Any, data: st.DataObject) -> None:
    """A later field that does not hold its default cannot be carried: SaveError names it (never silent loss)."""
    module = S.MODULES[name]
    s = data.draw(S.section_states(name, p), label="state")
    lost = [item for item in S.later_fields(name, version)
            if getattr(s, naming.attr(item.name)) != S.field_default(name, item, s, p)]
    assume(lost)
    with pytest.raises(SaveError) as refused:
        module.save(s, version, p)
    assert (refused.value.section, refused.value.field) in [(name, item.name) for item in lost]
    # Only one later field off its default: that is the one named.
    item = data.draw(st.sampled_from(lost), label="the one non-default field")
    only = S.with_later_defaults(name, s, p, version)
    setattr(only, naming.attr(item.name), getattr(s, naming.attr(item.name)))
    assert module.validate(only, p) == []
    with pytest.raises(SaveError) as refused:
        module.save(only, version, p)
    assert (refused.value.section, refused.value.field) == (name, item.name)


# --- mutations -------------------------------------------------------------------------------------------

def _load_or_refuse(load: Any, *args: Any, where: tuple[str, int, int] | None = None, **kwargs: Any) -> Any:
    """The result of `load`, or None when it raised LoadError; any other exception fails the test.

    `where` (section, start, end): a LoadError must name that section and a byte offset in start..end.
    """
    try:
        result = load(*args, **kwargs)
    except LoadError as refused:
        event("LoadError")
        if where is not None:
            section, start, end = where
            assert refused.section == section
            assert start <= refused.offset <= end, f"offset {refused.offset} outside the payload {start}..{end}"
        return None
    event("loaded")
    return result


@pytest.mark.parametrize(("name", "version", "p"), ALL_VERSIONS)
@MUTATE
@given(data=st.data())
def test_payload_mutation(name: str, version: int, p: Any, data: st.DataObject) -> None:
    """The section parser itself, without a CRC in front: LoadError, or a state that saves back exactly.

    The payload sits between random bytes and is loaded with start/end, as a device loader does.
    """
    module = S.MODULES[name]
    s = data.draw(S.section_states(name, p), label="state")
    if version != module.VERSION:
        s = S.with_later_defaults(name, s, p, version)
    payload = data.draw(S.mutated(module.save(s, version, p)), label="mutated payload")
    before = data.draw(st.binary(max_size=8), label="before")
    after = data.draw(st.binary(max_size=8), label="after")
    blob = before + payload + after
    start, end = len(before), len(before) + len(payload)
    loaded = _load_or_refuse(module.load, blob, version, p, start=start, end=end, where=(name, start, end))
    if loaded is not None:
        assert module.validate(loaded, p) == []
        assert module.save(loaded, version, p) == payload


@FAST
@given(data=st.data())
def test_device_round_trip(data: st.DataObject) -> None:
    state, descriptor = data.draw(S.device_states(), label="device")
    blob = example_nic.save(state, descriptor)
    assert example_nic.load(blob) == (state, descriptor)


@FAST
@given(data=st.data())
def test_device_save_refuses_what_a_load_would(data: st.DataObject) -> None:
    """Issue 15, per device: a blob of loose section states is refused at save, naming section and field, or
    loads back equal."""
    state, descriptor = data.draw(S.loose_device_states(), label="device")
    try:
        blob = example_nic.save(state, descriptor)
    except SaveError as exc:
        assert exc.section and exc.field, exc
        event("save refused")
        return
    event("saved")
    assert example_nic.load(blob) == (state, descriptor)


@MUTATE
@given(data=st.data())
def test_device_blob_mutation(data: st.DataObject) -> None:
    """Whole blobs: the header, frames and CRCs catch what they can; the rest is LoadError or an exact re-save."""
    state, descriptor = data.draw(S.device_states(), label="device")
    blob = data.draw(S.mutated(example_nic.save(state, descriptor)), label="mutated blob")
    loaded = _load_or_refuse(example_nic.load, blob)
    if loaded is not None:
        assert example_nic.save(*loaded, S.frame_versions(blob)) == blob


def _reframe(blob: bytes, frame: _runtime.Frame, *, section_id: int | None = None, version: int | None = None,
             required: bool | None = None, payload: bytes | None = None) -> bytes:
    """`blob` with one frame rebuilt (and its CRC recomputed) from the fields given."""
    head = frame.start - _runtime.FRAME.size
    rebuilt = _runtime.frame(frame.section_id if section_id is None else section_id,
                             frame.version if version is None else version,
                             frame.required if required is None else required,
                             blob[frame.start:frame.end] if payload is None else payload)
    return blob[:head] + rebuilt + blob[frame.end + _runtime.CRC.size:]


@MUTATE
@given(data=st.data())
def test_device_reframed_payload_mutation(data: st.DataObject) -> None:
    """One frame's payload mutated and re-framed with a matching CRC, so the device loader parses it."""
    state, descriptor = data.draw(S.device_states(), label="device")
    blob = example_nic.save(state, descriptor)
    frames = S.frames(blob)
    frame = frames[data.draw(st.integers(0, len(frames) - 1), label="frame")]  # 0 is the descriptor frame
    payload = data.draw(S.mutated(blob[frame.start:frame.end]), label="mutated payload")
    reframed = _reframe(blob, frame, payload=payload)
    loaded = _load_or_refuse(example_nic.load, reframed)
    if loaded is not None:
        assert example_nic.save(*loaded, S.frame_versions(reframed)) == reframed


KNOWN_IDS = [_runtime.DESCRIPTOR_ID] + [S.MODULES[name].SECTION_ID for name in S.DEVICE_SECTIONS]


@MUTATE
@given(data=st.data())
def test_device_reframed_head_mutation(data: st.DataObject) -> None:
    """A frame's section id, or a section frame's version, changed with a matching CRC: LoadError or an exact
    re-save. (The descriptor frame's version: test_descriptor_frame_version_is_checked. The required flag of a
    known section is not mutated: the loader ignores it, by design, so a re-save would not be byte-exact.)"""
    state, descriptor = data.draw(S.device_states(), label="device")
    blob = example_nic.save(state, descriptor)
    frames = S.frames(blob)
    index = data.draw(st.integers(0, len(frames) - 1), label="frame")
    frame = frames[index]
    if index == 0 or data.draw(st.booleans(), label="change the id"):
        section_id = data.draw(st.one_of(st.sampled_from(KNOWN_IDS), st.integers(0, 0xFFFF)), label="id")
        assume(section_id != frame.section_id)
        required = frame.required if section_id in KNOWN_IDS else data.draw(st.booleans(), label="required")
        reframed = _reframe(blob, frame, section_id=section_id, required=required)
    else:
        version = data.draw(st.one_of(st.integers(0, 3), st.integers(0, 0xFFFF)), label="version")
        assume(version != frame.version)
        reframed = _reframe(blob, frame, version=version)
    loaded = _load_or_refuse(example_nic.load, reframed)
    if loaded is not None:
        assert example_nic.save(*loaded, S.frame_versions(reframed)) == reframed


def _minimal_device() -> tuple[example_nic.ExampleNicState, example_nic.ExampleNicDescriptor]:
    """The smallest valid example_nic state (64-bit BARs in slots 0 and 2, a 64-bit VF BAR 0, one MSI-X vector)."""
    from vfiogen_state import header, msix, rebar, sriov

    state = example_nic.ExampleNicState(
        rebar=rebar.RebarState(cap0=rebar.SupportedSizesRegister(sizes_supported=1), ctrl0=rebar.Ctrl0Register(num_bars=1)),
        header=header.HeaderState(bar0=header.MemoryBarRegister(mem_type=header.BarMemType.MEM64),
                                  bar2=header.MemoryBarRegister(mem_type=header.BarMemType.MEM64)),
        msix=msix.MsixState(vectors=[msix.VectorsEntry()], pending=[0]),
        sriov=sriov.SriovState(supported_page_sizes=1, system_page_size=1,
                               vf_bar0=sriov.VfMemoryBarRegister(mem_type=sriov.BarMemType.MEM64)))
    for name in S.DEVICE_SECTIONS:
        assert S.MODULES[name].validate(getattr(state, name), S.DEVICE_PARAMS[name]) == []
    return state, example_nic.ExampleNicDescriptor()


def test_descriptor_frame_version_is_checked() -> None:
    blob = example_nic.save(*_minimal_device())
    reframed = _reframe(blob, S.frames(blob)[0], version=2)
    with pytest.raises(LoadError) as error:
        example_nic.load(reframed)
    assert (error.value.field, error.value.offset) == ("descriptor", 10)
    assert error.value.reason == "descriptor frame version 2, expected the format version 1"
