"""The migration vectors (tests/migration_vectors/, README there): loading a case into two descriptors of the
generated Python, and its expected failures, for the Python and the C tests alike."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
MIGRATION_VECTORS = HERE / "migration_vectors"
BLOB_VECTORS = HERE / "vectors" / "devices"
CASE_KEYS = {"device", "descriptor_of", "source", "target", "expect", "versions"}
FAILURE_KEYS = {"section", "rule", "field", "source", "target", "text"}


def case_files() -> list[Path]:
    return sorted(MIGRATION_VECTORS.rglob("*.yaml"))


def case_id(path: Path) -> str:
    return path.relative_to(MIGRATION_VECTORS).with_suffix("").as_posix()


def read_case(path: Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(case, dict) and set(case) <= CASE_KEYS, f"{path}: keys {sorted(case)}"
    for failure in case["expect"]:
        assert set(failure) <= FAILURE_KEYS and {"section", "rule", "field"} <= set(failure), failure
    return case


def _blob(device: str, name: str) -> bytes:
    case = yaml.safe_load((BLOB_VECTORS / device / f"{name}.yaml").read_text("utf-8"))
    parts = case["hex"] if isinstance(case["hex"], list) else [case["hex"]]
    return bytes.fromhex("".join("".join(p.split()) for p in parts))


def base_blob(case: dict[str, Any]) -> bytes:
    """The blob whose descriptor both sides start from."""
    return _blob(case["device"], case["descriptor_of"])


def descriptors(case: dict[str, Any]) -> tuple[Any, Any]:
    """(source, target): the base blob's descriptor, each with its side's changes."""
    mod = importlib.import_module(f"vfiogen_state.{case['device']}")
    blob = base_blob(case)
    sides = []
    for side in ("source", "target"):
        _, descriptor = mod.load(blob)
        changes = dict(case[side])
        for name in changes.pop("absent", []):
            descriptor.present &= ~getattr(mod, f"HAS_{name.upper()}")
        for section, fields in changes.items():
            record = getattr(descriptor, section)
            registers = getattr(importlib.import_module(f"vfiogen_state.{section}"), "MASKED_REGISTERS", ())
            for field, value in fields.items():
                array, _, register = field.partition("_")
                if register in registers and array in ("emulated", "wmask"):  # a register's mask, by name
                    attr = "emulated_masks" if array == "emulated" else "write_masks"
                    masks = list(getattr(record, attr))
                    masks[registers.index(register)] = value
                    setattr(record, attr, tuple(masks))
                    continue
                current = getattr(record, field)
                setattr(record, field, bytes.fromhex(value) if isinstance(current, bytes) else value)
        sides.append(descriptor)
    return sides[0], sides[1]


def plain(value: Any) -> Any:
    """A failure's value as a vector writes it: bytes as hex."""
    return value.hex() if isinstance(value, bytes) else value


def expected_keys(case: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(f["section"], f["rule"], f["field"], f.get("source"), f.get("target")) for f in case["expect"]]


def section_names(mod: Any) -> list[str]:
    """The device's sections in device order (by their HAS_* bits)."""
    return [name for _, name in sorted((value, key[4:].lower()) for key, value in vars(mod).items()
                                       if key.startswith("HAS_"))]


def negotiated(mod: Any, source: Any, target: Any) -> dict[str, int]:
    """The device's negotiate(): the version each section both sides have is saved at."""
    result: dict[str, int] = mod.negotiate(source, target)
    return result
