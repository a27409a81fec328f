"""A hypervisor's own sections built with the standard library from a directory of its own
(`vfiogen build schemas/ examples/hv-schemas/ -o out/`), in Python and in C.

Three builds of the hypervisor's tree, each with the standard library untouched: `with` (examples/hv-schemas as
shipped: device igd_gpu with the optional igd_stolen section, whose BDSM register is emulated), `without` (the
hypervisor's build before it added the section: igd_gpu lists header, msi and pm only) and `passthrough` (a build
that does not support BDSM emulation: the register is there, `emulated:` is not).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import GENERATED, ROOT, SCHEMAS, run_cli

sys.path.insert(0, str(ROOT / "tests" / "generated_c"))
from harness import COMPILERS, build, failures_of, mask_of, python_failures, run  # noqa: E402
from isolated import import_build  # noqa: E402

HV = ROOT / "examples" / "hv-schemas"
VARIANTS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "with": {},
    "without": {"igd_gpu.yaml": [("  - use: igd_stolen\n    required: false\n", "")]},
    "passthrough": {"igd_stolen.yaml": [("  bdsm:\n    emulated: true\n", "  bdsm:\n")]},
    # A later version of the section adds a writable, emulated register, declared before bdsm: the mask list
    # indexes it after the version-1 registers, so both builds give gmch and bdsm the same index.
    "grown": {"igd_stolen.yaml": [("\nversion: 1\n", "\nversion: 2\nmin_version: 1\n"),
                                  ("  bdsm:\n    emulated: true\n",
                                   "  scratch:\n    since: 2\n    default: 0\n    emulated: true\n    offset: 0x04\n"
                                   "    width: 32\n    access: rw\n  bdsm:\n    emulated: true\n"),
                                  ("\nrestore:\n  - bdsm\n", "\nrestore:\n  - scratch\n  - bdsm\n")]},
}
BDSM_EMULATED = 0xFFF00001
"""bdsm's declared bits: lock (bit 0) and base (31:20); bits 19:1 are undeclared, so reserved and never emulated."""


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hv")
    outs = {}
    for name, edits in VARIANTS.items():
        hv = root / name / "hv-schemas"
        shutil.copytree(HV, hv)
        for file, changes in edits.items():
            text = (hv / file).read_text("utf-8")
            for before, after in changes:
                assert text.count(before) == 1, before
                text = text.replace(before, after)
            (hv / file).write_text(text, "utf-8")
        result = run_cli("build", str(SCHEMAS), str(hv), "-o", str(root / name / "out"))
        assert result.status == 0, result.stderr
        outs[name] = root / name / "out"
    return outs


@pytest.fixture(scope="module")
def packages(builds: dict[str, Path]) -> dict[str, dict[str, ModuleType]]:
    return {name: import_build(out / "python") for name, out in builds.items()}


def test_the_standard_library_is_built_unchanged_beside_the_hypervisors_sections(builds: dict[str, Path]) -> None:
    out = builds["with"]
    for path in ("python/vfiogen_state/msi.py", "python/vfiogen_state/header.py", "c/vfg_msi.c", "c/vfg_pm.h"):
        assert (out / path).read_bytes() == (GENERATED / path).read_bytes(), path
    for path in ("python/vfiogen_state/igd_stolen.py", "python/vfiogen_state/igd_gpu.py", "c/vfg_igd_stolen.c",
                 "c/vfg_igd_gpu.h", "docs/sections/igd_stolen.md"):
        assert (out / path).is_file(), path
    assert "vfiogen from hv-schemas/igd_stolen.yaml" in (out / "c" / "vfg_igd_stolen.c").read_text("utf-8")
    # check and build --check take the same directories; the lock holds both trees' sections.
    assert run_cli("check", str(SCHEMAS), str(HV)).status == 0
    assert run_cli("build", str(SCHEMAS), str(HV), "-o", str(out), "--check").status == 0
    # The passthrough tree against the with-build's output: stale (another mask), and named so.
    stale = run_cli("build", str(SCHEMAS), str(builds["passthrough"].parent / "hv-schemas"), "-o", str(out), "--check")
    assert stale.status == 1 and "igd_stolen" in stale.stdout + stale.stderr
    lock = (out / "schema.lock.json").read_text("utf-8")
    assert '"source": "hv-schemas/igd_stolen.yaml"' in lock and '"source": "schemas/sections/msi.yaml"' in lock


def test_diff_takes_the_hypervisors_tree_with_both_sides(builds: dict[str, Path]) -> None:
    """`--with schemas/` compiles the standard library into both sides of a diff of the hypervisor's tree."""
    old, new = builds["passthrough"].parent / "hv-schemas", builds["with"].parent / "hv-schemas"
    result = run_cli("diff", str(old), str(new), "--with", str(SCHEMAS), "--format", "json")
    assert result.status == 1, result.stderr
    assert '"rule": "VD026"' in result.stdout and '"subject": "bdsm"' in result.stdout
    assert run_cli("diff", str(new), str(new), "--with", str(SCHEMAS)).status == 0
    # Without the library the hypervisor's tree does not check (igd_gpu uses header, msi and pm): a usage error.
    assert run_cli("diff", str(old), str(new)).status == 2


