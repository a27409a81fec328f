"""Repeated sections in C (gcc and clang, ASan/UBSan) against the Python: the vendor-specific capabilities of the
pciutils dumps, every instance of each function through the generic device.

For each function with vendor-specific capabilities: the C device capture of its config space (bases one per
instance, in list order), derive and save give the Python's blob byte for byte; the C load and save of that blob
give it back; and a migration to a target whose instance differs in one byte, or that has one instance fewer,
is refused by both with the same failures, the instance named (`vendor_specific[3]`), nothing stored.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from harness import (COMPILERS, Answer, build, config_spec, descriptor_records, device_command, failures_of,
                     hex_or_dash, python_failures, run)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import SHARED_DATA  # noqa: E402

from vfiogen.configspace.chain import capabilities  # noqa: E402
from vfiogen.configspace.dump import Function, read_dump  # noqa: E402
from vfiogen_state import generic  # noqa: E402
from vfiogen_state import vendor_specific as vs  # noqa: E402
from vfiogen_state._runtime import MigrationRefused  # noqa: E402

DATA = SHARED_DATA / "pciutils"
ORDER = ("rebar", "header", "msi", "msix", "sriov", "vendor_specific")


def _functions() -> list[tuple[str, Function, list[int]]]:
    """Every function of the dumps with vendor-specific capabilities that fit standard space, and their offsets."""
    found = []
    for path in sorted(DATA.glob("*.lspci-xxxx.txt")) if DATA.is_dir() else []:
        for function in read_dump(path):
            offsets = [c.offset for c in capabilities(function)[0] if c.kind == "cap" and c.id == 0x09]
            if offsets and all(function.config[o + 2] <= 192 for o in offsets):
                found.append((path.name.removesuffix(".lspci-xxxx.txt"), function, offsets))
    return found


FUNCTIONS = _functions()
needs_data = pytest.mark.skipif(not FUNCTIONS, reason=f"no pciutils dumps with vendor-specific capabilities at {DATA}")


@pytest.fixture(scope="module", params=COMPILERS)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(request.param, True, str(tmp_path_factory.mktemp("instances")))


def _spec(count: int) -> dict[str, Any]:
    return {"present": ["vendor_specific"], "params": {}, "instances": {"vendor_specific": count}}


def _python_blob(function: Function, offsets: list[int]) -> tuple[bytes, Any, Any]:
    """The Python's capture, descriptor over zeroed host fields (as the driver derives it) and blob."""
    c = generic.GenericConfig(present=generic.HAS_VENDOR_SPECIFIC)
    c.instances.vendor_specific = len(offsets)
    read = lambda o, n: int.from_bytes(function.config[o:o + n], "little")  # noqa: E731
    state = generic.capture(read, {"vendor_specific": offsets}, c)
    host = generic.GenericDescriptor(present=c.present,
                                     vendor_specific=[vs.VendorSpecificDescriptor() for _ in offsets])
    descriptor = generic.derive_descriptor(state, host, c)
    return generic.save(state, descriptor, config=c), descriptor, c


@needs_data
def test_capture_and_load_agree_on_every_instance(driver: Path) -> None:
    assert len(FUNCTIONS) >= 5 and max(len(o) for _, _, o in FUNCTIONS) == 5
    commands, wanted = [], []
    for _case, function, offsets in FUNCTIONS:
        blob, _, _ = _python_blob(function, offsets)
        spec = _spec(len(offsets))
        bases = ",".join(["0"] * (len(ORDER) - 1) + ["/".join(str(o) for o in offsets)])
        image = function.config + bytes(4096 - len(function.config))
        commands.append(f"devcapture generic {config_spec('generic', spec)} {bases} {image.hex()}")
        commands.append(device_command("generic", blob, spec))
        wanted += [Answer(True, blob.hex()), Answer(True, blob.hex())]
    answers = run(driver, commands)
    wrong = [f"{FUNCTIONS[i // 2][0]} {FUNCTIONS[i // 2][1].address} {commands[i].split()[0]}: {got.key}"
             for i, (got, want) in enumerate(zip(answers, wanted, strict=True)) if got.key != want.key]
    assert not wrong, "\n".join(wrong)


@needs_data
def test_a_differing_or_missing_instance_is_refused_by_both_naming_it(driver: Path) -> None:
    _case, function, offsets = next(f for f in FUNCTIONS if len(f[2]) == 5)
    blob, descriptor, c = _python_blob(function, offsets)
    differs = generic.GenericDescriptor(present=c.present, vendor_specific=[
        vs.unpack_descriptor(vs.pack_descriptor(d), 0) for d in descriptor.vendor_specific])
    fewer = generic.GenericDescriptor(present=c.present, vendor_specific=descriptor.vendor_specific[:4])
    differs.vendor_specific[3].byte8 ^= 0x40
    for target, count, expected in ((differs, 5, [("vendor_specific[3]", "equal", "byte8")]),
                                    (fewer, 4, [("vendor_specific[4]", "present", "")])):
        spec = _spec(count)
        target_config = generic.GenericConfig(present=c.present)
        target_config.instances.vendor_specific = count
        with pytest.raises(MigrationRefused) as caught:
            generic.load(blob, config=target_config, target=target)
        want = python_failures(caught.value.failures)
        assert [row[:3] for row in want] == expected
        [answer] = run(driver, [f"migrate generic {blob.hex()} {hex_or_dash(descriptor_records('generic', target))} "
                                f"{config_spec('generic', spec)}"])
        assert not answer.ok and answer.untouched and answer.status == "migration refused by a compat rule", answer
        assert failures_of(answer.extra) == want
