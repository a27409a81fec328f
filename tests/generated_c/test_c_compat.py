"""The generated migration check in C (ASan/UBSan, gcc and clang) against the Python: the shared migration
vectors, drawn descriptor pairs, and a device load that takes the target's descriptor.

Both sides answer with (section, rule, field, text) per failure, the text as `vfg_compat_format` and
`str(CompatFailure)` print it, so the same verdicts and the same reasons, values included, are compared.
"""

from __future__ import annotations

import random
import re
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from harness import (COMPILERS, build, descriptor_records, failures_of, hex_or_dash, python_failures, run)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from migration_cases import (base_blob, case_files, case_id, descriptors, negotiated, read_case,  # noqa: E402
                             section_names)

from vfiogen.backends.c.emit import STATUSES  # noqa: E402
from vfiogen_state import example_nic, generic  # noqa: E402
from vfiogen_state._runtime import MigrationRefused  # noqa: E402

DEVICES = {"example_nic": example_nic, "generic": generic}


@pytest.fixture(scope="module", params=COMPILERS)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(request.param, True, str(tmp_path_factory.mktemp("compat")))


def _command(device: str, source: Any, target: Any) -> str:
    return (f"compat {device} {hex_or_dash(descriptor_records(device, source))} "
            f"{hex_or_dash(descriptor_records(device, target))}")


def test_migration_vectors_give_the_same_reasons(driver: Path) -> None:
    cases = [read_case(p) for p in case_files()]
    pairs = [descriptors(case) for case in cases]
    answers = run(driver, [_command(case["device"], s, t) for case, (s, t) in zip(cases, pairs, strict=True)])
    for path, case, (source, target), answer in zip(case_files(), cases, pairs, answers, strict=True):
        mod = DEVICES[case["device"]]
        want = python_failures(mod.check_compat(source, target))
        assert answer.ok and failures_of(answer.extra) == want, case_id(path)
        # The same versions negotiated (0 for a section not both sides have), or none when refused.
        assert answer.payload == ("" if want else ".".join(str(negotiated(mod, source, target).get(name, 0))
                                                           for name in section_names(mod))), case_id(path)
        texts = [f["text"] for f in case["expect"] if "text" in f]
        assert set(texts) <= {row[3] for row in want}, case_id(path)


def _drawn_pair(rng: random.Random, base: Any) -> tuple[Any, Any]:
    """Two generic descriptors from `base`: random present sets, the target's fields each kept or nudged."""
    sides = []
    for _ in range(2):
        # the five sections drawn here (the repeated vendor_specific has its own tests: test_c_instances.py)
        d = generic.GenericDescriptor(present=rng.randrange(1 << 5))
        for name in ("rebar", "header", "msi", "msix", "sriov"):
            record = getattr(base, name)
            setattr(d, name, type(record)(*(getattr(record, a) for a in record.__slots__)))
        sides.append(d)
    for name in ("rebar", "header", "msi", "msix", "sriov"):
        record = getattr(sides[1], name)
        # Each field's struct code, to keep a nudged value within its width.
        codes = re.findall(r"\d*[a-zA-Z?]", getattr(generic, f"_{name}")._DESCRIPTOR.format.lstrip(">"))
        # About one field nudged per record, however many fields it has.
        chance = min(0.25, 1.0 / len(record.__slots__))
        module = getattr(generic, f"_{name}")
        for array in ("emulated_masks", "write_masks"):  # one register's mask, within its width
            masks = getattr(record, array)
            if rng.random() < chance:  # as rarely as a field, so that the draw still allows migrations
                index = rng.randrange(len(masks))
                width = module._MASK_WIDTHS[index] * 8
                nudged = rng.choice((0, masks[index] | 1, masks[index] & ~1, masks[index] >> 1, rng.getrandbits(width)))
                setattr(record, array, masks[:index] + (nudged % (1 << width),) + masks[index + 1:])
        fixed = [a for a in record.__slots__ if a not in ("emulated_masks", "write_masks")]
        for attr, code in zip(fixed, codes, strict=True):
            value = getattr(record, attr)
            if isinstance(value, bytes):
                if rng.random() < chance:
                    setattr(record, attr, bytes(rng.choice((b, b ^ 0x10, b | 1, 0)) for b in value))
            elif rng.random() < chance:
                nudged = rng.choice((0, value | 1, value & ~1, value >> 1, rng.getrandbits(16)))
                setattr(record, attr, nudged % (1 << (8 * struct.calcsize(">" + code))))
    return sides[0], sides[1]