def _blob(package: dict[str, ModuleType]) -> tuple[bytes, Any]:
    """A saved igd_gpu state of that build, with a programmed MSI and BDSM where the build has it."""
    device = package["igd_gpu"]
    state = device.IgdGpuState()
    state.msi.control.addr64 = True
    state.msi.address_lo.address = 0xFEE00000 >> 2
    state.msi.data = 0x41
    descriptor = device.IgdGpuDescriptor()
    descriptor.msi.cap_offset = 0x90
    if hasattr(state, "igd_stolen"):
        state.igd_stolen = package["igd_stolen"].IgdStolenState()
        state.igd_stolen.bdsm.base = 0x7F0
        state.igd_stolen.host_base = 0x8_7F00_0000
        descriptor.igd_stolen.cap_offset = 0x50
    descriptor = device.derive_descriptor(state, descriptor)
    return device.save(state, descriptor), descriptor


def test_a_build_with_the_optional_section_loads_a_stream_from_a_build_without_it(
        packages: dict[str, dict[str, ModuleType]]) -> None:
    blob, _ = _blob(packages["without"])
    device = packages["with"]["igd_gpu"]
    state, descriptor = device.load(blob)
    assert state.igd_stolen is None and not descriptor.present & device.HAS_IGD_STOLEN  # not sent: new state kept
    assert state.msi.data == 0x41 and state.msi.address_lo.address == 0xFEE00000 >> 2
    # The target's own descriptor (with the section) allows it: the section is optional on both sides.
    state.igd_stolen = device._igd_stolen.IgdStolenState()
    own = device.derive_descriptor(state, descriptor)
    assert own.present == device.ALL_SECTIONS
    assert mask_of(packages["with"]["igd_stolen"], own.igd_stolen, "emulated_masks", "bdsm") == BDSM_EMULATED
    assert device.check_compat(descriptor, own) == []


def test_a_build_that_does_not_emulate_bdsm_refuses_with_both_masks(
        packages: dict[str, dict[str, ModuleType]]) -> None:
    blob, source = _blob(packages["with"])
    target_device = packages["passthrough"]["igd_gpu"]
    section = packages["passthrough"]["igd_stolen"]
    assert mask_of(packages["with"]["igd_stolen"], source.igd_stolen, "emulated_masks", "bdsm") == BDSM_EMULATED
    target = _own(target_device, blob)
    assert mask_of(section, target.igd_stolen, "emulated_masks", "bdsm") == 0
    assert mask_of(section, target.igd_stolen, "write_masks", "bdsm") == BDSM_EMULATED
    refusal = pytest.raises(packages["passthrough"]["_runtime"].MigrationRefused, target_device.load, blob,
                            target=target)
    assert [str(f) for f in refusal.value.failures] == [
        "igd_stolen: the hypervisor emulates other bits of register bdsm of IGD-style stolen-memory emulation "
        "(section igd_stolen) on the target (equal emulated_bdsm: source 0xfff00001, target 0x0)"]


def _own(device: ModuleType, blob: bytes) -> Any:
    """The target's own descriptor: the same device (the blob's state), derived by the target's build."""
    state, host = device.load(blob)
    return device.derive_descriptor(state, host)


def _as(device: ModuleType, blob: bytes) -> Any:
    """The source's descriptor in another build's blob, as `device`'s build reads it (no target given, so
    nothing is compared)."""
    return device.load(blob)[1]


@pytest.mark.parametrize("compiler", COMPILERS)
def test_the_c_of_each_build_agrees(compiler: str, builds: dict[str, Path],
                                    packages: dict[str, dict[str, ModuleType]], tmp_path: Path) -> None:
    """The with-build's C loads the without-build's stream as its Python does; the passthrough build's C
    refuses the with-build's descriptor with the same reason, masks included."""
    with_driver = build(compiler, True, str(tmp_path), str(builds["with"]))
    old_blob, _ = _blob(packages["without"])
    python = packages["with"]["igd_gpu"].save(*packages["with"]["igd_gpu"].load(old_blob))
    (answer,) = run(with_driver, [f"device igd_gpu {old_blob.hex()}"])
    assert answer.ok and answer.payload == python.hex()

    passthrough_dir = tmp_path / "passthrough"
    passthrough_dir.mkdir()
    driver = build(compiler, True, str(passthrough_dir), str(builds["passthrough"]))
    device = packages["passthrough"]["igd_gpu"]
    blob, _ = _blob(packages["with"])
    target = _own(device, blob)
    (answer,) = run(driver, [f"migrate igd_gpu {blob.hex()} {_records(packages['passthrough'], target).hex()}"])
    want = python_failures(device.check_compat(_as(device, blob), target))
    assert not answer.ok and answer.untouched and failures_of(answer.extra) == want
    assert "source 0xfff00001, target 0x0" in want[0][3]


