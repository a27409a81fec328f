"""`vfiogen decode` (an interpreter of the IR) against the generated package: two implementations, one format."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SCHEMAS, run_cli
from nic_example import descriptor_of, valid_state

from vfiogen_state import example_nic as nic


def write_blob(tmp_path: Path) -> tuple[Path, bytes]:
    blob = nic.save(valid_state(), descriptor_of(valid_state()))
    path = tmp_path / "nic.bin"
    path.write_bytes(blob)
    return path, blob


def decoded(tmp_path: Path) -> tuple[dict, bytes]:  # type: ignore[type-arg]
    path, blob = write_blob(tmp_path)
    result = run_cli("decode", str(SCHEMAS), str(path), "--device", "example_nic", "--format", "json")
    assert (result.status, result.stderr) == (0, "")
    return json.loads(result.stdout), blob


def test_decode_agrees_with_the_generated_loader_on_every_register(tmp_path: Path) -> None:
    data, _ = decoded(tmp_path)
    state = valid_state()
    sections = {s["name"]: s for s in data["sections"]}
    assert list(sections) == ["rebar", "header", "msi", "msix", "sriov"]
    checked = 0
    for name, section in sections.items():
        section_state = getattr(state, name)
        for entry in section["fields"]:
            value = getattr(section_state, entry["path"], None)
            if value is None or "[" in entry["path"]:
                continue
            expected = value.value() if hasattr(value, "from_value") else value
            if isinstance(expected, (bool, int)) and not isinstance(entry["value"], str):
                assert entry["value"] == expected, (name, entry["path"])
                checked += 1
    assert checked >= 50  # every present register and scalar of the five sections (59 today)


def test_decode_offsets_follow_the_msi_wire_layout(tmp_path: Path) -> None:
    data, blob = decoded(tmp_path)
    msi = next(s for s in data["sections"] if s["name"] == "msi")
    start = msi["offset"]
    # 64-bit address with per-vector masking: control, address_lo, address_hi, data, mask, pending.
    assert [(e["path"], e["offset"] - start, e["size"]) for e in msi["fields"]] == [
        ("control", 0, 2), ("address_lo", 2, 4), ("address_hi", 6, 4), ("data", 10, 2), ("mask", 12, 4),
        ("pending", 16, 4)]
    assert msi["length"] == 20
    assert blob[start + 10:start + 12] == b"\x40\x21"  # data = 0x4021, big-endian
    control = msi["fields"][0]["fields"]
    assert control == {"enable": False, "mmc": 2, "mme": 0, "addr64": True, "pvm": True,
                       "ext_data_capable": False, "ext_data_enable": False}


def test_decode_lists_array_elements_with_their_offsets(tmp_path: Path) -> None:
    data, _ = decoded(tmp_path)
    section = next(s for s in data["sections"] if s["name"] == "msix")
    start = section["offset"]
    entries = {e["path"]: (e["offset"] - start, e["value"]) for e in section["fields"]}
    # control (2), table (4), pba (4), then 3 vectors of 16 bytes, then ceil(3 / 64) = 1 PBA qword.
    assert entries["vectors"] == (10, "3 entries")
    assert entries["vectors[1].data"] == (10 + 16 + 8, 0x41)
    assert entries["vectors[2].vector_control"] == (10 + 32 + 12, 0)
    assert entries["pending[0]"] == (58, 0b100)


def test_decode_text_and_errors(tmp_path: Path) -> None:
    path, blob = write_blob(tmp_path)
    text = run_cli("decode", str(SCHEMAS), str(path), "--device", "example_nic")
    assert text.status == 0
    assert "section msi (id 0x0005, version 2, required): 20 bytes at" in text.stdout
    assert "  data = 0x4021" in text.stdout
    corrupt = bytearray(blob)
    corrupt[-3] ^= 1
    path.write_bytes(bytes(corrupt))
    bad = run_cli("decode", str(SCHEMAS), str(path), "--device", "example_nic")
    assert bad.status == 1 and bad.stdout == ""
    assert bad.stderr.startswith(f"{path}: error: blob.frame at byte {len(blob) - 4}: CRC-32C mismatch")
    missing = run_cli("decode", str(SCHEMAS), str(tmp_path / "absent.bin"))
    assert (missing.status, missing.stderr) == (1, f"vfiogen: error: cannot read '{tmp_path / 'absent.bin'}': "
                                                   "No such file or directory\n")
    unknown = run_cli("decode", str(SCHEMAS), str(path), "--device", "nope")
    assert (unknown.status, unknown.stderr) == (1, "vfiogen: error: no device 'nope' (devices: example_nic, generic, vfio_pci)\n")



def test_decode_names_each_instance_of_a_repeated_section(tmp_path: Path) -> None:
    """The shared vector with two vendor-specific instances: each descriptor record and frame is named by its
    instance, and each frame decodes to the bytes the vector's comments give."""
    import yaml

    case = yaml.safe_load((SCHEMAS.parent / "tests/vectors/devices/generic/vendor_specific_two_instances.yaml")
                          .read_text("utf-8"))
    path = tmp_path / "two.bin"
    path.write_bytes(bytes.fromhex("".join("".join(line.split()) for line in case["hex"])))
    result = run_cli("decode", str(SCHEMAS), str(path), "--device", "generic", "--format", "json")
    assert result.status == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out["descriptor"]) == ["vendor_specific[0]", "vendor_specific[1]"]
    assert [s["name"] for s in out["sections"]] == ["vendor_specific[0]", "vendor_specific[1]"]
    second = {e["path"]: (e["offset"], e["value"]) for e in out["sections"][1]["fields"]}
    # the byte string `data`: cap_length - 3 = 13 bytes, byte n of the capability at data[n - 3]
    assert second["cap_length"] == (0x1D4, 0x10) and second["data"] == (0x1D5, "13 entries")
    assert second["data[0]"] == (0x1D5, 3) and second["data[5]"] == (0x1DA, 0x3C)
