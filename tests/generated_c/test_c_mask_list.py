"""The descriptor record's mask list (docs/wire-format.md, "Descriptor frame"), refused alike in Python and C.

Each case edits the MSI-X record of the example NIC's valid blob (msix.yaml: control, table and pba, indices
0..2, all three with an entry) and re-frames it with a good CRC, so the loaders meet the edit itself. Both
languages must refuse it naming the same section, field and byte offset (worked out here from the record's
place), or load it to the same bytes; a case that only reads over an entry must load.
"""

from __future__ import annotations

from pathlib import Path
import pytest
from conftest import ROOT
from harness import COMPILERS, build, device_command, python_device, run
from vfiogen_state import _runtime, example_nic
from vfiogen_state import msix as msix_module

VALID = ROOT / "tests" / "vectors" / "devices" / "example_nic" / "valid_blob.yaml"
MSIX_ID = msix_module.SECTION_ID


def _valid() -> bytes:
    import yaml
    case = yaml.safe_load(VALID.read_text("utf-8"))
    return bytes.fromhex("".join("".join(line.split()) for line in case["hex"]))


def _records(blob: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """The descriptor frame's records as (section id, payload), and the frame payload's offset in the blob."""
    head = _runtime.read_frame(blob, _runtime.HEADER.size, "t")
    payload, out, o = blob[head.start:head.end], [], 0
    while o < len(payload):
        ident, size = _runtime.RECORD.unpack_from(payload, o)
        out.append((ident, payload[o + 4:o + 4 + size]))
        o += 4 + size
    return out, head.start


def _with_msix_entries(entries: bytes, registers: int | None = None) -> tuple[bytes, int]:
    """The valid blob with the MSI-X record's mask list replaced by `entries` (and its mask_registers by
    `registers`, when given), and the blob offset at which that list starts."""
    blob = _valid()
    records, start = _records(blob)
    fixed = msix_module.DESCRIPTOR_FIXED
    payload, at = b"", 0
    for ident, record in records:
        if ident == MSIX_ID:
            count = record[fixed - 2:fixed] if registers is None else registers.to_bytes(2, "big")
            record = record[:fixed - 2] + count + entries
            at = start + len(payload) + 4 + fixed
        payload += _runtime.RECORD.pack(ident, len(record)) + record
    head = _runtime.read_frame(blob, _runtime.HEADER.size, "t")
    rest = blob[head.end + _runtime.CRC.size:]
    return blob[:_runtime.HEADER.size] + _runtime.frame(_runtime.DESCRIPTOR_ID, _runtime.FORMAT_VERSION, True,
                                                        payload) + rest, at


def _entry(index: int, width: int, emulated: int, writable: int) -> bytes:
    return index.to_bytes(2, "big") + bytes([width]) + emulated.to_bytes(width, "big") + writable.to_bytes(width, "big")


CONTROL, TABLE, PBA = _entry(0, 2, 0xC7FF, 0xC000), _entry(1, 4, 0xFFFFFFFF, 0), _entry(2, 4, 0xFFFFFFFF, 0)
"""The valid blob's entries (msix.yaml: every register emulated; enable and function mask writable)."""

# (case, entries, where the refusal points as an offset into the list, or None for a load)
CASES: list[tuple[str, bytes, int | None]] = [
    ("as saved", CONTROL + TABLE + PBA, None),
    ("an entry cut short", CONTROL + TABLE + PBA[:5], len(CONTROL + TABLE)),
    ("only its head", CONTROL + TABLE + PBA[:2], len(CONTROL + TABLE)),
    ("a width of 3 bytes", CONTROL + _entry(1, 3, 1, 1) + PBA, len(CONTROL)),
    ("another width than the register's", CONTROL + _entry(1, 2, 0xFFFF, 0) + PBA, len(CONTROL)),
    ("out of order", CONTROL + PBA + TABLE, len(CONTROL + PBA)),
    ("a register twice", CONTROL + TABLE + TABLE + PBA, len(CONTROL + TABLE)),
    ("both masks 0", CONTROL + _entry(1, 4, 0, 0) + PBA, len(CONTROL)),
    ("past the record's mask_registers", CONTROL + TABLE + PBA + _entry(3, 4, 1, 0), len(CONTROL + TABLE + PBA)),
]


@pytest.fixture(scope="module", params=COMPILERS)
def driver(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(request.param, True, str(tmp_path_factory.mktemp("masks")))


@pytest.mark.parametrize(("entries", "refused_at"), [pytest.param(e, r, id=c) for c, e, r in CASES])
def test_a_mask_list_is_read_alike(driver: Path, entries: bytes, refused_at: int | None) -> None:
    blob, start = _with_msix_entries(entries)
    python = python_device("example_nic", blob)
    (c,) = run(driver, [device_command("example_nic", blob)])
    assert c.key == python.key, (c, python)
    if refused_at is None:
        assert python.ok
    else:
        assert (python.section, python.field, python.offset) == ("msix", "descriptor.masks", start + refused_at)
        assert c.status in ("descriptor record mismatch", "truncated") and c.untouched


def test_an_entry_of_a_register_only_a_newer_build_has_is_read_over(driver: Path) -> None:
    """A newer build's record: one more register indexed, with an entry for it; this build compares the three
    it knows and keeps nothing of the fourth."""
    blob, _ = _with_msix_entries(CONTROL + TABLE + PBA + _entry(3, 8, 1, 0xFF), registers=4)
    python = python_device("example_nic", blob)
    (c,) = run(driver, [device_command("example_nic", blob)])
    assert python.ok and c.key == python.key
    _, descriptor = example_nic.load(blob)
    assert descriptor.msix.mask_registers == 4
    assert descriptor.msix.emulated_masks == (0xC7FF, 0xFFFFFFFF, 0xFFFFFFFF)
    assert descriptor.msix.write_masks == (0xC000, 0, 0)