def _records(package: dict[str, ModuleType], descriptor: Any) -> bytes:
    """The descriptor frame's records of an igd_gpu descriptor of that build (what the driver reads)."""
    records = b""
    for name in ("header", "msi", "pm", "igd_stolen"):
        if descriptor.present & getattr(package["igd_gpu"], f"HAS_{name.upper()}"):
            section = package[name]
            packed = section.pack_descriptor(getattr(descriptor, name))
            records += section.SECTION_ID.to_bytes(2, "big") + len(packed).to_bytes(2, "big") + packed
    return records


def test_a_version_adding_a_negotiated_register_diffs_compatible(builds: dict[str, Path]) -> None:
    """The masks are a list keyed by register index, not fixed record fields: the new register extends the list
    (VD014 and VD011), and the record's fixed part is unchanged (no VD016)."""
    old, new = builds["with"].parent / "hv-schemas", builds["grown"].parent / "hv-schemas"
    result = run_cli("diff", str(old), str(new), "--with", str(SCHEMAS), "--format", "json")
    assert result.status == 0, result.stdout + result.stderr
    rules = {change["rule"] for change in json.loads(result.stdout)["changes"]}
    assert {"VD011", "VD014"} <= rules and "VD016" not in rules and "VD041" not in rules, rules


def test_builds_on_either_side_of_a_new_negotiated_register_migrate_both_ways(
        packages: dict[str, dict[str, ModuleType]]) -> None:
    old, new = packages["with"], packages["grown"]
    assert new["igd_stolen"].MASKED_REGISTERS == ("gmch", "bdsm", "scratch")
    assert old["igd_stolen"].MASKED_REGISTERS == ("gmch", "bdsm")
    # old source -> new target: the target compares gmch and bdsm (both index them) and loads version 1
    blob, source = _blob(old)
    target = _own(new["igd_gpu"], blob)
    assert (source.igd_stolen.mask_registers, target.igd_stolen.mask_registers) == (2, 3)
    assert target.igd_stolen.emulated_masks[2] == 0xFFFFFFFF  # scratch: this build emulates it
    state, _ = new["igd_gpu"].load(blob, target=target)
    assert state.igd_stolen.bdsm.base == 0x7F0 and state.igd_stolen.scratch == 0  # not in version 1: its default
    # new source -> old target: saved at the version both load (1); the old build reads over scratch's entry
    blob, source = _blob(new)
    assert source.igd_stolen.write_masks[2] == 0xFFFFFFFF
    old_target = _own(old["igd_gpu"], _blob(old)[0])
    state, mine = new["igd_gpu"].load(blob)
    down = new["igd_gpu"].save(state, mine, target=old_target)
    loaded, seen = old["igd_gpu"].load(down, target=old_target)
    assert loaded.igd_stolen.bdsm.base == 0x7F0 and seen.igd_stolen.mask_registers == 3
    assert seen.igd_stolen.emulated_masks == (0, BDSM_EMULATED)  # scratch's entry read over, not kept
    # A register both builds index whose masks differ still refuses (here bdsm, passed through by the target).
    refused = pytest.raises(packages["passthrough"]["_runtime"].MigrationRefused, packages["passthrough"]["igd_gpu"].load,
                            down, target=_own(packages["passthrough"]["igd_gpu"], _blob(old)[0]))
    assert [f.field for f in refused.value.failures] == ["emulated_bdsm"]


@pytest.mark.parametrize("compiler", COMPILERS)
def test_the_c_of_builds_on_either_side_of_a_new_negotiated_register_agrees(
        compiler: str, builds: dict[str, Path], packages: dict[str, dict[str, ModuleType]], tmp_path: Path) -> None:
    old, new = packages["with"], packages["grown"]
    for name, blob_of, target_package in (("grown", old, new), ("with", new, old)):
        directory = tmp_path / name
        directory.mkdir()
        driver = build(compiler, True, str(directory), str(builds[name]))
        blob, _ = _blob(blob_of)
        device = target_package["igd_gpu"]
        target = _own(device, _blob(target_package)[0])
        if blob_of is new:  # the newer source saves at the version the older target loads
            state, mine = new["igd_gpu"].load(blob)
            blob = new["igd_gpu"].save(state, mine, target=target)
        (answer,) = run(driver, [f"migrate igd_gpu {blob.hex()} {_records(target_package, target).hex()}"])
        python = device.save(*device.load(blob, target=target))
        assert answer.ok, answer
        assert answer.payload == python.hex()
