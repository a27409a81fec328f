"""Params read from another section (`from:`), run in both back ends on real functions.

AER's `root_port` is read from the PCI Express capability's Device/Port Type (schemas/sections/aer.yaml), and
vfio_pci lists `pcie` before `aer`, so its generated device code computes the param itself: no config gives
it. The functions are pciutils dumps that lspci calls a Root Port (cap-aer-log 00:1c.0) and an Endpoint
(cap-pcie-2 01:00.0), each with AER. Their Root Error Command and Error Source Identification registers are
all zero in the dumps, so the test writes known values there first: the root port's capture must carry them,
the endpoint's must not (the bytes at those offsets are no register of an endpoint's AER).

Each case is captured and saved by the generated Python and by the generated C (ASan/UBSan); the blobs must be
byte-identical, each side must load the other's, and the C restore of a blob must write the Root Error Command
back on the root port only.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
from harness import COMPILERS, build, config_spec, device_command, python_config, python_device, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import SHARED_DATA  # noqa: E402

from vfiogen.configspace.dump import Function, read_dump  # noqa: E402
from vfiogen.configspace.report import inspect_function  # noqa: E402
from vfiogen_state import aer, vfio_pci  # noqa: E402

DATA = SHARED_DATA / "pciutils"
ORDER = sorted((name.removeprefix("HAS_").lower() for name in dir(vfio_pci) if name.startswith("HAS_")),
               key=lambda name: getattr(vfio_pci, f"HAS_{name.upper()}"))
ROOT_COMMAND = 0x5  # Correctable and Fatal Error Reporting Enable
SOURCE_ID = 0x0100_00f8  # ERR_FATAL/NONFATAL from 01:00.0, ERR_COR from 00:1f.0
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="pciutils dumps not found")


def _function(case: str, address: str) -> Function:
    found = next(f for f in read_dump(DATA / f"{case}.lspci-xxxx.txt") if f.address.endswith(address))
    config = bytearray(found.config) + bytearray(4096 - len(found.config))
    base = _bases(found)["aer"]
    config[base + 0x2C:base + 0x30] = ROOT_COMMAND.to_bytes(4, "little")
    config[base + 0x34:base + 0x38] = SOURCE_ID.to_bytes(4, "little")
    return Function(found.address, found.title, bytes(config))


def _bases(function: Function) -> dict[str, int]:
    """Where the PCI Express capability (cap 0x10) and AER (ecap 0x0001) sit, by the capability walk."""
    names = {("cap", 0x10): "pcie", ("ecap", 0x0001): "aer"}
    report = inspect_function(function, None)
    return {names[key]: c.capability.offset for c in report.capabilities
            for key in [(c.capability.kind, c.capability.id)] if key in names}


CASES = {"root port": ("cap-aer-log", "00:1c.0", True), "endpoint": ("cap-pcie-2", "01:00.0", False)}


def _config(present: list[str], params: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    return {"present": present, "params": params or {}}


def _python_blob(function: Function, config: dict[str, Any]) -> tuple[Any, bytes]:
    c = python_config("vfio_pci", config)
    bases = _bases(function)

    def read_config(offset: int, size: int) -> int:
        return int.from_bytes(function.config[offset:offset + size], "little")

    state = vfio_pci.capture(read_config, bases, c)
    descriptor = vfio_pci.derive_descriptor(state, vfio_pci.VfioPciDescriptor(), c)
    return state, vfio_pci.save(state, descriptor, config=c)


@pytest.mark.parametrize("case", sorted(CASES))
def test_python_capture_reads_root_port_from_the_pcie_state(case: str) -> None:
    name, address, root = CASES[case]
    function = _function(name, address)
    # The config's own root_port is the opposite of the truth: with pcie present, the device ignores it.
    state, blob = _python_blob(function, _config(["pcie", "aer"], {"aer": {"root_port": int(not root)}}))
    assert (state.aer.root_error_command.value(), state.aer.error_source_identification.value()) == (
        (ROOT_COMMAND, SOURCE_ID) if root else (0, 0))
    loaded, _ = vfio_pci.load(blob, config=python_config("vfio_pci", _config(["pcie", "aer"])))
    assert loaded.aer.root_error_command.value() == (ROOT_COMMAND if root else 0)
    # The same aer section captured alone, with root_port as the truth says: the device's blob carries its
    # frame byte for byte (12 bytes of root registers more on the root port).
    alone = aer.save(aer.capture(lambda o, n: int.from_bytes(function.config[o:o + n], "little"),
                                 _bases(function)["aer"], aer.Params(root_port=root)), aer.VERSION,
                     aer.Params(root_port=root))
    assert alone in blob


@pytest.mark.parametrize("case", sorted(CASES))
def test_without_pcie_the_config_gives_root_port(case: str) -> None:
    """A device instance without the pcie section (its presence bit clear) takes root_port from its config,
    as any param: a generic device's hypervisor says it."""
    name, address, _ = CASES[case]
    function = _function(name, address)
    for given in (0, 1):
        state, _ = _python_blob(function, _config(["aer"], {"aer": {"root_port": given}}))
        assert state.aer.root_error_command.value() == (ROOT_COMMAND if given else 0), given


