"""Every `vfiogen diff` verdict proven by running the two builds against each other.

Each pair edits a copy of base.yaml twice (old, new; an edit is a list of
(text, replacement) on the base). The test asks `vfiogen diff` for the
verdict, generates both Python packages into tmp_path, and migrates both
ways: the source saves at the highest version both builds handle, the
target loads it, and every top-level field of the source must come back
equal (registers by raw value); a field the target lacks counts as lost
unless it holds its default or the target retired it with `until`. Two source states are tried: a pattern of
non-zero values and a new (all-default) state. The execution verdict
(compatible, breaks-forward, breaks-backward, breaks-both) must equal both
the pair's expectation and the diff's (behavioural and cosmetic count as
compatible: the wire is unchanged).

A sample of pairs is also run with the target in C: each build's C is
compiled (clang or gcc, ASan/UBSan) and the target's C loader is handed every
payload the Python target was handed. It must answer as the Python does
(the same bytes re-saved, or an error at the same section, field and offset),
so the verdict the Python execution proves is the C's too.

The QEMU 7.2 -> 8.0 break (the AER Uncorrectable Error Mask's writable bits
changed between releases) is a pair over the shipped AER schema, run the same
way in both languages.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT, aer_before_qemu_8_0, run_cli

sys.path.insert(0, str(ROOT / "tests" / "generated_c"))  # isolated.py: another build's package beside ours
from harness import build, run  # noqa: E402
from isolated import import_build  # noqa: E402
from vfiogen import driver
from vfiogen.outputs import write_outputs
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


def _build(directory: Path, text: str, file: str = "cmp.yaml", beside: tuple[str, ...] = ()) -> ModuleType:
    """Build `text` as `file`, with the library's sections named in `beside` (those its params are read from)."""
    (directory / "schemas").mkdir(parents=True)
    (directory / "schemas" / file).write_text(text, "utf-8")
    for name in beside:
        shutil.copy(ROOT / "schemas" / "sections" / f"{name}.yaml", directory / "schemas" / f"{name}.yaml")
    ctx = Context(reporter=Reporter())
    result = driver.compile_schemas(driver.discover([str(directory / "schemas")], ctx.reporter), ctx)
    assert result.module is not None, [d.message for d in ctx.reporter.diagnostics]
    outputs = driver.render(result.module, ctx)
    write_outputs(directory / "out", outputs)
    return import_build(directory / "out" / "python")[Path(file).stem]


@dataclass
class Log:
    """Every payload a source handed its target, with the Python target's answer in the C driver's shape."""

    handed: list[tuple[int, bytes, tuple[Any, ...]]] = field(default_factory=list)


PATTERN = {"alpha": 0xDEADBEEF, "beta": 0xBEEF, "gamma": 0x5A, "delta": 0x3C, "alfa": 0x12345678,
           "control": 0x3BB}
"""Source values: non-zero in every byte; control sets enable, mode 5, shape 0xb and bits 9:8 (which only some
builds declare)."""


def _source_states(module: ModuleType, version: int) -> list[Any]:
    """A new state, and the pattern in each field as far as the save at `version` keeps it.

    Each field takes the first of the pattern, its low 16 bits, a negative value and its low 8 bits that the build
    itself saves and loads back (so a signed field holds a negative value); a field the version does not carry keeps
    its default (saving refuses anything else).
    """
    patterned = module.CmpState()
    for name, value in PATTERN.items():
        if not hasattr(patterned, name):
            continue
        before = getattr(patterned, name)
        for candidate in (value, value & 0xFFFF, -(value & 0x7FFF), value & 0xFF):
            try:  # the source's own register, save and load must keep it (from_value refuses reserved bits)
                setattr(patterned, name, type(before).from_value(candidate) if isinstance(before, module.Register)
                        else candidate)
                if _raw(getattr(module.load(module.save(patterned, version), version), name)) == candidate:
                    break
                setattr(patterned, name, before)
            except Exception:  # noqa: BLE001 - too wide, reserved bits, or not carried: try the next
                setattr(patterned, name, before)
    return [module.CmpState(), patterned]


