"""States valid from birth: a new state of every section and device saves, what it saves loads back equal,
and validate() finds nothing, at every version a section can be saved at (issue 15)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import strategies as S
from vfiogen.backends.python import naming
from vfiogen_state import example_nic, generic, vendor_specific


def _new(name: str) -> Any:
    return getattr(S.MODULES[name], naming.state_class(name))()


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(sorted(S.SECTIONS)).flatmap(
    lambda name: st.tuples(st.just(name), st.integers(S.MODULES[name].MIN_VERSION, S.MODULES[name].VERSION))))
def test_a_new_section_state_saves_and_loads_at_every_version(case: tuple[str, int]) -> None:
    name, version = case
    module = S.MODULES[name]
    state = _new(name)
    assert module.validate(state) == []
    payload = module.save(state, version)
    assert module.load(payload, version) == state


def test_new_arrays_are_as_long_as_their_length_says() -> None:
    """The MSI-X table size reads 0 (one vector) in a new state, so there is one vector and one PBA word."""
    state = _new("msix")
    assert len(state.vectors) == state.control.table_size + 1 == 1
    assert len(state.pending) == 1
    assert state.vectors[0] is not _new("msix").vectors[0]  # each state its own elements


def test_a_new_device_state_saves_and_loads() -> None:
    state = example_nic.ExampleNicState()
    descriptor = example_nic.derive_descriptor(state, example_nic.ExampleNicDescriptor())
    loaded, source = example_nic.load(example_nic.save(state, descriptor))
    assert loaded == state and source == descriptor
    # the device file's defaults, which its params need: 64-bit BARs 0 and 2, 64-bit VF BAR 0
    assert state.header.bar0.value() == state.header.bar2.value() == 0x4
    assert state.sriov.vf_bar0.value() == 0x4


def test_a_new_generic_state_saves_and_loads_with_every_section() -> None:
    config = generic.GenericConfig(present=generic.ALL_SECTIONS)
    config.instances.vendor_specific = 2  # the repeated section: two new instances (cap_length 3, no byte)
    state = generic.GenericState(vendor_specific=[vendor_specific.VendorSpecificState() for _ in range(2)])
    host = generic.GenericDescriptor(vendor_specific=[vendor_specific.VendorSpecificDescriptor() for _ in range(2)])
    descriptor = generic.derive_descriptor(state, host, config)
    loaded, _ = generic.load(generic.save(state, descriptor, config=config), config=config)
    assert loaded == state
