"""The generated migration check in Python: the shared migration vectors, a device load that takes the target's
descriptor, and a property over drawn descriptor pairs against an oracle read off the schema lock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from migration_cases import base_blob, case_files, case_id, descriptors, expected_keys, plain, read_case

from vfiogen_state import example_nic, generic
from vfiogen_state._runtime import LoadError, MigrationRefused, SaveError

LOCK = json.loads((Path(__file__).resolve().parents[2] / "generated" / "schema.lock.json").read_text("utf-8"))


@pytest.mark.parametrize("path", case_files(), ids=case_id)
def test_migration_vector(path: Path) -> None:
    case = read_case(path)
    source, target = descriptors(case)
    failures = example_nic.check_compat(source, target) if case["device"] == "example_nic" else None
    assert failures is not None, f"no module for {case['device']}"
    got = [(f.section, f.rule, f.field, plain(f.source), plain(f.target)) for f in failures]
    assert got == expected_keys(case)
    for failure, want in zip(failures, case["expect"], strict=True):
        if "text" in want:
            assert str(failure) == want["text"]
        assert failure.to_dict()["reason"] == failure.reason and failure.reason
    # negotiate agrees with check_compat: the versions when allowed (the case's, where it gives them),
    # MigrationRefused with the same reasons when refused.
    if failures:
        with pytest.raises(MigrationRefused) as caught:
            example_nic.negotiate(source, target)
        assert caught.value.failures == failures and "versions" not in case
    else:
        versions = example_nic.negotiate(source, target)
        assert versions == case.get("versions", versions)
        both = source.present & target.present
        assert set(versions) == {n for n in ("rebar", "header", "msi", "msix", "sriov")
                                 if both & getattr(example_nic, f"HAS_{n.upper()}")}


def test_a_refused_load_names_every_reason_and_returns_nothing() -> None:
    case = read_case(next(p for p in case_files() if p.stem == "every_reason_listed"))
    source, target = descriptors(case)
    blob = base_blob(case)
    with pytest.raises(MigrationRefused) as caught:
        example_nic.load(blob, target=target)
    assert caught.value.failures == example_nic.check_compat(source, target)
    assert len(caught.value.failures) == 5
    # A LoadError like any other, at the descriptor frame's payload (byte 20: header 8 + frame head 12).
    assert isinstance(caught.value, LoadError)
    assert (caught.value.section, caught.value.field, caught.value.offset) == ("example_nic", "descriptor", 20)
    assert "header: the target is another vendor's device" in caught.value.reason


def test_an_allowed_load_with_the_target_descriptor_loads_as_without() -> None:
    case = read_case(next(p for p in case_files() if p.stem == "target_offers_more"))
    _, target = descriptors(case)
    blob = base_blob(case)
    assert example_nic.load(blob, target=target) == example_nic.load(blob)


def test_a_target_descriptor_of_other_sections_than_the_config_is_a_caller_error() -> None:
    _, descriptor = example_nic.load(base_blob({"device": "example_nic", "descriptor_of": "valid_blob"}))
    descriptor.present &= ~example_nic.HAS_MSI
    with pytest.raises(ValueError, match="present set"):
        example_nic.load(base_blob({"device": "example_nic", "descriptor_of": "valid_blob"}), target=descriptor)


def test_without_a_target_only_the_sections_are_compared() -> None:
    """A source that lacks MSI is refused by a config that has it (msi is required), with the same reason
    check_compat gives, but field rules are not run: an MSI at another offset would load."""
    blob = base_blob({"device": "example_nic", "descriptor_of": "valid_blob"})
    # example_nic's five sections (the generic device's repeated vendor_specific aside), less MSI
    nic_sections = generic.ALL_SECTIONS & ~generic.HAS_VENDOR_SPECIFIC
    config = generic.GenericConfig(present=nic_sections & ~generic.HAS_MSI)
    state, descriptor = example_nic.load(blob)
    smaller = generic.save(generic.GenericState(rebar=state.rebar, header=state.header, msix=state.msix,
                                                sriov=state.sriov),
                           generic.GenericDescriptor(present=config.present, rebar=descriptor.rebar,
                                                     header=descriptor.header, msix=descriptor.msix,
                                                     sriov=descriptor.sriov),
                           config=config)
    full = generic.GenericConfig(present=nic_sections)
    with pytest.raises(MigrationRefused) as caught:
        generic.load(smaller, config=full)
    assert [(f.section, f.rule) for f in caught.value.failures] == [("msi", "present")]
    # The reverse: the target lacks MSI, which msi.yaml requires (`require: present`).
    with pytest.raises(MigrationRefused) as caught:
        generic.load(blob, config=config)
    assert [str(f) for f in caught.value.failures] == ["msi: the target has no MSI capability"]


# --- drawn pairs against the lock's rules ------------------------------------------------------------


def _holds(rule: str, mask: int | None, source: Any, target: Any) -> bool:
    """A compat rule as the language reference states it, written apart from the generated code."""
    if rule == "equal":
        return bool(source == target)
    if isinstance(source, bytes):
        source, target = int.from_bytes(source, "big"), int.from_bytes(target, "big")
    if rule == "subset":
        return all(not (source >> bit) & 1 or (target >> bit) & 1 for bit in range(max(source, target).bit_length()))
    if rule == "superset":
        return _holds("subset", None, target, source)
    if rule == "target_ge":
        return bool(target >= source)
    assert rule == "masked_equal" and mask is not None
    return source & mask == target & mask


def _oracle(device: str, source: Any, target: Any) -> list[tuple[str, str, str]]:
    module = {"example_nic": example_nic, "generic": generic}[device]
    out = []
    for use in LOCK["devices"][device]["sections"]:
        name = use["section"]
        bit = getattr(module, f"HAS_{name.upper()}")
        rules = LOCK["sections"][name]["compat"]
        if source.present & bit and not target.present & bit:
            if use["required"] or any(r["rule"] == "require" for r in rules):
                out.append((name, "present", ""))
        elif target.present & bit and not source.present & bit:
            if use["required"]:
                out.append((name, "present", ""))
        elif source.present & bit:
            # No version one build saves and the other loads (docs/schema-language.md, "Versions and masks").
            mine, theirs = getattr(source, name), getattr(target, name)
            if max(mine.min_version, theirs.min_version) > min(mine.max_version, theirs.max_version):
                out.append((name, "versions", "version"))
            for rule in rules:
                if rule["rule"] == "require":
                    continue
                field = rule["field"]
                if not _holds(rule["rule"], rule["mask"], getattr(getattr(source, name), field),
                              getattr(getattr(target, name), field)):
                    out.append((name, rule["rule"], field))
            # Then the masks of every register both builds index (docs/wire-format.md, "Descriptor frame": the
            # fewer of the two mask_registers), by the lock's mask-list order: its emulated bits, then its
            # write mask, must be the same on both sides.
            both = min(mine.mask_registers, theirs.mask_registers)
            for index, register in enumerate(LOCK["sections"][name]["mask_list"][:both]):
                for prefix, array in (("emulated_", "emulated_masks"), ("wmask_", "write_masks")):
                    if getattr(mine, array)[index] != getattr(theirs, array)[index]:
                        out.append((name, "equal", prefix + register))
    return out


@st.composite
def descriptor_pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    """Two descriptors of the generic device that mostly agree: each field of the target is the source's,
    or a drawn neighbour of it, so every rule both holds and fails often."""
    _, base = example_nic.load(base_blob({"device": "example_nic", "descriptor_of": "valid_blob"}))
    sides = []
    for _ in range(2):
        # the five sections drawn here (the repeated vendor_specific has its own tests:
        # tests/test_vendor_specific_conformance.py, tests/generated_c/test_c_instances.py)
        descriptor = generic.GenericDescriptor(present=draw(st.integers(0, generic.ALL_SECTIONS
                                                                         & ~generic.HAS_VENDOR_SPECIFIC)))
        for name in ("rebar", "header", "msi", "msix", "sriov"):
            record = getattr(base, name)
            copy = type(record)(*(getattr(record, a) for a in record.__slots__))
            setattr(descriptor, name, copy)
        sides.append(descriptor)
    for name in ("rebar", "header", "msi", "msix", "sriov"):
        record = getattr(sides[1], name)
        for attr in record.__slots__:
            value = getattr(record, attr)
            if isinstance(value, bytes):
                if draw(st.booleans()):
                    setattr(record, attr, bytes(draw(st.sampled_from((b, b ^ 0x10, b | 0x01, 0))) for b in value))
            elif isinstance(value, tuple):  # a mask array: one register's mask changed, or none
                if value and draw(st.booleans()):
                    index = draw(st.integers(0, len(value) - 1))
                    changed = draw(st.sampled_from((0, value[index] | 1, value[index] & ~1, value[index] >> 1)))
                    setattr(record, attr, value[:index] + (changed,) + value[index + 1:])
            elif draw(st.integers(0, 3)) == 0:
                setattr(record, attr, draw(st.sampled_from((0, value | 1, value & ~1, value << 1, value >> 1))))
    return sides[0], sides[1]


@settings(max_examples=200, deadline=None)
@given(descriptor_pairs())
def test_check_compat_agrees_with_the_rules_as_documented(pair: tuple[Any, Any]) -> None:
    source, target = pair
    got = [(f.section, f.rule, f.field) for f in generic.check_compat(source, target)]
    assert got == _oracle("generic", source, target)


def test_a_save_for_an_older_target_build_uses_the_negotiated_versions_and_refuses_a_lossy_one() -> None:
    case = read_case(next(p for p in case_files() if p.stem == "older_target_build"))
    _, target = descriptors(case)
    blob = base_blob(case)
    state, mine = example_nic.load(blob)
    saved = example_nic.save(state, mine, target=target)
    # The msi and sriov frames go at version 1 (the frame head's version, after its id), the rest at 1 too.
    frames = _frame_versions(saved)
    assert frames == {0x0115: 1, 0x0001: 1, 0x0005: 1, 0x0011: 1, 0x0110: 1}
    assert _frame_versions(example_nic.save(state, mine)) == {0x0115: 1, 0x0001: 1, 0x0005: 2, 0x0011: 1, 0x0110: 2}
    # Version 1 of MSI cannot carry the Extended Message Data: a state holding some refuses by the field's name.
    state.msi.control.ext_data_capable = True
    state.msi.ext_data = 0x1234
    with pytest.raises(SaveError) as caught:
        example_nic.save(state, mine, target=target)
    assert caught.value.field == "ext_data"
    with pytest.raises(ValueError, match="not both"):
        example_nic.save(state, mine, versions={"msi": 1}, target=target)


def test_a_save_for_a_target_without_a_common_version_is_refused_before_anything_is_saved() -> None:
    case = read_case(next(p for p in case_files() if p.stem == "no_common_version"))
    _, target = descriptors(case)
    state, mine = example_nic.load(base_blob(case))
    with pytest.raises(MigrationRefused) as caught:
        example_nic.save(state, mine, target=target)
    assert [(f.section, f.rule) for f in caught.value.failures] == [("msi", "versions")]


def _frame_versions(blob: bytes) -> dict[int, int]:
    """Each section frame's (id: version), walking the blob as docs/wire-format.md lays it out."""
    count = int.from_bytes(blob[6:8], "big")
    offset = 8 + 12 + int.from_bytes(blob[16:20], "big") + 4  # past the descriptor frame
    found = {}
    for _ in range(count):
        found[int.from_bytes(blob[offset:offset + 2], "big")] = int.from_bytes(blob[offset + 2:offset + 4], "big")
        offset += 12 + int.from_bytes(blob[offset + 8:offset + 12], "big") + 4
    return found