def _target_answer(target: ModuleType, payload: bytes, version: int) -> tuple[Any, tuple[Any, ...]]:
    """What the target makes of `payload`: its loaded state (or None) and the driver-shaped answer."""
    try:
        loaded = target.load(payload, version)
    except target.LoadError as exc:
        return None, ("err", exc.section, exc.field, exc.offset)
    return loaded, ("ok", target.save(loaded, version).hex())


def _migrates(source: ModuleType, target: ModuleType, states: Any = None, log: Log | None = None) -> bool:
    """Whether every source state reaches the target with each field both states name intact.

    `states(module, version)` gives the source states (default: the pattern and a new state). Each payload
    handed over is recorded in `log` with the Python target's answer, for the C replay.
    """
    common = set(range(source.MIN_VERSION, source.VERSION + 1)) & set(range(target.MIN_VERSION, target.VERSION + 1))
    if not common:
        return False
    version = max(common)
    ok = True
    for state in (states or _source_states)(source, version):
        try:
            blob = source.save(state, version)
        except source.SaveError:
            ok = False
            continue
        loaded, answer = _target_answer(target, blob, version)
        if log is not None:
            log.handed.append((version, blob, answer))
        if loaded is None or source.SECTION_ID != target.SECTION_ID:
            ok = False  # a frame of one id is never handed to the other id's loader
            continue
        fresh, carried = type(state)(), set(type(loaded)().to_dict())
        for name in state.to_dict():
            if name in carried:
                ok = ok and _raw(getattr(state, name)) == _raw(getattr(loaded, name))
            elif name not in _retired(target):  # a value other than the default is lost by name
                ok = ok and _raw(getattr(state, name)) == _raw(getattr(fresh, name))
    return ok


def _retired(module: ModuleType) -> set[str]:
    """The fields `module`'s build retired with `until`: it drops them from old streams on purpose."""
    lock = json.loads((Path(module.__file__).parents[2] / "schema.lock.json").read_text("utf-8"))
    return {f["name"] for f in lock["sections"][module.SECTION]["state"] if f["until"] is not None}


def _raw(value: Any) -> int:
    return int(value.value()) if callable(getattr(value, "value", None)) else int(value)


def _executed(old: ModuleType, new: ModuleType, states: Any = None,
              logs: dict[str, Log] | None = None) -> str:
    logs = logs if logs is not None else {}
    forward = _migrates(new, old, states, logs.setdefault("forward", Log()))
    backward = _migrates(old, new, states, logs.setdefault("backward", Log()))
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
    "constraint loosened": ("compatible", "the diff sees a constraint removed and one added, not which admits "
                            "more; conservative"),
}


C_SAMPLE = {"u32 in the middle, version kept", "u32 added since 2, default 0", "register mode removed (bits reserved)",
            "register bits 9:8 declared", "constraint added", "constraint removed", "beta u16 to s16",
            "old field's default changed at a common version"}
"""Pairs whose target also runs in C: every verdict, a reserved-bit refusal each way, a constraint each way."""

COMPILER = next((c for c in ("clang", "gcc") if shutil.which(c)), None)


def _c_replays(old_out: Path, new_out: Path, section: str, logs: dict[str, Log], tmp_path: Path) -> int:
    """Hand each build's C loader what its Python twin was handed; both must answer alike. Returns the count."""
    assert COMPILER is not None
    count = 0
    for direction, target_out in (("forward", old_out), ("backward", new_out)):
        handed = logs[direction].handed
        if not handed:
            continue
        work = tmp_path / f"c-{direction}"
        work.mkdir()
        binary = build(COMPILER, True, str(work), str(target_out))
        answers = run(binary, [f"load {section} {version} - {payload.hex() or '-'}" for version, payload, _ in handed])
        for (version, payload, python), c in zip(handed, answers, strict=True):
            assert c.untouched, f"{direction}: the C load of {payload.hex()} changed the caller's state"
            assert c.key == python, f"{direction} at version {version}: C {c} != Python {python}"
            count += 1
    return count