@pytest.fixture(scope="module", params=COMPILERS)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(request.param, True, str(tmp_path_factory.mktemp("param_from")))


@pytest.mark.parametrize("case", sorted(CASES))
def test_c_derives_root_port_as_python_does(driver: Path, case: str) -> None:
    name, address, root = CASES[case]
    function = _function(name, address)
    bases = _bases(function)
    spec = config_spec("vfio_pci", _config(["pcie", "aer"], {"aer": {"root_port": int(not root)}}))
    all_bases = ",".join(str(bases.get(s, 0)) for s in ORDER)
    python_state, python_blob = _python_blob(function, _config(["pcie", "aer"],
                                                                {"aer": {"root_port": int(not root)}}))
    captured, restored = run(driver, [f"devcapture vfio_pci {spec} {all_bases} {function.config.hex()}",
                                      f"devrestore vfio_pci {python_blob.hex()} {all_bases} - {spec}"])
    assert captured.ok, captured
    assert captured.payload == python_blob.hex()
    assert restored.ok, restored
    # The C restore of the Python blob: the Root Error Command written back (as saved) on the root port only.
    root_writes = [w for w in restored.payload.split(";") if w.startswith(f"{bases['aer'] + 0x2C}:")]
    assert root_writes == ([f"{bases['aer'] + 0x2C}:{ROOT_COMMAND}:4"] if root else [])
    assert python_state.aer.root_error_command.value() == (ROOT_COMMAND if root else 0)


# --- an integer param and a device file's own config: tests/golden/param_from built on its own ---------------

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "param_from"


@pytest.fixture(scope="module")
def golden_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from conftest import run_cli  # noqa: PLC0415 - conftest is on the path once the module loads
    from isolated import import_build  # noqa: PLC0415

    out = tmp_path_factory.mktemp("golden_param_from") / "out"
    result = run_cli("build", str(GOLDEN), "-o", str(out))
    assert result.status == 0, result.stderr
    return out, import_build(out / "python")


def _golden_blob(package: dict[str, Any], port_type: int, lanes: int) -> bytes:
    """A dev blob whose port has this type and lane count; fault's registers all set, so each present one shows."""
    dev, port, fault = package["dev"], package["port"], package["fault"]
    state = dev.DevState()
    state.port.caps = port.CapsRegister.from_value(port_type << 4 | lanes << 8)
    state.fault.command = fault.CommandRegister.from_value(1)
    state.fault.root_command = fault.RootCommandRegister.from_value(1) if port_type in (4, 10) else fault.RootCommandRegister()
    state.fault.lane_status = 0x5A5A5A5A if lanes > 1 else 0
    descriptor = dev.derive_descriptor(state, dev.DevDescriptor())
    return bytes(dev.save(state, descriptor))


