"""The setup of tests/bench/bench_vfio_pci.py still works: its real function is captured as lspci shows it, and
its states at 1, 64 and 2048 MSI-X vectors save, load back equal and have the sizes the wire format gives.

Like test_bench_generator.py, this checks what the benchmark measures, never a time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import SHARED_DATA

sys.path.insert(0, str(Path(__file__).resolve().parent / "bench"))
import vfio_pci_python as bench  # noqa: E402

from vfiogen_state import msix, vfio_pci  # noqa: E402

DATA = SHARED_DATA / "pciutils"
pytestmark = pytest.mark.skipif(not (DATA / f"{bench.DUMP}.lspci-xxxx.txt").is_file(),
                                reason="pciutils dumps not found")


@pytest.fixture(scope="module")
def captured() -> bench.Captured:
    return bench.capture(data=DATA)  # SetupError if the blob is not the one `vfiogen capture` writes


def test_the_function_is_captured_as_lspci_shows_it(captured: bench.Captured) -> None:
    # pri-pasid.lspci-vvv.txt, 6a:01.0: Express [40], MSI-X [80] "Count=9", PM [90], AER [100], LTR [150],
    # TPH [160], VC [170], DVSEC [200], ATS [220], PASID [230], PRI [240]; no schema covers TPH or DVSEC.
    # vfio_pci's order (schemas/devices/vfio-pci.yaml) puts them: pm, header, ltr, pcie, aer, ats, pasid,
    # pri, vc, msix.
    assert captured.sections == ["pm", "header", "ltr", "pcie", "aer", "ats", "pasid", "pri", "vc", "msix"]
    assert captured.state.header.vendor_id == 0x8086 and captured.state.header.device_id == 0x0B25
    assert captured.state.msix.control.table_size == 8 and captured.state.msix.control.enable


@pytest.mark.parametrize("vectors", bench.VECTORS)
def test_each_vector_count_round_trips(captured: bench.Captured, vectors: int) -> None:
    case = bench.make_case(captured, vectors)
    assert case.sections == captured.sections[:-1] + ["msix", "vfio_irq"]
    assert case.state.msix.control.table_size == vectors - 1 and len(case.state.msix.vectors) == vectors
    loaded, source = vfio_pci.load(case.blob, config=case.config)
    assert loaded == case.state and source == case.descriptor
    # Only MSI-X grows with the count: 16 bytes a vector and 8 a PBA quadword (one up to 64 vectors), from
    # the 1029 bytes at 1 vector: test_the_vfio_irq_section_adds_29_bytes.
    assert len(case.blob) == 1029 + 16 * (vectors - 1) + 8 * ((vectors + 63) // 64 - 1)
    # The sections alone give the same states back as the device load.
    for module, state, params in bench.section_codecs(case):
        assert module.load(module.save(state, module.VERSION, params), module.VERSION, params) == state


def test_the_vfio_irq_section_adds_29_bytes(captured: bench.Captured) -> None:
    """At the function's own 9 vectors, the blob is `vfiogen capture`'s plus the vfio_irq section: a frame of
    12 bytes of head, 3 of payload (mode u8, vectors u16) and a 4-byte CRC, and a descriptor record of 4
    bytes of head and 6 of versions and mask count (docs/wire-format.md). So 1,128 - 8 * 16 + 29 = 1,029 at
    1 vector."""
    assert len(captured.blob) == 1128
    assert len(bench.make_case(captured, 9).blob) == 1128 + 19 + 10


def test_a_corrupted_frame_is_refused(captured: bench.Captured) -> None:
    case = bench.make_case(captured, 64)
    _, end = bench.frames(case.blob)[-1]
    bad = bytearray(case.blob)
    bad[end] ^= 1  # the last frame's CRC
    with pytest.raises(vfio_pci.LoadError):
        vfio_pci.load(bytes(bad), config=case.config)
    assert len(bench.frames(case.blob)) == 1 + len(case.sections)
    assert msix.SECTION_ID in {int.from_bytes(case.blob[a:a + 2], "big") for a, _ in bench.frames(case.blob)}