@pytest.mark.parametrize(("name", "old_edits", "new_edits", "expected"), PAIRS, ids=[p[0] for p in PAIRS])
def test_pair(name: str, old_edits: Edit, new_edits: Edit, expected: str, tmp_path: Path) -> None:
    old = _build(tmp_path / "old", _schema(old_edits))
    new = _build(tmp_path / "new", _schema(new_edits))
    result = run_cli("diff", str(tmp_path / "old" / "schemas"), str(tmp_path / "new" / "schemas"), "--format", "json")
    assert result.status in (0, 1), result.stderr
    claimed = json.loads(result.stdout)["verdict"]
    logs: dict[str, Log] = {}
    executed = _executed(old, new, logs=logs)
    proven = EXECUTION_GAPS.get(name, (expected, ""))[0]
    assert (claimed, executed) == (expected, proven), json.loads(result.stdout)["changes"]
    assert result.status == (1 if expected != "compatible" else 0)
    if name in C_SAMPLE:
        if COMPILER is None:
            pytest.skip("no C compiler (gcc or clang) for the C half of this pair")
        assert _c_replays(tmp_path / "old" / "out", tmp_path / "new" / "out", "cmp", logs, tmp_path) >= 2


def test_at_least_30_pairs() -> None:
    assert len(PAIRS) >= 30


def test_the_c_sample_names_pairs_of_every_verdict() -> None:
    names = {p[0]: p[3] for p in PAIRS}
    assert C_SAMPLE <= set(names)
    assert {EXECUTION_GAPS.get(n, (names[n], ""))[0] for n in C_SAMPLE} == {
        "compatible", "breaks-forward", "breaks-backward", "breaks-both"}


# --- QEMU 7.2 -> 8.0 over the shipped AER schema ---------------------------------------------------------------

AER = (ROOT / "schemas" / "sections" / "aer.yaml").read_text("utf-8")


def _aer_before_the_new_bits() -> str:
    """The AER schema as a build that predates Uncorrectable Error Mask bits 27..31 (reserved there)."""
    return aer_before_qemu_8_0(AER)


def _aer_states(module: ModuleType, version: int) -> list[Any]:
    """A new state; one masking Data Link Protocol and Completion Timeout (bits 4, 14: both builds define them);
    and one also masking DMWr Request Egress Blocked (bit 27), which only the newer build defines."""
    states = [module.AerState()]
    for mask in (1 << 4 | 1 << 14, 1 << 27 | 1 << 4):
        state = module.AerState()
        register = state.uncorrectable_error_mask
        try:
            state.uncorrectable_error_mask = type(register).from_value(mask)
        except ValueError:
            continue  # the older build's register refuses the bit: that source cannot hold it at all
        states.append(state)
    return states


def test_qemu_aer_mask_break_is_proven_in_both_languages(tmp_path: Path) -> None:
    # aer's root_port and tlp_prefix_log are read from pcie (`from:`), so pcie is built beside it
    old = _build(tmp_path / "old", _aer_before_the_new_bits(), "aer.yaml", ("pcie",))
    new = _build(tmp_path / "new", AER, "aer.yaml", ("pcie",))
    result = run_cli("diff", str(tmp_path / "old" / "schemas"), str(tmp_path / "new" / "schemas"), "--format", "json")
    data = json.loads(result.stdout)
    # Two findings: the new source's mask bits are refused by the old loader (VD021, forward), and the two
    # builds' write masks of the register differ, which the negotiated descriptors refuse both ways (VD022).
    assert (result.status, data["verdict"]) == (1, "breaks-both"), data
    found = {(c["rule"], c["direction"]) for c in data["changes"] if c["subject"] == "uncorrectable_error_mask"}
    assert {("VD021", "breaks-forward"), ("VD022", "breaks-both")} <= found, data
    # The payloads, loaded section by section without descriptors, break forward only: what VD021 says.
    logs: dict[str, Log] = {}
    assert _executed(old, new, _aer_states, logs) == "breaks-forward"
    refused = [answer for _, _, answer in logs["forward"].handed if answer[0] == "err"]
    assert refused and all(answer[1:3] == ("aer", "uncorrectable_error_mask") for answer in refused), refused
    if COMPILER is None:
        pytest.skip("no C compiler (gcc or clang) for the C half")
    assert _c_replays(tmp_path / "old" / "out", tmp_path / "new" / "out", "aer", logs, tmp_path) >= 5