@settings(max_examples=3, deadline=None, derandomize=True)
@given(rng=st.randoms(use_true_random=True))
def test_drawn_pairs_give_the_same_reasons(driver: Path, rng: random.Random) -> None:
    """Hypothesis draws the generator's seed; each example compares 400 drawn pairs in one run of the C driver."""
    _, base = example_nic.load(base_blob({"device": "example_nic", "descriptor_of": "valid_blob"}))
    pairs = [_drawn_pair(rng, base) for _ in range(400)]
    answers = run(driver, [_command("generic", s, t) for s, t in pairs])
    refused = 0
    for (source, target), answer in zip(pairs, answers, strict=True):
        want = python_failures(generic.check_compat(source, target))
        assert answer.ok and failures_of(answer.extra) == want
        refused += bool(want)
    assert 0 < refused < len(pairs), "the draw should both allow and refuse"


def test_a_load_with_the_target_descriptor_refuses_alike_and_leaves_the_state_untouched(driver: Path) -> None:
    cases = [read_case(p) for p in case_files()]
    commands, expected = [], []
    for case in cases:
        source, target = descriptors(case)
        if source.present != example_nic.ALL_SECTIONS or target.present != example_nic.ALL_SECTIONS:
            continue  # the target's descriptor must have the config's sections; presence is covered above
        blob = base_blob(case)
        # The blob's own descriptor is the base; a case that changes the source's is saved again with it.
        state, _ = example_nic.load(blob)
        blob = example_nic.save(state, source)
        commands.append(f"migrate example_nic {blob.hex()} {descriptor_records('example_nic', target).hex()}")
        try:
            expected.append(("ok", example_nic.save(*example_nic.load(blob, target=target)).hex(), []))
        except MigrationRefused as refusal:
            expected.append(("err", refusal.offset, python_failures(refusal.failures)))
    assert any(e[0] == "err" for e in expected) and any(e[0] == "ok" for e in expected)
    for answer, (kind, what, failures) in zip(run(driver, commands), expected, strict=True):
        if kind == "ok":
            assert answer.ok and answer.payload == what and failures_of(answer.extra) == []
        else:
            assert not answer.ok and answer.status == dict(STATUSES)["VFG_ERR_INCOMPATIBLE"]
            assert (answer.section, answer.field, answer.offset) == ("example_nic", "descriptor", what)
            assert answer.untouched
            assert failures_of(answer.extra) == failures
            assert answer.message == failures[0][3].split(": ", 1)[1].rsplit(" (", 1)[0]


def test_a_save_for_the_target_uses_the_negotiated_versions(driver: Path) -> None:
    """The source's side: load the base blob, negotiate against each vector's target, save at the answer.
    The C saves the same bytes as the Python's save(..., target=) (msi and sriov at version 1 for an older
    target build), or refuses with the same reasons."""
    cases = [read_case(p) for p in case_files()]
    commands, expected = [], []
    for case in cases:
        source, target = descriptors(case)
        if source.present != example_nic.ALL_SECTIONS:
            continue  # the blob's own descriptor is the source's: only target changes apply here
        blob = base_blob(case)
        state, mine = example_nic.load(blob)
        commands.append(f"resave example_nic {blob.hex()} {hex_or_dash(descriptor_records('example_nic', target))}")
        try:
            expected.append((True, example_nic.save(state, mine, target=target).hex()))
        except MigrationRefused as refusal:
            expected.append((False, python_failures(refusal.failures)))
    answers = run(driver, commands)
    assert sum(ok for ok, _ in expected) >= 3 and not all(ok for ok, _ in expected)
    for answer, (ok, what) in zip(answers, expected, strict=True):
        if ok:
            assert answer.ok and answer.payload == what
        else:
            assert answer.status == "refused" and failures_of(answer.extra) == what
