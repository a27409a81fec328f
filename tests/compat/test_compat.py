"""Every `vfiogen diff` verdict proven by running the two builds against each other.

Each pair edits a copy of base.yaml twice (old, new; an edit is a list of
(text, replacement) on the base). The test asks `vfiogen diff` for the
verdict, generates both Python packages into tmp_path, and migrates both
ways: the source saves at the highest version both builds handle, the
target loads it, and every top-level field both states have must come back
equal (registers by raw value). Two source states are tried: a pattern of
non-zero values and a new (all-default) state. The execution verdict
(compatible, breaks-forward, breaks-backward, breaks-both) must equal both
the pair's expectation and the diff's (behavioural and cosmetic count as
compatible: the wire is unchanged).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT, run_cli

sys.path.insert(0, str(ROOT / "tests" / "generated_c"))  # isolated.py: another build's package beside ours
from isolated import import_build  # noqa: E402
from vfiogen import driver
from vfiogen.context import Context
from vfiogen.diagnostics import Reporter

BASE = (Path(__file__).parent / "base.yaml").read_text("utf-8")
V2 = ("version: 1\n", "version: 2\nmin_version: 1\n")
V2_ONLY = ("version: 1\n", "version: 2\nmin_version: 2\n")
STATE = "state:\n"
RESTORE = "\nrestore:\n"

Edit = list[tuple[str, str]]
PAIRS: list[tuple[str, Edit, Edit, str]] = [
    ("identical", [], [], "compatible"),
    ("title", [], [("title: Compatibility probe", "title: Compatibility probe, renamed")], "compatible"),
    ("description", [], [("title: Compatibility probe\n", "title: Compatibility probe\ndescription: words\n")],
     "compatible"),
    ("comment", [], [("# The base", "# A comment changed. The base")], "compatible"),
    ("u32 appended, version kept", [], [("  gamma: {type: u8}\n", "  gamma: {type: u8}\n  delta: {type: u32}\n")],
     "breaks-both"),
    ("u32 in the middle, version kept", [], [("  beta:", "  delta: {type: u32}\n  beta:")], "breaks-both"),
    ("u32 first, version kept", [], [("  alpha:", "  delta: {type: u32}\n  alpha:")], "breaks-both"),
    ("u32 added since 2, default 0", [], [V2, ("  gamma: {type: u8}\n",
                                               "  gamma: {type: u8}\n  delta: {type: u32, since: 2, default: 0}\n")],
     "compatible"),
    ("u32 added in the middle since 2", [], [V2, ("  beta:", "  delta: {type: u32, since: 2, default: 0}\n  beta:")],
     "compatible"),
    ("bump with min_version 2", [], [V2_ONLY, ("  gamma: {type: u8}\n",
                                               "  gamma: {type: u8}\n  delta: {type: u32, since: 2, default: 0}\n")],
     "breaks-both"),
    ("version bumped, nothing added", [], [V2], "compatible"),
    ("alpha removed", [], [("  alpha: {type: u32}\n", "")], "breaks-both"),
    ("gamma removed", [], [("  gamma: {type: u8}\n", "")], "breaks-both"),
    ("gamma removed until 2", [], [V2, ("  gamma: {type: u8}\n", "  gamma: {type: u8, until: 2, default: 0}\n")],
     "compatible"),
    ("alpha u32 to u64", [], [("alpha: {type: u32}", "alpha: {type: u64}")], "breaks-both"),
    ("beta u16 to u32", [], [("beta: {type: u16}", "beta: {type: u32}")], "breaks-both"),
    ("gamma u8 to u16", [], [("gamma: {type: u8}", "gamma: {type: u16}")], "breaks-both"),
    ("beta u16 to s16", [], [("beta: {type: u16}", "beta: {type: s16}")], "breaks-both"),
    ("alpha and beta swapped", [], [("  alpha: {type: u32}\n  beta: {type: u16}\n",
                                     "  beta: {type: u16}\n  alpha: {type: u32}\n")], "breaks-both"),
    ("alpha renamed", [], [("alpha:", "alfa:")], "breaks-both"),
    ("beta present only when enabled", [], [("beta: {type: u16}", "beta: {type: u16, present: control.shape != 0}")],
     "breaks-both"),
    ("register mode rw to ro", [], [('mode:   {bits: "3:1", access: rw}', 'mode:   {bits: "3:1", access: ro}')],
     "breaks-both"),
    ("register control emulated", [], [("    width: 16\n", "    width: 16\n    emulated: true\n")], "breaks-both"),
    ("register mode removed (bits reserved)", [], [('      mode:   {bits: "3:1", access: rw}\n', "")],
     "breaks-both"),
    ("register bits 9:8 declared", [], [('      shape:', '      extra:  {bits: "9:8", access: rw}\n      shape:')],
     "breaks-both"),
    ("register width 16 to 32", [], [("width: 16", "width: 32"), ("offset: 0x02", "offset: 0x04")],
     "breaks-both"),
    ("constraint added", [], [(RESTORE, "\nconstraints:\n  - {check: 'gamma < 0x10', reason: small}\n" + RESTORE)],
     "breaks-backward"),
    ("constraint removed", [(RESTORE, "\nconstraints:\n  - {check: 'gamma < 0x10', reason: small}\n" + RESTORE)], [],
     "breaks-forward"),
    ("constraint loosened", [(RESTORE, "\nconstraints:\n  - {check: 'gamma < 0x10', reason: small}\n" + RESTORE)],
     [(RESTORE, "\nconstraints:\n  - {check: 'gamma < 0x20', reason: small}\n" + RESTORE)], "breaks-both"),
    ("old field's default changed at a common version", [V2, ("  gamma: {type: u8}\n",
                                                              "  gamma: {type: u8}\n  delta: {type: u8, since: 2, "
                                                              "default: 0}\n")],
     [V2, ("  gamma: {type: u8}\n", "  gamma: {type: u8}\n  delta: {type: u8, since: 2, default: 7}\n")],
     "compatible"),
    ("id changed", [], [("id: 0x0f01", "id: 0x0f02")], "breaks-both"),
]


def _schema(edits: Edit) -> str:
    text = BASE
    for before, after in edits:
        assert text.count(before) == 1, before
        text = text.replace(before, after)
    return text


def _build(directory: Path, text: str) -> ModuleType:
    (directory / "schemas").mkdir(parents=True)
    (directory / "schemas" / "cmp.yaml").write_text(text, "utf-8")
    ctx = Context(reporter=Reporter())
    result = driver.compile_schemas(driver.discover([str(directory / "schemas")], ctx.reporter), ctx)
    assert result.module is not None, [d.message for d in ctx.reporter.diagnostics]
    outputs = driver.render(result.module, ctx)
    driver.write_outputs(directory / "out", outputs)
    return import_build(directory / "out" / "python")["cmp"]


PATTERN = {"alpha": 0xDEADBEEF, "beta": 0xBEEF, "gamma": 0x5A, "delta": 0x3C, "alfa": 0x12345678,
           "control": 0x3BB}
"""Source values: non-zero in every byte; control sets enable, mode 5, shape 0xb and bits 9:8 (which only some
builds declare)."""


def _source_states(module: ModuleType, version: int) -> list[Any]:
    """A new state, and the pattern in each field as far as the save at `version` keeps it.

    Each field takes the widest of the pattern, its low 16 and its low 8 bits that the build itself saves and loads
    back; a field the version does not carry keeps its default (saving refuses anything else).
    """
    patterned = module.CmpState()
    for name, value in PATTERN.items():
        if not hasattr(patterned, name):
            continue
        before = getattr(patterned, name)
        for candidate in (value, value & 0xFFFF, value & 0xFF):
            setattr(patterned, name, type(before).from_value(candidate) if isinstance(before, module.Register)
                    else candidate)
            try:  # the source's own save and load must keep it (save leaves reserved bits to load to refuse)
                if _raw(getattr(module.load(module.save(patterned, version), version), name)) == candidate:
                    break
                setattr(patterned, name, before)
            except Exception:  # noqa: BLE001 - too wide, reserved bits, or not carried: try the next
                setattr(patterned, name, before)
    return [module.CmpState(), patterned]


def _migrates(source: ModuleType, target: ModuleType) -> bool:
    common = set(range(source.MIN_VERSION, source.VERSION + 1)) & set(range(target.MIN_VERSION, target.VERSION + 1))
    if not common:
        return False
    version = max(common)
    for state in _source_states(source, version):
        try:
            blob = source.save(state, version)
            loaded = target.load(blob, version)
        except Exception:  # noqa: BLE001 - a SaveError or LoadError of either build is what is measured
            return False
        if source.SECTION_ID != target.SECTION_ID:
            return False  # a frame of one id is never handed to the other id's loader
        for name in set(source.CmpState().to_dict()) & set(target.CmpState().to_dict()):
            if _raw(getattr(state, name)) != _raw(getattr(loaded, name)):
                return False
    return True


def _raw(value: Any) -> int:
    return int(value.value()) if callable(getattr(value, "value", None)) else int(value)


def _executed(old: ModuleType, new: ModuleType) -> str:
    forward, backward = _migrates(new, old), _migrates(old, new)
    return {(True, True): "compatible", (False, True): "breaks-forward", (True, False): "breaks-backward",
            (False, False): "breaks-both"}[(forward, backward)]


MASKS_GAP = ("the descriptors' write or emulated-bits masks differ as well, and the target refuses that at the "
             "device load (VD022/VD026; tests/migration_vectors/, tests/test_hv_schemas.py): a section run cannot "
             "see it")
EXECUTION_GAPS: dict[str, tuple[str, str]] = {
    "register mode rw to ro": ("compatible", MASKS_GAP),
    "register control emulated": ("compatible", MASKS_GAP),
    "register mode removed (bits reserved)": ("breaks-backward", MASKS_GAP),
    "register bits 9:8 declared": ("breaks-forward", MASKS_GAP),
    # pair: (what execution shows, why the diff's stricter verdict stands)
    "beta u16 to s16": ("breaks-backward", "the bytes of a value both types hold are the same; a negative s16 "
                        "from a new source reads as a large u16 in the old one, which the pattern does not try"),
    "alpha renamed": ("compatible", "the bytes go to 'alfa', by position; by name 'alpha' is lost, which the "
                      "common-name comparison cannot see"),
    "constraint loosened": ("compatible", "the diff sees a constraint removed and one added, not which admits "
                            "more; conservative"),
}


@pytest.mark.parametrize(("name", "old_edits", "new_edits", "expected"), PAIRS, ids=[p[0] for p in PAIRS])
def test_pair(name: str, old_edits: Edit, new_edits: Edit, expected: str, tmp_path: Path) -> None:
    old = _build(tmp_path / "old", _schema(old_edits))
    new = _build(tmp_path / "new", _schema(new_edits))
    result = run_cli("diff", str(tmp_path / "old" / "schemas"), str(tmp_path / "new" / "schemas"), "--format", "json")
    assert result.status in (0, 1), result.stderr
    claimed = json.loads(result.stdout)["verdict"]
    executed = _executed(old, new)
    proven = EXECUTION_GAPS.get(name, (expected, ""))[0]
    assert (claimed, executed) == (expected, proven), json.loads(result.stdout)["changes"]
    assert result.status == (1 if expected != "compatible" else 0)


def test_at_least_30_pairs() -> None:
    assert len(PAIRS) >= 30