@pytest.mark.parametrize("compiler", COMPILERS)
def test_an_integer_param_read_from_another_section_in_both_languages(
        compiler: str, golden_build: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """fault's `lanes` (u8, from port's caps.lanes) and `root` (bool, from port's type): the device file binds
    neither, its generated code reads both from port's state. A Python blob loads and re-saves in C byte for
    byte, and each present register costs its 4 bytes of payload: root_command for a root port or event
    collector, lane_status for more than one lane."""
    out, package = golden_build
    driver = build(compiler, True, str(tmp_path), str(out))
    cases = [(0, 1), (4, 1), (10, 3), (0, 2), (4, 15)]
    blobs = [_golden_blob(package, port_type, lanes) for port_type, lanes in cases]
    answers = run(driver, [f"device dev {blob.hex()}" for blob in blobs])
    sizes = []
    for (port_type, lanes), blob, answer in zip(cases, blobs, answers, strict=True):
        assert answer.ok and answer.payload == blob.hex(), (port_type, lanes, answer)
        loaded, _ = package["dev"].load(blob)
        assert loaded.fault.root_command.value() == (1 if port_type in (4, 10) else 0)
        assert loaded.fault.lane_status == (0x5A5A5A5A if lanes > 1 else 0)
        sizes.append(len(blob))
    base = sizes[0]
    # root_command is writable, so where present it also has a descriptor mask-list entry: index u16, width
    # u8 and its two 4-byte masks, 11 bytes; lane_status is read-only and has none.
    entry = 3 + 2 * 4
    assert [size - base for size in sizes] == [0, 4 + entry, 8 + entry, 4, 8 + entry]


def test_a_frame_saved_with_another_root_port_is_refused_alike(driver: Path) -> None:
    """A hostile blob: the PCI Express frame says Root Port, the AER frame was saved as an endpoint's (no root
    registers). Both languages read root_port from the loaded PCI Express state and refuse the AER frame with
    the same section, field and byte offset, the target state untouched; the consistent blob loads in both."""
    from vfiogen_state import _runtime  # noqa: PLC0415 - the generated runtime, for the frames

    function = _function("cap-aer-log", "00:1c.0")
    config = _config(["pcie", "aer"])
    _, blob = _python_blob(function, config)
    aer_state, _ = vfio_pci.load(blob, config=python_config("vfio_pci", config))
    # The same AER state as an endpoint's: its root registers absent (save refuses an absent one holding a value).
    endpoint = copy.copy(aer_state.aer)
    for name in ("root_error_command", "root_error_status", "error_source_identification"):
        current = getattr(endpoint, name)
        setattr(endpoint, name, type(current)() if isinstance(current, aer.Register) else 0)
    endpoint_form = aer.save(endpoint, aer.VERSION, aer.Params(root_port=False))
    # Rebuild the blob with the AER frame replaced, every other frame (and the descriptor) as saved.
    count = _runtime.HEADER.unpack_from(blob, 0)[2]
    offset, parts = _runtime.HEADER.size, [blob[:_runtime.HEADER.size]]
    for _ in range(count + 1):
        frame = _runtime.read_frame(blob, offset, "vfio_pci")
        whole = blob[offset:frame.end + _runtime.CRC.size]
        if frame.section_id == aer.SECTION_ID:
            whole = _runtime.frame(aer.SECTION_ID, frame.version, frame.required, endpoint_form)
        parts.append(whole)
        offset = frame.end + _runtime.CRC.size
    hostile = b"".join(parts)
    assert len(hostile) == len(blob) - 12
    python = [python_device("vfio_pci", b, config) for b in (blob, hostile)]
    c = run(driver, [device_command("vfio_pci", b, config) for b in (blob, hostile)])
    assert python[0].ok and c[0].ok and c[0].payload == python[0].payload == blob.hex()
    assert not python[1].ok and not c[1].ok and c[1].untouched
    assert (c[1].section, c[1].field, c[1].offset) == (python[1].section, python[1].field, python[1].offset)
    assert python[1].section == "aer", python[1]
